/**
 * Campaigns in SQLite. A campaign's messages are ordinary message rows carrying its id; the
 * expansion writes them a page at a time, each page in one transaction with the campaign's cursor,
 * so a restart goes on from the last page written and a recipient never gets two (one row per
 * campaign and openid, enforced by a unique index).
 */
import type { CampaignStatus, MessageStatus, Reason, SegmentFilter } from '../../../src/domain/contract'
import { campaignCounts, type CampaignMessage, type CampaignRecord, type CampaignRepository } from '../storage'
import type { SqliteDatabase } from './database'
import { appended, historyAddition, historyValue } from './message-log'
import { createSqliteOutcomeCounts, type OutcomeTally } from './outcomes'

/**
 * `messages_by_campaign` holds only a campaign's messages the dispatcher does not hold (migration 9):
 * its queued ones are found in `messages_due_by_campaign`, its sending ones in `messages_sending`, so a
 * claim and a send move no entry of it. Each query below names this term as the index does: SQLite
 * reads a partial index only for a WHERE that contains its condition.
 */
const AT_REST = `status NOT IN ('queued', 'sending')`

interface CampaignRow {
  id: string
  name: string
  segment_id: string
  segment_filter: string
  template_id: string
  data: string
  page: string | null
  urgent: number
  truncate: number
  rate_per_second: number | null
  status: string
  start_at: number | null
  expansion_cursor: string | null
  expanded: number
  total: number
  created_at: number
  started_at: number | null
  finished_at: number | null
}

function recordOf(row: CampaignRow): CampaignRecord {
  const record: CampaignRecord = {
    id: row.id,
    name: row.name,
    segmentId: row.segment_id,
    segmentFilter: JSON.parse(row.segment_filter) as SegmentFilter,
    templateId: row.template_id,
    data: JSON.parse(row.data) as Record<string, string>,
    urgent: row.urgent === 1,
    truncate: row.truncate === 1,
    status: row.status as CampaignStatus,
    expansionCursor: row.expansion_cursor,
    expanded: row.expanded === 1,
    total: row.total,
    createdAt: new Date(row.created_at),
  }
  if (row.page !== null) record.page = row.page
  if (row.rate_per_second !== null) record.ratePerSecond = row.rate_per_second
  if (row.start_at !== null) record.startAt = new Date(row.start_at)
  if (row.started_at !== null) record.startedAt = new Date(row.started_at)
  if (row.finished_at !== null) record.finishedAt = new Date(row.finished_at)
  return record
}

export function createSqliteCampaignRepository(db: SqliteDatabase): CampaignRepository {
  const outcomes = createSqliteOutcomeCounts(db)
  const insert = db.prepare(`
    INSERT INTO campaigns (id, name, segment_id, segment_filter, template_id, data, page, urgent, truncate, rate_per_second,
      status, start_at, created_at, started_at, updated_at)
    VALUES (@id, @name, @segmentId, @segmentFilter, @templateId, @data, @page, @urgent, @truncate, @rate, @status, @startAt,
      @createdAt, @startedAt, @createdAt)
  `)
  const byId = db.prepare<[string], CampaignRow>('SELECT * FROM campaigns WHERE id = ?')
  const all = db.prepare<[], CampaignRow>('SELECT * FROM campaigns ORDER BY seq DESC')
  const statusOf = db.prepare<[string], { status: string; expansion_cursor: string | null; expanded: number }>(
    'SELECT status, expansion_cursor, expanded FROM campaigns WHERE id = ?',
  )
  const setStatus = db.prepare(`
    UPDATE campaigns SET status = @to, started_at = COALESCE(@startedAt, started_at),
      finished_at = CASE WHEN @clearFinished = 1 THEN NULL ELSE COALESCE(@finishedAt, finished_at) END, updated_at = @now
    WHERE id = @id AND status IN (SELECT value FROM json_each(@from))
  `)
  // Positional parameters: binding by name costs more, and this runs once per recipient.
  type Bound = string | number | null
  const insertMessage = db.prepare<Bound[]>(`
    INSERT INTO messages (id, openid, template_id, category, data, page, urgent, source, campaign_id, status, reason, detail,
      due_at, created_at, updated_at, history, attempts)
    VALUES (?, ?, ?, ?, ?, ?, ?, 'campaign', ?, ?, ?, ?, ?, ?, ?, ?, '[]')
    ON CONFLICT (campaign_id, openid) WHERE campaign_id IS NOT NULL DO NOTHING
  `)
  const moveCursor = db.prepare(
    'UPDATE campaigns SET expansion_cursor = ?, expanded = ?, total = total + ?, updated_at = ? WHERE id = ?',
  )
  // `+campaign_id`: the few sending messages are read from their own index, not the campaign's.
  const countMessages = db.prepare<{ id: string }, { status: string; reason: string | null; count: number }>(`
    SELECT status, reason, COUNT(*) AS count FROM messages WHERE campaign_id = @id AND ${AT_REST} GROUP BY status, reason
    UNION ALL SELECT 'queued', NULL, COUNT(*) FROM messages WHERE campaign_id = @id AND status = 'queued'
    UNION ALL SELECT 'sending', NULL, COUNT(*) FROM messages WHERE status = 'sending' AND +campaign_id = @id
  `)
  const dueToStart = db.prepare<[number], { id: string }>(
    `SELECT id FROM campaigns WHERE status = 'scheduled' AND (start_at IS NULL OR start_at <= ?) ORDER BY seq`,
  )
  const expanding = db.prepare<[], { id: string }>(`SELECT id FROM campaigns WHERE status = 'running' AND expanded = 0 ORDER BY seq`)
  const finished = db.prepare<[], { id: string }>(`
    SELECT id FROM campaigns c WHERE status = 'running' AND expanded = 1
      AND NOT EXISTS (SELECT 1 FROM messages WHERE campaign_id = c.id AND status = 'queued')
      AND NOT EXISTS (SELECT 1 FROM messages WHERE status = 'sending' AND +campaign_id = c.id)
      AND NOT EXISTS (SELECT 1 FROM messages WHERE campaign_id = c.id AND ${AT_REST} AND status = 'deferred')
  `)
  const pendingOf = db.prepare<{ id: string }, { id: string }>(`
    SELECT id FROM messages WHERE campaign_id = @id AND status = 'queued'
    UNION ALL SELECT id FROM messages WHERE campaign_id = @id AND ${AT_REST} AND status = 'deferred'
  `)
  const skipOne = db.prepare<Bound[]>(`
    UPDATE messages SET status = 'skipped', reason = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?,
      history = ${appended('history')}
    WHERE id = ? AND status IN ('queued', 'deferred')
  `)
  const failedOf = db.prepare<[string, string], { id: string }>(
    `SELECT id FROM messages WHERE campaign_id = ? AND ${AT_REST} AND status = 'failed' AND reason IN (SELECT value FROM json_each(?))`,
  )
  const retryOne = db.prepare<Bound[]>(`
    UPDATE messages SET status = 'queued', reason = NULL, detail = NULL, due_at = ?, requeues = 0, lease_owner = NULL,
      lease_expires_at = NULL, updated_at = ?, history = ${appended('history')}
    WHERE id = ? AND status = 'failed'
  `)
  const rates = db.prepare<[], { id: string; rate_per_second: number }>(
    `SELECT id, rate_per_second FROM campaigns WHERE status = 'running' AND rate_per_second IS NOT NULL ORDER BY seq`,
  )

  const expand = db.transaction(
    (page: Omit<Parameters<CampaignRepository['expandPage']>[0], 'now'> & { now: number }): { written: number } | null => {
      const current = statusOf.get(page.id)
      if (!current || current.status !== 'running' || current.expanded === 1 || current.expansion_cursor !== page.fromCursor) {
        return null
      }
      let written = 0
      const tally = outcomes.tally()
      const queued = historyValue([page.now, 'queued', null])
      for (const message of page.messages) written += writeMessage(message, page.now, queued, tally) ? 1 : 0
      tally.write()
      moveCursor.run(page.toCursor, page.done ? 1 : 0, written, page.now, page.id)
      return { written }
    },
  )

  /** `queued`: the history of a message written queued at `now` (the same for a whole page). */
  function writeMessage(message: CampaignMessage, now: number, queued: string, tally: OutcomeTally): boolean {
    const status: MessageStatus = message.skipped ? 'skipped' : 'queued'
    // Written `queued`, then at once `skipped` when the expansion already knows it will not go.
    const history = message.skipped ? historyValue([now, 'queued', null], [now, 'skipped', message.skipped.reason]) : queued
    const createdAt = message.createdAt.getTime()
    const inserted = insertMessage.run(
      message.id,
      message.openid,
      message.templateId,
      message.category,
      JSON.stringify(message.data),
      message.page ?? null,
      message.urgent ? 1 : 0,
      message.campaignId ?? null,
      status,
      message.skipped?.reason ?? null,
      message.skipped?.detail ?? null,
      createdAt, // due
      createdAt,
      createdAt, // updated
      history,
    )
    if (inserted.changes !== 1) return false
    tally.status(now, status)
    return true
  }

  const skipPending = db.transaction((id: string, reason: Reason, now: number) => {
    let skipped = 0
    const skippedEntry = historyAddition(now, 'skipped', reason)
    const tally = outcomes.tally()
    for (const { id: messageId } of pendingOf.all({ id })) {
      if (skipOne.run(reason, now, skippedEntry, messageId).changes !== 1) continue
      tally.status(now, 'skipped')
      skipped += 1
    }
    tally.write()
    return skipped
  })

  const retryFailed = db.transaction((id: string, reasons: readonly Reason[], now: number) => {
    let retried = 0
    const queuedEntry = historyAddition(now, 'queued', null)
    for (const { id: messageId } of failedOf.all(id, JSON.stringify(reasons))) {
      if (retryOne.run(now, now, queuedEntry, messageId).changes === 1) retried += 1
    }
    return retried
  })

  return {
    async create(campaign) {
      insert.run({
        id: campaign.id,
        name: campaign.name,
        segmentId: campaign.segmentId,
        segmentFilter: JSON.stringify(campaign.segmentFilter),
        templateId: campaign.templateId,
        data: JSON.stringify(campaign.data),
        page: campaign.page ?? null,
        urgent: campaign.urgent ? 1 : 0,
        truncate: campaign.truncate ? 1 : 0,
        rate: campaign.ratePerSecond ?? null,
        status: campaign.status,
        startAt: campaign.startAt?.getTime() ?? null,
        createdAt: campaign.createdAt.getTime(),
        startedAt: campaign.startedAt?.getTime() ?? null,
      })
    },
    async get(id) {
      const row = byId.get(id)
      return row ? recordOf(row) : null
    },
    async list() {
      return all.all().map(recordOf)
    },
    async setStatus(id, from, to, now, times = {}) {
      const changed = setStatus.run({
        id,
        from: JSON.stringify(from),
        to,
        now: now.getTime(),
        startedAt: times.startedAt?.getTime() ?? null,
        finishedAt: times.finishedAt?.getTime() ?? null,
        clearFinished: times.finishedAt === null ? 1 : 0,
      })
      return changed.changes === 1
    },
    async expandPage(page) {
      return expand.immediate({ ...page, now: page.now.getTime() })
    },
    async counts(id) {
      return campaignCounts(countMessages.all({ id }))
    },
    async dueToStart(now) {
      return dueToStart.all(now.getTime()).map((row) => row.id)
    },
    async expanding() {
      return expanding.all().map((row) => row.id)
    },
    async finished() {
      return finished.all().map((row) => row.id)
    },
    async skipPending(id, reason, now) {
      return skipPending.immediate(id, reason, now.getTime())
    },
    async retryFailed(id, reasons, now) {
      return retryFailed.immediate(id, reasons, now.getTime())
    },
    async rates() {
      return rates.all().map((row) => ({ id: row.id, ratePerSecond: row.rate_per_second }))
    },
  }
}
