/**
 * The BullMQ dispatch engine (REDIS_URL) on the run's real Redis, two services in this process on one
 * SQLite file and one queue, as two instances would be: DISPATCH_RATE is one budget for both (counted
 * from when WeChat was called), a 45009 met by one pauses the other too, and a deferred message is
 * queued by its delayed job the moment quiet hours end, with no scheduler running; with no rate, a job
 * carries several messages and an instance still never has more than DISPATCH_CONCURRENCY in flight,
 * nor more than that many messages `sending` (claimed) though it reads the messages of more jobs ahead.
 */
import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'
import type { MessageOutcome } from '../../src/domain/contract'
import { createAdjustableClock, createManualClock } from '../../server/clock'
import { systemClock, type SendOutcome, type WeChatClient } from '../../server/wechat/types'
import { uniquePrefix } from '../support/servers'
import { createFakeWeChat, type FakeWeChat } from '../server/support/fake-wechat'
import { adminHeaders, ORDER_DATA, ORDER_STATUS, PAGES, removeDatabase, startService, tempDatabasePath, testConfig, TEMPLATES, type TestService } from '../server/support/service'

let services: TestService[] = []
let databasePath = ''
/** The REDIS_PREFIX of the last cluster. */
let queuePrefix = ''

afterEach(async () => {
  for (const service of services.splice(0)) await service.close()
  removeDatabase(databasePath)
})

/** The fake WeChat, with the real time of every send call. */
function timedWeChat(): { fake: FakeWeChat; client: WeChatClient; calls: number[] } {
  const fake = createFakeWeChat({ templates: TEMPLATES, pages: PAGES, clock: systemClock })
  const calls: number[] = []
  const client: WeChatClient = Object.assign(Object.create(fake) as FakeWeChat, {
    async sendSubscribeMessage(message: Parameters<WeChatClient['sendSubscribeMessage']>[0]): Promise<SendOutcome> {
      calls.push(performance.now())
      return fake.sendSubscribeMessage(message)
    },
  })
  return { fake, client, calls }
}

/** Two instances of the service on one database and one queue (the same REDIS_PREFIX); `wechat` one client for both, or one each. */
async function cluster(wechat: WeChatClient | readonly WeChatClient[], env: Record<string, string>, instances = 2): Promise<TestService[]> {
  databasePath = tempDatabasePath()
  const prefix = uniquePrefix('engine')
  queuePrefix = prefix
  const config = testConfig({
    WECHAT_APPID: 'wx0123456789abcdef',
    WECHAT_SECRET: 'secret0123456789abcdef',
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: prefix,
    ...env,
  })
  for (let i = 0; i < instances; i += 1) {
    const clock = createAdjustableClock(systemClock)
    services.push(await startService({ wechat: Array.isArray(wechat) ? wechat[i]! : (wechat as WeChatClient), config, databasePath, keepDatabase: true, manual: createManualClock(new Date()), extra: { clock } }))
  }
  return services
}

/** People with one-time credits of the order-status template, in the ledger and at WeChat. */
async function people(service: TestService, fake: FakeWeChat, count: number, credits = 1): Promise<string[]> {
  const openids: string[] = []
  for (let i = 0; i < count; i += 1) {
    const openid = fake.openidFor(`person-${i}`)
    for (let c = 0; c < credits; c += 1) {
      fake.grant(openid, { [ORDER_STATUS.id]: 'accept' })
      await service.storage.ledger.applyConsent({
        openid,
        consentId: `consent-${i}-${c}`,
        changes: [{ templateId: ORDER_STATUS.id, result: 'accept', credit: { type: 'add', amount: 1 } }],
        now: new Date(),
      })
    }
    openids.push(openid)
  }
  return openids
}

async function send(service: TestService, touser: string): Promise<MessageOutcome> {
  const reply = await service.app.inject({ method: 'POST', url: '/api/messages', headers: adminHeaders, payload: { touser, templateId: 'order_status', data: ORDER_DATA } })
  expect(reply.statusCode, reply.body).toBe(202)
  return reply.json<MessageOutcome>()
}

async function until(check: () => Promise<boolean> | boolean, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`gave up waiting: ${what}`)
}

async function statuses(service: TestService): Promise<Record<string, number>> {
  return (await service.storage.messages.stats()).byStatus
}

describe('the BullMQ engine shared by two instances', () => {
  it('holds DISPATCH_RATE for both together: the k-th send is never before k ÷ rate seconds', async () => {
    const { fake, client, calls } = timedWeChat()
    const RATE = 20
    const TOTAL = 80
    const [a, b] = await cluster(client, { DISPATCH_RATE: String(RATE), DISPATCH_CONCURRENCY: '16' })
    const openids = await people(a!, fake, TOTAL)
    await Promise.all(openids.map((openid, i) => send(i % 2 === 0 ? a! : b!, openid)))
    await until(async () => (await statuses(a!)).sent === TOTAL, 'every message sent', 1200)

    expect(calls).toHaveLength(TOTAL)
    const sorted = [...calls].sort((x, y) => x - y)
    const first = sorted[0]!
    // BullMQ's limiter lets `RATE` through per second for the queue as a whole: the k-th send (from 0)
    // comes at the earliest in the floor(k / RATE)-th second. Two limiters of their own would let
    // 2 × RATE through in the first second and fail this at k = RATE. (The window opens when the first
    // job is taken, a little before its send: hence 300 ms of slack.)
    const early = sorted.map((at, k) => ({ k, after: at - first, earliest: Math.floor(k / RATE) * 1000 - 300 })).filter(({ after, earliest }) => after < earliest)
    expect(early).toEqual([])
    expect(fake.accepted).toHaveLength(TOTAL)
  }, 60_000)

  it('with no DISPATCH_RATE, carries several messages a job: each sent once, never more than DISPATCH_CONCURRENCY in flight on an instance', async () => {
    const fake = createFakeWeChat({ templates: TEMPLATES, pages: PAGES, clock: systemClock })
    const CONCURRENCY = 16
    const TOTAL = 160
    // Each instance's own client: counts its sends in flight (WeChat answering after 15 ms).
    const inFlight = [0, 0]
    const most = [0, 0]
    const clients = [0, 1].map((index): WeChatClient =>
      Object.assign(Object.create(fake) as FakeWeChat, {
        async sendSubscribeMessage(message: Parameters<WeChatClient['sendSubscribeMessage']>[0]): Promise<SendOutcome> {
          inFlight[index]! += 1
          most[index] = Math.max(most[index]!, inFlight[index]!)
          try {
            await new Promise((resolve) => setTimeout(resolve, 15))
            return await fake.sendSubscribeMessage(message)
          } finally {
            inFlight[index]! -= 1
          }
        },
      }),
    )
    const [a, b] = await cluster(clients, { DISPATCH_CONCURRENCY: String(CONCURRENCY) })
    const openids = await people(a!, fake, TOTAL)
    await Promise.all(openids.map((openid, i) => send(i % 2 === 0 ? a! : b!, openid)))
    await until(async () => (await statuses(a!)).sent === TOTAL, 'every message sent', 1200)

    expect(fake.accepted).toHaveLength(TOTAL)
    expect(new Set(fake.accepted.map((message) => message.touser)).size).toBe(TOTAL)
    expect(Math.max(...most)).toBeLessThanOrEqual(CONCURRENCY)
    // The slots were filled (jobs taken ahead keep them busy), not left at one job's worth.
    expect(Math.max(...most)).toBeGreaterThan(CONCURRENCY / 2)
    // BullMQ counts every job added (its `id` key): 8 messages a job (half the concurrency), a feed's
    // last job maybe fewer; a job a message would make 160.
    const redis = new Redis(inject('redisUrl'))
    const jobs = Number(await redis.get(`${queuePrefix}:dispatch:id`))
    redis.disconnect()
    expect(jobs).toBeGreaterThanOrEqual(TOTAL / 8)
    expect(jobs).toBeLessThan(TOTAL / 4)
  }, 60_000)

  it('reads the messages of the jobs it holds ahead, yet never has more than DISPATCH_CONCURRENCY of them sending (the in-doubt bound)', async () => {
    const fake = createFakeWeChat({ templates: TEMPLATES, pages: PAGES, clock: systemClock })
    const CONCURRENCY = 8
    const TOTAL = 120
    // The instance holds twice the jobs that fill its slots: without the slots counted from the claim,
    // all of their messages would be claimed (sending) at once. Counted in the database at every call.
    let service: TestService | null = null
    const sending: number[] = []
    const client: WeChatClient = Object.assign(Object.create(fake) as FakeWeChat, {
      async sendSubscribeMessage(message: Parameters<WeChatClient['sendSubscribeMessage']>[0]): Promise<SendOutcome> {
        sending.push((await service!.storage.messages.depth(new Date())).sending)
        await new Promise((resolve) => setTimeout(resolve, 10))
        return fake.sendSubscribeMessage(message)
      },
    })
    const [a] = await cluster(client, { DISPATCH_CONCURRENCY: String(CONCURRENCY) }, 1)
    service = a!
    const openids = await people(a!, fake, TOTAL)
    await Promise.all(openids.map((openid) => send(a!, openid)))
    await until(async () => (await statuses(a!)).sent === TOTAL, 'every message sent', 1200)

    expect(fake.accepted).toHaveLength(TOTAL)
    expect(new Set(fake.accepted.map((message) => message.touser)).size).toBe(TOTAL)
    expect(sending).toHaveLength(TOTAL)
    expect(Math.max(...sending)).toBeLessThanOrEqual(CONCURRENCY)
    // Claims of several at once (half the slots at least), not one by one.
    expect(Math.max(...sending)).toBeGreaterThanOrEqual(CONCURRENCY / 2)
  }, 60_000)

  it('pauses both instances when one meets 45009, and sends the message again after the pause', async () => {
    const { fake, client, calls } = timedWeChat()
    const TOTAL = 40
    const [a, b] = await cluster(client, { DISPATCH_CONCURRENCY: '1' })
    const openids = await people(a!, fake, TOTAL)
    // The fifth send meets WeChat's rate limit for the AppID.
    let answered = 0
    let pausedAt = 0
    const original = client.sendSubscribeMessage.bind(client)
    client.sendSubscribeMessage = async (message) => {
      answered += 1
      if (answered === 5) {
        fake.failNext(45009, 1)
        const outcome = await original(message)
        pausedAt = performance.now()
        return outcome
      }
      return original(message)
    }
    await Promise.all(openids.map((openid, i) => send(i % 2 === 0 ? a! : b!, openid)))
    await until(async () => (await statuses(a!)).sent === TOTAL, 'every message sent', 1200)

    expect(pausedAt).toBeGreaterThan(0)
    // One send at most was already under way on the other instance; none starts during the second's pause.
    const duringPause = calls.filter((at) => at > pausedAt && at < pausedAt + 900)
    expect(duringPause.length).toBeLessThanOrEqual(1)
    // The 45009 message went back in the queue and was sent after the pause: 40 sent, 41 calls.
    expect(calls).toHaveLength(TOTAL + 1)
    expect(fake.accepted).toHaveLength(TOTAL)
  }, 60_000)

  it('queues a deferred message by its delayed job when quiet hours end, with no scheduler running', async () => {
    const { fake, client } = timedWeChat()
    const [a, b] = await cluster(client, { SCHEDULER_INTERVAL_MS: '600000' })
    const [openid] = await people(a!, fake, 1)
    await a!.storage.preferences.put(openid!, { quietHours: { start: '12:00', end: '13:00' }, dailyLimit: 20, mutedCategories: [] }, new Date())
    // 12:59:57 in Shanghai on both, running on in real time; quiet hours until 13:00.
    for (const service of [a!, b!]) service.clock.set(new Date('2026-11-25T04:59:57.000Z'))
    const queued = await send(a!, openid!)
    await until(async () => (await a!.storage.messages.get(queued.id))?.status === 'deferred', 'deferred for quiet hours')
    const deferred = await a!.storage.messages.get(queued.id)
    expect(deferred?.deliverAfter?.toISOString()).toBe('2026-11-25T05:00:00.000Z')
    // The scheduler never started in this test (no listen): only the delayed job can bring it back.
    await until(async () => (await a!.storage.messages.get(queued.id))?.status === 'sent', 'sent once quiet hours ended', 200)
    const sent = await a!.storage.messages.get(queued.id)
    expect(sent!.sentAt!.getTime()).toBeGreaterThanOrEqual(new Date('2026-11-25T05:00:00.000Z').getTime())
    expect(sent!.history.map((change) => change.status)).toEqual(['queued', 'deferred', 'queued', 'sending', 'sent'])
    expect(fake.accepted).toHaveLength(1)
  }, 30_000)
})
