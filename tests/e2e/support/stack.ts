/**
 * The whole system for a browser journey, in this process and on loopback only: the real service
 * (buildApp, as server.ts wires it) on 127.0.0.1 with a fresh SQLite file, the sandbox WeChat, and the
 * built H5 app (dist/build/h5) served at / beside the API, exactly as `npm start` serves it.
 *
 * The journey can stop the service and start it again on the same port with the same database (the
 * sandbox WeChat, which plays WeChat itself, stays up), move the service's clock, run the scheduler,
 * and read what the sandbox WeChat received. Template management writes a copy of the catalogue of its own. The scheduler's interval is not running: a journey runs
 * it when it means to (POST /sandbox/scheduler/run), so nothing moves behind its back. The sandbox
 * WeChat pushes its events (popup, change, sent) to the service over HTTP, in secure mode, without
 * waiting: `settled()` waits until the service has answered them.
 */
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { Pool } from 'undici'
import type { MyMessageList, Preferences, SessionResponse, SubscriptionList } from '../../../src/domain/contract'
import { buildApp } from '../../../server/app'
import { createAdjustableClock, type AdjustableClock } from '../../../server/clock'
import { loadConfig } from '../../../server/config'
import { seedDemo } from '../../../server/demo/seed'
import { injectTransport } from '../../../server/demo/transports'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import { readMiniProgramPages } from '../../../server/messages/pages'
import { loadCatalogue } from '../../../server/templates/catalogue'
import { createWeChatClient } from '../../../server/wechat/client'
import { createSandboxWeChat, type SandboxWeChat } from '../../../server/wechat/sandbox'
import { systemClock } from '../../../server/wechat/types'
import { TEMPLATES } from '../../support/templates'

const root = fileURLToPath(new URL('../../..', import.meta.url))
export const H5_BUILD_DIR = join(root, 'dist/build/h5')
const HOST = '127.0.0.1'

export { templateByKey } from '../../support/templates'

/** A message as GET /sandbox/received lists it. */
export interface ReceivedMessage {
  touser: string
  template_id: string
  page?: string
  data: Record<string, { value: string }>
  msgid: string
  at: string
}

export interface SignedInUser {
  openid: string
  token: string
}

export interface Stack {
  /** `http://127.0.0.1:<port>/`: the H5 app; the API lives under the same origin. */
  readonly url: string
  /** The service's admin key (what an operator signs in to the console with). */
  readonly adminKey: string
  readonly port: number
  readonly sandbox: SandboxWeChat
  readonly clock: AdjustableClock
  /** The service's log lines (JSON), across restarts. */
  readonly logs: string[]
  readonly running: boolean
  /** Stops the service (no more answers on the port); the database file and the sandbox stay. */
  stop(): Promise<void>
  /** Starts the service again on the same port with the same database. */
  start(): Promise<void>
  /** Stops everything and removes the database. */
  close(): Promise<void>
  /** Moves the service clock (shared with the sandbox WeChat); null goes back to real time. */
  setClock(instant: Date | null): Promise<void>
  /** Runs the scheduler once (deferred messages whose quiet hours ended go out). */
  runScheduler(): Promise<number>
  /** What the sandbox WeChat accepted, in order. */
  received(): Promise<ReceivedMessage[]>
  /** Resolves once the service has answered every push the sandbox WeChat made so far. */
  settled(): Promise<void>
  /** Signs the test user in through the API, as the H5 app does (same openid as the app's session). */
  signIn(user: string): Promise<SignedInUser>
  subscriptions(user: SignedInUser): Promise<SubscriptionList>
  messages(user: SignedInUser): Promise<MyMessageList>
  preferences(user: SignedInUser): Promise<Preferences>
}

interface Running {
  app: FastifyInstance
  storage: SqliteStorage
  pool: Pool
}

async function call<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const response = await fetch(new URL(path, base), {
    method,
    headers,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path} → ${String(response.status)}: ${text}`)
  return JSON.parse(text) as T
}

export interface StackOptions {
  /** Demo users (server/demo/seed.ts) made once the service is up; default none. */
  seedUsers?: number
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  if (!existsSync(join(H5_BUILD_DIR, 'index.html'))) {
    throw new Error(`${H5_BUILD_DIR} has no build: run \`npm run build:h5\` (the e2e globalSetup does)`)
  }
  const databasePath = join(tmpdir(), `uni-subscribe-e2e-${randomBytes(6).toString('hex')}.db`)
  // Template management (the console's 模板) writes the catalogue: a copy of the shipped one, never config/templates.json itself.
  const templatesFile = join(tmpdir(), `uni-subscribe-e2e-${randomBytes(6).toString('hex')}-templates.json`)
  copyFileSync(join(root, 'config/templates.json'), templatesFile)
  const clock = createAdjustableClock(systemClock)
  const pages = readMiniProgramPages()
  const credentials = { appId: 'wx5a4db0c0ffee0e2e', secret: randomBytes(16).toString('hex') }
  const sandbox = createSandboxWeChat({ ...credentials, templates: [...TEMPLATES], pages, clock })
  const sandboxUrl = await sandbox.listen()
  const adminKey = randomBytes(24).toString('base64url')
  const config = loadConfig({
    HOST,
    DATABASE: databasePath,
    ADMIN_API_KEY: adminKey,
    // The interval never comes round within a journey; journeys run the scheduler themselves.
    SCHEDULER_INTERVAL_MS: '3600000',
    SEED_USERS: '0',
    LOG_LEVEL: 'info',
  })
  const logs: string[] = []
  let port = 0
  let running: Running | null = null

  async function start(): Promise<void> {
    if (running) throw new Error('the service is already running')
    const storage = createSqliteStorage(databasePath, clock)
    const pool = new Pool(new URL(sandboxUrl).origin, { connections: 8, pipelining: 1 })
    const wechat = createWeChatClient({ baseUrl: sandboxUrl, ...credentials, dispatcher: pool, tokenStore: storage.tokens, clock })
    const app = await buildApp({
      config,
      storage,
      wechat,
      // The catalogue as template management last wrote it (the shipped one at first).
      templates: loadCatalogue(templatesFile),
      templatesFile,
      pages,
      clock,
      sandbox,
      staticDir: H5_BUILD_DIR,
      logStream: { write: (line) => void logs.push(line) },
    })
    await app.listen({ port, host: HOST })
    port = (app.server.address() as AddressInfo).port
    // As server.ts does: picks up messages a previous run left queued or mid-send.
    await app.scheduler.start()
    running = { app, storage, pool }
  }

  async function stop(): Promise<void> {
    if (!running) return
    const { app, storage, pool } = running
    running = null
    // Gone like a process that stops: no keep-alive connection outlives it. Otherwise the browser may
    // reuse one and get the closing server's 503 after the restart instead of the new service.
    const closing = app.close()
    app.server.closeAllConnections()
    await closing
    await pool.close()
    storage.close()
  }

  await start()
  const base = (): string => `http://${HOST}:${String(port)}`
  if (options.seedUsers !== undefined && options.seedUsers > 0) {
    await seedDemo(injectTransport(running!.app), { users: options.seedUsers, adminKey, concurrency: 16 })
  }

  return {
    get url() {
      return `${base()}/`
    },
    adminKey,
    get port() {
      return port
    },
    sandbox,
    clock,
    logs,
    get running() {
      return running !== null
    },
    stop,
    start,
    async close() {
      await stop()
      await sandbox.close()
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${databasePath}${suffix}`, { force: true })
      rmSync(templatesFile, { force: true })
    },
    async setClock(instant) {
      await call(base(), 'PUT', '/sandbox/clock', { now: instant === null ? null : instant.toISOString() })
    },
    async runScheduler() {
      return (await call<{ processed: number }>(base(), 'POST', '/sandbox/scheduler/run')).processed
    },
    received: () => call<ReceivedMessage[]>(base(), 'GET', '/sandbox/received'),
    settled: () => sandbox.push.settled(),
    async signIn(user) {
      const { code } = await call<{ code: string }>(base(), 'POST', '/sandbox/code', { user })
      const session = await call<SessionResponse>(base(), 'POST', '/api/session', { code })
      return { openid: session.openid, token: session.token }
    },
    subscriptions: (user) => call<SubscriptionList>(base(), 'GET', '/api/me/subscriptions', undefined, user.token),
    messages: (user) => call<MyMessageList>(base(), 'GET', '/api/me/messages', undefined, user.token),
    preferences: (user) => call<Preferences>(base(), 'GET', '/api/me/preferences', undefined, user.token),
  }
}
