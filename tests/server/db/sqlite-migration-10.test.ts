/**
 * Migration 10: credits (`subscriptions`) and preferences become tables keyed by openid itself
 * (WITHOUT ROWID). Rows that migration 9's schema held are answered the same afterwards, the rules of
 * the table (one row per pair, credits never below zero) still hold, and neighbours in openid order
 * share pages: a batch of claims for a campaign's consecutive recipients writes a few WAL frames, not
 * one a person.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock } from '../../../server/clock'
import { creditStatements } from '../../../server/db/sqlite/credits'
import { migrate, openSqliteDatabase, type SqliteDatabase } from '../../../server/db/sqlite/database'
import { MIGRATIONS } from '../../../server/db/sqlite/migrations'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import { sandboxOpenid } from '../../../server/wechat/sandbox/login'
import { removeDatabase, tempDatabasePath } from '../support/service'

const T0 = Date.parse('2026-12-03T06:00:00.000Z')
const paths: string[] = []
const storages: SqliteStorage[] = []
const databases: SqliteDatabase[] = []

afterEach(() => {
  for (const storage of storages.splice(0)) if (storage.db.open) storage.close()
  for (const db of databases.splice(0)) if (db.open) db.close()
  for (const path of paths.splice(0)) removeDatabase(path)
})

function newPath(): string {
  const path = tempDatabasePath()
  paths.push(path)
  return path
}

function open(path: string): SqliteStorage {
  const storage = createSqliteStorage(path, createManualClock(new Date(T0)))
  storages.push(storage)
  return storage
}

describe('SQLite migration 10', () => {
  it('keeps every credit, last answer and preference that migration 9 held, and the rules of both tables', async () => {
    const path = newPath()
    const before = openSqliteDatabase(path, MIGRATIONS.filter((migration) => migration.version < 10))
    // As the code of migration 9 wrote them.
    const credit = before.prepare('INSERT INTO subscriptions (openid, template_id, credits, last_result, updated_at) VALUES (?, ?, ?, ?, ?)')
    credit.run('o-a', 'tpl-order', 3, 'accept', T0 + 1)
    credit.run('o-b', 'tpl-order', 0, 'reject', T0 + 2)
    credit.run('o-a', 'tpl-activity', 1, null, T0 + 3)
    before
      .prepare('INSERT INTO preferences (openid, quiet_start, quiet_end, daily_limit, muted_categories, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run('o-a', '22:00', '08:00', 5, '["activity"]', T0 + 4)
    before.close()

    const storage = open(path)
    expect(await storage.ledger.listSubscriptions('o-a')).toEqual([
      { templateId: 'tpl-activity', credits: 1, lastResult: null, updatedAt: new Date(T0 + 3) },
      { templateId: 'tpl-order', credits: 3, lastResult: 'accept', updatedAt: new Date(T0 + 1) },
    ])
    expect(await storage.ledger.creditsOf(['o-b', 'o-a', 'o-missing'], 'tpl-order')).toEqual(new Map([['o-b', 0], ['o-a', 3]]))
    expect(await storage.preferences.get('o-a')).toEqual({ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: ['activity'] })
    expect(await storage.preferences.get('o-b')).toBeNull()

    // One row per pair, and never below zero: a credit taken from 0 is refused, as before.
    expect(() => storage.db.prepare("INSERT INTO subscriptions (openid, template_id, credits, updated_at) VALUES ('o-a', 'tpl-order', 1, 0)").run()).toThrow(/UNIQUE/)
    expect(() => storage.db.prepare("UPDATE subscriptions SET credits = -1 WHERE openid = 'o-b'").run()).toThrow(/CHECK/)
    const credits = creditStatements(storage.db)
    expect(credits.takeOne('o-b', 'tpl-order', T0 + 5)).toBe(false)
    expect(credits.takeOne('o-a', 'tpl-order', T0 + 5)).toBe(true)
    expect(await storage.ledger.credits('o-a', 'tpl-order')).toBe(2)

    // The tables are keyed by openid, with no hidden rowid and no separate index, and migrated once.
    const tables = storage.db
      .prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE tbl_name IN ('subscriptions', 'preferences') ORDER BY name")
      .all()
    expect(tables.map((table) => [table.name, /WITHOUT ROWID\s*$/.test(table.sql)])).toEqual([
      ['preferences', true],
      ['subscriptions', true],
    ])
    storage.close()
    expect(migrate(open(path).db)).toEqual([])
  })

  it('claims for 28 people next to each other in openid order write a few WAL frames, not one a person', () => {
    const path = newPath()
    const db = openSqliteDatabase(path)
    databases.push(db)
    const credits = creditStatements(db)
    // 3,000 people, each with a credit, written in the order they arrived (not their openid order).
    const people = Array.from({ length: 3_000 }, (_, index) => sandboxOpenid('wx-migration-10', `person-${index}`))
    db.transaction(() => {
      for (const openid of people) credits.apply(openid, 'tpl-activity', { type: 'add', amount: 1 }, T0, 'accept')
    }).immediate()
    db.pragma('wal_checkpoint(TRUNCATE)')

    // A campaign walks its audience in openid order: one batch of claims is 28 neighbours.
    const batch = [...people].sort().slice(1_000, 1_028)
    db.transaction(() => {
      for (const openid of batch) expect(credits.takeOne(openid, 'tpl-activity', T0 + 1)).toBe(true)
    }).immediate()
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }]
    // One or two leaves and the pages above them. Stored in arrival order (migration 9), it was 21.
    expect(log).toBeLessThanOrEqual(4)
  })
})
