/**
 * `npm run campaign` as an operator runs it: scripts/campaign.ts in a process of its own, against a
 * real service process (server.ts in sandbox mode, 40 demo users seeded on its first start). What
 * it prints and its exit code are checked against the campaign the service reports.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Campaign, Segment } from '../../../src/domain/contract'
import { describeReason, isReason } from '../../../src/domain/reasons'
import { startServiceProcess, type ServiceProcess } from '../support/service-process'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const ADMIN_KEY = 'campaign-cli-test-admin-key-0123'
const PEOPLE = 40
const DATA = { thing1: '{{nickname|朋友}}的会员日', date2: '2026年12月20日', thing3: '{{city|全国}}各门店', thing4: '名额有限' }

let directory: string
let service: ServiceProcess
let dataFile: string

async function admin<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  expect(response.status, await response.clone().text()).toBeLessThan(300)
  return (await response.json()) as T
}

interface Cli {
  /** Resolves with the exit code (a signal's death as null) once the process ended. */
  exited: Promise<number | null>
  stdout: () => string
  stderr: () => string
  interrupt(): void
}

/** The CLI with the admin key in ADMIN_API_KEY (as an operator's shell would have it) and the service's address. */
function cli(args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/campaign.ts', '--url', service.url, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ADMIN_API_KEY: ADMIN_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  return {
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    stdout: () => stdout,
    stderr: () => stderr,
    interrupt: () => void child.kill('SIGINT'),
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`gave up waiting: ${what}`)
}

const campaignIdIn = (output: string): string => /（([0-9a-f-]{36})）/.exec(output)?.[1] ?? ''

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'uni-subscribe-cli-'))
  dataFile = join(directory, 'data.json')
  writeFileSync(dataFile, JSON.stringify(DATA))
  service = await startServiceProcess({ DATABASE: join(directory, 'cli.db'), ADMIN_API_KEY: ADMIN_KEY, SEED_USERS: String(PEOPLE), LOG_LEVEL: 'warn', SCHEDULER_INTERVAL_MS: '500' })
  await admin<Segment>('POST', '/api/segments', { name: '演示用户', filter: { tagsAll: ['demo'] } })
}, 60_000)

afterAll(async () => {
  await service?.stop()
  rmSync(directory, { recursive: true, force: true })
})

describe('npm run campaign', () => {
  it('creates the campaign, follows it to completed and prints the counts by reason as the service has them', async () => {
    const run = cli(['--segment', '演示用户', '--template', 'activity_reminder', '--data', dataFile, '--urgent', '--name', '会员日'])
    expect(await run.exited, run.stderr()).toBe(0)

    const id = campaignIdIn(run.stdout())
    const campaign = await admin<Campaign>('GET', `/api/campaigns/${id}`)
    expect(campaign).toMatchObject({ name: '会员日', status: 'completed', total: PEOPLE, urgent: true })
    const { sent, skipped, failed } = campaign.counts
    expect(run.stdout()).toContain(`已创建群发「会员日」（${id}）：分群「演示用户」`)
    expect(run.stdout()).toContain(`群发「会员日」已完成：共 ${PEOPLE} 人 · 已发送 ${sent} · 跳过 ${skipped} · 失败 ${failed} · 推迟 0 · 待发送 0`)
    // The demo people: some without a credit of this template, some who muted marketing.
    expect(Object.keys(campaign.reasons).sort()).toEqual(['MUTED_CATEGORY', 'NO_CREDIT'])
    for (const [reason, n] of Object.entries(campaign.reasons)) {
      expect(isReason(reason)).toBe(true)
      if (isReason(reason)) expect(run.stdout()).toMatch(new RegExp(`  ${reason}\\s+${n}  ${describeReason(reason).operator}`))
    }
    // Not a TTY: the bar is a line now and then, on stderr, and its last says 100 %.
    expect(run.stderr()).toMatch(/100% \| 40\/40 \| 已发送 \d+ · 跳过 \d+ · 失败 \d+ · 推迟 0 · 待发送 0 \| 已完成/)

    // --watch follows one made before; this one is over, so it only prints the summary.
    const watched = cli(['--watch', id])
    expect(await watched.exited, watched.stderr()).toBe(0)
    expect(watched.stdout()).toContain(`群发「会员日」已完成：共 ${PEOPLE} 人 · 已发送 ${sent}`)
  }, 60_000)

  it('prints the refusal naming the field, and exits 1 without making a campaign', async () => {
    const before = await admin<Campaign[]>('GET', '/api/campaigns')
    const wrong = join(directory, 'wrong.json')
    writeFileSync(wrong, JSON.stringify({ ...DATA, thing9: '多余' }))
    const run = cli(['--segment', '演示用户', '--template', 'activity_reminder', '--data', wrong])
    expect(await run.exited).toBe(1)
    expect(run.stderr()).toBe('服务拒绝了 POST /api/campaigns：data.thing9: 模板「活动提醒」没有这个关键词（有：thing1、date2、thing3、thing4）（400 INVALID_DATA）\n')
    expect(run.stdout()).toBe('')

    const unknown = cli(['--segment', '没有这个分群', '--template', 'activity_reminder', '--data', dataFile])
    expect(await unknown.exited).toBe(1)
    expect(unknown.stderr()).toBe('没有名为「没有这个分群」的分群。已有：「演示用户」\n')

    const rate = cli(['--segment', '演示用户', '--template', 'activity_reminder', '--data', dataFile, '--rate', '0'])
    expect(await rate.exited).toBe(1)
    expect(rate.stderr()).toMatch(/^服务拒绝了 POST \/api\/campaigns：.*ratePerSecond.*（400 VALIDATION_FAILED）\n$/)

    expect(await admin<Campaign[]>('GET', '/api/campaigns')).toHaveLength(before.length)
  }, 60_000)

  it('on Ctrl-C stops watching, says the campaign goes on, and leaves it running on the service', async () => {
    // Two messages a second: 40 recipients take 20 s, long after the interrupt.
    const run = cli(['--segment', '演示用户', '--template', 'activity_reminder', '--data', dataFile, '--urgent', '--rate', '2', '--name', '慢慢发'])
    await until(() => campaignIdIn(run.stdout()) !== '', 'the campaign was created')
    const id = campaignIdIn(run.stdout())
    run.interrupt()
    expect(await run.exited).toBe(130)
    expect(run.stdout()).toContain(`已停止观察。群发「慢慢发」（${id}）仍在服务上继续，不会因此停止。`)
    expect(run.stdout()).toContain(`继续观察：npm run campaign -- --watch ${id}`)

    const campaign = await admin<Campaign>('GET', `/api/campaigns/${id}`)
    expect(campaign.status).toBe('running')
    const handled = ({ counts }: Campaign): number => counts.sent + counts.skipped + counts.failed
    await until(async () => handled(await admin<Campaign>('GET', `/api/campaigns/${id}`)) > handled(campaign), 'it went on sending')
    await admin('POST', `/api/campaigns/${id}/cancel`)
  }, 60_000)
})
