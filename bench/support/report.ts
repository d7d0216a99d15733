/** The results file and the tables printed from it. */
import type { CampaignResult, CampaignRun } from '../scenarios/campaign'
import type { ClusterResult, ClusterSetup } from '../scenarios/campaign-cluster'
import { SERVICE_POOL_CONNECTIONS, type ClientCaseResult } from '../scenarios/wechat-client'
import type { ServiceResult } from '../scenarios/service'
import type { SizeResult, Weight } from '../scenarios/sizes'
import type { H5StartResult } from '../scenarios/h5-start'
import type { TokenExpiryResult } from '../scenarios/token-expiry'
import { median, type RateSummary } from './load'
import type { Target } from './targets'

export type ScenarioName = 'client' | 'service' | 'token' | 'campaign' | 'cluster' | 'sizes' | 'h5start'
export const SCENARIOS: readonly ScenarioName[] = ['client', 'service', 'token', 'campaign', 'cluster', 'sizes', 'h5start']

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  os: string
  node: string
  /** 1-minute load average when the suite started and ended: other work on the machine shows here. */
  loadAverageAtStart: number
  loadAverageAtEnd: number
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface BenchResults {
  schema: 1
  startedAt: string
  durationMs: number
  machine: Machine
  git: { commit: string; dirty: boolean } | null
  scenarios: ScenarioName[]
  /** How each scenario was run (runs, warm-ups, bounds). */
  plans: Record<string, unknown>
  wechatClient?: ClientCaseResult[]
  service?: ServiceResult
  tokenExpiry?: TokenExpiryResult[]
  campaign?: CampaignResult
  cluster?: ClusterResult
  sizes?: SizeResult
  h5Start?: H5StartResult
  checks: Check[]
  /** Every target of the suite whose scenario ran, with this run's figure. */
  targets: Target[]
}

// ─── formatting ──────────────────────────────────────────────────────────────

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })

const count = (value: number): string => (Number.isFinite(value) ? integer.format(value) : '–')
/** Milliseconds: two decimals below 10 ms, one above. */
const ms = (value: number): string => (!Number.isFinite(value) ? '–' : Math.abs(value) < 10 ? twoDecimals.format(value) : oneDecimal.format(value))
const kib = (bytes: number): string => `${oneDecimal.format(bytes / 1024)} KiB`
const share = (part: number, whole: number): string => (whole > 0 ? `${oneDecimal.format((part / whole) * 100)}%` : '–')

function change(current: number, baseline: number | undefined): string {
  if (baseline === undefined || !Number.isFinite(baseline) || baseline === 0) return ''
  const percent = ((current - baseline) / baseline) * 100
  return `${percent >= 0 ? '+' : ''}${oneDecimal.format(percent)}%`
}

/** An aligned table: text columns to the left, numbers (given as `right`) to the right. */
function table(headers: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (right.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)].join('\n')
}

const mb = (bytes: number): string => `${oneDecimal.format(bytes / 1_000_000)} MB`

function campaignSection(campaign: CampaignResult, before: CampaignResult | undefined): string[] {
  const runRow = (name: string, run: CampaignRun, old: number | undefined, spread = ''): string[] => [
    name,
    count(run.perSecond),
    spread,
    oneDecimal.format(run.elapsedMs / 1000),
    oneDecimal.format(run.cpuMicrosPerMessage),
    oneDecimal.format(run.wallMicrosPerMessage),
    mb(run.peakRssBytes),
    change(run.perSecond, old),
  ]
  const rates = campaign.small.map((run) => run.perSecond)
  const small: CampaignRun = {
    ...campaign.small[0]!,
    elapsedMs: median(campaign.small.map((run) => run.elapsedMs)),
    perSecond: campaign.smallPerSecond,
    cpuMicrosPerMessage: campaign.smallCpuMicrosPerMessage,
    wallMicrosPerMessage: campaign.smallWallMicrosPerMessage,
    peakRssBytes: Math.max(...campaign.small.map((run) => run.peakRssBytes)),
  }
  const referenceRow = (name: string, summary: RateSummary, old: number | undefined): string[] => [
    name,
    count(summary.perSecond),
    `[${count(summary.perSecondMin)}–${count(summary.perSecondMax)}]`,
    '',
    '',
    oneDecimal.format(1e6 / summary.perSecond),
    '',
    change(summary.perSecond, old),
  ]
  const { latency } = campaign
  return [
    '',
    `4. Campaign fan-out (DISPATCH_CONCURRENCY ${campaign.concurrency}, ${campaign.connections} connections; service and sandbox WeChat in separate processes; ${count(campaign.users)} users prepared in ${oneDecimal.format(campaign.audienceSetupMs / 1000)} s)`,
    table(
      ['campaign / reference', 'msg/s', '[min–max]', 's', 'CPU µs/msg', 'wall µs/msg', 'peak RSS', 'Δ msg/s'],
      [
        runRow(`campaign 10k (median of ${campaign.small.length})`, small, before?.smallPerSecond, `[${count(Math.min(...rates))}–${count(Math.max(...rates))}]`),
        runRow('campaign 100k', campaign.large, before?.large.perSecond),
        runRow(`campaign ${count(latency.recipients / 1000)}k, WeChat +${latency.latencyMs} ms (bound ${count(latency.boundPerSecond)})`, latency, before?.latency.perSecond),
        // Older results (the baseline) have no such run.
        runRow(`campaign ${count(campaign.pushed.recipients / 1000)}k, delivery events pushed back`, campaign.pushed, before?.pushed?.perSecond),
        referenceRow(`bare undici Pool c=${campaign.concurrency}`, campaign.barePool, before?.barePool.perSecond),
        referenceRow(`node-easywechat 3.6.2 c=${campaign.concurrency} (peer)`, campaign.peer, before?.peer.perSecond),
      ],
      columns(1, 7),
    ),
    'each campaign from POST /api/campaigns until none of its messages is pending or deferred (with delivery events: and every push answered); CPU: the service process (user + system) per message; ' +
      'the reference rows: one message sent in a closed loop from the bench process to the same sandbox, taking turns with the campaigns',
  ]
}

function clusterSection(cluster: ClusterResult, before: ClusterResult | undefined): string[] {
  const title = '6. Campaign on PostgreSQL + Redis (BullMQ), 1 and several instances, against SQLite (server/server.ts processes, sandbox WeChat in its own)'
  if (cluster.skipped !== null) return ['', title, `skipped: ${cluster.skipped}`]
  const old = before?.skipped === null ? before : undefined
  const row = (setup: ClusterSetup, oldSetup: ClusterSetup | undefined): string[] => {
    const rates = setup.runs.map((run) => run.perSecond)
    return [
      setup.name,
      count(setup.perSecond),
      `[${count(Math.min(...rates))}–${count(Math.max(...rates))}]`,
      ms(median(setup.runs.map((run) => run.elapsedMs)) / 1000),
      share(setup.perSecond, cluster.sqlite.perSecond),
      setup.runs.map((run) => `${count(run.distinctRecipients)}/${count(run.recipients)}`).join(' '),
      change(setup.perSecond, oldSetup?.perSecond),
    ]
  }
  return [
    '',
    title,
    table(
      ['setup', 'msg/s', '[min–max]', 's', 'of SQLite', 'got one / recipients', 'Δ msg/s'],
      [row(cluster.sqlite, old?.sqlite), row(cluster.single, old?.single), row(cluster.cluster, old?.cluster)],
      columns(1, 4),
    ),
    `medians of ${cluster.sqlite.runs.length} campaigns to ${count(cluster.recipients)} after a warm-up, SQLite's and 1 instance's in turns, DISPATCH_CONCURRENCY ${cluster.concurrency} per instance; ` +
      `each from POST /api/campaigns on the first instance until none of its messages is pending or deferred; ${cluster.cluster.instances} instances / 1: ${oneDecimal.format(cluster.cluster.perSecond / cluster.single.perSecond)}×`,
    `note: ${cluster.cpus} CPU core${cluster.cpus === 1 ? '' : 's'} here shared by every instance, PostgreSQL, Redis, the sandbox WeChat and the bench: ` +
      `${cluster.cpus <= 2 ? 'a 2-core machine cannot show what 3 instances give on their own cores; the 3-instance row shows they work together, not how they scale' : 'the instances compete with the rest for the cores'}`,
  ]
}

const columns = (from: number, to: number): Set<number> => new Set(Array.from({ length: to - from + 1 }, (_, i) => from + i))

// ─── the report ──────────────────────────────────────────────────────────────

export function formatReport(results: BenchResults, baseline: BenchResults | null, plans: { runs: number; warmups: number }): string {
  const { machine } = results
  const out: string[] = []
  out.push(
    `uni-subscribe benchmarks — ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`,
    `load average (1 min) ${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd} at end; ` +
      `rates and latencies are medians of ${plans.runs} runs after ${plans.warmups} warm-up, [min–max] of the rate` +
      (baseline ? `; Δ against bench/results/baseline.json (${baseline.startedAt.slice(0, 10)})` : ''),
  )

  if (results.wechatClient) {
    const before = new Map((baseline?.wechatClient ?? []).map((row) => [row.name, row.perSecond]))
    out.push('', '1. WeChat client → sandbox WeChat (createWeChatClient, undici Pool; sandbox in its own process, loopback)')
    out.push(
      table(
        ['case', 'conns', 'sends/s', '[min–max]', 'p50 ms', 'p99 ms', 'sends', 'failed', 'Δ sends/s'],
        results.wechatClient.map((row) => [
          row.name,
          String(row.connections),
          count(row.perSecond),
          `[${count(row.perSecondMin)}–${count(row.perSecondMax)}]`,
          ms(row.p50Ms),
          ms(row.p99Ms),
          count(row.requests),
          String(row.failed),
          change(row.perSecond, before.get(row.name)),
        ]),
        new Set([1, 2, 4, 5, 6, 7, 8]),
      ),
    )
  }

  if (results.service) {
    const service = results.service
    const before = baseline?.service
    out.push(
      '',
      `2. Service end to end over HTTP (concurrency ${service.concurrency}; SQLite file; sandbox WeChat in another process, pushing each delivery event to the service; ${service.users} users, load generator in this process)`,
    )
    const row = (name: string, summary: ServiceResult['consents'], old: number | undefined): string[] => [
      name,
      count(summary.perSecond),
      `[${count(summary.perSecondMin)}–${count(summary.perSecondMax)}]`,
      ms(summary.p50Ms),
      ms(summary.p99Ms),
      count(summary.requests),
      change(summary.perSecond, old),
    ]
    out.push(
      table(
        ['request', 'req/s', '[min–max]', 'p50 ms', 'p99 ms', 'requests', 'Δ req/s'],
        [
          row('POST /api/consents (one accept)', service.consents, before?.consents.perSecond),
          row('POST /api/messages (admin, 202 queued)', service.messages, before?.messages.perSecond),
        ],
        columns(1, 6),
      ),
    )
    const statuses = Object.entries(service.messageStatuses)
      .map(([status, n]) => `${status} ${count(n)}`)
      .join(', ')
    out.push(`answers to POST /api/messages (warm-up included): ${statuses}; send calls the sandbox WeChat received: ${count(service.wechatSendCalls)}`)
    out.push(`service CPU per admin send (answer, dispatch, delivery event; user + system): ${oneDecimal.format(service.serviceCpuMicrosPerSend)} µs`)
  }

  if (results.tokenExpiry) {
    out.push('', `3. Access token expiring mid-burst (client, SQLite token store, ${SERVICE_POOL_CONNECTIONS} conns as the service's pool; every token expired when half the burst has answered)`)
    out.push(
      table(
        ['sandbox latency', 'burst', 'refreshes per run', 'renewed sends', 'p50 ctrl', 'p50 renewed', 'added p50', 'p99 ctrl', 'p99 expiry', 'burst ms ctrl → expiry', 'failed'],
        results.tokenExpiry.map((row) => [
          `+${row.latencyMs} ms`,
          `${row.burst} @ c=${row.concurrency}`,
          row.refreshes.join(' '),
          count(row.renewedSends),
          ms(row.controlP50Ms),
          ms(row.renewedP50Ms),
          `+${ms(row.addedP50Ms)}`,
          ms(row.controlP99Ms),
          ms(row.expiryP99Ms),
          `${ms(row.controlBurstMs)} → ${ms(row.expiryBurstMs)}`,
          String(row.failed),
        ]),
        columns(3, 10),
      ),
    )
    out.push('latencies in ms; "renewed": sends that met the expired token (42001), waited for the one refresh and were sent again')
  }

  if (results.campaign) out.push(...campaignSection(results.campaign, baseline?.campaign))

  if (results.h5Start) {
    const { medianMs, runsMs } = results.h5Start
    out.push('', '6. H5 start: 订阅中心 signed in, its templates shown and subscribable, from navigation start (cold loads, headless Chromium, local service)')
    out.push(`median ${medianMs} ms of ${runsMs.length} loads: ${runsMs.join(', ')} ms`)
  }

  if (results.sizes) {
    const { h5, mpWeixin } = results.sizes
    const old = baseline?.sizes
    const weightRow = (name: string, weight: Weight, oldWeight: Weight | undefined, of?: Weight): string[] => [
      name,
      String(weight.files),
      kib(weight.bytes),
      of ? share(weight.bytes, of.bytes) : '',
      kib(weight.gzipBytes),
      oldWeight ? change(weight.bytes, oldWeight.bytes) : '',
    ]
    const split = h5.split
    const splitRow = (name: string, bytes: number): string[] => [name, '', kib(bytes), share(bytes, split.js.bytes), '', '']
    const packages = Object.entries(split.runtimeByPackage)
      .sort(([, a], [, b]) => b - a)
      .map(([name, bytes]) => splitRow(`      ${name}`, bytes))
    out.push('', '5. Client sizes (gzip: node:zlib level 6, file by file)')
    out.push(
      table(
        ['build / part', 'files', 'bytes', 'share', 'gzip', 'Δ size'],
        [
          weightRow(`H5 dist/build/h5${h5.builtNow ? ' (built now)' : ''}`, h5.total, old?.h5.total),
          weightRow('  JS', h5.js, old?.h5.js, h5.total),
          weightRow("    the end user's app loads (the ≤ 300 KB target)", h5.appJs, old?.h5.appJs, h5.total),
          weightRow('    only console pages reach (left out)', h5.consoleJs, old?.h5.consoleJs, h5.total),
          weightRow('  CSS', h5.css, old?.h5.css, h5.total),
          weightRow(`H5 JS by source${split.matchesDist ? '' : ' (fresh build, see note)'}`, split.js, old?.h5.split.js),
          splitRow("  the app's own (src/)", split.appBytes),
          splitRow("  uni's runtime (node_modules)", split.runtimeBytes),
          ...packages,
          splitRow('  bundler glue (unmapped)', split.unmappedBytes),
          weightRow(`mp-weixin dist/build/mp-weixin${mpWeixin.builtNow ? ' (built now)' : ''}`, mpWeixin.total, old?.mpWeixin.total),
          weightRow("  common/vendor.js (uni's runtime)", mpWeixin.vendor, old?.mpWeixin.vendor, mpWeixin.total),
          weightRow("  the app's own (all other files)", mpWeixin.app, old?.mpWeixin.app, mpWeixin.total),
          weightRow("  the app's own JS", mpWeixin.appJs, old?.mpWeixin.appJs, mpWeixin.total),
        ],
        columns(1, 5),
      ),
    )
    out.push(
      split.matchesDist
        ? 'H5 JS by source: every byte of a source-mapped build with the same chunks as dist/build/h5 (bench/.build/h5), by its mapping'
        : 'note: dist/build/h5 is not what `uni build` makes of the sources now (older, or built otherwise): the H5 JS by source is of a fresh build (bench/.build/h5)',
    )
  }

  if (results.cluster) out.push(...clusterSection(results.cluster, baseline?.cluster))

  if (results.targets.length > 0) {
    out.push('', 'targets:')
    out.push(
      table(
        ['', 'target', 'figure', 'goal'],
        results.targets.map((target) => [target.met ? 'met ' : 'MISS', target.name, target.figure, target.target]),
        new Set(),
      ),
    )
  }

  out.push('', 'checks:')
  for (const check of results.checks) out.push(`  ${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}`)
  return out.join('\n')
}
