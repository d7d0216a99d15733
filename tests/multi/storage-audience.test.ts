/**
 * The audience storage contract (tests/support/storage-contract-audience.ts) against PostgreSQL: a
 * fresh database of the run's server per case, migrated as the service migrates it. The databases
 * sort text by ICU's en-US rules (`_u4` before `u1`, `U3` beside `u3`), as a production database
 * made with a locale does, so an order that holds only on the test server's C locale fails here:
 * openids, cursors and tags must come in byte order, as SQLite gives them.
 */
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, inject } from 'vitest'
import { createManualClock } from '../../server/clock'
import { createPostgresCampaignRepository } from '../../server/db/postgres/campaigns'
import { openPostgres } from '../../server/db/postgres/connection'
import { createPostgresDeliveryRepository } from '../../server/db/postgres/deliveries'
import { createPostgresLedgerRepository } from '../../server/db/postgres/ledger'
import { createPostgresMessageRepository } from '../../server/db/postgres/messages'
import { migrate } from '../../server/db/postgres/migrations'
import { createPostgresOperatorSessionRepository } from '../../server/db/postgres/operator-sessions'
import { createPostgresOutcomeRepository } from '../../server/db/postgres/outcomes'
import { createPostgresPreferencesRepository } from '../../server/db/postgres/preferences'
import { createPostgresSegmentRepository } from '../../server/db/postgres/segments'
import { createPostgresSessionRepository } from '../../server/db/postgres/sessions'
import { createPostgresTokenStore } from '../../server/db/postgres/token-store'
import { createPostgresUserRepository } from '../../server/db/postgres/users'
import type { Storage } from '../../server/db/storage'
import { describeAudienceStorageContract } from '../support/storage-contract-audience'

const server = postgres(inject('postgresUrl'), { max: 1, onnotice: () => {} })
afterAll(async () => {
  await server.end()
})

async function createEnglishDatabase(): Promise<string> {
  const name = `audience_${randomBytes(4).toString('hex')}`
  await server.unsafe(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`)
  const url = new URL(inject('postgresUrl'))
  url.pathname = `/${name}`
  return url.toString()
}

describeAudienceStorageContract('PostgreSQL (en-US collation)', async () => {
  const sql = openPostgres(await createEnglishDatabase(), { max: 4 })
  await migrate(sql)
  const storage: Storage = {
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
    tokens: createPostgresTokenStore(sql, createManualClock(new Date('2026-11-25T05:00:00.000Z'))),
    singleProcess: false,
    close: () => sql.end(),
  }
  return storage
})
