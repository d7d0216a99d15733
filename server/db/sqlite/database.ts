/**
 * Opens the SQLite database: WAL mode (readers never wait for the writer), a busy timeout so two
 * processes on one file queue instead of failing, foreign keys on, then the pending migrations.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS, type Migration } from './migrations'

export type SqliteDatabase = Database.Database

const BUSY_TIMEOUT_MS = 5000

export function openSqliteDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  db.pragma('foreign_keys = ON')
  db.pragma('synchronous = NORMAL')
  migrate(db, migrations)
  return db
}

/** Applies the migrations not yet recorded, each in its own transaction. Returns the versions applied. */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`)
  const isApplied = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?')
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  const done: number[] = []
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    // Checked inside the write transaction, so two processes starting on one file apply it once.
    db.transaction(() => {
      if (isApplied.get(migration.version)) return
      db.exec(migration.sql)
      record.run(migration.version, migration.name, Date.now())
      done.push(migration.version)
    }).immediate()
  }
  return done
}
