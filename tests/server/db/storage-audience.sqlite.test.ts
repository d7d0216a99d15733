/** The audience storage contract (tests/support/storage-contract-audience.ts) on SQLite, a fresh in-memory database per case. */
import { openSqliteStorage } from '../../support/storage-engines'
import { describeAudienceStorageContract } from '../../support/storage-contract-audience'

describeAudienceStorageContract('SQLite', openSqliteStorage)
