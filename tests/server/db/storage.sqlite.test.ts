/** The storage contract (tests/support/storage-contract.ts) on SQLite, the embedded engine. */
import { describeStorageContract } from '../../support/storage-contract'
import { openSqliteStorage } from '../../support/storage-engines'

describeStorageContract('SQLite', openSqliteStorage)
