/** The audience storage contract (tests/support/storage-contract-audience.ts) against SQLite, a fresh in-memory database per case. */
import { createManualClock } from '../../../server/clock'
import { createSqliteStorage } from '../../../server/db/sqlite/storage'
import { describeAudienceStorageContract } from '../../support/storage-contract-audience'

describeAudienceStorageContract('SQLite', async () => createSqliteStorage(':memory:', createManualClock(new Date('2026-11-25T05:00:00.000Z'))))
