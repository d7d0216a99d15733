/**
 * The SQLite implementation of `Storage`. Each method runs synchronously inside one better-sqlite3
 * transaction (`BEGIN IMMEDIATE` for writes), so it is atomic against other requests of this process
 * and, through the file lock and busy timeout, against other processes on the same file.
 */
import type { MessageStatus, Preferences, SubscribeResult } from '../../../src/domain/contract'
import type { Clock, MessageLang, SendAttemptRecord } from '../../wechat/types'
import type {
  ClaimResult,
  ConsentChange,
  LedgerRepository,
  MessageRecord,
  MessageRepository,
  MessageSource,
  MessageSummary,
  NewMessage,
  PreferencesRepository,
  SendResult,
  SessionRepository,
  Storage,
  StatusChangeRecord,
  SubscriptionRecord,
} from '../storage'
import { openSqliteDatabase, type SqliteDatabase } from './database'
import { createSqliteTokenStore } from './token-store'

/** Statuses that count against a person's daily limit. */
const COUNTED_STATUSES = ['sending', 'sent'] as const

interface MessageRow {
  id: string
  openid: string
  template_id: string
  category: string
  data: string
  page: string | null
  urgent: number
  lang: string | null
  idempotency_key: string | null
  source: string
  status: string
  reason: string | null
  msgid: string | null
  credit_spent: number
  created_at: number
  sent_at: number | null
  deliver_after: number | null
}

const optionalDate = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms))
const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value)

function summaryOf(row: MessageRow): MessageSummary {
  return {
    id: row.id,
    openid: row.openid,
    templateId: row.template_id,
    status: row.status as MessageStatus,
    reason: optional(row.reason),
    createdAt: new Date(row.created_at),
    sentAt: optionalDate(row.sent_at),
    deliverAfter: optionalDate(row.deliver_after),
  }
}

function createSessionRepository(db: SqliteDatabase): SessionRepository {
  const insert = db.prepare('INSERT INTO sessions (token_hash, openid, created_at, expires_at) VALUES (?, ?, ?, ?)')
  const find = db.prepare<[string, number], { openid: string }>(
    'SELECT openid FROM sessions WHERE token_hash = ? AND expires_at > ?',
  )
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ?')
  // Sessions made in the same millisecond are ordered by insertion (rowid).
  const trim = db.prepare(`DELETE FROM sessions WHERE openid = ? AND token_hash NOT IN (
    SELECT token_hash FROM sessions WHERE openid = ? ORDER BY created_at DESC, rowid DESC LIMIT ?
  )`)
  return {
    async create(session) {
      insert.run(session.tokenHash, session.openid, session.createdAt.getTime(), session.expiresAt.getTime())
    },
    async findOpenid(tokenHash, now) {
      return find.get(tokenHash, now.getTime())?.openid ?? null
    },
    async deleteExpired(now) {
      return purge.run(now.getTime()).changes
    },
    async deleteAllButNewest(openid, keep) {
      return trim.run(openid, openid, keep).changes
    },
  }
}

function createLedgerRepository(db: SqliteDatabase): LedgerRepository {
  const findConsent = db.prepare<[string, string], { credits: string }>(
    'SELECT credits FROM consents WHERE openid = ? AND consent_id = ?',
  )
  const insertConsent = db.prepare(
    'INSERT INTO consents (openid, consent_id, results, credits, created_at) VALUES (?, ?, ?, ?, ?)',
  )
  const ensureRow = db.prepare(
    'INSERT OR IGNORE INTO subscriptions (openid, template_id, credits, last_result, updated_at) VALUES (?, ?, 0, NULL, ?)',
  )
  const addCredits = db.prepare(
    'UPDATE subscriptions SET credits = credits + ?, last_result = ?, updated_at = ? WHERE openid = ? AND template_id = ?',
  )
  const setCredits = db.prepare(
    'UPDATE subscriptions SET credits = ?, last_result = ?, updated_at = ? WHERE openid = ? AND template_id = ?',
  )
  const setResult = db.prepare(
    'UPDATE subscriptions SET last_result = ?, updated_at = ? WHERE openid = ? AND template_id = ?',
  )
  const readCredits = db.prepare<[string, string], { credits: number }>(
    'SELECT credits FROM subscriptions WHERE openid = ? AND template_id = ?',
  )
  const list = db.prepare<
    [string],
    { template_id: string; credits: number; last_result: string | null; updated_at: number }
  >('SELECT template_id, credits, last_result, updated_at FROM subscriptions WHERE openid = ? ORDER BY template_id')

  const applyChange = (openid: string, change: ConsentChange, now: number): void => {
    ensureRow.run(openid, change.templateId, now)
    const { credit } = change
    if (credit.type === 'add') addCredits.run(credit.amount, change.result, now, openid, change.templateId)
    else if (credit.type === 'set') setCredits.run(credit.value, change.result, now, openid, change.templateId)
    else setResult.run(change.result, now, openid, change.templateId)
  }

  const apply = db.transaction(
    (openid: string, consentId: string, changes: ConsentChange[], now: number) => {
      const seen = findConsent.get(openid, consentId)
      if (seen) return { credits: JSON.parse(seen.credits) as Record<string, number>, replayed: true }
      const credits: Record<string, number> = {}
      for (const change of changes) applyChange(openid, change, now)
      for (const change of changes) credits[change.templateId] = readCredits.get(openid, change.templateId)?.credits ?? 0
      const results = Object.fromEntries(changes.map((change) => [change.templateId, change.result]))
      insertConsent.run(openid, consentId, JSON.stringify(results), JSON.stringify(credits), now)
      return { credits, replayed: false }
    },
  )

  return {
    async applyConsent({ openid, consentId, changes, now }) {
      return apply.immediate(openid, consentId, changes, now.getTime())
    },
    async listSubscriptions(openid) {
      return list.all(openid).map(
        (row): SubscriptionRecord => ({
          templateId: row.template_id,
          credits: row.credits,
          lastResult: row.last_result as SubscribeResult | null,
          updatedAt: new Date(row.updated_at),
        }),
      )
    },
    async credits(openid, templateId) {
      return readCredits.get(openid, templateId)?.credits ?? 0
    },
  }
}

function createPreferencesRepository(db: SqliteDatabase): PreferencesRepository {
  const read = db.prepare<
    [string],
    { quiet_start: string | null; quiet_end: string | null; daily_limit: number; muted_categories: string }
  >('SELECT quiet_start, quiet_end, daily_limit, muted_categories FROM preferences WHERE openid = ?')
  const upsert = db.prepare(`
    INSERT INTO preferences (openid, quiet_start, quiet_end, daily_limit, muted_categories, updated_at)
    VALUES (@openid, @quietStart, @quietEnd, @dailyLimit, @muted, @now)
    ON CONFLICT (openid) DO UPDATE SET quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
      daily_limit = excluded.daily_limit, muted_categories = excluded.muted_categories, updated_at = excluded.updated_at
  `)
  return {
    async get(openid) {
      const row = read.get(openid)
      if (!row) return null
      return {
        quietHours:
          row.quiet_start !== null && row.quiet_end !== null ? { start: row.quiet_start, end: row.quiet_end } : null,
        dailyLimit: row.daily_limit,
        mutedCategories: JSON.parse(row.muted_categories) as string[],
      }
    },
    async put(openid: string, preferences: Preferences, now: Date) {
      upsert.run({
        openid,
        quietStart: preferences.quietHours?.start ?? null,
        quietEnd: preferences.quietHours?.end ?? null,
        dailyLimit: preferences.dailyLimit,
        muted: JSON.stringify(preferences.mutedCategories),
        now: now.getTime(),
      })
    },
  }
}

function createMessageRepository(db: SqliteDatabase): MessageRepository {
  const insertMessage = db.prepare(`
    INSERT INTO messages (id, openid, template_id, category, data, page, urgent, lang, idempotency_key, source,
      status, created_at, updated_at)
    VALUES (@id, @openid, @templateId, @category, @data, @page, @urgent, @lang, @idempotencyKey, @source,
      'queued', @createdAt, @createdAt)
  `)
  const insertHistory = db.prepare('INSERT INTO message_history (message_id, at, status, reason) VALUES (?, ?, ?, ?)')
  const insertAttempt = db.prepare('INSERT INTO message_attempts (message_id, at, errcode, errmsg) VALUES (?, ?, ?, ?)')
  const byId = db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?')
  const byKey = db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE idempotency_key = ?')
  const historyOf = db.prepare<[string], { at: number; status: string; reason: string | null }>(
    'SELECT at, status, reason FROM message_history WHERE message_id = ? ORDER BY seq',
  )
  const attemptsOf = db.prepare<[string], { at: number; errcode: number; errmsg: string }>(
    'SELECT at, errcode, errmsg FROM message_attempts WHERE message_id = ? ORDER BY seq',
  )
  const forRecipient = db.prepare<[string, number], MessageRow>(
    'SELECT * FROM messages WHERE openid = ? ORDER BY seq DESC LIMIT ?',
  )
  const setStatus = db.prepare(`
    UPDATE messages SET status = @status, reason = @reason, deliver_after = @deliverAfter, updated_at = @now
    WHERE id = @id
  `)
  const countToday = db.prepare<[string, string], { count: number }>(
    `SELECT COUNT(*) AS count FROM messages WHERE openid = ? AND day_key = ?
       AND status IN (${COUNTED_STATUSES.map((status) => `'${status}'`).join(', ')})`,
  )
  const spendCredit = db.prepare(
    'UPDATE subscriptions SET credits = credits - 1, updated_at = ? WHERE openid = ? AND template_id = ? AND credits > 0',
  )
  const hasCredit = db.prepare<[string, string], { credits: number }>(
    'SELECT credits FROM subscriptions WHERE openid = ? AND template_id = ? AND credits > 0',
  )
  const markSending = db.prepare(`
    UPDATE messages SET status = 'sending', reason = NULL, credit_spent = ?, day_key = ?, updated_at = ? WHERE id = ?
  `)
  const markSent = db.prepare(`
    UPDATE messages SET status = 'sent', reason = NULL, msgid = ?, sent_at = ?, updated_at = ? WHERE id = ?
  `)
  const markFailed = db.prepare(`
    UPDATE messages SET status = 'failed', reason = ?, credit_spent = ?, updated_at = ? WHERE id = ?
  `)
  const refundCredit = db.prepare(
    'UPDATE subscriptions SET credits = credits + 1, updated_at = ? WHERE openid = ? AND template_id = ?',
  )
  const zeroCredits = db.prepare(
    'UPDATE subscriptions SET credits = 0, updated_at = ? WHERE openid = ? AND template_id = ?',
  )
  const due = db.prepare<[number, number], { id: string }>(`
    SELECT id FROM messages
    WHERE status = 'queued' OR (status = 'deferred' AND deliver_after <= ?)
    ORDER BY seq LIMIT ?
  `)
  const inFlight = db.prepare<[], MessageRow>(`SELECT * FROM messages WHERE status = 'sending' ORDER BY seq`)
  const countByStatus = db.prepare<[], { status: string; count: number }>(
    'SELECT status, COUNT(*) AS count FROM messages GROUP BY status',
  )
  const countByErrcode = db.prepare<[], { errcode: number; count: number }>(
    'SELECT errcode, COUNT(*) AS count FROM message_attempts GROUP BY errcode',
  )

  const recordOf = (row: MessageRow): MessageRecord => ({
    ...summaryOf(row),
    category: row.category,
    data: JSON.parse(row.data) as Record<string, { value: string }>,
    page: optional(row.page),
    urgent: row.urgent === 1,
    lang: optional(row.lang) as MessageLang | undefined,
    idempotencyKey: optional(row.idempotency_key),
    source: row.source as MessageSource,
    msgid: optional(row.msgid),
    creditSpent: row.credit_spent === 1,
    attempts: attemptsOf.all(row.id).map((attempt) => ({ ...attempt, at: new Date(attempt.at) })),
    history: historyOf.all(row.id).map(
      (change): StatusChangeRecord => ({
        at: new Date(change.at),
        status: change.status as MessageStatus,
        reason: optional(change.reason),
      }),
    ),
  })

  const insert = db.transaction((message: NewMessage) => {
    if (message.idempotencyKey !== undefined) {
      const existing = byKey.get(message.idempotencyKey)
      if (existing) return { message: recordOf(existing), created: false }
    }
    const createdAt = message.createdAt.getTime()
    insertMessage.run({
      id: message.id,
      openid: message.openid,
      templateId: message.templateId,
      category: message.category,
      data: JSON.stringify(message.data),
      page: message.page ?? null,
      urgent: message.urgent ? 1 : 0,
      lang: message.lang ?? null,
      idempotencyKey: message.idempotencyKey ?? null,
      source: message.source,
      createdAt,
    })
    insertHistory.run(message.id, createdAt, 'queued', null)
    return { message: recordOf(byId.get(message.id)!), created: true }
  })

  type Target = Parameters<MessageRepository['transition']>[2]
  const transition = db.transaction((id: string, from: readonly MessageStatus[], to: Target, now: number) => {
    const row = byId.get(id)
    if (!row || !from.includes(row.status as MessageStatus)) return false
    const reason = to.status === 'deferred' ? null : to.reason
    const deliverAfter = to.status === 'deferred' ? to.deliverAfter.getTime() : row.deliver_after
    setStatus.run({ id, status: to.status, reason, deliverAfter, now })
    insertHistory.run(id, now, to.status, reason)
    return true
  })

  type Claim = Parameters<MessageRepository['claimForSend']>[0]
  const claim = db.transaction((request: Omit<Claim, 'now'> & { now: number }): ClaimResult => {
    const row = byId.get(request.id)
    if (!row || !request.from.includes(row.status as MessageStatus)) return { outcome: 'not-claimable' }
    const { now } = request
    const sentToday = countToday.get(row.openid, request.dayKey)?.count ?? 0
    if (sentToday >= request.dailyLimit) {
      setStatus.run({ id: row.id, status: 'skipped', reason: 'DAILY_LIMIT', deliverAfter: row.deliver_after, now })
      insertHistory.run(row.id, now, 'skipped', 'DAILY_LIMIT')
      return { outcome: 'daily-limit' }
    }
    const credited = request.consumeCredit
      ? spendCredit.run(now, row.openid, row.template_id).changes === 1
      : hasCredit.get(row.openid, row.template_id) !== undefined
    if (!credited) {
      markFailed.run('NO_CREDIT', 0, now, row.id)
      insertHistory.run(row.id, now, 'failed', 'NO_CREDIT')
      return { outcome: 'no-credit' }
    }
    markSending.run(request.consumeCredit ? 1 : 0, request.dayKey, now, row.id)
    insertHistory.run(row.id, now, 'sending', null)
    return { outcome: 'claimed' }
  })

  const finish = db.transaction(
    (id: string, attempts: readonly SendAttemptRecord[], result: SendResult, now: number) => {
      const row = byId.get(id)
      if (!row) throw new Error(`消息 ${id} 不存在，无法记录发送结果`)
      if (row.status !== 'sending') throw new Error(`消息 ${id} 的状态是 ${row.status}，不是 sending，无法记录发送结果`)
      for (const attempt of attempts) insertAttempt.run(id, attempt.at.getTime(), attempt.errcode, attempt.errmsg)
      if (result.status === 'sent') {
        markSent.run(result.msgid, now, now, id)
        insertHistory.run(id, now, 'sent', null)
        return
      }
      const refund = result.credit === 'refund' && row.credit_spent === 1
      markFailed.run(result.reason, refund ? 0 : row.credit_spent, now, id)
      insertHistory.run(id, now, 'failed', result.reason)
      if (refund) refundCredit.run(now, row.openid, row.template_id)
      if (result.credit === 'zero') zeroCredits.run(now, row.openid, row.template_id)
    },
  )

  const failInterrupted = db.transaction((now: number) => {
    const rows = inFlight.all()
    for (const row of rows) {
      markFailed.run('INTERRUPTED', 0, now, row.id)
      insertHistory.run(row.id, now, 'failed', 'INTERRUPTED')
      if (row.credit_spent === 1) refundCredit.run(now, row.openid, row.template_id)
    }
    return rows.map((row) => row.id)
  })

  return {
    async insert(message) {
      return insert.immediate(message)
    },
    async get(id) {
      const row = byId.get(id)
      return row ? recordOf(row) : null
    },
    async findByIdempotencyKey(key) {
      const row = byKey.get(key)
      return row ? recordOf(row) : null
    },
    async listForRecipient(openid, limit) {
      return forRecipient.all(openid, limit).map(summaryOf)
    },
    async transition(id, from, to, now) {
      return transition.immediate(id, from, to, now.getTime())
    },
    async claimForSend(request) {
      return claim.immediate({ ...request, now: request.now.getTime() })
    },
    async finishSend(id, attempts, result, now) {
      finish.immediate(id, attempts, result, now.getTime())
    },
    async listDue(now, limit) {
      return due.all(now.getTime(), limit).map((row) => row.id)
    },
    async failInterrupted(now) {
      return failInterrupted.immediate(now.getTime())
    },
    async stats() {
      const byStatus: Record<string, number> = {}
      for (const row of countByStatus.all()) byStatus[row.status] = row.count
      const byErrcode: Record<string, number> = {}
      for (const row of countByErrcode.all()) byErrcode[String(row.errcode)] = row.count
      return { byStatus, byErrcode }
    },
  }
}

export interface SqliteStorage extends Storage {
  readonly db: SqliteDatabase
}

/** Opens (and migrates) the database at `path` (`:memory:` for a throwaway one). */
export function createSqliteStorage(path: string, clock: Clock): SqliteStorage {
  const db = openSqliteDatabase(path)
  return {
    db,
    sessions: createSessionRepository(db),
    ledger: createLedgerRepository(db),
    preferences: createPreferencesRepository(db),
    messages: createMessageRepository(db),
    tokens: createSqliteTokenStore(db, clock),
    close: () => db.close(),
  }
}
