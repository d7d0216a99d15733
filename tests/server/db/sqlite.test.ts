import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock } from '../../../server/clock'
import { migrate, openSqliteDatabase } from '../../../server/db/sqlite/database'
import { MIGRATIONS } from '../../../server/db/sqlite/migrations'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import { removeDatabase, tempDatabasePath } from '../support/service'

const opened: { storage: SqliteStorage; path: string }[] = []
const clock = createManualClock(new Date('2026-11-25T05:00:00.000Z'))

function open(path = tempDatabasePath()): SqliteStorage {
  const storage = createSqliteStorage(path, clock)
  opened.push({ storage, path })
  return storage
}

afterEach(() => {
  for (const { storage, path } of opened.splice(0)) {
    if (storage.db.open) storage.close()
    removeDatabase(path)
  }
})

const modeOf = (path: string): number => statSync(path).mode & 0o777

describe('SQLite database', () => {
  it('is the owner’s alone: the file, its -wal and -shm 0600, the folders made for it 0700', () => {
    const root = mkdtempSync(join(tmpdir(), 'uni-subscribe-mode-'))
    try {
      const path = join(root, 'data', 'nested', 'service.db')
      const storage = open(path)
      // A write, so that the WAL is in use.
      storage.db.prepare("INSERT INTO sessions (token_hash, openid, created_at, expires_at) VALUES ('h', 'o', 0, 1)").run()
      expect(modeOf(path)).toBe(0o600)
      expect(modeOf(`${path}-wal`)).toBe(0o600)
      expect(modeOf(`${path}-shm`)).toBe(0o600)
      expect(modeOf(join(root, 'data'))).toBe(0o700)
      expect(modeOf(join(root, 'data', 'nested'))).toBe(0o700)
    } finally {
      for (const { storage } of opened.splice(0)) storage.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('narrows a database file and companions that others could read, and leaves an existing folder alone', () => {
    const root = mkdtempSync(join(tmpdir(), 'uni-subscribe-mode-'))
    try {
      chmodSync(root, 0o755)
      const path = join(root, 'old.db')
      open(path).close()
      chmodSync(path, 0o644)
      writeFileSync(`${path}-wal`, '', { mode: 0o664 })
      chmodSync(`${path}-wal`, 0o664)
      open(path)
      expect(modeOf(path)).toBe(0o600)
      expect(modeOf(`${path}-wal`)).toBe(0o600)
      expect(modeOf(root)).toBe(0o755)
    } finally {
      for (const { storage } of opened.splice(0)) if (storage.db.open) storage.close()
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('runs in WAL mode with a busy timeout and records the migrations applied', () => {
    const { db } = open()
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000)
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
      ...MIGRATIONS.map((migration) => ({ version: migration.version, name: migration.name })),
    ])
  })

  it('applies each migration once, also when opened again, and applies new ones in order', () => {
    const path = tempDatabasePath()
    open(path).close()
    const db = openSqliteDatabase(path)
    expect(migrate(db)).toEqual([])
    const version = Math.max(...MIGRATIONS.map((migration) => migration.version)) + 1
    const next = [...MIGRATIONS, { version, name: 'add a column', sql: 'ALTER TABLE sessions ADD COLUMN device TEXT' }]
    expect(migrate(db, next)).toEqual([version])
    expect(migrate(db, next)).toEqual([])
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(next.map((migration) => ({ version: migration.version })))
    db.close()
    removeDatabase(path)
  })

  it('version 4 makes users of the people who signed in before it, last active at their newest session, consent or preferences', () => {
    const path = tempDatabasePath()
    const db = openSqliteDatabase(path, MIGRATIONS.filter((migration) => migration.version < 4))
    db.exec(`
      INSERT INTO sessions (token_hash, openid, created_at, expires_at) VALUES ('h1', 'o-alice', 1000, 9000), ('h2', 'o-alice', 3000, 9000);
      INSERT INTO consents (openid, consent_id, results, credits, created_at) VALUES ('o-bob', 'c1', '{}', '{}', 2000);
      INSERT INTO subscriptions (openid, template_id, credits, last_result, updated_at) VALUES ('o-bob', 't1', 1, 'accept', 5000);
      INSERT INTO preferences (openid, quiet_start, quiet_end, daily_limit, muted_categories, updated_at) VALUES ('o-carol', NULL, NULL, 5, '[]', 4000);
    `)
    expect(migrate(db)).toEqual(MIGRATIONS.filter((migration) => migration.version >= 4).map((migration) => migration.version))
    expect(db.prepare('SELECT openid, created_at, updated_at, last_active_at FROM users ORDER BY openid').all()).toEqual([
      { openid: 'o-alice', created_at: 1000, updated_at: 3000, last_active_at: 3000 },
      { openid: 'o-bob', created_at: 2000, updated_at: 5000, last_active_at: 2000 },
      { openid: 'o-carol', created_at: 4000, updated_at: 4000, last_active_at: 4000 },
    ])
    db.close()
    removeDatabase(path)
  })

  it('shares the token and one refresh lease between two processes on one file', async () => {
    const path = tempDatabasePath()
    const first = open(path).tokens
    const second = open(path).tokens
    await first.write('ACCESS_TOKEN_1', new Date('2026-11-25T07:00:00.000Z'))
    expect(await second.read()).toEqual({ token: 'ACCESS_TOKEN_1', expiresAt: new Date('2026-11-25T07:00:00.000Z') })

    expect(await first.tryLease('process-a', 15_000)).toBe(true)
    expect(await second.tryLease('process-b', 15_000)).toBe(false)
    expect(await first.tryLease('process-a', 15_000)).toBe(true)
    await first.releaseLease('process-a')
    expect(await second.tryLease('process-b', 15_000)).toBe(true)
    // A lease left by a process that died expires.
    clock.advance(15_001)
    expect(await first.tryLease('process-a', 15_000)).toBe(true)
    clock.set(new Date('2026-11-25T05:00:00.000Z'))
  })

  it('never lets credits go below zero, whoever spends them', async () => {
    const path = tempDatabasePath()
    const a = open(path)
    const b = open(path)
    await a.ledger.applyConsent({
      openid: 'o1',
      consentId: 'c1',
      changes: [{ templateId: 't1', result: 'accept', credit: { type: 'add', amount: 3 } }],
      now: clock.now(),
    })
    const base = { openid: 'o1', templateId: 't1', category: 'order', data: {}, urgent: false, source: 'admin' as const, createdAt: clock.now() }
    const claims = []
    for (let i = 0; i < 8; i += 1) {
      const storage = i % 2 === 0 ? a : b
      const owner = i % 2 === 0 ? 'process-a' : 'process-b'
      await storage.messages.insert({ ...base, id: `m${i}` })
      const { jobs } = await storage.messages.leaseDue({ owner, now: clock.now(), until: new Date(clock.now().getTime() + 60_000), limit: 1, scope: { exceptCampaigns: [] } })
      expect(jobs.map((job) => job.id)).toEqual([`m${i}`])
      claims.push(
        await storage.messages.claimForSend({
          id: `m${i}`,
          owner,
          leaseUntil: new Date(clock.now().getTime() + 60_000),
          spendCredit: true,
          dayKey: '2026-11-25',
          dailyLimit: 100,
          now: clock.now(),
        }),
      )
    }
    expect(claims.map((claim) => claim.outcome)).toEqual(['claimed', 'claimed', 'claimed', 'no-credit', 'no-credit', 'no-credit', 'no-credit', 'no-credit'])
    expect(await a.ledger.credits('o1', 't1')).toBe(0)
  })
})
