/**
 * `npm run cluster -- --instances 3 [--port 8080] [--users 500]`: several instances of the service on
 * consecutive ports, sharing one database and one Redis (the BullMQ dispatch engine), for trying out
 * what several instances do. For trying out only: everything it starts lives in a temporary folder and
 * stops with Ctrl-C.
 *
 * - Redis: REDIS_URL if set, else a throwaway redis-server on a free port.
 * - The database: DATABASE_URL if set (PostgreSQL), else one SQLite file all the instances share.
 * - WeChat: one sandbox WeChat in this process, which every instance calls as its real WeChat
 *   (WECHAT_API_BASE), so tokens and quotas are one WeChat's; demo users are made through the first
 *   instance's API as `npm run seed` makes them, the sandbox's dialog answered here.
 * - The admin key goes to a file in that folder (mode 0600); its path is printed, never the key.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { seedDemo, type SeedTransport } from '../server/demo/seed'
import { httpTransport } from '../server/demo/transports'
import { readMiniProgramPages } from '../server/messages/pages'
import { loadCatalogue } from '../server/templates/catalogue'
import { createSandboxWeChat } from '../server/wechat/sandbox'
import { systemClock } from '../server/wechat/types'
import { startRedis, type RunningServer } from '../tests/support/servers'

const root = fileURLToPath(new URL('..', import.meta.url))
const APP_ID = 'wx5a4db0c0ffee0c1u'

function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: { instances: { type: 'string', default: '3' }, port: { type: 'string', default: process.env.PORT ?? '8080' }, users: { type: 'string', default: '500' } },
})
const instances = Number(values.instances)
const basePort = Number(values.port)
const users = Number(values.users)
if (!Number.isInteger(instances) || instances < 1 || instances > 16) fail('--instances 应为 1 到 16 的整数')
if (!Number.isInteger(basePort) || basePort < 1 || basePort + instances - 1 > 65535) fail('--port 应为端口号（各实例用它开始的连续端口）')
if (!Number.isInteger(users) || users < 0 || users > 100_000) fail('--users 应为 0 到 100000 的整数')

/** The sandbox's dialog and login, answered in this process; every other request goes to the first instance. */
function seedTransport(url: string, sandbox: ReturnType<typeof createSandboxWeChat>): SeedTransport {
  const http = httpTransport(url)
  const openids = new Map<string, string>()
  return async (request) => {
    if (request.path === '/api/info') return { status: 200, body: { sandbox: true, miniprogramState: 'formal' } }
    if (request.path === '/sandbox/code') return { status: 200, body: { code: sandbox.issueCode((request.body as { user: string }).user) } }
    if (request.path === '/sandbox/subscriptions') {
      const openid = openids.get(request.bearer ?? '')
      if (openid === undefined) return { status: 401, body: { error: { code: 'UNAUTHORIZED', message: '没有登录' } } }
      return { status: 200, body: { quota: sandbox.grant(openid, (request.body as { results: Record<string, 'accept'> }).results) } }
    }
    const answer = await http(request)
    if (request.path === '/api/session' && answer.status === 200) {
      const { token, openid } = answer.body as { token: string; openid: string }
      openids.set(token, openid)
    }
    return answer
  }
}

let stopEverything: (code: number) => Promise<void> = async (code) => process.exit(code)

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'uni-subscribe-cluster-'))
  const started: RunningServer[] = []
  const children: ChildProcess[] = []
  const templates = loadCatalogue(join(root, 'config/templates.json'))
  const secret = randomBytes(16).toString('hex')
  const sandbox = createSandboxWeChat({ appId: APP_ID, secret, templates, pages: readMiniProgramPages(), clock: systemClock })
  const wechatUrl = await sandbox.listen()

  let redisUrl = process.env.REDIS_URL
  if (redisUrl === undefined) {
    const redis = await startRedis()
    started.push(redis)
    redisUrl = redis.url
  }
  const adminKey = randomBytes(24).toString('hex')
  const keyFile = join(folder, 'admin-api-key')
  writeFileSync(keyFile, `${adminKey}\n`, { mode: 0o600 })
  const database = process.env.DATABASE_URL !== undefined ? { DATABASE_URL: process.env.DATABASE_URL } : { DATABASE: join(folder, 'cluster.db') }

  let stopping = false
  async function stop(code: number): Promise<void> {
    if (stopping) return
    stopping = true
    process.stdout.write('\nstopping the instances…\n')
    await Promise.all(children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))))
    await sandbox.close()
    for (const server of started) await server.stop()
    rmSync(folder, { recursive: true, force: true })
    process.exit(code)
  }
  stopEverything = stop
  process.once('SIGINT', () => void stop(0))
  process.once('SIGTERM', () => void stop(0))

  const urls: string[] = []
  // One after another: the first applies the migrations.
  for (let i = 0; i < instances; i += 1) {
    const port = basePort + i
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/server.ts'], {
      cwd: root,
      env: {
        ...process.env,
        ...database,
        PORT: String(port),
        WECHAT_APPID: APP_ID,
        WECHAT_SECRET: secret,
        WECHAT_API_BASE: wechatUrl,
        ADMIN_API_KEY: adminKey,
        REDIS_URL: redisUrl,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const tag = `[${String(i + 1)}] `
      const forward = (chunk: Buffer): void => {
        const text = chunk.toString('utf8')
        output += text
        for (const line of text.split('\n')) if (line.trim() !== '') process.stdout.write(`${tag}${line}\n`)
        if (output.includes('uni-subscribe is running')) resolve()
      }
      child.stdout!.on('data', forward)
      child.stderr!.on('data', forward)
      child.once('exit', (exitCode) => {
        if (!stopping) {
          process.stderr.write(`instance ${String(i + 1)} exited (${String(exitCode)})\n`)
          reject(new Error(`instance ${String(i + 1)} exited`))
        }
      })
    })
    urls.push(`http://127.0.0.1:${String(port)}`)
  }

  if (users > 0) {
    const report = await seedDemo(seedTransport(urls[0]!, sandbox), { users, adminKey })
    process.stdout.write(`demo data: ${String(report.created)} users made (${String(report.kept)} there already), ${String(report.credits)} credits\n`)
  }
  process.stdout.write(
    [
      '',
      `${String(instances)} instances of uni-subscribe, one database and one queue:`,
      ...urls.map((url, i) => `  [${String(i + 1)}] ${url}`),
      `  Redis ${redisUrl.replace(/\/\/[^@]*@/, '//…@')}, ${'DATABASE_URL' in database ? 'PostgreSQL (DATABASE_URL)' : `SQLite ${database.DATABASE}`}`,
      `  WeChat: one sandbox for all of them at ${wechatUrl}`,
      `  admin key in ${keyFile}`,
      'Ctrl-C stops everything (and deletes that folder).',
      '',
    ].join('\n'),
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`启动失败：${error instanceof Error ? error.message : String(error)}\n`)
  void stopEverything(1)
})
