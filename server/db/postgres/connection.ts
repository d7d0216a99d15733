/**
 * The PostgreSQL connection pool (porsager `postgres` 3.4.9): one pool per Storage, every query a
 * tagged template, so a value is always a parameter and never spliced into the SQL.
 *
 * Conventions every repository of this engine follows (decided once, here):
 * - Columns are snake_case and rows come back as the database names them (no camel transform: the
 *   keys inside a message's jsonb data, `character_string2`, must stay as WeChat wrote them). Each
 *   repository maps its rows to records itself, as the SQLite repositories do.
 * - Times are `timestamptz`, passed and read as JS `Date`s (millisecond precision survives).
 * - `bigint` (COUNT(*), identity columns) is read as a JS number: counts and sequences stay far below
 *   2^53. `undefined` in a query is sent as NULL.
 * - JSON kept as written (a message's data) is `json`, other JSON `jsonb`; parameters that
 *   postgres.js would guess wrong are made by ./parameters.ts.
 */
import postgres from 'postgres'

export type Sql = postgres.Sql
/** A pool, a transaction or a reserved connection: what a statement helper shared by repositories runs on. */
export type Queries = postgres.Sql | postgres.TransactionSql | postgres.ReservedSql

export interface PostgresOptions {
  /** Connections in this process's pool (PG_POOL_MAX, default 10). */
  max?: number
  /** Seconds an idle connection stays open. */
  idleTimeoutS?: number
  /** Seconds to wait for a connection. */
  connectTimeoutS?: number
  /** Shown in pg_stat_activity, so an operator can tell the instances apart. */
  applicationName?: string
}

/** int8 (oid 20): parsed as a number, serialised as its decimal text. */
const int8AsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number | bigint) => String(value),
  parse: (value: string) => Number(value),
}

/** A pool on `url` (`postgres://user:password@host:port/database`); nothing connects until the first query. */
export function openPostgres(url: string, options: PostgresOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    idle_timeout: options.idleTimeoutS ?? 30,
    connect_timeout: options.connectTimeoutS ?? 10,
    // NOTICEs (CREATE … IF NOT EXISTS that existed) are not the service's news.
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'uni-subscribe' },
    types: { int8: int8AsNumber },
    transform: { undefined: null },
  }) as unknown as Sql
}

/** What a query took back from the URL, for logs: never the password. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `postgres://${parsed.username ? `${decodeURIComponent(parsed.username)}@` : ''}${parsed.host}${parsed.pathname}`
  } catch {
    return 'postgres://(unreadable address)'
  }
}

/** SQLSTATEs after which the whole transaction may simply run again: deadlock, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001'])
const ATTEMPTS = 5

/**
 * `fn` in one transaction (READ COMMITTED), run again from the start when PostgreSQL broke a
 * deadlock by aborting it (two batches taking the same rows in another order): nothing of an
 * aborted attempt remains, so running it again is the same as running it once.
 */
export async function inTransaction<T>(sql: Sql, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return (await sql.begin(fn)) as T
    } catch (error) {
      if (attempt >= ATTEMPTS || !(error instanceof postgres.PostgresError) || !RETRYABLE.has(error.code)) throw error
    }
  }
}

/**
 * A transaction sent in one round trip: BEGIN, the statements `issue` starts, and COMMIT, pipelined
 * on a connection of its own (sent together, run one after another, each seeing the ones before).
 * `issue` must start every statement before it returns (each query's `.then`/`.execute()` called
 * synchronously, no `await` between them): nothing it decides can depend on an answer. When one
 * statement fails, PostgreSQL refuses the rest of the transaction and the COMMIT rolls it back, so it
 * is all or nothing as with `inTransaction`, and run again from the start after a deadlock.
 */
export async function inOneRoundTrip<T>(sql: Sql, issue: (tx: postgres.ReservedSql) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const reserved = await sql.reserve()
    try {
      const begin = reserved.unsafe('BEGIN').execute()
      const body = issue(reserved)
      const commit = reserved.unsafe('COMMIT').execute()
      const [began, done, committed] = await Promise.allSettled([begin, body, commit])
      const failed = [began, done, committed].find((settled) => settled.status === 'rejected')
      if (failed === undefined && done.status === 'fulfilled') {
        // COMMIT of a transaction that failed unseen (it should not) answers ROLLBACK.
        if (committed.status === 'fulfilled' && committed.value.command !== 'COMMIT') throw new Error(`PostgreSQL 事务没有提交（${committed.value.command}）`)
        return done.value
      }
      const error: unknown = failed?.status === 'rejected' ? failed.reason : new Error('PostgreSQL 事务没有完成')
      if (attempt >= ATTEMPTS || !(error instanceof postgres.PostgresError) || !RETRYABLE.has(error.code)) throw error
    } finally {
      reserved.release()
    }
  }
}
