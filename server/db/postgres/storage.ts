/**
 * The PostgreSQL implementation of `Storage`: one repository per file, over one connection pool,
 * for several service instances (on several hosts) sharing one database. Every method is one
 * statement or one transaction; where SQLite's single writer made a read-then-write atomic, the
 * statement is conditional or takes a row or advisory lock (see each file's header).
 *
 * `singleProcess` is false: another instance may be sending right now, so a send is in doubt only
 * when its own lease ran out, never because this instance just started.
 */
import type { Clock } from '../../wechat/types'
import type { Storage } from '../storage'
import { createPostgresCampaignRepository } from './campaigns'
import { openPostgres, type PostgresOptions, type Sql } from './connection'
import { createPostgresDeliveryRepository } from './deliveries'
import { createPostgresDispatchFacts } from './dispatch-facts'
import { createPostgresLedgerRepository } from './ledger'
import { createPostgresMessageRepository } from './messages'
import { migrate } from './migrations'
import { createPostgresOperatorSessionRepository } from './operator-sessions'
import { createPostgresOutcomeRepository } from './outcomes'
import { createPostgresPreferencesRepository } from './preferences'
import { createPostgresSegmentRepository } from './segments'
import { createPostgresSessionRepository } from './sessions'
import { createPostgresTokenStore } from './token-store'
import { createPostgresUserRepository } from './users'

export interface PostgresStorage extends Storage {
  readonly sql: Sql
  close(): Promise<void>
}

/** The repositories over a pool that is open and migrated. */
export function postgresStorageOver(sql: Sql, clock: Clock): PostgresStorage {
  return {
    sql,
    sessions: createPostgresSessionRepository(sql),
    operatorSessions: createPostgresOperatorSessionRepository(sql),
    ledger: createPostgresLedgerRepository(sql),
    preferences: createPostgresPreferencesRepository(sql),
    messages: createPostgresMessageRepository(sql),
    deliveries: createPostgresDeliveryRepository(sql),
    outcomes: createPostgresOutcomeRepository(sql),
    campaigns: createPostgresCampaignRepository(sql),
    users: createPostgresUserRepository(sql),
    segments: createPostgresSegmentRepository(sql),
    tokens: createPostgresTokenStore(sql, clock),
    dispatchFacts: createPostgresDispatchFacts(sql),
    singleProcess: false,
    // Waits for queries in flight, at most 5 s, then closes the connections.
    close: () => sql.end({ timeout: 5 }),
  }
}

/** Opens a pool on `url` and applies the pending migrations (under their advisory lock). */
export async function createPostgresStorage(url: string, clock: Clock, options: PostgresOptions = {}): Promise<PostgresStorage> {
  const sql = openPostgres(url, options)
  try {
    await migrate(sql)
  } catch (error) {
    await sql.end({ timeout: 1 })
    throw error
  }
  return postgresStorageOver(sql, clock)
}
