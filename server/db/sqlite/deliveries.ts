/**
 * Deliveries in SQLite: each `subscribe_msg_sent_event` is a row of `wechat_events` (event `sent`),
 * stored once by its key and found by msgid. A message's delivery is read by its msgid, so the order
 * of the two does not matter: an event that arrives before the send's result is written shows on the
 * message as soon as it has that msgid. The console's 概览 reads today's deliveries and when the last
 * push event (of any kind: popup and change events are rows of the same table) came in.
 */
import type { DeliveryEvent, DeliveryRecord, DeliveryRepository } from '../storage'
import type { SqliteDatabase } from './database'
import { groupCommit } from './group-commit'

interface DeliveryRow {
  msgid: string
  status: string
  error_code: number
  error_status: string
  created_at: number
}

const recordOf = (row: DeliveryRow): DeliveryRecord => ({
  status: row.status as DeliveryRecord['status'],
  errorCode: row.error_code,
  errorStatus: row.error_status,
  at: new Date(row.created_at),
})

export function createSqliteDeliveryRepository(db: SqliteDatabase): DeliveryRepository {
  const insert = db.prepare(`
    INSERT OR IGNORE INTO wechat_events (event_key, event, openid, template_id, status, msgid, error_code, error_status, created_at, received_at)
    VALUES (@key, 'sent', @openid, @templateId, @status, @msgid, @errorCode, @errorStatus, @createdAt, @receivedAt)
  `)
  const messageWith = db.prepare<[string], { id: string }>('SELECT id FROM messages WHERE msgid = ? LIMIT 1')
  // Latest first, so the first row of each msgid wins.
  const byMsgids = db.prepare<[string], DeliveryRow>(`
    SELECT msgid, status, error_code, error_status, created_at FROM wechat_events
    WHERE event = 'sent' AND msgid IN (SELECT value FROM json_each(?)) ORDER BY seq DESC
  `)
  const counts = db.prepare<[], { status: string; count: number }>(`
    SELECT latest.status AS status, COUNT(*) AS count FROM messages
    JOIN wechat_events AS latest ON latest.seq = (
      SELECT MAX(seq) FROM wechat_events WHERE event = 'sent' AND msgid = messages.msgid)
    WHERE messages.msgid IS NOT NULL GROUP BY latest.status
  `)

  // One count per message: WeChat reporting a msgid twice delivers it once.
  const deliveredSince = db.prepare<[number], { count: number }>(`
    SELECT COUNT(DISTINCT msgid) AS count FROM wechat_events WHERE event = 'sent' AND status = 'delivered' AND created_at >= ?
  `)
  // seq follows arrival: the newest row is the last event received (popup and change events included).
  const lastReceived = db.prepare<[], { received_at: number }>('SELECT received_at FROM wechat_events ORDER BY seq DESC LIMIT 1')

  // WeChat pushes one event per send, many at once: they share commits.
  const record = groupCommit(db, (openid: string, items: readonly DeliveryEvent[], now: number) => {
    const applied: string[] = []
    const duplicates: string[] = []
    const unknownMsgids: string[] = []
    for (const { key, templateId, msgid, delivery } of items) {
      const row = { key, openid, templateId, msgid, status: delivery.status, errorCode: delivery.errorCode, errorStatus: delivery.errorStatus, createdAt: delivery.at.getTime(), receivedAt: now }
      if (insert.run(row).changes === 0) {
        duplicates.push(key)
        continue
      }
      applied.push(key)
      if (!messageWith.get(msgid)) unknownMsgids.push(msgid)
    }
    return { applied, duplicates, unknownMsgids }
  })

  return {
    async record({ openid, items, now }) {
      return record(openid, items, now.getTime())
    },
    async forMsgids(msgids) {
      const found = new Map<string, DeliveryRecord>()
      if (msgids.length === 0) return found
      for (const row of byMsgids.all(JSON.stringify(msgids))) if (!found.has(row.msgid)) found.set(row.msgid, recordOf(row))
      return found
    },
    async counts() {
      const totals: Record<DeliveryRecord['status'], number> = { delivered: 0, failed: 0 }
      for (const row of counts.all()) if (row.status === 'delivered' || row.status === 'failed') totals[row.status] = row.count
      return totals
    },
    async deliveredSince(from) {
      return deliveredSince.get(from.getTime())?.count ?? 0
    },
    async lastEventReceivedAt() {
      const row = lastReceived.get()
      return row === undefined ? null : new Date(row.received_at)
    },
  }
}
