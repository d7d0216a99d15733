/**
 * The `open` functions of the storage contract (tests/support/storage-contract.ts): a fresh, empty
 * Storage of each engine. SQLite in memory; PostgreSQL in a database of its own on the run's
 * throwaway server (multi project only: it reads `inject('postgresUrl')`).
 */
import { inject } from 'vitest'
import { createPostgresStorage, type PostgresStorage } from '../../server/db/postgres/storage'
import { createSqliteStorage } from '../../server/db/sqlite/storage'
import type { Storage } from '../../server/db/storage'
import type { Clock } from '../../server/wechat/types'
import { createDatabase } from './servers'
import { T0 } from './storage-contract'
import { createManualClock } from '../../server/clock'

export async function openSqliteStorage(clock: Clock = createManualClock(T0)): Promise<Storage> {
  return createSqliteStorage(':memory:', clock)
}

/** A new database on the run's PostgreSQL, migrated. */
export async function openPostgresStorage(clock: Clock = createManualClock(T0)): Promise<PostgresStorage> {
  const url = await createDatabase(inject('postgresUrl'), 'contract')
  return createPostgresStorage(url, clock, { max: 4 })
}
