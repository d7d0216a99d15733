/**
 * Deliveries in PostgreSQL: each `subscribe_msg_sent_event` is a row of `wechat_events` (event
 * `sent`), stored once by its key and found by msgid. A message's delivery is read by its msgid, so
 * the order of the two does not matter: an event that arrives before the send's result is written
 * shows on the message as soon as it has that msgid.
 */
import type { DeliveryRecord, DeliveryRepository } from '../storage'
import { inTransaction, type Sql } from './connection'
import { textArray } from './parameters'

interface DeliveryRow {
  msgid: string
  status: string
  error_code: number
  error_status: string
  created_at: Date
}

const recordOf = (row: DeliveryRow): DeliveryRecord => ({
  status: row.status as DeliveryRecord['status'],
  errorCode: row.error_code,
  errorStatus: row.error_status,
  at: row.created_at,
})

export function createPostgresDeliveryRepository(sql: Sql): DeliveryRepository {
  return {
    async record({ openid, items, now }) {
      const applied: string[] = []
      const duplicates: string[] = []
      const unknownMsgids: string[] = []
      if (items.length === 0) return { applied, duplicates, unknownMsgids }
      const rows = items.map(({ key, templateId, msgid, delivery }, ord) => ({
        ord,
        key,
        template_id: templateId,
        msgid,
        status: delivery.status,
        error_code: delivery.errorCode,
        error_status: delivery.errorStatus,
        created_at: delivery.at.toISOString(),
      }))
      const { inserted, known } = await inTransaction(sql, async (tx) => {
        // One statement for the batch; a key seen before (or twice in it) writes nothing the second time.
        const inserted = await tx<{ event_key: string }[]>`
          INSERT INTO wechat_events (event_key, event, openid, template_id, status, msgid, error_code, error_status, created_at, received_at)
          SELECT e.key, 'sent', ${openid}, e.template_id, e.status, e.msgid, e.error_code, e.error_status, e.created_at, ${now}
          FROM jsonb_to_recordset(${tx.json(rows)}) AS e (ord integer, key text, template_id text, msgid text, status text,
            error_code integer, error_status text, created_at timestamptz)
          ORDER BY e.ord
          ON CONFLICT (event_key) DO NOTHING
          RETURNING event_key`
        const known = await tx<{ msgid: string }[]>`
          SELECT DISTINCT msgid FROM messages WHERE msgid = ANY(${textArray(tx, items.map((item) => item.msgid))}::text[])`
        return { inserted, known }
      })
      const fresh = new Set(inserted.map((row) => row.event_key))
      const withMessage = new Set(known.map((row) => row.msgid))
      for (const { key, msgid } of items) {
        if (!fresh.delete(key)) {
          duplicates.push(key)
          continue
        }
        applied.push(key)
        if (!withMessage.has(msgid)) unknownMsgids.push(msgid)
      }
      return { applied, duplicates, unknownMsgids }
    },
    async forMsgids(msgids) {
      const found = new Map<string, DeliveryRecord>()
      if (msgids.length === 0) return found
      // The latest of each msgid.
      const rows = await sql<DeliveryRow[]>`
        SELECT DISTINCT ON (msgid) msgid, status, error_code, error_status, created_at FROM wechat_events
        WHERE event = 'sent' AND msgid = ANY(${textArray(sql, msgids)}::text[]) ORDER BY msgid, seq DESC`
      for (const row of rows) found.set(row.msgid, recordOf(row))
      return found
    },
    async counts() {
      const totals: Record<DeliveryRecord['status'], number> = { delivered: 0, failed: 0 }
      const rows = await sql<{ status: string; count: number }[]>`
        SELECT latest.status, COUNT(*)::integer AS count FROM messages m
        CROSS JOIN LATERAL (
          SELECT w.status FROM wechat_events w WHERE w.event = 'sent' AND w.msgid = m.msgid ORDER BY w.seq DESC LIMIT 1
        ) AS latest
        WHERE m.msgid IS NOT NULL GROUP BY latest.status`
      for (const row of rows) if (row.status === 'delivered' || row.status === 'failed') totals[row.status] = row.count
      return totals
    },
    async deliveredSince(from) {
      const [row] = await sql<{ count: number }[]>`
        SELECT COUNT(DISTINCT msgid)::integer AS count FROM wechat_events
        WHERE event = 'sent' AND status = 'delivered' AND created_at >= ${from}`
      return row?.count ?? 0
    },
    async lastEventReceivedAt() {
      // seq follows arrival: the newest row is the last event received (popup and change events included).
      const [row] = await sql<{ received_at: Date }[]>`SELECT received_at FROM wechat_events ORDER BY seq DESC LIMIT 1`
      return row?.received_at ?? null
    },
  }
}
