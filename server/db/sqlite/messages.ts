/**
 * Messages in SQLite: the message row is the dispatch job, with its status history and every WeChat
 * attempt in its own columns (message-log.ts); what the charts count is added to the outcome counts in
 * the same transaction (outcomes.ts). Each write is one `BEGIN IMMEDIATE` transaction, and every status
 * change is conditional on the status it leaves (and, for a dispatcher, on its lease), so two workers
 * (or two processes on one file) never both move one message.
 */
import type { MessageStatus, Reason } from '../../../src/domain/contract'
import type { MessageLang } from '../../wechat/types'
import type {
  ClaimResult,
  DispatchJob,
  FinishedSend,
  LeaseScope,
  MessageRecord,
  MessageRepository,
  MessageSource,
  MessageSummary,
  MessageQuery,
  MessageTransition,
  NewMessage,
  SendClaim,
} from '../storage'
import { creditStatements } from './credits'
import type { SqliteDatabase } from './database'
import { groupCommit } from './group-commit'
import { distinctJson } from './json-list'
import { appended, attemptsAddition, attemptsOf, historyAddition, historyOf, historyValue } from './message-log'
import { createSqliteOutcomeCounts, type OutcomeTally } from './outcomes'

/**
 * A message counts against its recipient's daily limit while it is `sending` or `sent`: exactly then
 * its `day_key` is set (a claim sets it, a send that fails or goes back to the queue clears it), so
 * `messages_by_day` is keyed by it alone and a send that goes through moves none of its entries.
 */

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
  campaign_id: string | null
  status: string
  reason: string | null
  detail: string | null
  msgid: string | null
  credit_spent: number
  requeues: number
  created_at: number
  sent_at: number | null
  deliver_after: number | null
  history: string
  attempts: string
}

type JobRow = Pick<MessageRow, 'id' | 'openid' | 'template_id' | 'category' | 'data' | 'page' | 'lang' | 'urgent' | 'requeues' | 'campaign_id'>

const optionalDate = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms))
const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value)

function summaryOf(row: MessageRow): MessageSummary {
  return {
    id: row.id,
    openid: row.openid,
    templateId: row.template_id,
    status: row.status as MessageStatus,
    reason: optional(row.reason) as Reason | undefined,
    detail: optional(row.detail),
    campaignId: optional(row.campaign_id),
    createdAt: new Date(row.created_at),
    sentAt: optionalDate(row.sent_at),
    deliverAfter: optionalDate(row.deliver_after),
    msgid: optional(row.msgid),
  }
}

/** What `recordOf` reads back for a message just inserted (`data` as stored), without reading it back. */
function createdRecord(message: NewMessage, data: string): MessageRecord {
  const createdAt = new Date(message.createdAt.getTime())
  return {
    id: message.id,
    openid: message.openid,
    templateId: message.templateId,
    status: 'queued',
    reason: undefined,
    detail: undefined,
    campaignId: message.campaignId,
    createdAt,
    sentAt: undefined,
    deliverAfter: undefined,
    msgid: undefined,
    category: message.category,
    data: JSON.parse(data) as Record<string, { value: string }>,
    page: message.page,
    urgent: message.urgent,
    lang: message.lang,
    idempotencyKey: message.idempotencyKey,
    requestFingerprint: message.requestFingerprint,
    source: message.source,
    creditSpent: false,
    requeues: 0,
    attempts: [],
    history: [{ at: createdAt, status: 'queued', reason: undefined }],
  }
}

/** A row's data, or null when it no longer parses. */
function dataOf(text: string): Record<string, { value: string }> | null {
  try {
    return JSON.parse(text) as Record<string, { value: string }>
  } catch {
    return null
  }
}

/** The job a leased row is, or null when its data no longer parses. */
function jobOf(row: JobRow): DispatchJob | null {
  const data = dataOf(row.data)
  if (data === null) return null
  const job: DispatchJob = {
    id: row.id,
    openid: row.openid,
    templateId: row.template_id,
    category: row.category,
    data,
    urgent: row.urgent === 1,
    requeues: row.requeues,
  }
  if (row.page !== null) job.page = row.page
  if (row.lang !== null) job.lang = row.lang as MessageLang
  if (row.campaign_id !== null) job.campaignId = row.campaign_id
  return job
}

export function createSqliteMessageRepository(db: SqliteDatabase): MessageRepository {
  const credits = creditStatements(db)
  const outcomes = createSqliteOutcomeCounts(db)
  // The statements of the send path take positional parameters: binding by name costs more.
  type Bound = string | number | null
  const insertMessage = db.prepare<Bound[]>(`
    INSERT INTO messages (id, openid, template_id, category, data, page, urgent, lang, idempotency_key,
      request_fingerprint, source, campaign_id, status, due_at, created_at, updated_at, history, attempts)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, '[]')
  `)
  const byId = db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?')
  const byKey = db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE idempotency_key = ?')
  const recipientOf = db.prepare<[string], { openid: string; template_id: string }>('SELECT openid, template_id FROM messages WHERE id = ?')
  const movableOf = db.prepare<[string], { status: string; deliver_after: number | null }>(
    'SELECT status, deliver_after FROM messages WHERE id = ?',
  )
  const forRecipient = db.prepare<[string, number], MessageRow>(
    'SELECT * FROM messages WHERE openid = ? ORDER BY seq DESC LIMIT ?',
  )
  // What a claim decides by, in one read: the message, and its recipient's sends on the day.
  const claimable = db.prepare<[string, string], { seq: number; status: string; openid: string; template_id: string; lease_owner: string | null; today: number }>(`
    SELECT seq, status, openid, template_id, lease_owner, (SELECT COUNT(*) FROM messages AS sent WHERE sent.openid = claimed.openid
      AND sent.day_key = ?) AS today
    FROM messages AS claimed WHERE id = ?
  `)
  const setStatus = db.prepare<Bound[]>(`
    UPDATE messages SET status = ?, reason = ?, detail = ?, deliver_after = ?, due_at = ?, lease_owner = NULL,
      lease_expires_at = NULL, updated_at = ?, history = ${appended('history')}
    WHERE id = ?
  `)
  const countToday = db.prepare<[string, string], { count: number }>(
    'SELECT COUNT(*) AS count FROM messages WHERE openid = ? AND day_key = ?',
  )
  // The list as the outer table of a join (json-list.ts).
  const countsToday = db.prepare<[string, string], { openid: string; count: number }>(
    `SELECT list.value AS openid, (SELECT COUNT(*) FROM messages WHERE openid = list.value AND day_key = ?) AS count
       FROM json_each(?) AS list`,
  )
  const markSending = db.prepare<Bound[]>(`
    UPDATE messages SET status = 'sending', reason = NULL, credit_spent = ?, day_key = ?, lease_expires_at = ?, updated_at = ?,
      history = ${appended('history')}
    WHERE seq = ?
  `)
  // A send's ending: its attempts and history entry in the same update, only while it is `sending`. Each
  // takes (its own values…, now, history addition, attempts addition, id).
  const finishing = `lease_owner = NULL, lease_expires_at = NULL, updated_at = ?, history = ${appended('history')},
      attempts = ${appended('attempts')} WHERE id = ? AND status = 'sending'`
  const markSent = db.prepare<Bound[]>(`UPDATE messages SET status = 'sent', reason = NULL, msgid = ?, credit_spent = ?, sent_at = ?, ${finishing}`)
  const markFailed = db.prepare<Bound[]>(`UPDATE messages SET status = 'failed', reason = ?, credit_spent = ?, day_key = NULL, ${finishing}`)
  const markRequeued = db.prepare<Bound[]>(`
    UPDATE messages SET status = 'queued', reason = ?, credit_spent = ?, due_at = ?, requeues = requeues + 1, day_key = NULL, ${finishing}
  `)
  // The running campaigns are read once per statement (an uncorrelated subquery), not once per row.
  const notInStoppedCampaign = `(campaign_id IS NULL OR campaign_id IN (SELECT id FROM campaigns WHERE status = 'running'))`
  const leasable = `status = 'queued' AND due_at <= @now AND (lease_expires_at IS NULL OR lease_expires_at <= @now)`
  // A lease reads its rows, then marks them by seq: cheaper than one UPDATE … RETURNING, which stores
  // the rows it returns in a table of its own first.
  const jobColumns = 'seq, id, openid, template_id, category, data, page, lang, urgent, requeues, campaign_id'
  const dueOfCampaign = db.prepare<{ now: number; limit: number; campaign: string }, JobRow & { seq: number }>(`
    SELECT ${jobColumns} FROM messages WHERE ${leasable} AND campaign_id = @campaign AND ${notInStoppedCampaign}
    ORDER BY due_at, seq LIMIT @limit
  `)
  const dueOthers = db.prepare<{ now: number; limit: number; except: string }, JobRow & { seq: number }>(`
    SELECT ${jobColumns} FROM messages WHERE ${leasable} AND ${notInStoppedCampaign}
      AND (campaign_id IS NULL OR campaign_id NOT IN (SELECT value FROM json_each(@except)))
    ORDER BY due_at, seq LIMIT @limit
  `)
  const leaseRows = db.prepare<{ owner: string; until: number; seqs: string }>(
    'UPDATE messages SET lease_owner = @owner, lease_expires_at = @until WHERE seq IN (SELECT value FROM json_each(@seqs))',
  )
  const jobsById = db.prepare<[string], JobRow & { status: string }>(`
    SELECT messages.id, status, openid, template_id, category, data, page, lang, urgent, requeues, campaign_id
    FROM json_each(?) AS list JOIN messages ON messages.id = list.value
  `)
  const release = db.prepare(`UPDATE messages SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'queued' AND lease_owner = ?`)
  const releaseOthers = db.prepare(
    `UPDATE messages SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'queued' AND lease_owner IS NOT NULL AND lease_owner <> ?`,
  )
  const dueDeferred = db.prepare<[number, number], { id: string }>(
    `SELECT id FROM messages WHERE status = 'deferred' AND deliver_after <= ? ORDER BY deliver_after, seq LIMIT ?`,
  )
  const enqueue = db.prepare<Bound[]>(`
    UPDATE messages SET status = 'queued', due_at = ?, updated_at = ?, history = ${appended('history')} WHERE id = ? AND status = 'deferred'
  `)
  const inDoubt = db.prepare<{ now: number; owner: string; others: number }, { id: string; credit_spent: number }>(`
    SELECT id, credit_spent FROM messages WHERE status = 'sending' AND (lease_owner IS NULL OR lease_expires_at IS NULL
      OR lease_expires_at <= @now OR (@others = 1 AND lease_owner <> @owner)) ORDER BY seq
  `)
  const depthCounts = db.prepare<[number], { queued: number; due: number; deferred: number; sending: number }>(`
    SELECT
      (SELECT COUNT(*) FROM messages WHERE status = 'queued') AS queued,
      (SELECT COUNT(*) FROM messages WHERE status = 'queued' AND due_at <= ?) AS due,
      (SELECT COUNT(*) FROM messages WHERE status = 'deferred') AS deferred,
      (SELECT COUNT(*) FROM messages WHERE status = 'sending') AS sending
  `)
  const retryOne = db.prepare<Bound[]>(`
    UPDATE messages SET status = 'queued', reason = NULL, detail = NULL, due_at = ?, requeues = 0, lease_owner = NULL,
      lease_expires_at = NULL, updated_at = ?, history = ${appended('history')}
    WHERE id = ? AND status = 'failed' AND reason IN (SELECT value FROM json_each(?))
  `)
  const countByStatus = db.prepare<[], { status: string; count: number }>(
    'SELECT status, COUNT(*) AS count FROM messages GROUP BY status',
  )

  const recordOf = (row: MessageRow): MessageRecord => ({
    ...summaryOf(row),
    category: row.category,
    // Data that no longer reads is shown as none (the message itself still reads), as PostgreSQL answers.
    data: dataOf(row.data) ?? {},
    page: optional(row.page),
    urgent: row.urgent === 1,
    lang: optional(row.lang) as MessageLang | undefined,
    idempotencyKey: optional(row.idempotency_key),
    requestFingerprint: optional(row.request_fingerprint),
    source: row.source as MessageSource,
    creditSpent: row.credit_spent === 1,
    requeues: row.requeues,
    attempts: attemptsOf(row.attempts),
    history: historyOf(row.history),
  })

  // Group commit (group-commit.ts): the inserts asked for in one turn of the event loop (concurrent
  // admin sends, events) share one transaction, each a savepoint of its own.
  const insert = groupCommit(db, (message: NewMessage): { message: MessageRecord; created: boolean } => {
    if (message.idempotencyKey !== undefined) {
      const existing = byKey.get(message.idempotencyKey)
      if (existing) return { message: recordOf(existing), created: false }
    }
    const createdAt = message.createdAt.getTime()
    const data = JSON.stringify(message.data)
    insertMessage.run(
      message.id,
      message.openid,
      message.templateId,
      message.category,
      data,
      message.page ?? null,
      message.urgent ? 1 : 0,
      message.lang ?? null,
      message.idempotencyKey ?? null,
      message.requestFingerprint ?? null,
      message.source,
      message.campaignId ?? null,
      createdAt, // due
      createdAt,
      createdAt, // updated
      historyValue([createdAt, 'queued', null]),
    )
    return { message: createdRecord(message, data), created: true }
  })

  /** Leases the due rows of `scope` (oldest due first) and answers them. */
  const lease = db.transaction((request: { owner: string; now: number; until: number; limit: number; scope: LeaseScope }) => {
    const { scope, owner, now, until, limit } = request
    const rows =
      'campaignId' in scope
        ? dueOfCampaign.all({ now, limit, campaign: scope.campaignId })
        : dueOthers.all({ now, limit, except: JSON.stringify(scope.exceptCampaigns) })
    if (rows.length > 0) leaseRows.run({ owner, until, seqs: JSON.stringify(rows.map((row) => row.seq)) })
    return rows
  })

  function moveOne(id: string, from: readonly MessageStatus[], to: MessageTransition, now: number, tally: OutcomeTally): boolean {
    const row = movableOf.get(id)
    if (!row || !from.includes(row.status as MessageStatus)) return false
    const deferred = to.status === 'deferred'
    const reason = deferred ? null : to.reason
    setStatus.run(
      to.status,
      reason,
      deferred ? null : (to.detail ?? null),
      deferred ? to.deliverAfter.getTime() : row.deliver_after,
      deferred ? to.deliverAfter.getTime() : null,
      now,
      historyAddition(now, to.status, reason),
      id,
    )
    tally.status(now, to.status)
    return true
  }
  const transition = db.transaction((id: string, from: readonly MessageStatus[], to: MessageTransition, now: number) => {
    const tally = outcomes.tally()
    const moved = moveOne(id, from, to, now, tally)
    tally.write()
    return moved
  })
  const transitions = db.transaction((moves: readonly { id: string; from: readonly MessageStatus[]; to: MessageTransition }[], now: number) => {
    const tally = outcomes.tally()
    const moved = moves.filter((move) => moveOne(move.id, move.from, move.to, now, tally)).map((move) => move.id)
    tally.write()
    return moved
  })

  /** `sending`: the history entry of a claim at `now` (the same for a whole batch). */
  function claimOne(request: SendClaim, now: number, sending: string): ClaimResult {
    const row = claimable.get(request.dayKey, request.id)
    if (!row || row.status !== 'queued' || row.lease_owner !== request.owner) return { outcome: 'not-claimable' }
    if (row.today >= request.dailyLimit) return { outcome: 'daily-limit-reached' }
    const credited = request.spendCredit
      ? credits.takeOne(row.openid, row.template_id, now)
      : credits.read(row.openid, row.template_id) > 0
    if (!credited) return { outcome: 'no-credit' }
    markSending.run(request.spendCredit ? 1 : 0, request.dayKey, request.leaseUntil.getTime(), now, sending, row.seq)
    return { outcome: 'claimed', creditSpent: request.spendCredit }
  }
  const claim = db.transaction((request: SendClaim, now: number) => claimOne(request, now, historyAddition(now, 'sending', null)))
  const claims = db.transaction((requests: readonly SendClaim[], now: number) => {
    const sending = historyAddition(now, 'sending', null)
    return requests.map((request) => claimOne(request, now, sending))
  })

  const finish = db.transaction((sends: readonly FinishedSend[], now: number) => {
    const notSending: string[] = []
    const tally = outcomes.tally()
    const sent = historyAddition(now, 'sent', null)
    for (const { id, attempts, ending, credit, creditHeld } of sends) {
      const held = creditHeld ? 1 : 0
      const tried = attemptsAddition(attempts)
      const changed =
        ending.status === 'sent'
          ? markSent.run(ending.msgid, held, now, now, sent, tried, id)
          : ending.status === 'failed'
            ? markFailed.run(ending.reason, held, now, historyAddition(now, 'failed', ending.reason), tried, id)
            : markRequeued.run(ending.reason, held, ending.dueAt.getTime(), now, historyAddition(now, 'queued', ending.reason), tried, id)
      if (changed.changes !== 1) {
        notSending.push(id)
        continue
      }
      for (const attempt of attempts) tally.errcode(attempt.at.getTime(), attempt.errcode)
      tally.status(now, ending.status)
      if (credit.type !== 'none') {
        const owner = recipientOf.get(id)!
        credits.apply(owner.openid, owner.template_id, credit, now)
      }
    }
    tally.write()
    return { notSending }
  })

  const retry = db.transaction(
    (id: string, reasons: readonly Reason[], now: number) =>
      retryOne.run(now, now, historyAddition(now, 'queued', null), id, JSON.stringify(reasons)).changes === 1,
  )

  function search(query: MessageQuery): { items: MessageSummary[]; next: string | null } {
    const where: string[] = []
    const params: Record<string, string | number> = { limit: query.limit + 1 }
    const add = (clause: string, name: string, value: string | number | undefined): void => {
      if (value === undefined) return
      where.push(clause)
      params[name] = value
    }
    add('campaign_id = @campaign', 'campaign', query.campaignId)
    add('status = @status', 'status', query.status)
    add('openid = @openid', 'openid', query.openid)
    add('template_id = @template', 'template', query.templateId)
    add('reason = @reason', 'reason', query.reason)
    add('created_at >= @since', 'since', query.since?.getTime())
    add('created_at < @until', 'until', query.until?.getTime())
    add('seq < @before', 'before', query.before === undefined ? undefined : Number(query.before))
    const sql = `SELECT * FROM messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`
    const rows = db.prepare<Record<string, string | number>, MessageRow & { seq: number }>(sql).all(params)
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    return { items: page.map(summaryOf), next: rows.length > query.limit && last !== undefined ? String(last.seq) : null }
  }

  const enqueueDue = db.transaction((now: number, limit: number) => {
    let moved = 0
    const queued = historyAddition(now, 'queued', null)
    for (const { id } of dueDeferred.all(now, limit)) {
      if (enqueue.run(now, now, queued, id).changes === 1) moved += 1
    }
    return moved
  })

  return {
    insert(message) {
      return insert(message)
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
      return forRecipient.all(openid, limit).map((row) => {
        const data = dataOf(row.data)
        return data === null ? summaryOf(row) : { ...summaryOf(row), data }
      })
    },
    async leaseDue({ owner, now, until, limit, scope }) {
      if (limit <= 0) return { jobs: [], unreadable: [] }
      const jobs: DispatchJob[] = []
      const unreadable: string[] = []
      for (const row of lease.immediate({ owner, now: now.getTime(), until: until.getTime(), limit, scope })) {
        const job = jobOf(row)
        if (job === null) unreadable.push(row.id)
        else jobs.push(job)
      }
      return { jobs, unreadable }
    },
    async leaseDueIds({ owner, now, until, limit, scope }) {
      if (limit <= 0) return []
      return lease.immediate({ owner, now: now.getTime(), until: until.getTime(), limit, scope }).map((row) => row.id)
    },
    async jobsOf(ids) {
      if (ids.length === 0) return new Map()
      const rows = jobsById.all(distinctJson(ids))
      return new Map(rows.map((row) => [row.id, { status: row.status as MessageStatus, job: jobOf(row) }]))
    },
    async releaseLeases(owner) {
      return release.run(owner).changes
    },
    async releaseOtherLeases(owner) {
      return releaseOthers.run(owner).changes
    },
    async transition(id, from, to, now) {
      return transition.immediate(id, from, to, now.getTime())
    },
    async transitions(moves, now) {
      if (moves.length === 0) return []
      return transitions.immediate(moves, now.getTime())
    },
    async claimForSend(request) {
      return claim.immediate(request, request.now.getTime())
    },
    async claimForSends(requests, now) {
      if (requests.length === 0) return []
      return claims.immediate(requests, now.getTime())
    },
    async finishSends(sends, now) {
      if (sends.length === 0) return { notSending: [] }
      return finish.immediate(sends, now.getTime())
    },
    async countOnDay(openid, dayKey) {
      return countToday.get(openid, dayKey)?.count ?? 0
    },
    async countsOnDay(openids, dayKey) {
      const counts = new Map<string, number>()
      for (const row of countsToday.all(dayKey, distinctJson(openids))) if (row.count > 0) counts.set(row.openid, row.count)
      return counts
    },
    async enqueueDeferred(now, limit) {
      return enqueueDue.immediate(now.getTime(), limit)
    },
    async listInDoubt({ now, owner, otherOwners }) {
      return inDoubt.all({ now: now.getTime(), owner, others: otherOwners ? 1 : 0 }).map((row) => ({ id: row.id, creditSpent: row.credit_spent === 1 }))
    },
    async depth(now) {
      return depthCounts.get(now.getTime()) ?? { queued: 0, due: 0, deferred: 0, sending: 0 }
    },
    async retry(id, reasons, now) {
      return retry.immediate(id, reasons, now.getTime())
    },
    async search(query) {
      return search(query)
    },
    async stats() {
      const byStatus: Record<string, number> = {}
      for (const row of countByStatus.all()) byStatus[row.status] = row.count
      return { byStatus, byErrcode: outcomes.errcodeTotals() }
    },
  }
}
