/**
 * Messages in SQLite: the message row with its status history and every WeChat attempt. Each write
 * is one `BEGIN IMMEDIATE` transaction, and every status change is conditional on the status it
 * leaves, so two workers (or two processes on one file) never both move one message.
 */
import type { MessageStatus, Reason } from '../../../src/domain/contract'
import type { MessageLang } from '../../wechat/types'
import type {
  ClaimResult,
  MessageRecord,
  MessageRepository,
  MessageSource,
  MessageSummary,
  NewMessage,
  StatusChangeRecord,
} from '../storage'
import type { CreditChange } from '../../ledger/rules'
import { creditStatements } from './credits'
import type { SqliteDatabase } from './database'

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
  request_fingerprint: string | null
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
    reason: optional(row.reason) as Reason | undefined,
    createdAt: new Date(row.created_at),
    sentAt: optionalDate(row.sent_at),
    deliverAfter: optionalDate(row.deliver_after),
  }
}

export function createSqliteMessageRepository(db: SqliteDatabase): MessageRepository {
  const credits = creditStatements(db)
  const insertMessage = db.prepare(`
    INSERT INTO messages (id, openid, template_id, category, data, page, urgent, lang, idempotency_key,
      request_fingerprint, source, status, created_at, updated_at)
    VALUES (@id, @openid, @templateId, @category, @data, @page, @urgent, @lang, @idempotencyKey,
      @requestFingerprint, @source, 'queued', @createdAt, @createdAt)
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
  const markSending = db.prepare(`
    UPDATE messages SET status = 'sending', reason = NULL, credit_spent = ?, day_key = ?, updated_at = ? WHERE id = ?
  `)
  const markSent = db.prepare(`
    UPDATE messages SET status = 'sent', reason = NULL, msgid = ?, credit_spent = ?, sent_at = ?, updated_at = ? WHERE id = ?
  `)
  const markFailed = db.prepare(`
    UPDATE messages SET status = 'failed', reason = ?, credit_spent = ?, updated_at = ? WHERE id = ?
  `)
  const due = db.prepare<[number, number], { id: string }>(`
    SELECT id FROM messages
    WHERE status = 'queued' OR (status = 'deferred' AND deliver_after <= ?)
    ORDER BY seq LIMIT ?
  `)
  const sending = db.prepare<[], { id: string; credit_spent: number }>(`SELECT id, credit_spent FROM messages WHERE status = 'sending' ORDER BY seq`)
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
    requestFingerprint: optional(row.request_fingerprint),
    source: row.source as MessageSource,
    msgid: optional(row.msgid),
    creditSpent: row.credit_spent === 1,
    attempts: attemptsOf.all(row.id).map((attempt) => ({ ...attempt, at: new Date(attempt.at) })),
    history: historyOf.all(row.id).map(
      (change): StatusChangeRecord => ({
        at: new Date(change.at),
        status: change.status as MessageStatus,
        reason: optional(change.reason) as Reason | undefined,
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
      requestFingerprint: message.requestFingerprint ?? null,
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
    if (sentToday >= request.dailyLimit) return { outcome: 'daily-limit-reached' }
    const credited = request.spendCredit
      ? credits.takeOne(row.openid, row.template_id, now)
      : credits.read(row.openid, row.template_id) > 0
    if (!credited) return { outcome: 'no-credit' }
    markSending.run(request.spendCredit ? 1 : 0, request.dayKey, now, row.id)
    insertHistory.run(row.id, now, 'sending', null)
    return { outcome: 'claimed', creditSpent: request.spendCredit }
  })

  type Finish = Parameters<MessageRepository['finishSend']>[1]
  const finish = db.transaction((id: string, { attempts, ending, credit, creditHeld }: Finish, now: number) => {
    const row = byId.get(id)
    if (!row) throw new Error(`消息 ${id} 不存在，无法记录发送结果`)
    if (row.status !== 'sending') throw new Error(`消息 ${id} 的状态是 ${row.status}，不是 sending，无法记录发送结果`)
    for (const attempt of attempts) insertAttempt.run(id, attempt.at.getTime(), attempt.errcode, attempt.errmsg)
    if (ending.status === 'sent') markSent.run(ending.msgid, creditHeld ? 1 : 0, now, now, id)
    else markFailed.run(ending.reason, creditHeld ? 1 : 0, now, id)
    insertHistory.run(id, now, ending.status, ending.status === 'failed' ? ending.reason : null)
    applyCredit(row, credit, now)
  })

  function applyCredit(row: MessageRow, change: CreditChange, now: number): void {
    if (change.type !== 'none') credits.apply(row.openid, row.template_id, change, now)
  }

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
    async finishSend(id, details, now) {
      finish.immediate(id, details, now.getTime())
    },
    async listDue(now, limit) {
      return due.all(now.getTime(), limit).map((row) => row.id)
    },
    async countOnDay(openid, dayKey) {
      return countToday.get(openid, dayKey)?.count ?? 0
    },
    async listSending() {
      return sending.all().map((row) => ({ id: row.id, creditSpent: row.credit_spent === 1 }))
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

