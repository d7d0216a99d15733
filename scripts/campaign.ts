/**
 * `npm run campaign -- --segment NAME --template KEY --data FILE [--start ISO] [--rate N] [--urgent]
 * [--name NAME] [--url URL] [--key KEY]`: creates a campaign on the running service (admin API) and
 * draws its progress until it is completed or cancelled, then prints its counts by reason.
 * `--watch ID` follows a campaign made before instead. The address and the admin key are found as
 * `npm run seed` finds them (scripts/service-admin.ts).
 *
 * Ctrl-C stops watching, never the campaign: it goes on on the service. Exit codes: 0 completed,
 * 1 a refusal or an error (the service's message printed as it is, naming the field), 2 cancelled
 * (by someone else), 130 Ctrl-C.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { SingleBar } from 'cli-progress'
import { request } from 'undici'
import type { Campaign, CampaignRequest, SegmentList } from '../src/domain/contract'
import { describeReason, isReason } from '../src/domain/reasons'
import { ConfigError } from '../server/config'
import { ScriptError, serviceAdmin, type ServiceAdmin } from './service-admin'

const POLL_MS = 500
/** Polls that may fail in a row (the service restarting, a network blip) before giving up. */
const POLL_FAILURES_ALLOWED = 10

const USAGE =
  '用法：npm run campaign -- --segment 分群名 --template 模板key --data 数据.json [--start ISO时间] [--rate 每秒条数] [--urgent] [--name 群发名] [--url 服务地址] [--key 管理密钥]\n' +
  '      npm run campaign -- --watch 群发ID [--url 服务地址] [--key 管理密钥]'

interface Options {
  segment?: string
  template?: string
  data?: string
  start?: string
  rate?: string
  urgent: boolean
  name?: string
  url?: string
  key?: string
  watch?: string
}

function parseOptions(argv: string[]): Options {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        segment: { type: 'string' },
        template: { type: 'string' },
        data: { type: 'string' },
        start: { type: 'string' },
        rate: { type: 'string' },
        urgent: { type: 'boolean', default: false },
        name: { type: 'string' },
        url: { type: 'string' },
        key: { type: 'string' },
        watch: { type: 'string' },
      },
    })
    return values
  } catch (error) {
    throw new ScriptError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
  }
}

/** The campaign's data: a JSON object of keyword → value (placeholders such as `{{nickname|朋友}}` allowed). */
function readData(file: string): Record<string, string> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ScriptError(`--data：读不了文件 ${file}（${error instanceof Error ? error.message : String(error)}）`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ScriptError(`--data：${file} 不是 JSON（${error instanceof Error ? error.message : String(error)}）`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ScriptError(`--data：${file} 应为一个对象，如 {"thing1": "{{nickname|朋友}}的会员日", "date2": "2026年12月20日"}`)
  }
  const data: Record<string, string> = {}
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new ScriptError(`--data：${file} 里 ${name} 的值应为字符串，实际是 ${JSON.stringify(value)}`)
    data[name] = value
  }
  return data
}

/** The campaign as asked for, all but the segment's id; checked before the service is asked anything. */
function draftOf(options: Options): { segment: string; campaign: Omit<CampaignRequest, 'segmentId'> } {
  const { segment, template, data } = options
  if (segment === undefined || template === undefined || data === undefined) {
    throw new ScriptError(`缺少 ${[!segment && '--segment', !template && '--template', !data && '--data'].filter(Boolean).join('、')}\n${USAGE}`)
  }
  const campaign: Omit<CampaignRequest, 'segmentId'> = {
    name: options.name ?? `${segment} · ${template} · ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    template,
    data: readData(data),
  }
  if (options.urgent) campaign.urgent = true
  if (options.start !== undefined) campaign.startAt = options.start
  if (options.rate !== undefined) {
    const rate = Number(options.rate)
    if (options.rate.trim() === '' || !Number.isFinite(rate)) throw new ScriptError(`--rate 应为每秒条数，如 50 或 0.5（当前为 "${options.rate}"）`)
    campaign.ratePerSecond = rate
  }
  return { segment, campaign }
}

/** The service, with the admin key; a refusal (4xx/5xx) is thrown with the service's own message. */
function client(service: ServiceAdmin) {
  return async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let status: number
    let text: string
    try {
      const response = await request(`${service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${service.adminKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      })
      status = response.statusCode
      text = await response.body.text()
    } catch (error) {
      throw new ScriptError(`无法连接 ${service.url}（${error instanceof Error ? error.message : String(error)}）：服务在运行吗？用 --url 指定它的地址`)
    }
    if (status >= 200 && status < 300) return JSON.parse(text) as T
    let refusal = text.slice(0, 500)
    try {
      const { error } = JSON.parse(text) as { error?: { code?: string; message?: string } }
      if (error?.message !== undefined) refusal = `${error.message}（${String(status)} ${error.code ?? ''}）`
    } catch {
      // Not the service's JSON (a proxy's page): shown as it came.
    }
    throw new ScriptError(`服务拒绝了 ${method} ${path}：${refusal}`)
  }
}

const STATUS_TEXT: Record<Campaign['status'], string> = {
  scheduled: '未开始',
  running: '进行中',
  paused: '已暂停',
  completed: '已完成',
  cancelled: '已取消',
}

function countsLine(campaign: Campaign): string {
  const { sent, skipped, failed, deferred, pending } = campaign.counts
  return `已发送 ${sent} · 跳过 ${skipped} · 失败 ${failed} · 推迟 ${deferred} · 待发送 ${pending}`
}

function summary(campaign: Campaign, elapsedMs: number): string {
  const lines = [`群发「${campaign.name}」${STATUS_TEXT[campaign.status]}：共 ${campaign.total} 人 · ${countsLine(campaign)}，用时 ${(elapsedMs / 1000).toFixed(1)} 秒`]
  const reasons = Object.entries(campaign.reasons).sort(([, a], [, b]) => b - a)
  if (reasons.length > 0) {
    lines.push('跳过和失败的原因：')
    const width = Math.max(...reasons.map(([reason]) => reason.length))
    for (const [reason, n] of reasons) {
      const meaning = isReason(reason) ? describeReason(reason).operator : ''
      lines.push(`  ${reason.padEnd(width)}  ${String(n).padStart(6)}  ${meaning}`)
    }
  }
  return lines.join('\n')
}

/** What Ctrl-C says: handled from the start, so that it is never the default death by signal. */
const interruption: { watching: { campaign: Campaign; bar: SingleBar; url: string } | null } = { watching: null }

function onInterrupt(): never {
  const { watching } = interruption
  if (watching === null) {
    process.stdout.write('\n已中断。若群发已经创建，它会在服务上继续（GET /api/campaigns 可以看到）。\n')
    process.exit(130)
  }
  const { campaign, bar, url } = watching
  bar.stop()
  process.stdout.write(
    `\n已停止观察。群发「${campaign.name}」（${campaign.id}）仍在服务上继续，不会因此停止。\n` +
      `  继续观察：npm run campaign -- --watch ${campaign.id}\n` +
      `  查看：GET ${url}/api/campaigns/${campaign.id}    取消：POST ${url}/api/campaigns/${campaign.id}/cancel\n`,
  )
  process.exit(130)
}

async function watch(call: ReturnType<typeof client>, service: ServiceAdmin, first: Campaign): Promise<number> {
  const started = Date.now()
  const bar = new SingleBar({
    format: '{bar} {percentage}% | {value}/{totalText} | {counts} | {state}',
    barsize: 30,
    hideCursor: true,
    // Piped or logged: a line every 2 s instead of redrawing.
    noTTYOutput: true,
    notTTYSchedule: 2000,
  })
  const payload = (campaign: Campaign) => ({
    totalText: campaign.expanded ? String(campaign.total) : `${campaign.total}+`,
    counts: countsLine(campaign),
    state: campaign.status === 'scheduled' && campaign.startAt !== undefined ? `${STATUS_TEXT.scheduled}，${campaign.startAt} 开始` : STATUS_TEXT[campaign.status],
  })
  const done = (campaign: Campaign): number => campaign.counts.sent + campaign.counts.skipped + campaign.counts.failed
  bar.start(Math.max(1, first.total), done(first), payload(first))

  interruption.watching = { campaign: first, bar, url: service.url }

  let campaign = first
  let failures = 0
  while (campaign.status !== 'completed' && campaign.status !== 'cancelled') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    try {
      campaign = await call<Campaign>('GET', `/api/campaigns/${encodeURIComponent(first.id)}`)
      failures = 0
    } catch (error) {
      failures += 1
      if (failures > POLL_FAILURES_ALLOWED) {
        bar.stop()
        throw new ScriptError(`${error instanceof Error ? error.message : String(error)}\n群发（${first.id}）可能仍在服务上进行`)
      }
      continue
    }
    bar.setTotal(Math.max(1, campaign.total))
    bar.update(done(campaign), payload(campaign))
  }
  bar.stop()
  process.stdout.write(`${summary(campaign, Date.now() - started)}\n`)
  return campaign.status === 'completed' ? 0 : 2
}

async function main(): Promise<number> {
  process.on('SIGINT', onInterrupt)
  const options = parseOptions(process.argv.slice(2))
  const service = serviceAdmin({ ...(options.url !== undefined && { url: options.url }), ...(options.key !== undefined && { key: options.key }) })
  const call = client(service)
  if (options.watch !== undefined) return watch(call, service, await call<Campaign>('GET', `/api/campaigns/${encodeURIComponent(options.watch)}`))

  const draft = draftOf(options)
  const segments = await call<SegmentList>('GET', '/api/segments')
  const segment = segments.find((one) => one.name === draft.segment)
  if (!segment) {
    const known = segments.map((one) => `「${one.name}」`).join('、') || '（还没有分群：POST /api/segments 建一个）'
    throw new ScriptError(`没有名为「${draft.segment}」的分群。已有：${known}`)
  }
  const request: CampaignRequest = { ...draft.campaign, segmentId: segment.id }
  const campaign = await call<Campaign>('POST', '/api/campaigns', request)
  process.stdout.write(`已创建群发「${campaign.name}」（${campaign.id}）：分群「${segment.name}」，模板 ${campaign.templateId}\n`)
  return watch(call, service, campaign)
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof ScriptError) process.stderr.write(`${error.message}\n`)
    else process.stderr.write(`campaign 失败：${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
