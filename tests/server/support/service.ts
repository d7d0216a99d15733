/**
 * Builds the service for a test: a fresh SQLite file and a copy of the catalogue file in os.tmpdir()
 * (template management writes it), a test configuration, a clock the test moves, captured logs, and
 * either the in-process fake WeChat or the given client.
 */
import { randomBytes } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Pool } from 'undici'
import { expect } from 'vitest'
import type { Template } from '../../../src/domain/contract'
import { buildApp, type BuildAppOptions } from '../../../server/app'
import { createAdjustableClock, createManualClock, type AdjustableClock, type ManualClock } from '../../../server/clock'
import { loadConfig, type Config } from '../../../server/config'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import { createWeChatClient } from '../../../server/wechat/client'
import { formatCatalogue } from '../../../server/templates/catalogue'
import { createSandboxWeChat, type SandboxWeChat } from '../../../server/wechat/sandbox'
import type { WeChatClient } from '../../../server/wechat/types'
import { sampleData, templateByKey, TEMPLATES } from '../../support/templates'
import { createFakeWeChat, type FakeWeChat } from './fake-wechat'

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'
export const PAGES = ['pages/orders/index', 'pages/subscriptions/index', 'pages/messages/index', 'pages/preferences/index']

/** The catalogue the service ships (config/templates.json): the shared fixtures of tests/support/templates.ts. */
export { TEMPLATES } from '../../support/templates'

export const ORDER_STATUS = templateByKey('order_status')
export const ACTIVITY_REMINDER = templateByKey('activity_reminder')
export const ACCOUNT_SECURITY = templateByKey('account_security')

export const ORDER_DATA = sampleData('order_status')
export const ACTIVITY_DATA = sampleData('activity_reminder')
export const SECURITY_DATA = sampleData('account_security')

/** 2026-11-25 13:00 in Asia/Shanghai. */
export const NOON_SHANGHAI = new Date('2026-11-25T05:00:00.000Z')

export function tempDatabasePath(): string {
  return join(tmpdir(), `uni-subscribe-test-${randomBytes(6).toString('hex')}.db`)
}

export function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
}

export function testConfig(env: Record<string, string> = {}): Config {
  // No demo data: a test that wants it runs the seed itself.
  return loadConfig({ ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'info', SEED_USERS: '0', ...env })
}

export interface TestService {
  app: FastifyInstance
  storage: SqliteStorage
  /** The catalogue file of this service (a copy in the temp directory). */
  templatesFile: string
  /** The base clock the test moves; `clock` (the service's) follows it. */
  manual: ManualClock
  clock: AdjustableClock
  logs: string[]
  databasePath: string
  close(): Promise<void>
}

export interface TestServiceOptions {
  wechat: WeChatClient
  config?: Config
  databasePath?: string
  manual?: ManualClock
  templates?: readonly Template[]
  sandbox?: SandboxWeChat
  /** An open storage to use (else one is opened on `databasePath`). */
  storage?: SqliteStorage
  /** Keep the database file on close (for restart tests). */
  keepDatabase?: boolean
  extra?: Partial<BuildAppOptions>
}

export async function startService(options: TestServiceOptions): Promise<TestService> {
  const manual = options.manual ?? createManualClock(NOON_SHANGHAI)
  const clock = options.extra?.clock ?? createAdjustableClock(manual)
  const databasePath = options.databasePath ?? tempDatabasePath()
  const storage = options.storage ?? createSqliteStorage(databasePath, clock)
  const templates = options.templates ?? TEMPLATES
  const templatesFile = `${databasePath}.templates.json`
  writeFileSync(templatesFile, formatCatalogue([...templates]))
  const logs: string[] = []
  const app = await buildApp({
    config: options.config ?? testConfig(options.sandbox ? {} : { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef' }),
    storage,
    wechat: options.wechat,
    templates,
    templatesFile,
    pages: PAGES,
    clock,
    logStream: { write: (line) => void logs.push(line) },
    ...(options.sandbox && { sandbox: options.sandbox }),
    ...options.extra,
  })
  // As listening would: the dispatcher starts with the app.
  await app.ready()
  return {
    app,
    storage,
    templatesFile,
    manual,
    clock,
    logs,
    databasePath,
    async close() {
      await app.close()
      storage.close()
      if (!options.keepDatabase) removeDatabase(databasePath)
      rmSync(templatesFile, { force: true })
    },
  }
}

export interface FakeService extends TestService {
  wechat: FakeWeChat
}

/** The service against the in-process fake WeChat. */
export async function startFakeService(options: Partial<TestServiceOptions> & { wechat?: FakeWeChat } = {}): Promise<FakeService> {
  const manual = options.manual ?? createManualClock(NOON_SHANGHAI)
  const wechat = options.wechat ?? createFakeWeChat({ templates: options.templates ?? TEMPLATES, pages: PAGES, clock: manual })
  const service = await startService({ ...options, manual, wechat })
  return { ...service, wechat }
}

/** Signs `user` in through POST /api/session; returns the bearer header and openid. */
export async function signIn(
  app: FastifyInstance,
  issueCode: (user: string) => string,
  user: string,
): Promise<{ authorization: string; openid: string; token: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/session', payload: { code: issueCode(user) } })
  expect(response.statusCode, response.body).toBe(200)
  const { token, openid } = response.json<{ token: string; openid: string }>()
  return { authorization: `Bearer ${token}`, openid, token }
}

export const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}` }

/** The error body of a response, asserting its status. */
export function errorOf(response: LightMyRequestResponse, status: number): { code: string; message: string; field?: string } {
  expect(response.statusCode, response.body).toBe(status)
  return response.json<{ error: { code: string; message: string; field?: string } }>().error
}

export interface SandboxService extends TestService {
  sandbox: SandboxWeChat
  pool: Pool
  /** Resolves once every push the sandbox WeChat made so far was answered (or given up). */
  settled(): Promise<void>
}

/**
 * The service in sandbox mode, as `npm run server` runs it without WECHAT_APPID: the real undici
 * client against the sandbox WeChat on loopback, sharing the service clock. Retries do not really
 * wait (an injected sleep), so nothing depends on timing.
 */
export async function startSandboxService(options: Partial<TestServiceOptions> = {}): Promise<SandboxService> {
  const manual = options.manual ?? createManualClock(NOON_SHANGHAI)
  const clock = createAdjustableClock(manual)
  const credentials = { appId: 'wx5a4db0c0ffee0000', secret: randomBytes(16).toString('hex') }
  // A push WeChat would try again a second later is tried again at once.
  const sandbox = createSandboxWeChat({ ...credentials, templates: [...(options.templates ?? TEMPLATES)], pages: PAGES, clock, pushSleep: async () => {} })
  const url = await sandbox.listen()
  const pool = new Pool(url, { connections: 16 })
  const databasePath = options.databasePath ?? tempDatabasePath()
  // The client shares the service's token store: open the storage first, then build the app on it.
  const storage = createSqliteStorage(databasePath, clock)
  const wechat = createWeChatClient({
    baseUrl: url,
    ...credentials,
    dispatcher: pool,
    tokenStore: storage.tokens,
    clock,
    retry: { sleep: async () => {}, random: () => 0 },
  })
  const service = await startService({
    ...options,
    manual,
    wechat,
    sandbox,
    databasePath,
    config: options.config ?? testConfig(),
    extra: { clock, ...options.extra },
    storage,
  })
  return {
    ...service,
    sandbox,
    pool,
    settled: () => sandbox.push.settled(),
    async close() {
      await service.close()
      await pool.close()
      await sandbox.close()
    },
  }
}
