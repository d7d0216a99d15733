/**
 * The audience storage contract (tests/support/storage-contract-audience.ts) on PostgreSQL: a fresh
 * database of the run's server per case, opened and migrated as the service opens it. These
 * databases sort text by ICU's en-US rules (`_u4` before `u1`, `U3` beside `u3`), as a production
 * database made with a locale does, so an order that holds only on the test server's C locale fails
 * here: openids, cursors and tags must come in byte order, as SQLite gives them.
 */
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, inject } from 'vitest'
import { createPostgresStorage } from '../../server/db/postgres/storage'
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

describeAudienceStorageContract('PostgreSQL (en-US collation)', async (clock) => createPostgresStorage(await createEnglishDatabase(), clock, { max: 4 }))
