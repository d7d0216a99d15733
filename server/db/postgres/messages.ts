/**
 * Messages in PostgreSQL: the message row is the dispatch job, with its status history and every
 * WeChat attempt in the row itself (jsonb arrays, appended by the statement that changes the status),
 * as in SQLite (server/db/sqlite/messages.ts). A statement that ends a step in a status the charts
 * count, or records attempts, adds to the outcome counts in the same statement (./outcomes.ts).
 * Every status change is one conditional statement on the status it leaves (and, for a dispatcher, on
 * its lease), so two workers on two hosts never both move one message: the second waits for the
 * first's row lock and finds the status gone.
 *
 * - Leasing due messages is `FOR UPDATE SKIP LOCKED`: concurrent leasers take disjoint rows without
 *   waiting for each other, and a row leased meanwhile no longer matches when its lock is taken.
 * - A claim takes the recipient's daily-count lock (./locks.ts) before counting, so two instances
 *   claiming two messages of one person never both pass the daily limit; the credit is taken as
 *   ./credits.ts takes one (its `HAS_CREDIT` and `TAKE_ONE_CREDIT`), in the claim's own statement.
 * - A batch of claims, or of sends' endings, is one set-based statement (arrays unnested), pipelined
 *   after the daily-count locks on the transaction's connection. Where set-based would not be the same
 *   as one by one (two claims of one person, one message twice), each is a statement of its own, in
 *   order, each seeing the ones before. Endings that change no credit need no transaction.
 */
import type postgres from 'postgres'
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
  MessageTransition,
  NewMessage,
  SendClaim,
  StatusChangeRecord,
} from '../storage'
import { inOneRoundTrip, inTransaction, type Queries, type Sql } from './connection'
import { jsonText, textArray, typedArray } from './parameters'
import { applyCredit, HAS_CREDIT, TAKE_ONE_CREDIT } from './credits'
import { LOCK, lockRecipientsOf } from './locks'
import { countOutcomes, countsByKey, secondOf, statusEvents } from './outcomes'

interface MessageRow {
  seq: number
  id: string
  openid: string
  template_id: string
  category: string
  data: unknown
  page: string | null
  urgent: boolean
  lang: string | null
  idempotency_key: string | null
  request_fingerprint: string | null
  source: string
  campaign_id: string | null
  status: string
  reason: string | null
  detail: string | null
  msgid: string | null
  credit_spent: boolean
  requeues: number
  created_at: Date
  sent_at: Date | null
  deliver_after: Date | null
}

/** A history entry and an attempt as the row's jsonb arrays hold them (`at` as ISO text). */
interface StoredChange {
  at: string
  status: string
  reason?: string
}
interface StoredAttempt {
  at: string
  errcode: number
  errmsg: string
}

type FullRow = MessageRow & { history: StoredChange[]; attempts: StoredAttempt[] }

/** The columns of a summary or a listing (everything but the history and the attempts). */
const SUMMARY_COLUMNS = `seq, id, openid, template_id, category, data, page, urgent, lang, idempotency_key, request_fingerprint, source,
  campaign_id, status, reason, detail, msgid, credit_spent, requeues, created_at, sent_at, deliver_after`

/**
 * The columns of a search's page (`summaryOf` reads nothing else): not the data, whose json every row
 * of a page would be parsed for nothing (a campaign's 5,000 messages read back: 5,000 JSON.parse).
 */
const SEARCH_COLUMNS = `seq, id, openid, template_id, status, reason, detail, campaign_id, created_at, sent_at, deliver_after, msgid`

/** History entries as the row stores them: one array, to append with `history || …`. */
export function historyEntries(changes: readonly StatusChangeRecord[]): StoredChange[] {
  return changes.map((change) => (change.reason === undefined ? { at: change.at.toISOString(), status: change.status } : { at: change.at.toISOString(), status: change.status, reason: change.reason }))
}

type JobRow = Pick<MessageRow, 'seq' | 'id' | 'openid' | 'template_id' | 'category' | 'data' | 'page' | 'lang' | 'urgent' | 'requeues' | 'campaign_id'> & {
  due_at: Date
}

const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value)

type MessageData = Record<string, { value: string }>

/** Whether stored data is what a message's data must be: an object of `{ value: string }`. */
function isMessageData(value: unknown): value is MessageData {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.values(value).every(
    (entry) => typeof entry === 'object' && entry !== null && typeof (entry as { value?: unknown }).value === 'string',
  )
}

/** What a summary is made of. */
type SummaryRow = Pick<MessageRow, 'id' | 'openid' | 'template_id' | 'status' | 'reason' | 'detail' | 'campaign_id' | 'created_at' | 'sent_at' | 'deliver_after' | 'msgid'>

function summaryOf(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    openid: row.openid,
    templateId: row.template_id,
    status: row.status as MessageStatus,
    reason: optional(row.reason) as Reason | undefined,
    detail: optional(row.detail),
    campaignId: optional(row.campaign_id),
    createdAt: row.created_at,
    sentAt: optional(row.sent_at),
    deliverAfter: optional(row.deliver_after),
    msgid: optional(row.msgid),
  }
}

/** The job a leased row is, or null when its data is not a message's data. */
function jobOf(row: Omit<JobRow, 'seq' | 'due_at'>): DispatchJob | null {
  if (!isMessageData(row.data)) return null
  const job: DispatchJob = {
    id: row.id,
    openid: row.openid,
    templateId: row.template_id,
    category: row.category,
    data: row.data,
    urgent: row.urgent,
    requeues: row.requeues,
  }
  if (row.page !== null) job.page = row.page
  if (row.lang !== null) job.lang = row.lang as MessageLang
  if (row.campaign_id !== null) job.campaignId = row.campaign_id
  return job
}

/**
 * The statuses that count against a person's daily limit, as a condition written out in the SQL
 * (not a parameter): the daily-count index (`messages_by_day`) holds only these rows, and a plan made
 * for any parameter (a prepared statement's generic plan) could not use it.
 */
export const COUNTED = "status IN ('sending', 'sent')"

/**
 * A search's status as a condition written out in the SQL, for the same reason: each status but
 * `sent` (most rows, found along the sequence) has a partial index of its own.
 */
const STATUS_CONDITION: Record<MessageStatus, string> = {
  queued: "status = 'queued'",
  sending: "status = 'sending'",
  deferred: "status = 'deferred'",
  sent: "status = 'sent'",
  failed: "status = 'failed'",
  skipped: "status = 'skipped'",
}

/** The record of a row, with the attempts and history it holds. */
function recordOf(row: FullRow): MessageRecord {
  return {
    ...summaryOf(row),
    category: row.category,
    data: isMessageData(row.data) ? row.data : {},
    page: optional(row.page),
    urgent: row.urgent,
    lang: optional(row.lang) as MessageLang | undefined,
    idempotencyKey: optional(row.idempotency_key),
    requestFingerprint: optional(row.request_fingerprint),
    source: row.source as MessageSource,
    creditSpent: row.credit_spent,
    requeues: row.requeues,
    attempts: row.attempts.map((attempt) => ({ at: new Date(attempt.at), errcode: attempt.errcode, errmsg: attempt.errmsg })),
    history: row.history.map((change): StatusChangeRecord => {
      const record: StatusChangeRecord = { at: new Date(change.at), status: change.status as MessageStatus }
      if (change.reason !== undefined) record.reason = change.reason as Reason
      return record
    }),
  }
}

/** One status move (`transition`), as one statement: the update only when the status is one of `from`, and its history. */
async function moveOne(sql: Queries, id: string, from: readonly MessageStatus[], to: MessageTransition, now: Date): Promise<boolean> {
  const deferred = to.status === 'deferred'
  const reason = deferred ? null : to.reason
  const entry = historyEntries([reason === null ? { at: now, status: to.status } : { at: now, status: to.status, reason }])
  const rows = await sql`
    WITH moved AS (
      UPDATE messages SET status = ${to.status}, reason = ${reason}, detail = ${deferred ? null : (to.detail ?? null)},
        deliver_after = ${deferred ? sql`${to.deliverAfter}::timestamptz` : sql`deliver_after`},
        due_at = ${deferred ? to.deliverAfter : null}, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${now},
        history = history || ${jsonText(sql, entry)}::jsonb
      WHERE id = ${id} AND status = ANY(${textArray(sql, from)})
      RETURNING id, status
    ), counted AS (${countOutcomes(sql, statusEvents(sql, 'moved', now))})
    SELECT id FROM moved
  `
  return rows.count === 1
}

/**
 * The UPDATE of a batch's rows also names them by `id = ANY(ids)`: joined with the batch alone, a
 * plan made while the table was small (a prepared statement's, kept until the next ANALYZE) hashed the
 * batch and read the whole table (auto_explain); the array makes it an index scan at any size.
 *
 * A batch's messages, each found by its id and locked (FOR UPDATE), for a LATERAL join from the
 * batch's rows (`input`); the caller checks their status on what it locked (the newest version,
 * which no one can change until the transaction ends). Planned on its own (OFFSET 0) and asked by id
 * alone, each row is one lookup in the id's index: with the status in the join, the planner, whose
 * statistics lag behind a queue that changes by the second, took a status index instead and went
 * through every entry the status ever had (22,673 index entries for 23 rows in the cluster bench).
 */
function lockedById(tx: Queries): postgres.PendingQuery<postgres.Row[]> {
  return tx`
    SELECT messages.id, messages.openid, messages.template_id, messages.status, messages.lease_owner FROM messages
    WHERE messages.id = input.id OFFSET 0 FOR UPDATE
  `
}

/**
 * Claims (`claimForSends`) as one statement, in the caller's transaction after the recipients'
 * daily-count locks: each message locked (found by id once: the rows locked also tell whether two
 * claims are of one person), then, if it is queued under its claim's lease, the recipient's
 * sends on the day counted, a credit taken (or only looked at), the message moved to `sending` with
 * its history, each step only when the one before it passed; per claim, its three findings say which
 * did not. Set-based, it is claims in order only when no two are of one recipient (one person's
 * second claim must see the first's count and credit): with two of one person it changes nothing and
 * says so (`distinct` false), and the caller claims them one statement each.
 */
function claimSet(tx: Queries, claims: readonly SendClaim[], now: Date): Promise<{ distinct: boolean; results: ClaimResult[] }> {
  // Started now (not at an `await`): it may be one of a round trip's pipelined statements.
  return tx<{ n: number; distinct_people: boolean; found: boolean; counted: number | null; credited: boolean }[]>`
    WITH input AS (
      SELECT * FROM unnest(${textArray(tx, claims.map((claim) => claim.id))}::text[], ${textArray(tx, claims.map((claim) => claim.owner))}::text[],
        ${typedArray(tx, claims.map((claim) => claim.leaseUntil.toISOString()), 'timestamptz')}::timestamptz[],
        ${typedArray(tx, claims.map((claim) => claim.spendCredit), 'boolean')}::boolean[],
        ${textArray(tx, claims.map((claim) => claim.dayKey))}::text[], ${typedArray(tx, claims.map((claim) => claim.dailyLimit), 'integer')}::integer[])
        WITH ORDINALITY AS claim (id, owner, lease_until, spend, day_key, daily_limit, n)
    ), locked AS (
      SELECT locked.id, locked.openid, locked.template_id, locked.status, locked.lease_owner, input.owner, input.n, input.lease_until,
        input.spend, input.day_key, input.daily_limit
      FROM input CROSS JOIN LATERAL (${lockedById(tx)}) AS locked
    ), people AS (
      SELECT COUNT(DISTINCT openid) = COUNT(*) AS distinct_people FROM locked
    ), message AS (
      SELECT locked.id, locked.openid, locked.template_id, locked.n, locked.lease_until, locked.spend, locked.day_key, locked.daily_limit
      FROM people, locked
      WHERE people.distinct_people AND locked.status = 'queued' AND locked.lease_owner = locked.owner
    ), counted AS (
      SELECT message.*, (
        SELECT COUNT(*) FROM messages
        WHERE messages.openid = message.openid AND messages.day_key = message.day_key AND messages.${tx.unsafe(COUNTED)}
      ) AS sends FROM message
    ), allowed AS (
      SELECT * FROM counted WHERE sends < daily_limit
    ), spent AS (
      UPDATE subscriptions SET ${tx.unsafe(TAKE_ONE_CREDIT)}, updated_at = ${now} FROM allowed
      WHERE allowed.spend AND subscriptions.openid = allowed.openid AND subscriptions.template_id = allowed.template_id AND ${tx.unsafe(HAS_CREDIT)}
      RETURNING allowed.n
    ), credited AS (
      SELECT n FROM spent
      UNION ALL
      SELECT allowed.n FROM subscriptions JOIN allowed ON subscriptions.openid = allowed.openid AND subscriptions.template_id = allowed.template_id
      WHERE NOT allowed.spend AND ${tx.unsafe(HAS_CREDIT)}
    ), sending AS (
      UPDATE messages SET status = 'sending', reason = NULL, credit_spent = allowed.spend, day_key = allowed.day_key,
        lease_expires_at = allowed.lease_until, updated_at = ${now},
        history = messages.history || ${jsonText(tx, historyEntries([{ at: now, status: 'sending' }]))}::jsonb
      FROM allowed JOIN credited ON credited.n = allowed.n
      WHERE messages.id = allowed.id AND messages.id = ANY(${textArray(tx, claims.map((claim) => claim.id))}::text[])
      RETURNING messages.id, allowed.n
    )
    SELECT input.n, people.distinct_people, counted.n IS NOT NULL AS found, counted.sends AS counted, credited.n IS NOT NULL AS credited
    FROM people, input LEFT JOIN counted ON counted.n = input.n LEFT JOIN credited ON credited.n = input.n
  `.then((rows) => {
    const distinct = rows[0]?.distinct_people ?? true
    const byN = new Map(rows.map((row) => [row.n, row]))
    const results = claims.map((claim, index): ClaimResult => {
      const row = byN.get(index + 1)
      if (!row || !row.found) return { outcome: 'not-claimable' }
      if ((row.counted ?? 0) >= claim.dailyLimit) return { outcome: 'daily-limit-reached' }
      if (!row.credited) return { outcome: 'no-credit' }
      return { outcome: 'claimed', creditSpent: claim.spendCredit }
    })
    return { distinct, results }
  })
}

/**
 * Claims in order, in one transaction: the recipients' daily-count locks and the claims as one
 * statement, sent with BEGIN and COMMIT in one round trip. When two are of one person that statement
 * changed nothing: then a transaction of its own claims each as a statement, in order, each seeing
 * the ones before.
 */
async function claimAll(sql: Sql, claims: readonly SendClaim[], now: Date): Promise<ClaimResult[]> {
  const ids = claims.map((claim) => claim.id)
  const together = await inOneRoundTrip(sql, (tx) => Promise.all([lockRecipientsOf(tx, LOCK.dailyCount, ids), claimSet(tx, claims, now)]))
  if (together[1].distinct) return together[1].results
  return inTransaction(sql, async (tx) => {
    const [, ...oneByOne] = await Promise.all([lockRecipientsOf(tx, LOCK.dailyCount, ids), ...claims.map((claim) => claimSet(tx, [claim], now))])
    return oneByOne.map((claimed) => claimed.results[0]!)
  })
}

/**
 * Endings (`finishSends`) of distinct messages as one statement: each message leaves `sending` with
 * its attempts and history; the recipient and template come back for the credit, nothing for one
 * that was not sending.
 */
async function finishSet(tx: Queries, sends: readonly FinishedSend[], now: Date): Promise<Array<{ openid: string; template_id: string } | undefined>> {
  const attempts = sends.flatMap((send, index) => send.attempts.map((attempt) => ({ n: index + 1, ...attempt })))
  // Each ending's history entry and attempts as the row stores them, made here rather than by PostgreSQL.
  const entries = sends.map((send) =>
    JSON.stringify(historyEntries([send.ending.status === 'sent' ? { at: now, status: 'sent' } : { at: now, status: send.ending.status, reason: send.ending.reason }])),
  )
  const tried = sends.map((send) => JSON.stringify(send.attempts.map((attempt): StoredAttempt => ({ at: attempt.at.toISOString(), errcode: attempt.errcode, errmsg: attempt.errmsg }))))
  const rows = await tx<{ n: number; openid: string; template_id: string }[]>`
    WITH input AS (
      SELECT * FROM unnest(${textArray(tx, sends.map((send) => send.id))}::text[], ${textArray(tx, sends.map((send) => send.ending.status))}::text[],
        ${typedArray(tx, sends.map((send) => (send.ending.status === 'sent' ? null : send.ending.reason)), 'text')}::text[],
        ${typedArray(tx, sends.map((send) => (send.ending.status === 'sent' ? send.ending.msgid : null)), 'text')}::text[],
        ${typedArray(tx, sends.map((send) => (send.ending.status === 'queued' ? send.ending.dueAt.toISOString() : null)), 'timestamptz')}::timestamptz[],
        ${typedArray(tx, sends.map((send) => send.creditHeld), 'boolean')}::boolean[],
        ${textArray(tx, entries)}::jsonb[], ${textArray(tx, tried)}::jsonb[])
        WITH ORDINALITY AS send (id, status, reason, msgid, due_at, credit_held, entry, tried, n)
    ), target AS (
      SELECT input.* FROM input CROSS JOIN LATERAL (${lockedById(tx)}) AS locked WHERE locked.status = 'sending'
    ), finished AS (
      UPDATE messages SET status = target.status, reason = target.reason,
        msgid = CASE WHEN target.status = 'sent' THEN target.msgid ELSE messages.msgid END,
        sent_at = CASE WHEN target.status = 'sent' THEN ${now}::timestamptz ELSE messages.sent_at END,
        due_at = CASE WHEN target.status = 'queued' THEN target.due_at ELSE messages.due_at END,
        requeues = messages.requeues + CASE WHEN target.status = 'queued' THEN 1 ELSE 0 END,
        credit_spent = target.credit_held, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${now},
        history = messages.history || target.entry, attempts = messages.attempts || target.tried
      FROM target
      WHERE messages.id = target.id AND messages.id = ANY(${textArray(tx, sends.map((send) => send.id))}::text[])
      RETURNING target.n, messages.openid, messages.template_id, target.status
    ), counted AS (${countOutcomes(
      tx,
      tx`${statusEvents(tx, 'finished', now)}
        UNION ALL
        SELECT attempt.second, 'errcode', attempt.errcode::text FROM finished JOIN
          unnest(${typedArray(tx, attempts.map((attempt) => attempt.n), 'integer')}::integer[], ${typedArray(tx, attempts.map((attempt) => secondOf(attempt.at)), 'bigint')}::bigint[],
            ${typedArray(tx, attempts.map((attempt) => attempt.errcode), 'integer')}::integer[]) AS attempt (n, second, errcode)
          ON attempt.n = finished.n`,
    )})
    SELECT n, openid, template_id FROM finished
  `
  const byN = new Map(rows.map((row) => [row.n, row]))
  return sends.map((_, index) => byN.get(index + 1))
}

/** What a lease returns of each row for `leaseDue` (a job, and its place in the order). */
const LEASED_JOB_COLUMNS = `messages.seq, messages.id, messages.openid, messages.template_id, messages.category, messages.data, messages.page,
  messages.lang, messages.urgent, messages.requeues, messages.campaign_id, messages.due_at`


export function createPostgresMessageRepository(sql: Sql): MessageRepository {
  const byId = async (queries: Queries, id: string): Promise<FullRow | undefined> =>
    (await queries<FullRow[]>`SELECT ${queries.unsafe(SUMMARY_COLUMNS)}, history, attempts FROM messages WHERE id = ${id}`)[0]
  const byKey = async (queries: Queries, key: string): Promise<FullRow | undefined> =>
    (await queries<FullRow[]>`SELECT ${queries.unsafe(SUMMARY_COLUMNS)}, history, attempts FROM messages WHERE idempotency_key = ${key}`)[0]

  /** The lease of `leaseDue` and `leaseDueIds`, returning the rows' `returning` columns (due_at and seq among them), oldest due first. */
  async function leaseRows<Row extends { seq: number; due_at: Date }>(
    request: { owner: string; now: Date; until: Date; limit: number; scope: LeaseScope },
    returning: string,
  ): Promise<Row[]> {
    const { owner, now, until, limit, scope } = request
    const inScope =
      'campaignId' in scope
        ? sql`campaign_id = ${scope.campaignId}`
        : sql`(campaign_id IS NULL OR campaign_id <> ALL(${textArray(sql, scope.exceptCampaigns)}))`
    const rows = await sql<Row[]>`
      WITH due AS (
        SELECT id FROM messages
        WHERE status = 'queued' AND due_at <= ${now} AND (lease_expires_at IS NULL OR lease_expires_at <= ${now}) AND ${inScope}
          AND (campaign_id IS NULL OR EXISTS (
            SELECT 1 FROM campaigns WHERE campaigns.id = messages.campaign_id AND campaigns.status = 'running'))
        ORDER BY due_at, seq
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE messages SET lease_owner = ${owner}, lease_expires_at = ${until}
      FROM due WHERE messages.id = due.id
      RETURNING ${sql.unsafe(returning)}
    `
    return [...rows].sort((a, b) => a.due_at.getTime() - b.due_at.getTime() || a.seq - b.seq)
  }

  async function lease(request: { owner: string; now: Date; until: Date; limit: number; scope: LeaseScope }): Promise<{ jobs: DispatchJob[]; unreadable: string[] }> {
    const ordered = await leaseRows<JobRow>(request, LEASED_JOB_COLUMNS)
    const jobs: DispatchJob[] = []
    const unreadable: string[] = []
    for (const row of ordered) {
      const job = jobOf(row)
      if (job === null) unreadable.push(row.id)
      else jobs.push(job)
    }
    return { jobs, unreadable }
  }

  return {
    async insert(message: NewMessage) {
      // One statement: the row with its first history entry, or nothing when the key is taken.
      const [row] = await sql<FullRow[]>`
        INSERT INTO messages (id, openid, template_id, category, data, page, urgent, lang, idempotency_key,
          request_fingerprint, source, campaign_id, status, due_at, created_at, updated_at, history)
        VALUES (${message.id}, ${message.openid}, ${message.templateId}, ${message.category}, ${jsonText(sql, message.data)}::json,
          ${message.page ?? null}, ${message.urgent}, ${message.lang ?? null}, ${message.idempotencyKey ?? null},
          ${message.requestFingerprint ?? null}, ${message.source}, ${message.campaignId ?? null}, 'queued',
          ${message.createdAt}, ${message.createdAt}, ${message.createdAt},
          ${jsonText(sql, historyEntries([{ at: message.createdAt, status: 'queued' }]))}::jsonb)
        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING ${sql.unsafe(SUMMARY_COLUMNS)}, history, attempts
      `
      if (row !== undefined) return { message: recordOf(row), created: true }
      // The key is taken (maybe by a request on another instance a moment ago): that message is the answer.
      const existing = await byKey(sql, message.idempotencyKey ?? '')
      if (existing === undefined) throw new Error(`message ${message.id}: its idempotency key is taken, yet no message holds it`)
      return { message: recordOf(existing), created: false }
    },
    async get(id) {
      const row = await byId(sql, id)
      return row ? recordOf(row) : null
    },
    async findByIdempotencyKey(key) {
      const row = await byKey(sql, key)
      return row ? recordOf(row) : null
    },
    async listForRecipient(openid, limit) {
      const rows = await sql<MessageRow[]>`SELECT ${sql.unsafe(SUMMARY_COLUMNS)} FROM messages WHERE openid = ${openid} ORDER BY seq DESC LIMIT ${limit}`
      return rows.map((row) => (isMessageData(row.data) ? { ...summaryOf(row), data: row.data } : summaryOf(row)))
    },
    async leaseDue(request) {
      if (request.limit <= 0) return { jobs: [], unreadable: [] }
      return lease(request)
    },
    async leaseDueIds(request) {
      if (request.limit <= 0) return []
      return (await leaseRows<{ seq: number; id: string; due_at: Date }>(request, 'messages.seq, messages.id, messages.due_at')).map((row) => row.id)
    },
    async jobsOf(ids) {
      if (ids.length === 0) return new Map()
      const rows = await sql<Array<Omit<JobRow, 'seq' | 'due_at'> & { status: string }>>`
        SELECT id, status, openid, template_id, category, data, page, lang, urgent, requeues, campaign_id FROM messages
        WHERE id = ANY(${textArray(sql, ids)})
      `
      return new Map(rows.map((row) => [row.id, { status: row.status as MessageStatus, job: jobOf(row) }]))
    },
    async releaseLeases(owner) {
      return (await sql`UPDATE messages SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'queued' AND lease_owner = ${owner}`).count
    },
    async releaseOtherLeases(owner) {
      const rows = await sql`
        UPDATE messages SET lease_owner = NULL, lease_expires_at = NULL
        WHERE status = 'queued' AND lease_owner IS NOT NULL AND lease_owner <> ${owner}
      `
      return rows.count
    },
    async transition(id, from, to, now) {
      return moveOne(sql, id, from, to, now)
    },
    async transitions(moves, now) {
      if (moves.length === 0) return []
      return inTransaction(sql, async (tx) => {
        const moved = await Promise.all(moves.map((move) => moveOne(tx, move.id, move.from, move.to, now)))
        return moves.filter((_, index) => moved[index]).map((move) => move.id)
      })
    },
    async claimForSend(request) {
      const [result] = await claimAll(sql, [request], request.now)
      return result ?? { outcome: 'not-claimable' }
    },
    async claimForSends(requests, now) {
      if (requests.length === 0) return []
      return claimAll(sql, requests, now)
    },
    async finishSends(sends, now) {
      if (sends.length === 0) return { notSending: [] }
      const credited = sends.some((send) => send.credit.type !== 'none')
      const distinct = new Set(sends.map((send) => send.id)).size === sends.length
      // The usual batch (sent, no credit to change, each message once) is one statement, atomic alone.
      if (!credited && distinct) {
        const finished = await finishSet(sql, sends, now)
        return { notSending: sends.filter((_, index) => finished[index] === undefined).map((send) => send.id) }
      }
      return inTransaction(sql, async (tx) => {
        // A message twice in one batch: the second finds it no longer sending, as one by one.
        const finished = distinct ? await finishSet(tx, sends, now) : (await Promise.all(sends.map((send) => finishSet(tx, [send], now)))).map((rows) => rows[0])
        // Then the credits, in the order of the sends (as SQLite applies them).
        await Promise.all(
          sends.map((send, index) => {
            const row = finished[index]
            return row === undefined || send.credit.type === 'none' ? null : applyCredit(tx, row.openid, row.template_id, send.credit, now)
          }),
        )
        return { notSending: sends.filter((_, index) => finished[index] === undefined).map((send) => send.id) }
      })
    },
    async countOnDay(openid, dayKey) {
      const [row] = await sql<{ count: number }[]>`
        SELECT COUNT(*) AS count FROM messages WHERE openid = ${openid} AND day_key = ${dayKey} AND ${sql.unsafe(COUNTED)}
      `
      return row?.count ?? 0
    },
    async countsOnDay(openids, dayKey) {
      if (openids.length === 0) return new Map()
      const rows = await sql<{ openid: string; count: number }[]>`
        SELECT openid, COUNT(*) AS count FROM messages
        WHERE openid = ANY(${textArray(sql, openids)}) AND day_key = ${dayKey} AND ${sql.unsafe(COUNTED)}
        GROUP BY openid
      `
      return new Map(rows.map((row) => [row.openid, row.count]))
    },
    async enqueueDeferred(now, limit) {
      const rows = await sql`
        WITH due AS (
          SELECT id FROM messages WHERE status = 'deferred' AND deliver_after <= ${now}
          ORDER BY deliver_after, seq LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE messages SET status = 'queued', due_at = ${now}, updated_at = ${now},
          history = messages.history || ${jsonText(sql, historyEntries([{ at: now, status: 'queued' }]))}::jsonb
        FROM due WHERE messages.id = due.id AND messages.status = 'deferred'
      `
      return rows.count
    },
    async listInDoubt({ now, owner, otherOwners }) {
      const rows = await sql<{ id: string; credit_spent: boolean }[]>`
        SELECT id, credit_spent FROM messages
        WHERE status = 'sending' AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= ${now}
          OR (${otherOwners}::boolean AND lease_owner <> ${owner}))
        ORDER BY seq
      `
      return rows.map((row) => ({ id: row.id, creditSpent: row.credit_spent }))
    },
    async depth(now) {
      // Each count on its status's partial index.
      const [row] = await sql<{ queued: number; due: number; deferred: number; sending: number }[]>`
        SELECT
          (SELECT COUNT(*) FROM messages WHERE status = 'queued') AS queued,
          (SELECT COUNT(*) FROM messages WHERE status = 'queued' AND due_at <= ${now}) AS due,
          (SELECT COUNT(*) FROM messages WHERE status = 'deferred') AS deferred,
          (SELECT COUNT(*) FROM messages WHERE status = 'sending') AS sending
      `
      return row ?? { queued: 0, due: 0, deferred: 0, sending: 0 }
    },
    async retry(id, reasons, now) {
      const rows = await sql`
        UPDATE messages SET status = 'queued', reason = NULL, detail = NULL, due_at = ${now}, requeues = 0, lease_owner = NULL,
          lease_expires_at = NULL, updated_at = ${now}, history = history || ${jsonText(sql, historyEntries([{ at: now, status: 'queued' }]))}::jsonb
        WHERE id = ${id} AND status = 'failed' AND reason = ANY(${textArray(sql, reasons)})
      `
      return rows.count === 1
    },
    async search(query) {
      const conditions = [
        query.campaignId !== undefined && sql`campaign_id = ${query.campaignId}`,
        query.status !== undefined && (query.status in STATUS_CONDITION ? sql.unsafe(STATUS_CONDITION[query.status]) : sql`status = ${query.status}`),
        query.openid !== undefined && sql`openid = ${query.openid}`,
        query.templateId !== undefined && sql`template_id = ${query.templateId}`,
        query.reason !== undefined && sql`reason = ${query.reason}`,
        query.since !== undefined && sql`created_at >= ${query.since}`,
        query.until !== undefined && sql`created_at < ${query.until}`,
        // A cursor is digits; one past bigint's range is past every message (as SQLite compares it).
        query.before !== undefined && Number.isSafeInteger(Number(query.before)) && sql`seq < ${Number(query.before)}`,
      ].filter((condition) => condition !== false)
      const where = conditions.reduce((clause, condition, index) => (index === 0 ? sql`WHERE ${condition}` : sql`${clause} AND ${condition}`), sql``)
      const rows = await sql<Array<SummaryRow & Pick<MessageRow, 'seq'>>>`SELECT ${sql.unsafe(SEARCH_COLUMNS)} FROM messages ${where} ORDER BY seq DESC LIMIT ${query.limit + 1}`
      const page = rows.slice(0, query.limit)
      const last = page.at(-1)
      return { items: page.map(summaryOf), next: rows.length > query.limit && last !== undefined ? String(last.seq) : null }
    },
    async stats() {
      const [statuses, byErrcode] = await Promise.all([
        sql<{ status: string; count: number }[]>`SELECT status, COUNT(*) AS count FROM messages GROUP BY status`,
        countsByKey(sql, 'errcode'),
      ])
      const byStatus: Record<string, number> = {}
      for (const row of statuses) byStatus[row.status] = row.count
      return { byStatus, byErrcode }
    },
  }
}
