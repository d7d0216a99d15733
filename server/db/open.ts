/**
 * Opens the service's storage: PostgreSQL when DATABASE_URL is set (several instances may share it),
 * else the embedded SQLite file at DATABASE. Both are migrated before this resolves. server/server.ts
 * opens its storage here, and so does anything else that needs the service's database.
 */
import type { Config } from '../config'
import type { Clock } from '../wechat/types'
import { describePostgresUrl } from './postgres/connection'
import { createPostgresStorage } from './postgres/storage'
import { createSqliteStorage } from './sqlite/storage'
import type { Storage } from './storage'

export interface OpenedStorage {
  storage: Storage
  /** Which engine and where, for the start-up log: never a password. */
  engine: string
}

/** The storage could not be opened: one line that says which database and why. */
export class StorageOpenError extends Error {
  override readonly name = 'StorageOpenError'
}

export async function openStorage(config: Pick<Config, 'database' | 'postgres'>, clock: Clock): Promise<OpenedStorage> {
  if (config.postgres === null) {
    return { storage: createSqliteStorage(config.database, clock), engine: `SQLite ${config.database}` }
  }
  const where = describePostgresUrl(config.postgres.url)
  try {
    const storage = await createPostgresStorage(config.postgres.url, clock, { max: config.postgres.poolMax })
    return { storage, engine: `PostgreSQL ${where} (pool of ${String(config.postgres.poolMax)})` }
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new StorageOpenError(`无法打开 PostgreSQL 数据库 ${where}（DATABASE_URL）：${why}`, { cause: error })
  }
}
