/**
 * Migration 9 on a database the previous schema made: its message_history / message_attempts rows
 * (interleaved across messages, as concurrent sends write them) move into their messages in order,
 * the charts' and stats' counts are made from them, and the two tables go. The rows are written as the
 * previous code wrote them (server/db/sqlite at migration 8), and each answer below is what that code
 * answered for them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock } from '../../../server/clock'
import { migrate, openSqliteDatabase } from '../../../server/db/sqlite/database'
import { MIGRATIONS } from '../../../server/db/sqlite/migrations'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import { removeDatabase, tempDatabasePath } from '../support/service'

const T0 = Date.parse('2026-11-25T05:00:00.000Z')
const at = (ms: number): Date => new Date(T0 + ms)
const opened: { storage: SqliteStorage; path: string }[] = []

afterEach(() => {
  for (const { storage, path } of opened.splice(0)) {
    if (storage.db.open) storage.close()
    removeDatabase(path)
  }
})

/** A database at migration 8 with five messages, their history and attempts, as the code of then wrote them. */
function previousDatabase(): string {
  const path = tempDatabasePath()
  const db = openSqliteDatabase(path, MIGRATIONS.filter((migration) => migration.version < 9))
  const message = db.prepare(`
    INSERT INTO messages (id, openid, template_id, category, data, urgent, source, campaign_id, status, reason, msgid, credit_spent,
      day_key, created_at, updated_at, sent_at, deliver_after, due_at, requeues)
    VALUES (@id, @openid, 'tpl-order', 'order', '{"thing1":{"value":"已发货"}}', 0, @source, @campaign, @status, @reason, @msgid, 0,
      @day, @created, @updated, @sent, @after, @due, 0)
  `)
  const base = { campaign: null, reason: null, msgid: null, day: null, sent: null, after: null, source: 'admin' }
  message.run({ ...base, id: 'm-sent', openid: 'o-a', status: 'sent', msgid: '1001', day: '2026-11-25', created: T0 + 1_000, updated: T0 + 3_000, sent: T0 + 3_000, due: T0 + 1_000 })
  message.run({ ...base, id: 'm-skipped', openid: 'o-b', source: 'campaign', campaign: 'c-1', status: 'skipped', reason: 'MUTED_CATEGORY', created: T0, updated: T0 + 1_500, due: T0 })
  message.run({ ...base, id: 'm-failed', openid: 'o-a', status: 'failed', reason: '43101', day: '2026-11-25', created: T0 + 1_000, updated: T0 + 61_500, due: T0 + 1_000 })
  message.run({ ...base, id: 'm-deferred', openid: 'o-c', status: 'deferred', created: T0, updated: T0 + 59_999, after: T0 + 3_600_000, due: T0 + 3_600_000 })
  message.run({ ...base, id: 'm-queued', openid: 'o-d', status: 'queued', created: T0 + 2_000, updated: T0 + 2_000, due: T0 + 2_000 })
  const history = db.prepare('INSERT INTO message_history (message_id, at, status, reason) VALUES (?, ?, ?, ?)')
  const attempt = db.prepare('INSERT INTO message_attempts (message_id, at, errcode, errmsg) VALUES (?, ?, ?, ?)')
  // In the order they happened, messages interleaved.
  history.run('m-deferred', T0, 'queued', null)
  history.run('m-skipped', T0 + 1_500, 'queued', null)
  history.run('m-skipped', T0 + 1_500, 'skipped', 'MUTED_CATEGORY')
  history.run('m-sent', T0 + 1_000, 'queued', null)
  history.run('m-failed', T0 + 1_000, 'queued', null)
  history.run('m-sent', T0 + 2_000, 'sending', null)
  history.run('m-queued', T0 + 2_000, 'queued', null)
  attempt.run('m-sent', T0 + 2_500, -1, 'system error')
  attempt.run('m-sent', T0 + 2_900, 0, 'ok')
  history.run('m-sent', T0 + 3_000, 'sent', null)
  history.run('m-deferred', T0 + 59_999, 'deferred', null)
  history.run('m-failed', T0 + 61_000, 'sending', null)
  attempt.run('m-failed', T0 + 61_400, 43101, 'user refuse to accept the msg')
  history.run('m-failed', T0 + 61_500, 'failed', '43101')
  db.close()
  return path
}

function open(path: string): SqliteStorage {
  const storage = createSqliteStorage(path, createManualClock(at(120_000)))
  opened.push({ storage, path })
  return storage
}

describe('SQLite migration 9', () => {
  it('moves every history entry and attempt into its message, in order, and answers get, overTime and stats() as before', async () => {
    const storage = open(previousDatabase())

    const sent = await storage.messages.get('m-sent')
    expect(sent?.history).toEqual([
      { at: at(1_000), status: 'queued', reason: undefined },
      { at: at(2_000), status: 'sending', reason: undefined },
      { at: at(3_000), status: 'sent', reason: undefined },
    ])
    expect(sent?.attempts).toEqual([
      { at: at(2_500), errcode: -1, errmsg: 'system error' },
      { at: at(2_900), errcode: 0, errmsg: 'ok' },
    ])
    expect((await storage.messages.get('m-skipped'))?.history).toEqual([
      { at: at(1_500), status: 'queued', reason: undefined },
      { at: at(1_500), status: 'skipped', reason: 'MUTED_CATEGORY' },
    ])
    const failed = await storage.messages.get('m-failed')
    expect(failed?.history.map((entry) => [entry.at.getTime() - T0, entry.status, entry.reason])).toEqual([
      [1_000, 'queued', undefined],
      [61_000, 'sending', undefined],
      [61_500, 'failed', '43101'],
    ])
    expect(failed?.attempts).toEqual([{ at: at(61_400), errcode: 43101, errmsg: 'user refuse to accept the msg' }])
    expect((await storage.messages.get('m-queued'))?.attempts).toEqual([])

    // The previous code counted history rows of sent, failed, skipped, deferred and every attempt, by when each happened.
    expect(await storage.outcomes.overTime({ from: at(0), to: at(120_000), bucketMs: 60_000 })).toEqual([
      { index: 0, byStatus: { sent: 1, skipped: 1, deferred: 1 }, byErrcode: { '-1': 1, 0: 1 } },
      { index: 1, byStatus: { failed: 1 }, byErrcode: { 43101: 1 } },
    ])
    expect(await storage.outcomes.overTime({ from: at(1_000), to: at(3_000), bucketMs: 1_000 })).toEqual([
      { index: 0, byStatus: { skipped: 1 }, byErrcode: {} },
      { index: 1, byStatus: {}, byErrcode: { '-1': 1, 0: 1 } },
    ])
    expect(await storage.messages.stats()).toEqual({
      byStatus: { sent: 1, skipped: 1, failed: 1, deferred: 1, queued: 1 },
      byErrcode: { '-1': 1, 0: 1, 43101: 1 },
    })
    expect(await storage.campaigns.counts('c-1')).toEqual({ byStatus: { skipped: 1 }, byReason: { MUTED_CATEGORY: 1 } })
    // Only what is sending or sent counts against the day (the failed one's day is let go).
    expect(await storage.messages.countOnDay('o-a', '2026-11-25')).toBe(1)

    // The old tables and their indexes are gone.
    const left = storage.db.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE name LIKE 'message_history%' OR name LIKE 'message_attempts%'`).all()
    expect(left).toEqual([])

    // What happens next is appended to what moved, and counted beside it.
    expect(await storage.messages.retry('m-failed', ['43101'], at(90_000))).toBe(true)
    expect((await storage.messages.get('m-failed'))?.history.at(-1)).toEqual({ at: at(90_000), status: 'queued', reason: undefined })
    expect((await storage.messages.get('m-failed'))?.history).toHaveLength(4)
    expect(await storage.messages.transition('m-queued', ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, at(90_000))).toBe(true)
    expect(await storage.outcomes.overTime({ from: at(60_000), to: at(120_000), bucketMs: 60_000 })).toEqual([
      { index: 0, byStatus: { failed: 1, skipped: 1 }, byErrcode: { 43101: 1 } },
    ])
  })

  it('runs once: opened again, nothing is moved or counted twice', async () => {
    const path = previousDatabase()
    open(path).close()
    const storage = open(path)
    expect(migrate(storage.db)).toEqual([])
    expect((await storage.messages.get('m-sent'))?.history).toHaveLength(3)
    expect((await storage.messages.stats()).byErrcode).toEqual({ '-1': 1, 0: 1, 43101: 1 })
  })
})
