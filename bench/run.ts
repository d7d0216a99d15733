/**
 * `npm run bench`: the benchmark suite. Loopback only, bounded in requests and in time (each run,
 * and the whole suite: it stops itself after 10 minutes), about 5 minutes on 2 cores.
 *
 *   npm run bench                              all scenarios; table on stdout, bench/results/latest.json
 *   npm run bench -- --only client,campaign    some of them: client, service, token, campaign, cluster, sizes, h5start
 *   npm run bench -- --save-baseline           also write bench/results/baseline.json (committed)
 *   npm run bench -- --cpu-prof DIR            a V8 CPU profile of each service process in DIR (bench/profile.ts reads it)
 *
 * Exit code 1 when a check fails (a send that did not go through, a token refreshed more than once…);
 * a target missed is reported, not failed.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { benchCampaign, type CampaignPlan } from './scenarios/campaign'
import { benchCampaignCluster, type ClusterPlan } from './scenarios/campaign-cluster'
import { benchService, type ServicePlan } from './scenarios/service'
import { benchH5Start } from './scenarios/h5-start'
import { benchSizes } from './scenarios/sizes'
import { benchTokenExpiry, type TokenExpiryPlan } from './scenarios/token-expiry'
import { benchWeChatClient, type ClientPlan } from './scenarios/wechat-client'
import { targetsOf } from './support/targets'
import { SCENARIOS, formatReport, type BenchResults, type Check, type Machine, type ScenarioName } from './support/report'
import { PROJECT_ROOT, sandboxUrlOf, startServerProcess, type ServerProcess } from './support/server-control'
import { PUSH_PATH } from '../server/routes/push'

const SUITE_TIMEOUT_MS = 600_000
const RESULTS_DIR = resolve(PROJECT_ROOT, 'bench/results')
const LATEST = resolve(RESULTS_DIR, 'latest.json')
const BASELINE = resolve(RESULTS_DIR, 'baseline.json')

const RUNS = { warmups: 1, runs: 5 }
const CLIENT_PLAN: ClientPlan = { ...RUNS, runMs: 600, maxCountPerRun: 50_000 }
const SERVICE_PLAN: ServicePlan = { ...RUNS, concurrency: 50, perRun: 1_000, maxRunMs: 20_000 }
const CAMPAIGN_PLAN: CampaignPlan = {
  concurrency: 64,
  small: 10_000,
  large: 100_000,
  warmup: 5_000,
  smallRuns: 3,
  latency: { recipients: 5_000, latencyMs: 50 },
  pushed: 10_000,
  referenceRunMs: 1_000,
  maxCampaignMs: 150_000,
}
const CLUSTER_PLAN: ClusterPlan = { concurrency: CAMPAIGN_PLAN.concurrency, recipients: 5_000, warmup: 5_000, runs: 5, instances: 3, maxCampaignMs: 60_000 }
const TOKEN_PLAN: TokenExpiryPlan = { runs: RUNS.runs, burst: 1_000, concurrency: 100, latenciesMs: [0, 20], maxBurstMs: 10_000 }

function parseScenarios(only: string | undefined): ScenarioName[] {
  if (only === undefined) return [...SCENARIOS]
  const names = only.split(',').map((name) => name.trim()).filter(Boolean)
  for (const name of names) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`--only 里的 "${name}" 不是场景名；可选：${SCENARIOS.join('、')}`)
    }
  }
  return SCENARIOS.filter((name) => names.includes(name))
}

function describeMachine(loadAverageAtStart: number): Machine {
  const processors = cpus()
  return {
    cpus: processors.length,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    loadAverageAtStart,
    loadAverageAtEnd: Number(loadavg()[0]!.toFixed(2)),
  }
}

function gitState(): BenchResults['git'] {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no') !== '' }
  } catch (error) {
    process.stderr.write(`读取 git 版本失败，结果里不记录提交：${error instanceof Error ? error.message : String(error)}\n`)
    return null
  }
}

function readBaseline(): BenchResults | null {
  if (!existsSync(BASELINE)) return null
  const parsed = JSON.parse(readFileSync(BASELINE, 'utf8')) as Partial<BenchResults>
  if (parsed.schema !== 1) throw new Error(`${BASELINE} 的格式不是这个版本的基准结果（schema 应为 1）`)
  return parsed as BenchResults
}

function checksOf(results: BenchResults): Check[] {
  const checks: Check[] = []
  for (const row of results.wechatClient ?? []) {
    checks.push({ name: `WeChat client, ${row.name}: every send ok`, ok: row.failed === 0, detail: `${row.failed} not ok` })
  }
  if (results.service) {
    const { messageStatuses, finalStatuses, wechatSendCalls } = results.service
    const answered = Object.entries(messageStatuses).filter(([status]) => status !== 'queued')
    checks.push({
      name: 'service: every admin send answered 202 queued',
      ok: answered.length === 0,
      detail: answered.length === 0 ? `${messageStatuses.queued ?? 0} queued` : `not queued: ${answered.map(([status, n]) => `${status} ×${n}`).join(', ')}`,
    })
    const sent = finalStatuses.sent ?? 0
    const others = Object.entries(finalStatuses).filter(([status]) => status !== 'sent')
    checks.push({
      name: 'service: every admin send sent by the dispatcher',
      ok: others.length === 0,
      detail: others.length === 0 ? `${sent} sent` : `not sent: ${others.map(([status, n]) => `${status} ×${n}`).join(', ')}`,
    })
    checks.push({
      name: 'service: one WeChat call per sent message',
      ok: wechatSendCalls === sent,
      detail: `${wechatSendCalls} calls for ${sent} sent`,
    })
  }
  for (const row of results.tokenExpiry ?? []) {
    checks.push({
      name: `token expiry +${row.latencyMs} ms: exactly one refresh per burst`,
      ok: row.refreshes.every((n) => n === 1),
      detail: `new tokens per burst: ${row.refreshes.join(', ')} (stable_token calls: ${row.tokenCalls.join(', ')})`,
    })
    checks.push({ name: `token expiry +${row.latencyMs} ms: every send ok`, ok: row.failed === 0, detail: `${row.failed} not ok` })
  }
  if (results.campaign) {
    const { small, large, latency, pushed, referenceFailures, allCompleted } = results.campaign
    const runs = [...small.map((one, i) => [`campaign 10k #${i + 1}`, one] as const), ['campaign 100k', large] as const, ['campaign +latency', latency] as const, ['campaign with delivery events', pushed] as const]
    for (const [name, run] of runs) {
      const reasons = Object.entries(run.reasons)
      checks.push({
        name: `${name}: every recipient sent`,
        ok: run.sent === run.recipients && reasons.length === 0,
        detail: `${run.sent} of ${run.recipients} sent${reasons.length > 0 ? `; ${reasons.map(([reason, n]) => `${reason} ×${n}`).join(', ')}` : ''}`,
      })
    }
    checks.push({ name: 'campaign: every campaign completed', ok: allCompleted, detail: allCompleted ? 'all completed' : 'some not completed in 15 s' })
    checks.push({
      name: 'campaign with delivery events: each one counted once',
      ok: pushed.delivered === pushed.recipients,
      detail: `${pushed.delivered} delivered of ${pushed.recipients}`,
    })
    checks.push({ name: 'campaign: every reference send ok', ok: referenceFailures === 0, detail: `${referenceFailures} not ok` })
  }
  if (results.cluster && results.cluster.skipped === null) {
    for (const setup of [results.cluster.sqlite, results.cluster.single, results.cluster.cluster]) {
      setup.runs.forEach((run, i) => {
        const reasons = Object.entries(run.reasons)
        checks.push({
          name: `${setup.name} #${i + 1}: every recipient got exactly one message`,
          ok: run.sent === run.recipients && run.distinctRecipients === run.recipients && run.wechatSendCalls === run.recipients && reasons.length === 0,
          detail:
            `${run.sent} sent to ${run.distinctRecipients} distinct of ${run.recipients}, ${run.wechatSendCalls} WeChat calls` +
            (reasons.length > 0 ? `; ${reasons.map(([reason, n]) => `${reason} ×${n}`).join(', ')}` : ''),
        })
      })
    }
  }
  return checks
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, 'save-baseline': { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' } } })
  const profiling = values['cpu-prof'] === undefined ? {} : { cpuProfileDir: resolve(values['cpu-prof']) }
  const scenarios = parseScenarios(values.only)
  const started = performance.now()
  const startedAt = new Date().toISOString()
  const loadAverageAtStart = Number(loadavg()[0]!.toFixed(2))
  const baseline = readBaseline()
  const results: BenchResults = {
    schema: 1,
    startedAt,
    durationMs: 0,
    machine: describeMachine(loadAverageAtStart),
    git: gitState(),
    scenarios,
    plans: { client: CLIENT_PLAN, service: SERVICE_PLAN, token: TOKEN_PLAN, campaign: CAMPAIGN_PLAN, cluster: CLUSTER_PLAN },
    checks: [],
    targets: [],
  }
  const progress = (text: string): void => void process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${text}\n`)

  if (scenarios.includes('client') || scenarios.includes('token')) {
    progress('starting the sandbox WeChat process')
    const sandbox: ServerProcess = await startServerProcess('sandbox')
    try {
      if (scenarios.includes('client')) {
        progress('1. WeChat client throughput')
        results.wechatClient = await benchWeChatClient(sandbox, CLIENT_PLAN)
      }
      if (scenarios.includes('token')) {
        progress('3. token expiry mid-burst')
        results.tokenExpiry = await benchTokenExpiry(sandbox, TOKEN_PLAN)
      }
    } finally {
      await sandbox.stop()
    }
  }
  if (scenarios.includes('service')) {
    progress('starting the sandbox WeChat and the service processes')
    const sandbox = await startServerProcess('sandbox')
    try {
      const push = { token: randomBytes(12).toString('hex'), aesKey: randomBytes(32).toString('base64url').replace(/[-_]/g, 'x').slice(0, 43) }
      const { appId, secret } = sandbox.ready
      const wechat = { url: sandboxUrlOf(sandbox), appId, secret }
      const env = { WECHAT_PUSH_TOKEN: push.token, WECHAT_PUSH_AES_KEY: push.aesKey }
      const service = await startServerProcess('service', { ...profiling, setup: { wechat, env } })
      try {
        await sandbox.control('push', { url: `${service.ready.serviceUrl!}${PUSH_PATH}`, ...push })
        progress('2. service end to end')
        results.service = await benchService({ service, sandbox }, SERVICE_PLAN)
      } finally {
        await service.stop()
      }
    } finally {
      await sandbox.stop()
    }
  }
  if (scenarios.includes('campaign')) {
    progress('4. campaign fan-out (prepares 100,000 users first)')
    results.campaign = await benchCampaign(CAMPAIGN_PLAN, profiling)
  }
  if (scenarios.includes('cluster')) {
    progress('6. campaign on PostgreSQL + Redis, 1 and 3 instances, against SQLite')
    results.cluster = await benchCampaignCluster(CLUSTER_PLAN, progress, profiling)
    if (results.cluster.skipped !== null) progress(results.cluster.skipped)
  }
  if (scenarios.includes('sizes')) {
    progress('5. sizes (builds what is missing)')
    results.sizes = await benchSizes()
  }
  if (scenarios.includes('h5start')) {
    progress('6. H5 start (订阅中心 signed in, 5 cold loads in headless Chromium)')
    results.h5Start = await benchH5Start()
  }

  results.durationMs = Math.round(performance.now() - started)
  results.machine = describeMachine(loadAverageAtStart)
  results.checks = checksOf(results)
  results.targets = targetsOf(results)
  mkdirSync(RESULTS_DIR, { recursive: true })
  const json = `${JSON.stringify(results, null, 2)}\n`
  writeFileSync(LATEST, json)
  if (values['save-baseline']) writeFileSync(BASELINE, json)

  process.stdout.write(`\n${formatReport(results, values['save-baseline'] ? null : baseline, RUNS)}\n\n`)
  process.stdout.write(`${(results.durationMs / 1000).toFixed(1)} s; results in bench/results/latest.json${values['save-baseline'] ? ' and baseline.json' : ''}\n`)
  if (results.checks.some((check) => !check.ok)) process.exitCode = 1
}

// The suite stops itself whatever happens (a hung server process, a stuck build).
setTimeout(() => {
  process.stderr.write(`基准测试超过 ${SUITE_TIMEOUT_MS / 1000} 秒仍未结束，已中止\n`)
  process.exit(2)
}, SUITE_TIMEOUT_MS).unref()

main().catch((error: unknown) => {
  process.stderr.write(`基准测试失败：${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
