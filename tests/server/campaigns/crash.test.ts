/**
 * A 10,000-recipient campaign whose service process is killed with SIGKILL in the middle and
 * started again on the same database. WeChat (the sandbox) lives in this test's process and counts
 * what really reached it. Afterwards no recipient got two messages, every eligible recipient got
 * exactly one except those listed INTERRUPTED, and there are at most DISPATCH_CONCURRENCY of those.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Campaign, MessageSearchResult } from '../../../src/domain/contract'
import { createManualClock } from '../../../server/clock'
import { createSqliteStorage } from '../../../server/db/sqlite/storage'
import { createSandboxWeChat, type SandboxWeChat } from '../../../server/wechat/sandbox'
import { systemClock } from '../../../server/wechat/types'
import { PAGES } from '../support/service'
import { startServiceProcess, type ServiceProcess } from '../support/service-process'
import { sampleData, templateByKey, TEMPLATES } from '../../support/templates'

const APP_ID = 'wxc0ffee0000010000'
const SECRET = 'campaigncrashsecret0123456789abc'
const ADMIN_KEY = 'campaign-crash-admin-key-012345'
const CONCURRENCY = 64
const RECIPIENTS = 10_000
const ACTIVITY = templateByKey('activity_reminder')
const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }

let sandbox: SandboxWeChat
let directory: string
const running: ServiceProcess[] = []

afterEach(async () => {
  for (const service of running.splice(0)) await service.kill()
  await sandbox.close()
  rmSync(directory, { recursive: true, force: true })
})

async function json<T>(response: Response): Promise<T> {
  expect(response.status, await response.clone().text()).toBeLessThan(300)
  return (await response.json()) as T
}

async function until(check: () => Promise<boolean>, what: string, tries = 1200): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`gave up waiting: ${what}`)
}

/**
 * The database as an operator's import and the people's consents would leave it: 10,000 users, each
 * with one accept of the activity reminder, which WeChat (the sandbox) counted too.
 */
async function prepare(path: string): Promise<string[]> {
  const storage = createSqliteStorage(path, createManualClock(new Date()))
  const now = new Date()
  const openids = Array.from({ length: RECIPIENTS }, (_, i) => sandbox.openidFor(`fan-${String(i).padStart(5, '0')}`))
  await storage.users.put(openids.map((openid) => ({ openid, tags: ['fans'] })), now)
  for (const [i, openid] of openids.entries()) {
    sandbox.grant(openid, { [ACTIVITY.id]: 'accept' })
    await storage.ledger.applyConsent({ openid, consentId: `consent-fan-${i}`, changes: [{ templateId: ACTIVITY.id, result: 'accept', credit: { type: 'add', amount: 1 } }], now })
  }
  await storage.segments.create({ id: 'segment-fans', name: '粉丝', filter: { tagsAll: ['fans'] }, createdAt: now })
  storage.close()
  return openids
}

async function start(database: string): Promise<ServiceProcess> {
  const service = await startServiceProcess({
    DATABASE: database,
    WECHAT_APPID: APP_ID,
    WECHAT_SECRET: SECRET,
    WECHAT_API_BASE: sandbox.url,
    ADMIN_API_KEY: ADMIN_KEY,
    RATE_LIMIT: 'off',
    DISPATCH_CONCURRENCY: String(CONCURRENCY),
    LOG_LEVEL: 'warn',
  })
  running.push(service)
  return service
}

async function countByReason(service: ServiceProcess, campaignId: string, status: string, reason: string): Promise<number> {
  let count = 0
  let cursor: string | null = null
  do {
    const page: MessageSearchResult = await json<MessageSearchResult>(
      await fetch(`${service.url}/api/messages?campaign=${campaignId}&status=${status}&reason=${reason}&limit=200${cursor === null ? '' : `&cursor=${cursor}`}`, { headers: admin }),
    )
    count += page.items.length
    cursor = page.nextCursor
  } while (cursor !== null)
  return count
}

describe('a 10,000-recipient campaign killed with SIGKILL in the middle', () => {
  it('reaches everyone exactly once after the restart, except at most DISPATCH_CONCURRENCY in doubt (INTERRUPTED)', async () => {
    directory = mkdtempSync(join(tmpdir(), 'uni-subscribe-campaign-crash-'))
    sandbox = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: TEMPLATES, pages: PAGES, clock: systemClock })
    await sandbox.listen()
    const database = join(directory, 'campaign.db')
    const openids = await prepare(database)

    const first = await start(database)
    // WeChat takes a little while to answer, so sends are in its hands at any moment.
    sandbox.setFaults({ latencyMs: 5 })
    const created = await json<Campaign>(
      await fetch(`${first.url}/api/campaigns`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: '万人推送', segmentId: 'segment-fans', template: 'activity_reminder', data: sampleData('activity_reminder'), urgent: true }),
      }),
    )
    await until(async () => sandbox.received().length >= RECIPIENTS / 4, 'a quarter of the campaign reached WeChat')
    await first.kill()
    const receivedAtKill = sandbox.received().length
    expect(receivedAtKill).toBeLessThan(RECIPIENTS)

    sandbox.setFaults({ latencyMs: 0 })
    const second = await start(database)
    let campaign: Campaign | null = null
    await until(async () => {
      campaign = await json<Campaign>(await fetch(`${second.url}/api/campaigns/${created.id}`, { headers: admin }))
      return campaign.status === 'completed'
    }, 'the campaign completed after the restart')
    const done = campaign as unknown as Campaign
    const interrupted = await countByReason(second, created.id, 'failed', 'INTERRUPTED')

    expect(done.total).toBe(RECIPIENTS)
    expect(done.counts).toEqual({ pending: 0, sent: RECIPIENTS - interrupted, deferred: 0, skipped: 0, failed: interrupted })
    expect(interrupted).toBeLessThanOrEqual(CONCURRENCY)

    // Nobody got two: WeChat was called at most once per recipient, and accepted at most one each…
    expect(sandbox.stats().sendCalls).toBeLessThanOrEqual(RECIPIENTS)
    const recipients = sandbox.received().map((message) => message.touser)
    expect(new Set(recipients).size).toBe(recipients.length)
    // …and everyone not in doubt got theirs.
    const reached = new Set(recipients)
    expect(openids.filter((openid) => !reached.has(openid)).length).toBeLessThanOrEqual(interrupted)
    expect(recipients.length).toBeGreaterThanOrEqual(RECIPIENTS - interrupted)
    await second.stop()
  }, 180_000)
})
