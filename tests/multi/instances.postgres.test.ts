/**
 * Two service processes on one PostgreSQL database and one WeChat (the sandbox, in this test's
 * process, so it sees what both send): people sign in and subscribe on either, messages are posted to
 * either, and together they send each exactly once, spend each credit once and ask WeChat for one
 * access token between them. With the embedded dispatcher (no Redis), one killed with SIGKILL mid-burst:
 * the other finishes the burst, and only the dead one's sends in flight become INTERRUPTED, once their
 * leases (DISPATCH_LEASE_S) have run out.
 */
import { afterEach, describe, expect, inject, it } from 'vitest'
import type { ServiceHealth } from '../../src/domain/console-contract'
import type { ConsentResponse, MessageOutcome, MessageSearchResult, SessionResponse, Stats, UserDetail } from '../../src/domain/contract'
import { createSandboxWeChat, type SandboxWeChat } from '../../server/wechat/sandbox'
import { systemClock } from '../../server/wechat/types'
import { PAGES } from '../server/support/service'
import { startServiceProcess, type ServiceProcess } from '../server/support/service-process'
import { createDatabase } from '../support/servers'
import { templateByKey, TEMPLATES } from '../support/templates'

const APP_ID = 'wxc0ffee0000000077'
const SECRET = 'instancestestsecret0123456789abc'
const ADMIN_KEY = 'instances-test-admin-key-0123456789'
const ORDER_STATUS = templateByKey('order_status')
const PEOPLE = 6
const PER_PERSON = 10
const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }

let sandbox: SandboxWeChat | undefined
const running: ServiceProcess[] = []

afterEach(async () => {
  for (const service of running.splice(0)) await service.kill()
  await sandbox?.close()
})

async function json<T>(response: Response): Promise<T> {
  expect(response.status, await response.clone().text()).toBeLessThan(300)
  return (await response.json()) as T
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`gave up waiting: ${what}`)
}

describe('two service processes on one PostgreSQL database', () => {
  it('send every message once between them, spend each credit once and share one access token', async () => {
    const wechat = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: TEMPLATES, pages: PAGES, clock: systemClock })
    sandbox = wechat
    await wechat.listen()
    const url = await createDatabase(inject('postgresUrl'), 'instances')
    const env = { DATABASE_URL: url, WECHAT_APPID: APP_ID, WECHAT_SECRET: SECRET, WECHAT_API_BASE: wechat.url, ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT: 'off', LOG_LEVEL: 'warn', PG_POOL_MAX: '4', DISPATCH_CONCURRENCY: '8' }
    // Started together: the migrations are applied once, under their lock.
    const instances = await Promise.all([startServiceProcess(env), startServiceProcess(env)])
    running.push(...instances)
    const on = (n: number): ServiceProcess => instances[n % instances.length]!

    const openids: string[] = []
    for (let p = 0; p < PEOPLE; p += 1) {
      // Signed in on one instance, subscribing on the other: the session is the database's.
      const session = await json<SessionResponse>(
        await fetch(`${on(p).url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: wechat.issueCode(`two-${p}`) }) }),
      )
      const person = { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }
      for (let c = 0; c < PER_PERSON; c += 1) {
        wechat.grant(session.openid, { [ORDER_STATUS.id]: 'accept' })
        await json<ConsentResponse>(
          await fetch(`${on(p + c + 1).url}/api/consents`, { method: 'POST', headers: person, body: JSON.stringify({ consentId: `consent-two-${p}-${c}`, results: { [ORDER_STATUS.id]: 'accept' } }) }),
        )
      }
      openids.push(session.openid)
    }

    const total = PEOPLE * PER_PERSON
    const queued = await Promise.all(
      Array.from({ length: total }, async (_, n) =>
        json<MessageOutcome>(
          await fetch(`${on(n).url}/api/messages`, {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({ touser: openids[n % PEOPLE], templateId: 'order_status', data: { character_string1: `T${n}`, phrase2: '已发货', thing3: '机械键盘', time4: '2026年11月25日 13:05', thing5: '包裹正在路上' } }),
          }),
        ),
      ),
    )
    expect(queued.every((outcome) => outcome.status === 'queued')).toBe(true)
    await until(async () => {
      const stats = await json<Stats>(await fetch(`${on(0).url}/api/stats`, { headers: admin }))
      return (stats.byStatus.sent ?? 0) + (stats.byStatus.failed ?? 0) === total
    }, 'both instances sent everything')

    const page = await json<MessageSearchResult>(await fetch(`${on(1).url}/api/messages?limit=200`, { headers: admin }))
    expect(page.items.filter((message) => message.status === 'sent')).toHaveLength(total)
    const numbers = wechat.received().map((message) => message.data.character_string1?.value)
    expect(numbers).toHaveLength(total)
    expect(new Set(numbers).size).toBe(total)
    expect(wechat.stats().sendCalls).toBe(total)
    // One token for both: the refresh lease let one of them ask, the other read it from the database.
    expect(wechat.stats().tokenCalls).toBe(1)
    // Ten credits each, ten sends each: none left, none spent twice (the sandbox would have refused with 43101).
    for (const openid of openids) {
      const user = await json<UserDetail>(await fetch(`${on(0).url}/api/users/${openid}`, { headers: admin }))
      expect(user.credits).toEqual({ [ORDER_STATUS.id]: 0 })
    }
    for (const service of running.splice(0)) expect(await service.stop()).toBe(0)
  }, 120_000)

  it('finish a burst when one of them is killed with SIGKILL: its sends in flight INTERRUPTED once their leases run out, nobody sent twice', async () => {
    const wechat = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: TEMPLATES, pages: PAGES, clock: systemClock })
    sandbox = wechat
    await wechat.listen()
    const url = await createDatabase(inject('postgresUrl'), 'kill')
    const concurrency = 8
    const env = {
      DATABASE_URL: url, WECHAT_APPID: APP_ID, WECHAT_SECRET: SECRET, WECHAT_API_BASE: wechat.url, ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn', PG_POOL_MAX: '4', DISPATCH_CONCURRENCY: String(concurrency), DISPATCH_LEASE_S: '10', SCHEDULER_INTERVAL_MS: '500',
    }
    const [doomed, survivor] = await Promise.all([startServiceProcess(env), startServiceProcess(env)])
    if (doomed === undefined || survivor === undefined) throw new Error('no instances')
    running.push(doomed, survivor)
    const people = 10
    const perPerson = 20
    const openids: string[] = []
    for (let p = 0; p < people; p += 1) {
      const session = await json<SessionResponse>(
        await fetch(`${survivor.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: wechat.issueCode(`kill-${p}`) }) }),
      )
      const person = { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }
      for (let c = 0; c < perPerson; c += 1) {
        wechat.grant(session.openid, { [ORDER_STATUS.id]: 'accept' })
        await json(await fetch(`${survivor.url}/api/consents`, { method: 'POST', headers: person, body: JSON.stringify({ consentId: `consent-kill-${p}-${c}`, results: { [ORDER_STATUS.id]: 'accept' } }) }))
      }
      openids.push(session.openid)
    }
    // WeChat answers slowly, so both instances have sends out at any moment.
    wechat.setFaults({ latencyMs: 150 })
    const total = people * perPerson
    await Promise.all(
      Array.from({ length: total }, async (_, n) =>
        json<MessageOutcome>(
          await fetch(`${(n % 2 === 0 ? doomed : survivor).url}/api/messages`, {
            method: 'POST',
            headers: admin,
            body: JSON.stringify({ touser: openids[n % people], templateId: 'order_status', data: { character_string1: `K${n}`, phrase2: '已发货', thing3: '机械键盘', time4: '2026年11月25日 13:05', thing5: '包裹正在路上' } }),
          }),
        ),
      ),
    )
    await until(async () => wechat.received().length >= total / 4, 'a quarter of the burst reached WeChat')
    // WeChat holds the calls out now (3 s, well inside the 10 s lease). Once the calls made before that have
    // been answered (150 ms), the doomed instance's sends in flight are held ones: the kill lands mid-send.
    wechat.setFaults({ latencyMs: 3_000 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    await until(async () => (await json<ServiceHealth>(await fetch(`${doomed.url}/api/health`, { headers: admin }))).dispatcher.inFlight > 0, 'the doomed instance has sends held by WeChat')
    await doomed.kill()
    running.splice(running.indexOf(doomed), 1)
    wechat.setFaults({ latencyMs: 0 })

    await until(async () => {
      const stats = await json<Stats>(await fetch(`${survivor.url}/api/stats`, { headers: admin }))
      return (stats.byStatus.queued ?? 0) + (stats.byStatus.sending ?? 0) === 0
    }, 'the instance left sent what was left and settled the doubt')
    const page = await json<MessageSearchResult>(await fetch(`${survivor.url}/api/messages?limit=200`, { headers: admin }))
    expect(page.items).toHaveLength(total)
    const sent = page.items.filter((message) => message.status === 'sent')
    const interrupted = page.items.filter((message) => message.status === 'failed' && message.reason === 'INTERRUPTED')
    expect(sent.length + interrupted.length).toBe(total)
    // Only what the dead instance had in WeChat's hands (it had some: the kill came mid-send): at most its
    // concurrency, never one of the live instance's.
    expect(interrupted.length).toBeGreaterThan(0)
    expect(interrupted.length).toBeLessThanOrEqual(concurrency)
    const numbers = wechat.received().map((message) => message.data.character_string1?.value)
    expect(new Set(numbers).size).toBe(numbers.length)
    expect(wechat.stats().sendCalls).toBeLessThanOrEqual(total)
    expect(numbers.length).toBeGreaterThanOrEqual(sent.length)
    expect(numbers.length).toBeLessThanOrEqual(sent.length + interrupted.length)
    expect(await survivor.stop()).toBe(0)
    running.splice(0)
  }, 180_000)
})
