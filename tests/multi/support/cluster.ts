/**
 * Several service processes (`node --import tsx server/server.ts`) on one database and one Redis queue
 * (REDIS_URL + a prefix of their own), WeChat being the sandbox in the test's process, so it outlives
 * any instance and counts what really reached it. The database is a fresh one on the run's PostgreSQL
 * (DATABASE_URL), or with `engine: 'sqlite'` one SQLite file all of them open.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, inject } from 'vitest'
import type { MessageSearchResult } from '../../../src/domain/contract'
import { createManualClock } from '../../../server/clock'
import { createPostgresStorage } from '../../../server/db/postgres/storage'
import { createSqliteStorage } from '../../../server/db/sqlite/storage'
import type { Storage } from '../../../server/db/storage'
import { createSandboxWeChat, type SandboxWeChat } from '../../../server/wechat/sandbox'
import { systemClock } from '../../../server/wechat/types'
import { PAGES } from '../../server/support/service'
import { startServiceProcess, type ServiceProcess } from '../../server/support/service-process'
import { TEMPLATES } from '../../support/templates'
import { createDatabase, uniquePrefix } from '../../support/servers'

export const APP_ID = 'wxc0ffee0000c1u5te'
const SECRET = 'clustertestsecret0123456789abcde'
export const ADMIN_KEY = 'cluster-test-admin-key-01234567'
export const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
/** For a POST without a body (pause, resume, cancel). */
export const adminKeyOnly = { authorization: `Bearer ${ADMIN_KEY}` }

export interface Cluster {
  sandbox: SandboxWeChat
  instances: ServiceProcess[]
  /** Opens the database in this process (to prepare it before the instances start, or read it); the caller closes it. */
  storage(): Promise<Storage>
  start(count: number, env?: Record<string, string>): Promise<ServiceProcess[]>
  close(): Promise<void>
}

export async function createCluster(label: string, options: { engine?: 'postgres' | 'sqlite' } = {}): Promise<Cluster> {
  const directory = mkdtempSync(join(tmpdir(), `uni-subscribe-${label}-`))
  const postgresUrl = options.engine === 'sqlite' ? null : await createDatabase(inject('postgresUrl'), label)
  const file = join(directory, 'cluster.db')
  const database: Record<string, string> = postgresUrl === null ? { DATABASE: file } : { DATABASE_URL: postgresUrl, DATABASE: file }
  const prefix = uniquePrefix(label)
  const sandbox = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: TEMPLATES, pages: PAGES, clock: systemClock })
  await sandbox.listen()
  const instances: ServiceProcess[] = []
  return {
    sandbox,
    instances,
    async storage() {
      const clock = createManualClock(new Date())
      return postgresUrl === null ? createSqliteStorage(file, clock) : createPostgresStorage(postgresUrl, clock, { max: 4 })
    },
    async start(count, env = {}) {
      const started: ServiceProcess[] = []
      // One after another: the first applies the migrations.
      for (let i = 0; i < count; i += 1) {
        const service = await startServiceProcess({
          ...database,
          WECHAT_APPID: APP_ID,
          WECHAT_SECRET: SECRET,
          WECHAT_API_BASE: sandbox.url,
          ADMIN_API_KEY: ADMIN_KEY,
          RATE_LIMIT: 'off',
          REDIS_URL: inject('redisUrl'),
          REDIS_PREFIX: prefix,
          LOG_LEVEL: 'warn',
          ...env,
        })
        instances.push(service)
        started.push(service)
      }
      return started
    },
    async close() {
      for (const service of instances.splice(0)) await service.kill()
      await sandbox.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

export async function json<T>(response: Response): Promise<T> {
  expect(response.status, await response.clone().text()).toBeLessThan(300)
  return (await response.json()) as T
}

/** Polls `check` every 50 ms until it holds; after `withinMs` says what it was waiting for. */
export async function until(check: () => Promise<boolean> | boolean, what: string, withinMs = 60_000): Promise<void> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`gave up waiting after ${String(withinMs)} ms: ${what}`)
}

/** Every message matching `query` (`campaign=…&status=…`), through the admin API. */
export async function messagesOf(service: Pick<ServiceProcess, 'url'>, query = ''): Promise<MessageSearchResult['items']> {
  const items: MessageSearchResult['items'] = []
  let cursor: string | null = null
  do {
    const page: MessageSearchResult = await json<MessageSearchResult>(
      await fetch(`${service.url}/api/messages?limit=200${query === '' ? '' : `&${query}`}${cursor === null ? '' : `&cursor=${cursor}`}`, { headers: admin }),
    )
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}
