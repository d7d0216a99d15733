/**
 * The storage contract (tests/support/storage-contract.ts) on PostgreSQL: each case in a fresh
 * database on the run's throwaway PostgreSQL 15.
 */
import { describeStorageContract } from '../support/storage-contract'
import { openPostgresStorage } from '../support/storage-engines'

describeStorageContract('PostgreSQL', openPostgresStorage)
