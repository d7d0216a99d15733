/**
 * Scenario 6: the campaign on PostgreSQL + Redis (the BullMQ engine) with 1 and with 3 service
 * instances, beside the same campaign on SQLite measured in the same run. Every instance is
 * `server/server.ts` in its own process, started as a person starts it (tests/server/support/
 * service-process.ts), calling the sandbox WeChat in another process (a bench `sandbox` process) as
 * it would call WeChat; PostgreSQL 15 and redis-server are throwaway servers (tests/support/servers.ts).
 *
 * The audience, before each engine's campaigns: `users` people with a tag, nickname and city, and
 * credits of `activity_reminder` that the sandbox agrees with; on SQLite written as scenario 5 writes
 * it (support/audience.ts), on PostgreSQL through the same Storage repositories (users.put, one
 * consent per person through the ledger).
 *
 * Measured, each campaign from POST /api/campaigns (on the first instance) until GET
 * /api/campaigns/:id counts no message pending or deferred: a warm-up campaign on each engine, then
 * `runs` campaigns to `recipients` (their median) on SQLite in a single process and on PostgreSQL +
 * Redis with 1 instance, taken in turns (S P, P S, S P…: both services run throughout, each idle
 * during the other's campaigns); then SQLite's service stops, 2 more instances join on the same
 * database and queue (every instance dispatches) and `runs` campaigns with 3. After each campaign:
 * every recipient got exactly one message (each message of the campaign sent, one per openid, and as
 * many send calls reached the sandbox as recipients).
 *
 * On a 2-core machine the 3 instances, PostgreSQL, Redis, the sandbox and this process share two
 * cores: 3 instances cannot show more than what 2 cores give, and the figure says little of scaling.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Campaign, CampaignRequest, MessageSearchResult, Segment } from '../../src/domain/contract'
import { Redis } from 'ioredis'
import postgresClient from 'postgres'
import { createPostgresStorage } from '../../server/db/postgres/storage'
import { demoPerson } from '../../server/demo/people'
import { systemClock } from '../../server/wechat/types'
import { startServiceProcess, type ServiceProcess } from '../../tests/server/support/service-process'
import { createDatabase, serversInstalled, startPostgres, startRedis, uniquePrefix, type RunningServer } from '../../tests/support/servers'
import { prepareAudience } from '../support/audience'
import { httpClient, type HttpClient } from '../support/http'
import { cpuOfGroups, processes, type ProcessCpu } from '../support/proc'
import { median } from '../support/load'
import { sandboxUrlOf, startServerProcess, type ServerProcess } from '../support/server-control'
import { ACTIVITY } from './campaign'

const ACTIVITY_DATA: Record<string, string> = {
  thing1: '{{nickname|朋友}}的会员日',
  date2: '2026年12月20日',
  thing3: '{{city|全国}}各门店',
  thing4: '名额有限，先到先得',
}

export interface ClusterPlan {
  /** DISPATCH_CONCURRENCY of every instance (as scenario 5). */
  concurrency: number
  /** Recipients of each measured campaign. */
  recipients: number
  /** Recipients of the warm-up campaign of each engine (not recorded). */
  warmup: number
  /** Measured campaigns of each setup (their median is reported). */
  runs: number
  /** The instances of the second PostgreSQL + Redis setup. */
  instances: number
  /** Safety bound of one campaign. */
  maxCampaignMs: number
}

export interface ClusterRun {
  recipients: number
  sent: number
  elapsedMs: number
  perSecond: number
  /** Openids among the campaign's sent messages (each once: must equal `recipients`). */
  distinctRecipients: number
  /** Send calls the sandbox WeChat received during the campaign (must equal `recipients`). */
  wechatSendCalls: number
  /** Skipped and failed messages by reason (must be none). */
  reasons: Record<string, number>
}

export interface ClusterSetup {
  name: string
  engine: 'sqlite' | 'postgres+redis'
  instances: number
  runs: ClusterRun[]
  /** Median of `runs`. */
  perSecond: number
  /**
   * CPU time (user + system, from /proc) per message of the measured campaigns, in µs, by process:
   * the service instances together, the sandbox WeChat, and (PostgreSQL + Redis) every PostgreSQL
   * process and redis-server. Unlike the rate, hardly moved by other work on the machine.
   */
  cpuUsPerMessage: Record<string, number>
}

export type ClusterResult =
  | { skipped: string }
  | {
      skipped: null
      concurrency: number
      recipients: number
      cpus: number
      sqlite: ClusterSetup
      single: ClusterSetup
      cluster: ClusterSetup
    }

const POLL_MS = 25
const SLOW_POLL_MS = 500
const ALL_TAG = 'cluster-all'
const WARMUP_TAG = 'cluster-warmup'
const SECRET_LENGTH_KEY = 'cluster-bench-admin-key-0123456789'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const isDone = (campaign: Campaign): boolean => campaign.expanded && campaign.counts.pending === 0 && campaign.counts.deferred === 0

/** Every message of the campaign, through the admin API (pages of 200). */
async function messagesOf(http: HttpClient, campaignId: string): Promise<MessageSearchResult['items']> {
  const items: MessageSearchResult['items'] = []
  let cursor: string | null = null
  do {
    const page: MessageSearchResult = await http.call<MessageSearchResult>('GET', `/api/messages?limit=200&campaign=${campaignId}${cursor === null ? '' : `&cursor=${cursor}`}`, 200)
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}

/**
 * One campaign, timed from its creation until nothing of it is pending, then checked. `done` runs at
 * that moment, before the check, so a reading taken in it (the processes' CPU) leaves the check's
 * reads out.
 */
async function runCampaign(sandbox: ServerProcess, http: HttpClient, segment: Segment, expected: number, maxMs: number, done: () => void = () => {}): Promise<ClusterRun> {
  const sendsBefore = (await sandbox.control('stats', {})).sendCalls
  const request: CampaignRequest = { name: `bench cluster ${segment.name} ${new Date().toISOString()}`, segmentId: segment.id, template: ACTIVITY.key, data: ACTIVITY_DATA }
  const started = performance.now()
  const created = await http.call<Campaign>('POST', '/api/campaigns', 201, request)
  let campaign = created
  let lastRead = performance.now()
  while (!isDone(campaign)) {
    if (performance.now() - started > maxMs) throw new Error(`群发 ${expected} 人 ${maxMs / 1000} 秒内没有发完：${JSON.stringify(campaign.counts)}`)
    await sleep(POLL_MS)
    const seen = (await sandbox.control('stats', {})).sendCalls - sendsBefore
    if (seen >= expected || performance.now() - lastRead >= SLOW_POLL_MS) {
      campaign = await http.call<Campaign>('GET', `/api/campaigns/${created.id}`, 200)
      lastRead = performance.now()
    }
  }
  const elapsedMs = performance.now() - started
  done()
  // Outside the measured time: what each recipient got.
  const wechatSendCalls = (await sandbox.control('stats', {})).sendCalls - sendsBefore
  const messages = await messagesOf(http, created.id)
  const sentTo = new Set(messages.filter((message) => message.status === 'sent').map((message) => message.touser))
  return {
    recipients: campaign.total,
    sent: campaign.counts.sent,
    elapsedMs,
    perSecond: (campaign.total * 1000) / elapsedMs,
    distinctRecipients: sentTo.size,
    wechatSendCalls,
    reasons: campaign.reasons,
  }
}

/** The same people and credits on PostgreSQL as support/audience.ts writes on SQLite, through the Storage repositories. */
async function preparePostgresAudience(url: string, openids: readonly string[], tagsOf: (index: number) => string[], credits: number): Promise<void> {
  const storage = await createPostgresStorage(url, systemClock, { max: 8 })
  try {
    const now = systemClock.now()
    const people = openids.map((openid, index) => {
      const { nickname, city } = demoPerson(index + 1, []).attributes
      return { openid, tags: tagsOf(index), attributes: { nickname: nickname!, city: city! } }
    })
    await storage.users.put(people, now)
    const changes = [{ templateId: ACTIVITY.id, result: 'accept' as const, credit: { type: 'add' as const, amount: credits } }]
    for (let start = 0; start < openids.length; start += 32) {
      await Promise.all(openids.slice(start, start + 32).map((openid) => storage.ledger.applyConsent({ openid, consentId: `bench-cluster-${openid}`, changes, now })))
    }
  } finally {
    await storage.close()
  }
}

async function segmentsOf(http: HttpClient): Promise<{ all: Segment; warmup: Segment }> {
  return {
    all: await http.call<Segment>('POST', '/api/segments', 201, { name: 'cluster all', filter: { tagsAll: [ALL_TAG] } }),
    warmup: await http.call<Segment>('POST', '/api/segments', 201, { name: 'cluster warm-up', filter: { tagsAll: [WARMUP_TAG] } }),
  }
}

export async function benchCampaignCluster(plan: ClusterPlan, progress: (text: string) => void, options: { cpuProfileDir?: string } = {}): Promise<ClusterResult> {
  // Each instance writes its V8 CPU profile there when it stops (bench/profile.ts reads it).
  const nodeArgs = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir]
  const installed = serversInstalled()
  if (!installed.postgres || !installed.redis) {
    const missing = [installed.postgres ? null : 'PostgreSQL 15 (/usr/lib/postgresql/15/bin)', installed.redis ? null : 'redis-server'].filter(Boolean).join('、')
    return { skipped: `本机没有 ${missing}，跳过 PostgreSQL + Redis 群发场景` }
  }
  const tagsOf = (index: number): string[] => (index < plan.warmup ? [ALL_TAG, WARMUP_TAG] : [ALL_TAG])
  const directory = mkdtempSync(join(tmpdir(), 'uni-subscribe-bench-cluster-'))
  const instances: ServiceProcess[] = []
  const clients: HttpClient[] = []
  const servers: RunningServer[] = []
  let sandbox: ServerProcess | null = null
  /** SQLite's service and its client, until its campaigns are done. */
  let sqliteService: { instance: ServiceProcess; http: HttpClient } | null = null
  const stopSqlite = async (): Promise<void> => {
    if (sqliteService === null) return
    await sqliteService.http.close()
    await sqliteService.instance.stop()
    sqliteService = null
  }
  const stopInstances = async (): Promise<void> => {
    await stopSqlite()
    for (const client of clients.splice(0)) await client.close()
    for (const instance of instances.splice(0)) await instance.stop()
  }
  try {
    sandbox = await startServerProcess('sandbox')
    const { appId, secret } = sandbox.ready
    const base = {
      WECHAT_APPID: appId,
      WECHAT_SECRET: secret,
      WECHAT_API_BASE: sandboxUrlOf(sandbox),
      ADMIN_API_KEY: SECRET_LENGTH_KEY,
      RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
      DISPATCH_CONCURRENCY: String(plan.concurrency),
    }
    // The bench's own children: the sandbox (bench/.build/server-process.mjs) and the service instances
    // (the SQLite one told apart by its process id while both run).
    const sqlitePids = new Set<number>()
    const isService = (process: ProcessCpu): boolean => process.ppid === globalThis.process.pid && !process.command.includes('server-process')
    const groups: Record<string, (process: ProcessCpu) => boolean> = {
      service: (process) => isService(process) && !sqlitePids.has(process.pid),
      sandbox: (process) => process.ppid === globalThis.process.pid && process.command.includes('server-process'),
    }
    /** One setup's campaigns and the CPU its processes took in them (in the measured time, not in the checks after it). */
    interface Side {
      name: string
      engine: ClusterSetup['engine']
      instances: number
      http: HttpClient
      segment: Segment
      groups: Record<string, (process: ProcessCpu) => boolean>
      runs: ClusterRun[]
      cpuSeconds: Record<string, number>
    }
    const sideOf = (name: string, engine: ClusterSetup['engine'], instances: number, http: HttpClient, segment: Segment, sideGroups: Side['groups']): Side => ({
      name, engine, instances, http, segment, groups: sideGroups, runs: [], cpuSeconds: Object.fromEntries(Object.keys(sideGroups).map((group) => [group, 0])),
    })
    const campaignOn = async (side: Side): Promise<void> => {
      const before = cpuOfGroups(side.groups)
      let after = before
      side.runs.push(await runCampaign(sandbox!, side.http, side.segment, plan.recipients, plan.maxCampaignMs, () => (after = cpuOfGroups(side.groups))))
      for (const group of Object.keys(side.groups)) side.cpuSeconds[group]! += after[group]! - before[group]!
    }
    const setupOf = (side: Side): ClusterSetup => {
      const messages = side.runs.reduce((sum, run) => sum + run.recipients, 0)
      // Taken over the measured time of the runs: each check after it reads every message of its
      // campaign (on SQLite, ~14 % of the service's CPU in the runs and checks together).
      const cpuUsPerMessage = Object.fromEntries(Object.entries(side.cpuSeconds).map(([group, seconds]) => [group, Math.round((seconds * 1e6) / messages)]))
      const measuredMs = side.runs.reduce((sum, run) => sum + run.elapsedMs, 0)
      progress(`   ${side.name}: CPU per message ${Object.entries(cpuUsPerMessage).map(([group, us]) => `${group} ${us} µs`).join(', ')} (${Math.round(measuredMs)} ms measured)`)
      return { name: side.name, engine: side.engine, instances: side.instances, runs: side.runs, perSecond: median(side.runs.map((run) => run.perSecond)), cpuUsPerMessage }
    }

    // ─── SQLite, one process ─────────────────────────────────────────────
    const sqliteFile = join(directory, 'bench.db')
    await prepareAudience(sandbox, sqliteFile, { prefix: 'cl-sqlite-', count: plan.recipients, template: ACTIVITY, credits: 1 + plan.runs, tagsOf })
    progress('   SQLite: starting server.ts')
    const sqliteInstance = await startServiceProcess({ ...base, DATABASE: sqliteFile }, undefined, { nodeArgs })
    for (const process of processes()) if (isService(process)) sqlitePids.add(process.pid)
    const sqliteHttp = httpClient(sqliteInstance.url, 4, SECRET_LENGTH_KEY)
    sqliteService = { instance: sqliteInstance, http: sqliteHttp }
    const sqliteSegments = await segmentsOf(sqliteHttp)
    await runCampaign(sandbox, sqliteHttp, sqliteSegments.warmup, plan.warmup, plan.maxCampaignMs)

    // ─── PostgreSQL + Redis, 1 then `instances` processes ─────────────────
    progress('   starting PostgreSQL 15 and redis-server')
    const postgres = await startPostgres()
    servers.push(postgres)
    const redis = await startRedis()
    servers.push(redis)
    const databaseUrl = await createDatabase(postgres.url, 'bench_cluster')
    {
      // Whose CPU is PostgreSQL's and redis-server's: the postmaster (its data directory's postmaster.pid) and the server's process id.
      const sql = postgresClient(databaseUrl, { max: 1, onnotice: () => {} })
      const [row] = await sql<{ dir: string }[]>`SELECT setting AS dir FROM pg_settings WHERE name = 'data_directory'`
      await sql.end()
      const postmaster = Number(readFileSync(join(row!.dir, 'postmaster.pid'), 'utf8').split('\n')[0])
      const info = new Redis(redis.url)
      const redisPid = Number(/process_id:(\d+)/.exec(await info.info('server'))?.[1])
      info.disconnect()
      groups.postgres = (process) => process.pid === postmaster
      groups.redis = (process) => process.pid === redisPid
    }
    const queue = { DATABASE_URL: databaseUrl, DATABASE: join(directory, 'unused.db'), REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('bench') }
    const { openids } = await sandbox.control('audience', { prefix: 'cl-pg-', count: plan.recipients, quota: { [ACTIVITY.id]: 1 + 2 * plan.runs } })
    progress('   PostgreSQL: starting server.ts (migrations), preparing the audience')
    instances.push(await startServiceProcess({ ...base, ...queue }, undefined, { nodeArgs }))
    await preparePostgresAudience(databaseUrl, openids, tagsOf, 1 + 2 * plan.runs)
    clients.push(httpClient(instances[0]!.url, 4, SECRET_LENGTH_KEY))
    const segments = await segmentsOf(clients[0]!)
    await runCampaign(sandbox, clients[0]!, segments.warmup, plan.warmup, plan.maxCampaignMs)

    // SQLite's and the single instance's campaigns in turns (S P, P S, S P…), so that a change in the
    // machine's speed (a shared machine's, seen here to move a campaign's rate by half within a run)
    // falls on both alike rather than on whichever went first. Each one's processes are idle meanwhile.
    const sqliteSide = sideOf('SQLite, 1 process', 'sqlite', 1, sqliteHttp, sqliteSegments.all, {
      service: (process) => sqlitePids.has(process.pid),
      sandbox: groups.sandbox!,
    })
    const singleSide = sideOf('PostgreSQL + Redis, 1 instance', 'postgres+redis', 1, clients[0]!, segments.all, { ...groups })
    progress(`   SQLite and PostgreSQL + Redis (1 instance) in turns: ${plan.runs} campaigns each to ${plan.recipients}`)
    for (let i = 0; i < plan.runs; i += 1) {
      for (const side of i % 2 === 0 ? [sqliteSide, singleSide] : [singleSide, sqliteSide]) await campaignOn(side)
    }
    const sqlite = setupOf(sqliteSide)
    const single = setupOf(singleSide)
    await stopSqlite()

    progress(`   PostgreSQL: starting ${plan.instances - 1} more instances`)
    for (let i = 1; i < plan.instances; i += 1) instances.push(await startServiceProcess({ ...base, ...queue }, undefined, { nodeArgs }))
    const clusterSide = sideOf(`PostgreSQL + Redis, ${plan.instances} instances`, 'postgres+redis', plan.instances, clients[0]!, segments.all, { ...groups })
    progress(`   ${clusterSide.name}: ${plan.runs} campaigns to ${plan.recipients}`)
    for (let i = 0; i < plan.runs; i += 1) await campaignOn(clusterSide)
    const cluster = setupOf(clusterSide)
    return { skipped: null, concurrency: plan.concurrency, recipients: plan.recipients, cpus: cpus().length, sqlite, single, cluster }
  } finally {
    await stopInstances()
    for (const server of servers.reverse()) await server.stop()
    await sandbox?.stop()
    rmSync(directory, { recursive: true, force: true })
  }
}
