/**
 * Campaigns in PostgreSQL. A campaign's messages are ordinary message rows carrying its id; the
 * expansion writes a page in one transaction that holds the campaign's row (FOR UPDATE) while it
 * checks the cursor, inserts the page in one statement (a recipient who already has a message of
 * the campaign is passed over by the unique (campaign_id, openid) index) with its history (and the
 * skipped ones' outcome counts), and moves the cursor. Cancelling and retrying a campaign's messages
 * are one statement each, history and counts and all.
 */
import type { CampaignStatus, MessageStatus, SegmentFilter } from '../../../src/domain/contract'
import { campaignCounts, type CampaignMessage, type CampaignRecord, type CampaignRepository } from '../storage'
import { inTransaction, type Sql } from './connection'
import { historyEntries } from './messages'
import { countOutcomes, statusEvents } from './outcomes'
import { jsonRows, jsonText, textArray } from './parameters'

/**
 * `messages_by_campaign` holds only a campaign's messages the dispatcher does not hold (migration 7):
 * its queued ones are found in `messages_due_by_campaign`, its sending ones in `messages_sending`, so a
 * claim writes no entry of it. Each query below names this term as the index does: PostgreSQL reads a
 * partial index only for a WHERE that implies its condition. The sending ones (a few per instance) are
 * read from their own index and then compared by campaign, never found through the campaign's
 * recipients index (all its rows, sent ones and all: 10,000 read for none found, bench/pg-plans.ts,
 * which explains these queries with this same term).
 */
export const AT_REST = `status NOT IN ('queued', 'sending')`

interface CampaignRow {
  id: string
  name: string
  segment_id: string
  segment_filter: SegmentFilter
  template_id: string
  data: Record<string, string>
  page: string | null
  urgent: boolean
  truncate: boolean
  rate_per_second: number | null
  status: string
  start_at: Date | null
  expansion_cursor: string | null
  expanded: boolean
  total: number
  created_at: Date
  started_at: Date | null
  finished_at: Date | null
}

function recordOf(row: CampaignRow): CampaignRecord {
  const record: CampaignRecord = {
    id: row.id,
    name: row.name,
    segmentId: row.segment_id,
    segmentFilter: row.segment_filter,
    templateId: row.template_id,
    data: row.data,
    urgent: row.urgent,
    truncate: row.truncate,
    status: row.status as CampaignStatus,
    expansionCursor: row.expansion_cursor,
    expanded: row.expanded,
    total: row.total,
    createdAt: row.created_at,
  }
  if (row.page !== null) record.page = row.page
  if (row.rate_per_second !== null) record.ratePerSecond = row.rate_per_second
  if (row.start_at !== null) record.startAt = row.start_at
  if (row.started_at !== null) record.startedAt = row.started_at
  if (row.finished_at !== null) record.finishedAt = row.finished_at
  return record
}

const COLUMNS = `id, name, segment_id, segment_filter, template_id, data, page, urgent, truncate, rate_per_second, status, start_at,
  expansion_cursor, expanded, total, created_at, started_at, finished_at`

/**
 * A page's message as one element of the JSON the insert reads (`json_to_recordset`: its data keeps
 * its keywords in order), in page order, with its history: queued, then skipped for a skipped one.
 */
function pageRow(message: CampaignMessage, ord: number, now: Date) {
  return {
    ord,
    id: message.id,
    openid: message.openid,
    template_id: message.templateId,
    category: message.category,
    data: message.data,
    page: message.page ?? null,
    urgent: message.urgent,
    campaign_id: message.campaignId ?? null,
    status: (message.skipped ? 'skipped' : 'queued') satisfies MessageStatus,
    reason: message.skipped?.reason ?? null,
    detail: message.skipped?.detail ?? null,
    created_at: message.createdAt.toISOString(),
    history: historyEntries(message.skipped ? [{ at: now, status: 'queued' }, { at: now, status: 'skipped', reason: message.skipped.reason }] : [{ at: now, status: 'queued' }]),
  }
}

export function createPostgresCampaignRepository(sql: Sql): CampaignRepository {
  return {
    async create(campaign) {
      await sql`
        INSERT INTO campaigns (id, name, segment_id, segment_filter, template_id, data, page, urgent, truncate, rate_per_second,
          status, start_at, created_at, started_at, updated_at)
        VALUES (${campaign.id}, ${campaign.name}, ${campaign.segmentId}, ${jsonText(sql, campaign.segmentFilter)}::json, ${campaign.templateId},
          ${jsonText(sql, campaign.data)}::json, ${campaign.page ?? null}, ${campaign.urgent}, ${campaign.truncate}, ${campaign.ratePerSecond ?? null},
          ${campaign.status}, ${campaign.startAt ?? null}, ${campaign.createdAt}, ${campaign.startedAt ?? null}, ${campaign.createdAt})`
    },
    async get(id) {
      const [row] = await sql<CampaignRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM campaigns WHERE id = ${id}`
      return row ? recordOf(row) : null
    },
    async list() {
      return (await sql<CampaignRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM campaigns ORDER BY seq DESC`).map(recordOf)
    },
    async setStatus(id, from, to, now, times = {}) {
      const changed = await sql`
        UPDATE campaigns SET status = ${to}, started_at = COALESCE(${times.startedAt ?? null}::timestamptz, started_at),
          finished_at = CASE WHEN ${times.finishedAt === null} THEN NULL ELSE COALESCE(${times.finishedAt ?? null}::timestamptz, finished_at) END,
          updated_at = ${now}
        WHERE id = ${id} AND status = ANY(${textArray(sql, from)}::text[])`
      return changed.count === 1
    },
    async expandPage(page) {
      return inTransaction(sql, async (tx) => {
        const [current] = await tx<{ status: string; expansion_cursor: string | null; expanded: boolean }[]>`
          SELECT status, expansion_cursor, expanded FROM campaigns WHERE id = ${page.id} FOR UPDATE`
        if (!current || current.status !== 'running' || current.expanded || current.expansion_cursor !== page.fromCursor) return null
        let written = 0
        if (page.messages.length > 0) {
          const [result] = await tx<{ written: number }[]>`
            WITH page AS (
              SELECT * FROM json_to_recordset(${jsonRows(tx, page.messages.map((message, ord) => pageRow(message, ord, page.now)))}) AS p (ord integer,
                id text, openid text, template_id text, category text, data json, page text, urgent boolean, campaign_id text, status text,
                reason text, detail text, created_at timestamptz, history jsonb)
            ), inserted AS (
              INSERT INTO messages (id, openid, template_id, category, data, page, urgent, source, campaign_id, status, reason, detail,
                due_at, created_at, updated_at, history)
              SELECT id, openid, template_id, category, data, page, urgent, 'campaign', campaign_id, status, reason, detail,
                created_at, created_at, created_at, history
              FROM page ORDER BY ord
              ON CONFLICT (campaign_id, openid) WHERE campaign_id IS NOT NULL DO NOTHING
              RETURNING status
            ), counted AS (${countOutcomes(tx, statusEvents(tx, 'inserted', page.now))})
            SELECT COUNT(*)::integer AS written FROM inserted`
          written = result!.written
        }
        await tx`
          UPDATE campaigns SET expansion_cursor = ${page.toCursor}, expanded = ${page.done}, total = total + ${written},
            updated_at = ${page.now}
          WHERE id = ${page.id}`
        return { written }
      })
    },
    async counts(id) {
      const rows = await sql<{ status: string; reason: string | null; count: number }[]>`
        SELECT status, reason, COUNT(*)::integer AS count FROM messages WHERE campaign_id = ${id} AND ${sql.unsafe(AT_REST)} GROUP BY status, reason
        UNION ALL SELECT 'queued', NULL, COUNT(*)::integer FROM messages WHERE campaign_id = ${id} AND status = 'queued'
        UNION ALL SELECT 'sending', NULL, (COUNT(*) FILTER (WHERE campaign_id = ${id}))::integer FROM messages WHERE status = 'sending'`
      return campaignCounts(rows)
    },
    async dueToStart(now) {
      const rows = await sql<{ id: string }[]>`
        SELECT id FROM campaigns WHERE status = 'scheduled' AND (start_at IS NULL OR start_at <= ${now}) ORDER BY seq`
      return rows.map((row) => row.id)
    },
    async expanding() {
      const rows = await sql<{ id: string }[]>`SELECT id FROM campaigns WHERE status = 'running' AND NOT expanded ORDER BY seq`
      return rows.map((row) => row.id)
    },
    async finished() {
      const rows = await sql<{ id: string }[]>`
        SELECT id FROM campaigns c WHERE status = 'running' AND expanded
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id AND m.status = 'queued')
          AND c.id NOT IN (SELECT campaign_id FROM messages WHERE status = 'sending' AND campaign_id IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id AND ${sql.unsafe(AT_REST)} AND m.status = 'deferred')
        ORDER BY seq`
      return rows.map((row) => row.id)
    },
    async skipPending(id, reason, now) {
      // Rows locked in sequence order (as a batch elsewhere locks them), re-read once locked: a message
      // claimed meanwhile is `sending` and stays so.
      return inTransaction(sql, async (tx) => {
        const [result] = await tx<{ skipped: number }[]>`
          WITH target AS (
            SELECT id FROM messages
            WHERE campaign_id = ${id} AND (status = 'queued' OR (${tx.unsafe(AT_REST)} AND status = 'deferred'))
            ORDER BY seq FOR UPDATE
          ), moved AS (
            UPDATE messages m SET status = 'skipped', reason = ${reason}, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${now},
              history = m.history || ${jsonText(tx, historyEntries([{ at: now, status: 'skipped', reason }]))}::jsonb
            FROM target WHERE m.id = target.id
            RETURNING m.status
          ), counted AS (${countOutcomes(tx, statusEvents(tx, 'moved', now))})
          SELECT COUNT(*)::integer AS skipped FROM moved`
        return result!.skipped
      })
    },
    async retryFailed(id, reasons, now) {
      return inTransaction(sql, async (tx) => {
        const [result] = await tx<{ retried: number }[]>`
          WITH target AS (
            SELECT id FROM messages WHERE campaign_id = ${id} AND ${tx.unsafe(AT_REST)} AND status = 'failed' AND reason = ANY(${textArray(tx, reasons)}::text[])
            ORDER BY seq FOR UPDATE
          ), moved AS (
            UPDATE messages m SET status = 'queued', reason = NULL, detail = NULL, due_at = ${now}, requeues = 0, lease_owner = NULL,
              lease_expires_at = NULL, updated_at = ${now}, history = m.history || ${jsonText(tx, historyEntries([{ at: now, status: 'queued' }]))}::jsonb
            FROM target WHERE m.id = target.id
            RETURNING m.id
          )
          SELECT COUNT(*)::integer AS retried FROM moved`
        return result!.retried
      })
    },
    async rates() {
      const rows = await sql<{ id: string; rate_per_second: number }[]>`
        SELECT id, rate_per_second FROM campaigns WHERE status = 'running' AND rate_per_second IS NOT NULL ORDER BY seq`
      return rows.map((row) => ({ id: row.id, ratePerSecond: row.rate_per_second }))
    },
  }
}
