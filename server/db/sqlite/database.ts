/**
 * Opens the SQLite database: WAL mode (readers never wait for the writer), a busy timeout so two
 * processes on one file queue instead of failing, foreign keys on, then the pending migrations.
 *
 * The file holds the WeChat access token (and the session hashes), so it is the owner's alone, as
 * the admin key file is: the file and its -wal/-shm companions 0600, a folder made for it 0700.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS, type Migration } from './migrations'

export type SqliteDatabase = Database.Database

const BUSY_TIMEOUT_MS = 5000
const OWNER_ONLY_FILE = 0o600
const OWNER_ONLY_FOLDER = 0o700

function errorCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined
}

/**
 * Makes `path` (and its folders) before SQLite does, owner-only. SQLite gives the -wal and -shm
 * files the mode of the database file, so those follow. Only folders made here are narrowed: a
 * folder that already exists (the temp directory, a shared data folder) is the operator's to set.
 */
function createOwnerOnly(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: OWNER_ONLY_FOLDER })
  try {
    closeSync(openSync(path, 'wx', OWNER_ONLY_FILE))
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error
  }
  // A database (or companion) made before this rule, or by hand: narrowed to the owner.
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, OWNER_ONLY_FILE)
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error
    }
  }
}

export function openSqliteDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): SqliteDatabase {
  if (path !== ':memory:') createOwnerOnly(path)
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  db.pragma('foreign_keys = ON')
  db.pragma('synchronous = NORMAL')
  // 2 MiB of page cache, about SQLite's default. A larger cache costs more than it saves: a page split
  // (a message row growing inside a full leaf, which a campaign does at most commits) renumbers pages
  // through the lock page's number, and every commit after it then walks the whole cache to drop
  // pages past the file's end. Measured on the campaign's storage path (bench/sqlite-storage.ts,
  // 100,000 people, µs a message): 16 MiB 55.6–60.0, 4 MiB 51.3–52.0, 2 MiB 50.3–50.5 at 20,000
  // messages; 16 MiB 51.3–51.4 and 2 MiB 47.3–49.9 at 100,000. The pages a campaign reads again come
  // from the OS's cache. No mmap: its pages count in the process's RSS.
  db.pragma('cache_size = -2048')
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
