/**
 * The server side of a benchmark, in its own process (so the load generator and the server each have
 * a core): `tsx`-loaded by `server-control.ts`, never run by hand.
 *
 * Role `sandbox`: the sandbox WeChat alone on 127.0.0.1. Role `service`: the service built and wired
 * as server.ts does in sandbox mode (SQLite file in the temp directory, undici Pool of 32 connections
 * to the sandbox, pino at level info, RATE_LIMIT=off) listening on 127.0.0.1, port 0. Logs are
 * formatted and then dropped, so their cost counts but the terminal stays readable. The process ends
 * when the parent disconnects (or dies), removing its database.
 */
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { Pool } from 'undici'
import { buildApp } from '../../server/app'
import { createAdjustableClock } from '../../server/clock'
import { loadConfig } from '../../server/config'
import { createSqliteStorage } from '../../server/db/sqlite/storage'
import { readMiniProgramPages } from '../../server/messages/pages'
import { loadCatalogue } from '../../server/templates/catalogue'
import { createWeChatClient } from '../../server/wechat/client'
import { createSandboxWeChat, type SandboxWeChat } from '../../server/wechat/sandbox'
import { systemClock } from '../../server/wechat/types'
import { tempDatabase } from './fixtures'
import type { ControlCalls, ControlReply, ControlRequest, ServerMessage, ServerRole } from './protocol'

const BENCH_APPID = 'wxbe0c0ffee0000000'

function send(message: ServerMessage): void {
  process.send?.(message)
}

function isControlRequest(message: unknown): message is ControlRequest {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'control'
}

function answer(sandbox: SandboxWeChat, request: ControlRequest): ControlCalls[ControlRequest['call']]['result'] {
  switch (request.call) {
    case 'faults':
      sandbox.setFaults(request.faults)
      return null
    case 'stats':
      return sandbox.stats()
    case 'grant': {
      const openids = request.users.map((user) => sandbox.openidFor(user))
      for (const openid of openids) {
        for (let i = 0; i < request.times; i += 1) sandbox.grant(openid, { [request.templateId]: 'accept' })
      }
      return { openids }
    }
  }
}

async function main(role: ServerRole): Promise<void> {
  const root = process.cwd()
  const templates = loadCatalogue(resolve(root, 'config/templates.json'))
  const pages = readMiniProgramPages()
  const clock = createAdjustableClock(systemClock)
  const credentials = { appId: BENCH_APPID, secret: randomBytes(16).toString('hex') }
  const sandbox = createSandboxWeChat({ ...credentials, templates, pages, clock })
  const sandboxUrl = await sandbox.listen()

  const closers: (() => Promise<void> | void)[] = []
  let serviceUrl: string | null = null
  let adminKey: string | null = null
  if (role === 'service') {
    const database = tempDatabase()
    adminKey = randomBytes(24).toString('base64url')
    // A load test: without the per-person and per-address request limits (RATE_LIMIT=off).
    const config = loadConfig({ ADMIN_API_KEY: adminKey, DATABASE: database.path, LOG_LEVEL: 'info', RATE_LIMIT: 'off' })
    const storage = createSqliteStorage(database.path, clock)
    // As server.ts wires it.
    const pool = new Pool(new URL(sandboxUrl).origin, { connections: 32, pipelining: 1 })
    const wechat = createWeChatClient({ baseUrl: sandboxUrl, ...credentials, dispatcher: pool, tokenStore: storage.tokens, clock })
    const app = await buildApp({ config, storage, wechat, templates, pages, clock, sandbox, logStream: { write: () => {} } })
    serviceUrl = await app.listen({ port: 0, host: '127.0.0.1' })
    closers.push(
      () => app.close(),
      () => pool.close(),
      () => storage.close(),
      () => database.remove(),
    )
  }
  closers.push(() => sandbox.close())

  process.on('message', (message: unknown) => {
    if (!isControlRequest(message)) return
    let reply: ControlReply
    try {
      reply = { type: 'reply', id: message.id, result: answer(sandbox, message) }
    } catch (error) {
      reply = { type: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) }
    }
    send(reply)
  })
  process.once('disconnect', () => {
    void (async () => {
      for (const close of closers) await close()
      process.exit(0)
    })().catch((error: unknown) => {
      process.stderr.write(`基准测试的服务进程关闭失败：${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(1)
    })
  })
  send({ type: 'ready', sandboxUrl, serviceUrl, ...credentials, adminKey })
}

const role = process.argv[2]
if (role !== 'sandbox' && role !== 'service') {
  process.stderr.write(`server-process.ts 需要角色参数 sandbox 或 service，收到 "${role ?? ''}"\n`)
  process.exit(64)
}
main(role).catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
})
