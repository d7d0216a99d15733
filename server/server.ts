/**
 * `npm run server`: reads the configuration, opens the database, starts the sandbox WeChat on
 * loopback when no WECHAT_APPID is set, listens, starts the scheduler, and shuts down gracefully on
 * SIGINT/SIGTERM (stop taking requests, stop the scheduler, close the database and the HTTP pool).
 */
import { randomBytes } from 'node:crypto'
import { Pool } from 'undici'
import type { Template } from '../src/domain/contract'
import { buildApp } from './app'
import { createAdjustableClock } from './clock'
import { ConfigError, loadConfig, type Config } from './config'
import { openStorage, StorageOpenError } from './db/open'
import { seedOnFirstStart } from './demo/seed'
import { injectTransport } from './demo/transports'
import { readMiniProgramPages } from './messages/pages'
import { CatalogueError, loadCatalogue } from './templates/catalogue'
import { createWeChatClient } from './wechat/client'
import { wechatPoolConnections } from './wechat/pool'
import { createSandboxWeChat, type SandboxWeChat } from './wechat/sandbox'
import { systemClock } from './wechat/types'

/** The sandbox's own credentials: made up at each start, they never leave this process. */
const SANDBOX_APPID = 'wx5a4db0c0ffee0000'

/** A configuration problem: said in one line, no stack, exit code 78 (EX_CONFIG). */
function exitOnConfigProblem(error: unknown): never {
  if (error instanceof ConfigError || error instanceof CatalogueError) {
    process.stderr.write(`${error.message}\n`)
    process.exit(78)
  }
  throw error
}

async function main(): Promise<void> {
  let config: Config
  let templates: Template[]
  try {
    config = loadConfig()
    templates = loadCatalogue(config.templatesPath)
  } catch (error) {
    exitOnConfigProblem(error)
  }

  const clock = createAdjustableClock(systemClock)
  const pages = readMiniProgramPages()
  let storage: Awaited<ReturnType<typeof openStorage>>['storage']
  let engine: string
  try {
    ;({ storage, engine } = await openStorage(config, clock))
  } catch (error) {
    // A database that is down may be up at the next start: exit 1 (a supervisor retries), in one line.
    if (!(error instanceof StorageOpenError)) throw error
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }

  let sandbox: SandboxWeChat | undefined
  let wechatBase: string
  let credentials: { appId: string; secret: string }
  if (config.wechat.mode === 'sandbox') {
    credentials = { appId: SANDBOX_APPID, secret: randomBytes(16).toString('hex') }
    sandbox = createSandboxWeChat({ ...credentials, templates, pages, clock })
    wechatBase = await sandbox.listen()
  } else {
    credentials = { appId: config.wechat.appId, secret: config.wechat.secret }
    wechatBase = config.wechat.apiBase
  }

  const pool = new Pool(new URL(wechatBase).origin, { connections: wechatPoolConnections(config.dispatchConcurrency), pipelining: 1 })
  const wechat = createWeChatClient({
    baseUrl: wechatBase,
    ...credentials,
    dispatcher: pool,
    tokenStore: storage.tokens,
    clock,
  })

  const app = await buildApp({
    config,
    storage,
    wechat,
    templates,
    pages,
    clock,
    ...(sandbox && { sandbox }),
    ...(config.staticDir !== null && { staticDir: config.staticDir }),
  })
  app.log.info(`storage: ${engine}`)
  if (sandbox) app.log.info(`sandbox WeChat on ${sandbox.url} — no WECHAT_APPID set`)
  if (config.push) {
    // Which mode, never the Token or the key.
    const mode = config.push.aesKey === null ? 'plaintext mode' : 'compatible or secure mode'
    app.log.info(`WeChat message push accepted at /wechat/push (${mode}${config.push.generated ? ', secrets made up for the sandbox at this start' : ''})`)
  }
  else app.log.info(`WeChat API at ${wechatBase} for AppID ${config.wechat.mode === 'real' ? config.wechat.appId : ''}`)

  if (sandbox && config.seedUsers > 0) {
    // In process, through the same HTTP routes `npm run seed` uses; only into a database with no user.
    const seeded = await seedOnFirstStart(injectTransport(app), { users: config.seedUsers, adminKey: config.adminApiKey })
    if (seeded) app.log.info(seeded, `demo data: ${String(seeded.created)} sandbox test users demo-00001… with tags, attributes and credits (SEED_USERS=0 turns this off)`)
  }

  if (config.adminKeyFile !== null) {
    // Where to find it, never the key itself: output ends up in logs.
    process.stdout.write(`\nADMIN_API_KEY not set: admin key in ${config.adminKeyFile}\n`)
  }

  let stopping = false
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down')
    try {
      await app.close() // stops taking requests, then the onClose hook stops the scheduler
      await pool.close()
      if (sandbox) await sandbox.close()
      await storage.close()
      process.exit(0)
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed')
      process.exit(1)
    }
  }
  process.once('SIGINT', () => void shutdown('SIGINT'))
  process.once('SIGTERM', () => void shutdown('SIGTERM'))

  const address = await app.listen({ port: config.port, host: config.host })
  await app.scheduler.start()
  // The one line a person starting the service looks for (the logs above are JSON).
  const serves = config.staticDir !== null ? 'H5 app and API' : 'API'
  process.stdout.write(`\nuni-subscribe is running: ${serves} at ${address}${sandbox ? ' (sandbox WeChat)' : ''}\n\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`启动失败：${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
