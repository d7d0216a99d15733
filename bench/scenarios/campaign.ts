/**
 * Scenario 5: campaign fan-out. The service runs as `npm run server` runs it against a real AppID
 * (SQLite file, the dispatcher at DISPATCH_CONCURRENCY), calling the sandbox WeChat in a third
 * process as it would call WeChat, so each side's work is counted in its own process. Before the
 * service starts, its database gets 100,000 users with tags, nicknames and cities, and credits of
 * `activity_reminder` that the sandbox agrees with (support/audience.ts).
 *
 * Measured, each campaign from POST /api/campaigns until GET /api/campaigns/:id counts no message
 * pending or deferred: a warm-up campaign to 5,000 (not recorded), then rounds of (bare Pool run,
 * peer run, campaign to 10,000); a campaign to 5,000 with the sandbox answering 50 ms late; then
 * the bare Pool, the peer, a campaign to 100,000, the bare Pool and the peer again. Last, the service
 * is started again on the same database with message push configured (secure mode), and a campaign to
 * 10,000 runs while the sandbox reports every send back as WeChat does (`subscribe_msg_sent_event`):
 * measured until the campaign is done and every push has been answered. The reference
 * rows (support/senders.ts) run from this process against the same sandbox, at the same concurrency
 * and with as many connections as the service's Pool, taking turns with the campaigns, so that what
 * else the machine does weighs on both.
 *
 * The service process reports over IPC its CPU time and its RSS: sampled every 250 ms for each
 * campaign's column, and the kernel's own peak (getrusage) for the target.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Campaign, CampaignRequest, Segment, Stats } from '../../src/domain/contract'
import { wechatPoolConnections } from '../../server/wechat/pool'
import type { SubscribeMessage } from '../../server/wechat/types'
import { prepareAudience } from '../support/audience'
import { ACCOUNT_SECURITY, SECURITY_DATA, catalogueTemplate, tempDatabase } from '../support/fixtures'
import { httpClient, type HttpClient } from '../support/http'
import { median, runLoad, summarizeRuns, type LoadRun, type RateSummary } from '../support/load'
import { barePoolSender, easyWeChatSender, type Sender } from '../support/senders'
import { PUSH_PATH } from '../../server/routes/push'
import { sandboxUrlOf, startServerProcess, type ServerProcess, type StartOptions } from '../support/server-control'

/** Marketing, one-time: each send spends a credit, muting and quiet hours apply (nobody here has any). */
export const ACTIVITY = catalogueTemplate('activity_reminder')
/** Per-person placeholders, filled from each user's attributes (nickname, city). */
const ACTIVITY_DATA: Record<string, string> = {
  thing1: '{{nickname|朋友}}的会员日',
  date2: '2026年12月20日',
  thing3: '{{city|全国}}各门店',
  thing4: '名额有限，先到先得',
}

export interface CampaignPlan {
  /** DISPATCH_CONCURRENCY of the service; also the reference rows' concurrency. */
  concurrency: number
  /** The recipients of the recorded small campaigns, of the large one, of the warm-up and the latency one. */
  small: number
  large: number
  warmup: number
  /** Campaigns to `small` recorded (their median is reported). */
  smallRuns: number
  latency: { recipients: number; latencyMs: number }
  /** The recipients of the campaign whose delivery events WeChat pushes back (one of the small segments). */
  pushed: number
  /** One reference run (bare Pool, peer), in ms. */
  referenceRunMs: number
  /** Safety bound of one campaign. */
  maxCampaignMs: number
}

export interface CampaignRun {
  recipients: number
  /** Messages that ended sent (all must). */
  sent: number
  /** From the POST until no message is pending or deferred. */
  elapsedMs: number
  /** Recipients per second over `elapsedMs`. */
  perSecond: number
  /** The service process's CPU time (user + system) per message, in µs. */
  cpuMicrosPerMessage: number
  /** Wall time per message, in µs (1e6 ÷ perSecond). */
  wallMicrosPerMessage: number
  /** The service process's highest RSS during the campaign. */
  peakRssBytes: number
  /** Skipped and failed messages by reason (must be none). */
  reasons: Record<string, number>
}

export interface CampaignResult {
  concurrency: number
  /** Connections of the service's Pool to WeChat (and of the reference rows). */
  connections: number
  users: number
  /** Preparing the database and the sandbox, in ms (not measured further). */
  audienceSetupMs: number
  small: CampaignRun[]
  /** The median rate of `small`, and its cost per message (medians). */
  smallPerSecond: number
  smallCpuMicrosPerMessage: number
  smallWallMicrosPerMessage: number
  large: CampaignRun
  latency: CampaignRun & { latencyMs: number; boundPerSecond: number }
  /** The campaign with every send's delivery event pushed to the service, until each push was answered; `delivered`: what the service then counts. */
  pushed: CampaignRun & { delivered: number }
  barePool: RateSummary
  peer: RateSummary
  /** Reference sends not answered errcode 0 (must be 0). */
  referenceFailures: number
  /** The service process's highest RSS over its whole life (start, users' pages, every campaign), as the kernel counts it. */
  peakRssBytes: number
  /** Every measured campaign reached `completed` (the runner marks it at its next look). */
  allCompleted: boolean
}

const POLL_MS = 25
/** How often the campaign is read while the sandbox has not yet seen every send. */
const SLOW_POLL_MS = 500
const COMPLETION_WAIT_MS = 15_000

function segmentTag(recipients: number): string {
  return `fanout-${recipients}`
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const isDone = (campaign: Campaign): boolean => campaign.expanded && campaign.counts.pending === 0 && campaign.counts.deferred === 0

async function runCampaign(
  service: ServerProcess,
  sandbox: ServerProcess,
  http: HttpClient,
  segment: Segment,
  recipients: number,
  maxMs: number,
  options: { untilPushesSettled?: boolean } = {},
): Promise<{ run: CampaignRun; id: string }> {
  await service.control('usage', { resetPeak: true })
  const before = await service.control('usage', {})
  const sendsBefore = (await sandbox.control('stats', {})).sendCalls
  const request: CampaignRequest = { name: `bench ${segment.name} ${new Date().toISOString()}`, segmentId: segment.id, template: ACTIVITY.key, data: ACTIVITY_DATA }
  const started = performance.now()
  const created = await http.call<Campaign>('POST', '/api/campaigns', 201, request)
  let campaign = created
  let lastRead = performance.now()
  // Cheap to ask the sandbox (another process) how far it is; the campaign itself is read when the
  // sandbox has seen every send, and now and then before (a campaign whose sends fail ends sooner).
  while (!isDone(campaign)) {
    if (performance.now() - started > maxMs) throw new Error(`群发 ${recipients} 人 ${maxMs / 1000} 秒内没有发完：${JSON.stringify(campaign.counts)}`)
    await sleep(POLL_MS)
    const seen = (await sandbox.control('stats', {})).sendCalls - sendsBefore
    if (seen >= recipients || performance.now() - lastRead >= SLOW_POLL_MS) {
      campaign = await http.call<Campaign>('GET', `/api/campaigns/${created.id}`, 200)
      lastRead = performance.now()
    }
  }
  // WeChat's delivery events for these sends, answered by the service (they come within seconds).
  if (options.untilPushesSettled === true) await sandbox.control('pushesSettled', {})
  const elapsedMs = performance.now() - started
  const after = await service.control('usage', {})
  const perSecond = (campaign.total * 1000) / elapsedMs
  return {
    id: created.id,
    run: {
      recipients: campaign.total,
      sent: campaign.counts.sent,
      elapsedMs,
      perSecond,
      cpuMicrosPerMessage: (after.cpuMicros - before.cpuMicros) / Math.max(1, campaign.total),
      wallMicrosPerMessage: 1e6 / perSecond,
      peakRssBytes: after.peakRssBytes,
      reasons: campaign.reasons,
    },
  }
}

/** Whether every campaign reached `completed` within `maxMs` (the runner marks it on its next look). */
async function completed(http: HttpClient, ids: readonly string[], maxMs: number): Promise<boolean> {
  const deadline = performance.now() + maxMs
  for (;;) {
    const campaigns = await http.call<Campaign[]>('GET', '/api/campaigns', 200)
    const open = campaigns.filter((campaign) => ids.includes(campaign.id) && campaign.status !== 'completed')
    if (open.length === 0) return true
    if (performance.now() > deadline) return false
    await sleep(250)
  }
}

export async function benchCampaign(plan: CampaignPlan, profiling: StartOptions = {}): Promise<CampaignResult> {
  const users = Math.max(plan.large, plan.small, plan.warmup, plan.latency.recipients, plan.pushed)
  // Each person is in at most: the warm-up, every small run, the latency run, the large one and the one with delivery events.
  const credits = 4 + plan.smallRuns
  const sandbox = await startServerProcess('sandbox')
  const database = tempDatabase()
  const references: Sender[] = []
  let service: ServerProcess | null = null
  try {
    const sizes = [...new Set([plan.small, plan.large, plan.warmup, plan.latency.recipients, plan.pushed])]
    const audience = await prepareAudience(sandbox, database.path, {
      prefix: 'fanout-',
      count: users,
      template: ACTIVITY,
      credits,
      tagsOf: (index) => sizes.filter((size) => index < size).map(segmentTag),
    })
    const { appId, secret } = sandbox.ready
    const sandboxUrl = sandboxUrlOf(sandbox)
    const env = { DISPATCH_CONCURRENCY: String(plan.concurrency) }
    const running = await startServerProcess('service', { ...profiling, setup: { wechat: { url: sandboxUrl, appId, secret }, database: database.path, env } })
    service = running
    const { serviceUrl, adminKey } = running.ready
    if (serviceUrl === null || adminKey === null) throw new Error('群发场景需要以 service 角色启动的进程')
    const http = httpClient(serviceUrl, 4, adminKey)
    const segments = new Map<number, Segment>()
    for (const size of sizes) {
      segments.set(size, await http.call<Segment>('POST', '/api/segments', 201, { name: `fanout ${size}`, filter: { tagsAll: [segmentTag(size)] } }))
    }

    // ─── the reference rows: the same sandbox, concurrency and connections ──
    const connections = wechatPoolConnections(plan.concurrency)
    const { openids } = await sandbox.control('grant', { users: ['bench-reference'], templateId: ACCOUNT_SECURITY.id, times: 1 })
    const message: SubscribeMessage = { touser: openids[0]!, template_id: ACCOUNT_SECURITY.id, data: SECURITY_DATA, miniprogram_state: 'formal' }
    const token = await tokenOf(sandboxUrl, appId, secret)
    const bare = barePoolSender({ baseUrl: sandboxUrl, connections, accessToken: token, message })
    const peer = easyWeChatSender({ baseUrl: sandboxUrl, connections, appId, secret, message })
    references.push(bare, peer)
    const bareRuns: LoadRun<boolean>[] = []
    const peerRuns: LoadRun<boolean>[] = []
    let referenceFailures = 0
    const reference = async (sender: Sender, runs: LoadRun<boolean>[] | null): Promise<void> => {
      const run = await runLoad({ concurrency: plan.concurrency, maxCount: 1_000_000, maxDurationMs: plan.referenceRunMs, task: () => sender.send() })
      referenceFailures += run.samples.filter((sample) => !sample.value).length
      runs?.push(run)
    }
    const referenceRound = async (): Promise<void> => {
      await reference(bare, bareRuns)
      await reference(peer, peerRuns)
    }

    const campaign = (size: number, maxMs = plan.maxCampaignMs) => runCampaign(running, sandbox, http, segments.get(size)!, size, maxMs)
    const ids: string[] = []
    let peakRssBytes = 0
    const keep = (measured: { run: CampaignRun; id: string }): CampaignRun => {
      ids.push(measured.id)
      peakRssBytes = Math.max(peakRssBytes, measured.run.peakRssBytes)
      return measured.run
    }

    // ─── warm-up: the JIT, the first pages of every table ─────────────────
    await reference(bare, null)
    await reference(peer, null)
    keep(await campaign(plan.warmup))

    const small: CampaignRun[] = []
    for (let round = 0; round < plan.smallRuns; round += 1) {
      await referenceRound()
      small.push(keep(await campaign(plan.small)))
    }

    await sandbox.control('faults', { faults: { latencyMs: plan.latency.latencyMs } })
    let latencyRun: CampaignRun
    try {
      latencyRun = keep(await campaign(plan.latency.recipients))
    } finally {
      await sandbox.control('faults', { faults: { latencyMs: 0 } })
    }

    await referenceRound()
    const large = keep(await campaign(plan.large))
    await referenceRound()

    const allCompleted = await completed(http, ids, COMPLETION_WAIT_MS)
    const usage = await running.control('usage', {})
    await http.close()

    // ─── the same campaign with WeChat's delivery events pushed back ──────
    // Another service process on the same database, with message push configured: its peak RSS is
    // its own row's, not the figure above.
    await running.stop()
    service = null
    const push = { token: randomBytes(12).toString('hex'), aesKey: randomBytes(32).toString('base64url').replace(/[-_]/g, 'x').slice(0, 43) }
    const pushing = await startServerProcess('service', {
      ...profiling,
      setup: { wechat: { url: sandboxUrl, appId, secret }, database: database.path, env: { ...env, WECHAT_PUSH_TOKEN: push.token, WECHAT_PUSH_AES_KEY: push.aesKey } },
    })
    service = pushing
    const pushedHttp = httpClient(pushing.ready.serviceUrl!, 4, pushing.ready.adminKey!)
    await sandbox.control('push', { url: `${pushing.ready.serviceUrl!}${PUSH_PATH}`, ...push })
    const pushedRun = (await runCampaign(pushing, sandbox, pushedHttp, segments.get(plan.pushed)!, plan.pushed, plan.maxCampaignMs, { untilPushesSettled: true })).run
    const { byDelivery } = await pushedHttp.call<Stats>('GET', '/api/stats', 200)
    await pushedHttp.close()
    return {
      concurrency: plan.concurrency,
      connections,
      users,
      audienceSetupMs: audience.setupMs,
      small,
      smallPerSecond: median(small.map((run) => run.perSecond)),
      smallCpuMicrosPerMessage: median(small.map((run) => run.cpuMicrosPerMessage)),
      smallWallMicrosPerMessage: median(small.map((run) => run.wallMicrosPerMessage)),
      large,
      latency: { ...latencyRun, latencyMs: plan.latency.latencyMs, boundPerSecond: (plan.concurrency * 1000) / plan.latency.latencyMs },
      pushed: { ...pushedRun, delivered: byDelivery.delivered },
      barePool: summarizeRuns(bareRuns),
      peer: summarizeRuns(peerRuns),
      referenceFailures,
      peakRssBytes: Math.max(peakRssBytes, usage.maxRssBytes),
      allCompleted,
    }
  } finally {
    for (const sender of references) await sender.close()
    await service?.stop()
    await sandbox.stop()
    database.remove()
  }
}

/** The stable access token, as the service's client and the peer get it. */
async function tokenOf(sandboxUrl: string, appId: string, secret: string): Promise<string> {
  const http = httpClient(sandboxUrl, 1)
  try {
    const answer = await http.call<{ access_token?: string }>('POST', '/cgi-bin/stable_token', 200, { grant_type: 'client_credential', appid: appId, secret })
    if (typeof answer.access_token !== 'string') throw new Error(`沙箱没有给出 access_token：${JSON.stringify(answer)}`)
    return answer.access_token
  } finally {
    await http.close()
  }
}
