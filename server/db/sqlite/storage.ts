/**
 * The SQLite implementation of `Storage`: one repository per file, over one better-sqlite3
 * connection. Each method runs synchronously inside one transaction (`BEGIN IMMEDIATE` for writes),
 * so it is atomic against other requests of this process and, through the file lock and busy
 * timeout, against other processes on the same file.
 */
import type { Clock } from '../../wechat/types'
import type { Storage } from '../storage'
import { createSqliteCampaignRepository } from './campaigns'
import { openSqliteDatabase, type SqliteDatabase } from './database'
import { createSqliteDeliveryRepository } from './deliveries'
import { createSqliteLedgerRepository } from './ledger'
import { createSqliteMessageRepository } from './messages'
import { createSqliteOperatorSessionRepository } from './operator-sessions'
import { createSqliteOutcomeRepository } from './outcomes'
import { createSqlitePreferencesRepository } from './preferences'
import { createSqliteSegmentRepository } from './segments'
import { createSqliteSessionRepository } from './sessions'
import { createSqliteTokenStore } from './token-store'
import { createSqliteUserRepository } from './users'

export interface SqliteStorage extends Storage {
  readonly db: SqliteDatabase
}

/** Opens (and migrates) the database at `path` (`:memory:` for a throwaway one). */
export function createSqliteStorage(path: string, clock: Clock): SqliteStorage {
  const db = openSqliteDatabase(path)
  return {
    db,
    sessions: createSqliteSessionRepository(db),
    operatorSessions: createSqliteOperatorSessionRepository(db),
    ledger: createSqliteLedgerRepository(db),
    preferences: createSqlitePreferencesRepository(db),
    messages: createSqliteMessageRepository(db),
    deliveries: createSqliteDeliveryRepository(db),
    outcomes: createSqliteOutcomeRepository(db),
    campaigns: createSqliteCampaignRepository(db),
    users: createSqliteUserRepository(db),
    segments: createSqliteSegmentRepository(db),
    tokens: createSqliteTokenStore(db, clock),
    singleProcess: true,
    close: () => {
      db.close()
    },
  }
}
