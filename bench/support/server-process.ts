/**
 * The server side of a benchmark, in its own process (so the load generator and the server each have
 * a core): `tsx`-loaded by `server-control.ts`, never run by hand.
 *
 * Role `sandbox`: the sandbox WeChat alone on 127.0.0.1. Role `service`: the service built and wired
 * as server.ts does (SQLite file in the temp directory, undici Pool to WeChat, pino at level info,
 * RATE_LIMIT=off, the scheduler started) listening on 127.0.0.1, port 0: in sandbox mode with its
 * own sandbox WeChat, or (`ServiceSetup.wechat`) calling a sandbox in another process as it would
 * call WeChat. Logs are formatted and then dropped, so their cost counts but the terminal stays
 * readable. The process ends when the parent disconnects (or dies), removing a database it made.
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
import { wechatPoolConnections } from '../../server/wechat/pool'
import { createSandboxWeChat, type SandboxWeChat } from '../../server/wechat/sandbox'
import { httpPushTarget } from '../../server/wechat/sandbox/push'
import { systemClock } from '../../server/wechat/types'
import { tempDatabase } from './fixtures'
import type { ControlCalls, ControlRequest, ProcessUsage, ServerMessage, ServerRole, ServiceSetup } from './protocol'

const BENCH_APPID = 'wxbe0c0ffee0000000'
const RSS_SAMPLE_MS = 250

function send(message: ServerMessage): void {
  process.send?.(message)
}

function isControlRequest(message: unknown): message is ControlRequest {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'control'
}

/** The highest RSS seen, sampled on a timer (what the process held between the parent's questions too), and the kernel's peak. */
function rssSampler(): { usage(resetPeak: boolean): ProcessUsage } {
  let peak = process.memoryUsage.rss()
  setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, RSS_SAMPLE_MS).unref()
  return {
    usage(resetPeak) {
      const rssBytes = process.memoryUsage.rss()
      const cpu = process.cpuUsage()
      // maxRSS: the kernel's own peak, in KiB, exact between samples too.
      const usage = { rssBytes, peakRssBytes: Math.max(peak, rssBytes), maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuMicros: cpu.user + cpu.system }
      if (resetPeak) peak = rssBytes
      return usage
    },
  }
}

async function answer(
  sandbox: SandboxWeChat | null,
  sampler: ReturnType<typeof rssSampler>,
  request: ControlRequest,
): Promise<ControlCalls[ControlRequest['call']]['result']> {
  if (request.call === 'usage') return sampler.usage(request.resetPeak === true)
  if (sandbox === null) throw new Error(`这个进程没有沙箱微信（它调用另一个进程的沙箱），不能回答 ${request.call}`)
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
    case 'codes':
      return { codes: request.users.map((user) => sandbox.issueCode(user)) }
    case 'push':
      sandbox.push.connect(httpPushTarget(request.url), { token: request.token, aesKey: request.aesKey })
      return null
    case 'pushesSettled':
      await sandbox.push.settled()
      return null
    case 'audience': {
      const openids: string[] = []
      for (let i = 1; i <= request.count; i += 1) {
        const openid = sandbox.openidFor(`${request.prefix}${String(i).padStart(6, '0')}`)
        sandbox.remember(openid, request.quota)
        openids.push(openid)
      }
      return { openids }
    }
  }
}

async function main(role: ServerRole, setup: ServiceSetup): Promise<void> {
  const sampler = rssSampler()
  const root = process.cwd()
  const templates = loadCatalogue(resolve(root, 'config/templates.json'))
  const pages = readMiniProgramPages()
  const clock = createAdjustableClock(systemClock)
  const external = role === 'service' ? setup.wechat : undefined
  let sandbox: SandboxWeChat | null = null
  let credentials = { appId: BENCH_APPID, secret: randomBytes(16).toString('hex') }
  let wechatUrl: string
  if (external) {
    credentials = { appId: external.appId, secret: external.secret }
    wechatUrl = external.url
  } else {
    sandbox = createSandboxWeChat({ ...credentials, templates, pages, clock })
    wechatUrl = await sandbox.listen()
  }

  const closers: (() => Promise<void> | void)[] = []
  let serviceUrl: string | null = null
  let adminKey: string | null = null
  if (role === 'service') {
    const database = setup.database === undefined ? tempDatabase() : null
    const path = setup.database ?? database!.path
    adminKey = randomBytes(24).toString('base64url')
    // A load test: without the per-person and per-address request limits (RATE_LIMIT=off).
    const env: Record<string, string> = { ...setup.env, ADMIN_API_KEY: adminKey, DATABASE: path, LOG_LEVEL: 'info', RATE_LIMIT: 'off' }
    if (external) Object.assign(env, { WECHAT_APPID: external.appId, WECHAT_SECRET: external.secret, WECHAT_API_BASE: external.url })
    const config = loadConfig(env)
    const storage = createSqliteStorage(path, clock)
    // As server.ts wires it.
    const pool = new Pool(new URL(wechatUrl).origin, { connections: wechatPoolConnections(config.dispatchConcurrency), pipelining: 1 })
    const wechat = createWeChatClient({ baseUrl: wechatUrl, ...credentials, dispatcher: pool, tokenStore: storage.tokens, clock })
    const app = await buildApp({ config, storage, wechat, templates, pages, clock, ...(sandbox && { sandbox }), logStream: { write: () => {} } })
    serviceUrl = await app.listen({ port: 0, host: '127.0.0.1' })
    await app.scheduler.start()
    closers.push(
      () => app.close(),
      () => pool.close(),
      () => storage.close(),
      () => database?.remove(),
    )
  }
  if (sandbox) closers.push(() => sandbox.close())

  process.on('message', (message: unknown) => {
    if (!isControlRequest(message)) return
    answer(sandbox, sampler, message).then(
      (result): void => send({ type: 'reply', id: message.id, result }),
      (error: unknown): void => send({ type: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) }),
    )
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
  send({ type: 'ready', sandboxUrl: sandbox?.url ?? null, serviceUrl, ...credentials, adminKey })
}

const role = process.argv[2]
if (role !== 'sandbox' && role !== 'service') {
  process.stderr.write(`server-process.ts 需要角色参数 sandbox 或 service，收到 "${role ?? ''}"\n`)
  process.exit(64)
}
let setup: ServiceSetup = {}
try {
  setup = JSON.parse(process.argv[3] ?? '{}') as ServiceSetup
} catch {
  process.stderr.write(`server-process.ts 的第二个参数应为 JSON（ServiceSetup），收到 "${process.argv[3] ?? ''}"\n`)
  process.exit(64)
}
main(role, setup).catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
})
