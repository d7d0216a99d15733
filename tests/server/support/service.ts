/**
 * Builds the service for a test: a fresh SQLite file in os.tmpdir(), a test configuration, a clock
 * the test moves, captured logs, and either the in-process fake WeChat or the given client.
 */
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import type { Template } from '../../../src/domain/contract'
import { buildApp, type BuildAppOptions } from '../../../server/app'
import { createAdjustableClock, createManualClock, type AdjustableClock, type ManualClock } from '../../../server/clock'
import { loadConfig, type Config } from '../../../server/config'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import type { SandboxWeChat } from '../../../server/wechat/sandbox'
import type { WeChatClient } from '../../../server/wechat/types'
import { createFakeWeChat, type FakeWeChat } from './fake-wechat'

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'
export const PAGES = ['pages/orders/index', 'pages/subscriptions/index', 'pages/messages/index', 'pages/preferences/index']

export const ORDER_STATUS: Template = {
  id: 'TplOrderStatus0000000000000000000000000001',
  key: 'order_status',
  title: '订单状态通知',
  kind: 'one-time',
  category: 'order',
  keywords: [
    { name: 'character_string1', type: 'character_string', label: '订单号' },
    { name: 'phrase2', type: 'phrase', label: '订单状态' },
    { name: 'thing3', type: 'thing', label: '商品名称' },
    { name: 'time4', type: 'time', label: '更新时间' },
  ],
}

export const ACTIVITY_REMINDER: Template = {
  id: 'TplActivityReminder00000000000000000000002',
  key: 'activity_reminder',
  title: '活动提醒',
  kind: 'one-time',
  category: 'marketing',
  keywords: [
    { name: 'thing1', type: 'thing', label: '活动名称' },
    { name: 'date2', type: 'date', label: '活动时间' },
  ],
}

export const ACCOUNT_SECURITY: Template = {
  id: 'TplAccountSecurity000000000000000000000003',
  key: 'account_security',
  title: '账户安全提醒',
  kind: 'long-term',
  category: 'security',
  keywords: [{ name: 'thing1', type: 'thing', label: '提醒内容' }],
}

export const TEMPLATES: Template[] = [ORDER_STATUS, ACTIVITY_REMINDER, ACCOUNT_SECURITY]

export const ORDER_DATA = {
  character_string1: 'DD20261125001',
  phrase2: '已发货',
  thing3: '机械键盘',
  time4: '2026年11月25日 13:05',
}

/** 2026-11-25 13:00 in Asia/Shanghai. */
export const NOON_SHANGHAI = new Date('2026-11-25T05:00:00.000Z')

export function tempDatabasePath(): string {
  return join(tmpdir(), `uni-subscribe-test-${randomBytes(6).toString('hex')}.db`)
}

export function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'info', ...env })
}

export interface TestService {
  app: FastifyInstance
  storage: SqliteStorage
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
  templates?: Template[]
  sandbox?: SandboxWeChat
  /** Keep the database file on close (for restart tests). */
  keepDatabase?: boolean
  extra?: Partial<BuildAppOptions>
}

export async function startService(options: TestServiceOptions): Promise<TestService> {
  const manual = options.manual ?? createManualClock(NOON_SHANGHAI)
  const clock = createAdjustableClock(manual)
  const databasePath = options.databasePath ?? tempDatabasePath()
  const storage = createSqliteStorage(databasePath, clock)
  const logs: string[] = []
  const app = await buildApp({
    config: options.config ?? testConfig(options.sandbox ? {} : { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef' }),
    storage,
    wechat: options.wechat,
    templates: options.templates ?? TEMPLATES,
    pages: PAGES,
    clock,
    logStream: { write: (line) => void logs.push(line) },
    ...(options.sandbox && { sandbox: options.sandbox }),
    ...options.extra,
  })
  return {
    app,
    storage,
    manual,
    clock,
    logs,
    databasePath,
    async close() {
      await app.close()
      storage.close()
      if (!options.keepDatabase) removeDatabase(databasePath)
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
