/**
 * Three service processes on one PostgreSQL database and one Redis (the BullMQ engine), WeChat being the sandbox
 * in this process: what the cluster guarantees as a whole. Credits are never overspent whichever
 * instance sends, a token that expires mid-burst is refreshed once for all of them, the scheduler runs
 * once per interval for the cluster, not once per process, and pause and cancel stop every instance's
 * claims. One cluster for the file (starting three processes is most of the time), each test with
 * people, templates or a campaign of its own, counting only what it did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Campaign, MessageOutcome } from '../../src/domain/contract'
import { sampleData, templateByKey } from '../support/templates'
import type { ServiceProcess } from '../server/support/service-process'
import { admin, adminKeyOnly, createCluster, json, messagesOf, until, type Cluster } from './support/cluster'

const ORDER_STATUS = templateByKey('order_status')
const ACTIVITY = templateByKey('activity_reminder')
const SCHEDULER_INTERVAL = 400
let cluster: Cluster
let instances: ServiceProcess[]

beforeAll(async () => {
  cluster = await createCluster('cluster')
  // Debug logs: each scheduler run says so.
  // A lease of 20 s: a job whose instance stops renewing its lock is taken over after 5 s.
  instances = await cluster.start(3, { DISPATCH_CONCURRENCY: '8', SCHEDULER_INTERVAL_MS: String(SCHEDULER_INTERVAL), LOG_LEVEL: 'debug', DISPATCH_LEASE_S: '20' })
}, 240_000)

afterAll(async () => {
  await cluster.close()
})

/** A person with `credits` one-time accepts of `templateId`, counted by the ledger and by WeChat. */
async function person(user: string, templateId: string, credits: number): Promise<string> {
  const storage = await cluster.storage()
  const openid = cluster.sandbox.openidFor(user)
  for (let i = 0; i < credits; i += 1) {
    cluster.sandbox.grant(openid, { [templateId]: 'accept' })
    await storage.ledger.applyConsent({ openid, consentId: `${user}-${i}`, changes: [{ templateId, result: 'accept', credit: { type: 'add', amount: 1 } }], now: new Date() })
  }
  await storage.preferences.put(openid, { quietHours: null, dailyLimit: 100, mutedCategories: [] }, new Date())
  await storage.close()
  return openid
}

function orderMessage(touser: string, n: number): string {
  return JSON.stringify({ touser, templateId: 'order_status', data: { ...sampleData('order_status'), character_string1: `N${n}` } })
}

/** The person's messages by status. */
async function statusesOf(url: string, openid: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const message of await messagesOf({ url }, `touser=${openid}`)) counts[message.status] = (counts[message.status] ?? 0) + 1
  return counts
}

const receivedBy = (openids: readonly string[]): number => {
  const wanted = new Set(openids)
  return cluster.sandbox.received().filter((message) => wanted.has(message.touser)).length
}

describe('three instances on one database and one queue', () => {
  it('send exactly 50 of 200 concurrent admin sends against 50 credits, whichever instance takes each', async () => {
    const openid = await person('fifty', ORDER_STATUS.id, 50)
    const callsBefore = cluster.sandbox.stats().sendCalls
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, n) =>
        json<MessageOutcome>(await fetch(`${instances[n % 3]!.url}/api/messages`, { method: 'POST', headers: admin, body: orderMessage(openid, n) })),
      ),
    )
    expect(answers.every((answer) => answer.status === 'queued')).toBe(true)
    await until(async () => {
      const byStatus = await statusesOf(instances[0]!.url, openid)
      return (byStatus.sent ?? 0) + (byStatus.failed ?? 0) === 200
    }, 'every send settled')
    const messages = await messagesOf(instances[1]!, `touser=${openid}`)
    expect(messages.filter((message) => message.status === 'sent')).toHaveLength(50)
    expect(messages.filter((message) => message.status === 'failed' && message.reason === 'NO_CREDIT')).toHaveLength(150)
    expect(receivedBy([openid])).toBe(50)
    expect(cluster.sandbox.stats().sendCalls - callsBefore).toBe(50)
    const storage = await cluster.storage()
    expect(await storage.ledger.credits(openid, ORDER_STATUS.id)).toBe(0)
    await storage.close()
  }, 120_000)

  it('refresh an access token that expires mid-burst once for all three', async () => {
    const openids: string[] = []
    for (let i = 0; i < 30; i += 1) openids.push(await person(`token-${i}`, ORDER_STATUS.id, 4))
    const post = (n: number): Promise<MessageOutcome> =>
      fetch(`${instances[n % 3]!.url}/api/messages`, { method: 'POST', headers: admin, body: orderMessage(openids[n % 30]!, n) }).then((reply) => json<MessageOutcome>(reply))
    // Every instance has sent with the token, so each holds it.
    await Promise.all(Array.from({ length: 30 }, (_, n) => post(n)))
    await until(async () => receivedBy(openids) === 30, 'the first 30 sent')
    const tokensBefore = cluster.sandbox.stats().tokenCalls
    cluster.sandbox.setFaults({ latencyMs: 20 })
    const burst = Array.from({ length: 90 }, (_, n) => post(30 + n))
    await until(async () => receivedBy(openids) >= 45, 'the burst under way')
    cluster.sandbox.setFaults({ expireTokens: true })
    await Promise.all(burst)
    const sent = async (): Promise<number> => (await Promise.all(openids.map(async (openid) => (await statusesOf(instances[1]!.url, openid)).sent ?? 0))).reduce((a, b) => a + b, 0)
    await until(async () => (await sent()) === 120, 'all 120 sent and recorded')
    cluster.sandbox.setFaults({ latencyMs: 0 })
    expect(receivedBy(openids)).toBe(120)
    expect(cluster.sandbox.stats().tokenCalls - tokensBefore).toBe(1)
  }, 120_000)

  it('run the scheduler once per interval for the cluster, not once per process', async () => {
    const INTERVAL = SCHEDULER_INTERVAL
    const runs = (): number => instances.reduce((sum, instance) => sum + (instance.output().match(/"msg":"scheduler run"/g)?.length ?? 0), 0)
    await until(() => runs() >= 1, 'a first run')
    const from = { runs: runs(), at: performance.now() }
    // Long enough for several intervals on a busy machine.
    await until(() => runs() - from.runs >= 8, 'eight more runs', 30_000)
    const elapsed = performance.now() - from.at
    const counted = runs() - from.runs
    // One run per interval in all: at most one per interval that passed, and one each for a late run
    // at either end. Three schedulers of their own would make about three times as many.
    expect(counted).toBeLessThanOrEqual(Math.floor(elapsed / INTERVAL) + 2)
    // And they happen on whichever instance takes the job, each a run of the whole cluster's work.
    expect(instances.filter((instance) => /"msg":"scheduler run"/.test(instance.output())).length).toBeGreaterThanOrEqual(1)
  }, 120_000)

  it('pause and cancel stop every instance’s claims within a second', async () => {
    const storage = await cluster.storage()
    const now = new Date()
    const openids = Array.from({ length: 3000 }, (_, i) => cluster.sandbox.openidFor(`fan-${String(i).padStart(4, '0')}`))
    await storage.users.put(openids.map((openid) => ({ openid, tags: ['fans'] })), now)
    // Twenty people at a time: one round trip each on PostgreSQL.
    for (let from = 0; from < openids.length; from += 20) {
      await Promise.all(
        openids.slice(from, from + 20).map(async (openid, j) => {
          cluster.sandbox.grant(openid, { [ACTIVITY.id]: 'accept' })
          await storage.ledger.applyConsent({ openid, consentId: `fan-${from + j}`, changes: [{ templateId: ACTIVITY.id, result: 'accept', credit: { type: 'add', amount: 1 } }], now })
        }),
      )
    }
    await storage.segments.create({ id: 'segment-fans', name: '粉丝', filter: { tagsAll: ['fans'] }, createdAt: now })
    await storage.close()
    cluster.sandbox.setFaults({ latencyMs: 10 })
    const fans = (): number => receivedBy(openids)
    const created = await json<Campaign>(
      await fetch(`${instances[0]!.url}/api/campaigns`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: '暂停测试', segmentId: 'segment-fans', template: 'activity_reminder', data: sampleData('activity_reminder'), urgent: true }),
      }),
    )
    await until(() => fans() >= 300, 'the campaign under way')
    // Paused through one instance…
    await json(await fetch(`${instances[1]!.url}/api/campaigns/${created.id}/pause`, { method: 'POST', headers: adminKeyOnly }))
    const pausedAt = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    const claimedAfter = async (since: number): Promise<number> => {
      const read = await cluster.storage()
      let late = 0
      for (const item of await messagesOf(instances[0]!, `campaign=${created.id}`)) {
        const message = await read.messages.get(item.id)
        if (message?.history.some((change) => change.status === 'sending' && change.at.getTime() > since)) late += 1
      }
      await read.close()
      return late
    }
    // …no instance claimed a message of it more than a second after the pause.
    expect(await claimedAfter(pausedAt + 1_000)).toBe(0)
    const atPause = fans()
    expect(atPause).toBeLessThan(3000)
    const paused = await json<Campaign>(await fetch(`${instances[2]!.url}/api/campaigns/${created.id}`, { headers: admin }))
    expect(paused.status).toBe('paused')
    expect(paused.counts.pending + paused.counts.sent).toBe(paused.total)

    // Resumed through another, it goes on; cancelled through the third, it stops for good.
    await json(await fetch(`${instances[2]!.url}/api/campaigns/${created.id}/resume`, { method: 'POST', headers: adminKeyOnly }))
    await until(() => fans() >= atPause + 300, 'the campaign going on')
    await json(await fetch(`${instances[0]!.url}/api/campaigns/${created.id}/cancel`, { method: 'POST', headers: adminKeyOnly }))
    const cancelledAt = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    expect(await claimedAfter(cancelledAt + 1_000)).toBe(0)
    const cancelled = await json<Campaign>(await fetch(`${instances[1]!.url}/api/campaigns/${created.id}`, { headers: admin }))
    expect(cancelled.status).toBe('cancelled')
    expect(cancelled.counts.pending).toBe(0)
    expect(cancelled.counts.sent).toBe(fans())
    expect(cancelled.counts.sent).toBeLessThan(3000)
    expect(cancelled.reasons.CANCELLED).toBe(cancelled.total - cancelled.counts.sent)
  }, 180_000)

  // Last: it freezes one of the three.
  it('send each message once when an instance freezes mid-burst (its locks lapse, others take its jobs) and comes back', async () => {
    const openids: string[] = []
    for (let i = 0; i < 60; i += 1) openids.push(await person(`frozen-${i}`, ORDER_STATUS.id, 1))
    const callsBefore = cluster.sandbox.stats().sendCalls
    cluster.sandbox.setFaults({ latencyMs: 100 })
    await Promise.all(
      openids.map(async (openid, n) => json<MessageOutcome>(await fetch(`${instances[n % 3]!.url}/api/messages`, { method: 'POST', headers: admin, body: orderMessage(openid, n) }))),
    )
    await until(() => receivedBy(openids) >= 6, 'the burst under way')
    // Frozen longer than its jobs' locks (5 s) and the others' stalled check, shorter than its claims' lease (20 s).
    instances[2]!.signal('SIGSTOP')
    await new Promise((resolve) => setTimeout(resolve, 12_000))
    instances[2]!.signal('SIGCONT')
    const settled = async (): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {}
      for (const openid of openids) for (const [status, count] of Object.entries(await statusesOf(instances[0]!.url, openid))) counts[status] = (counts[status] ?? 0) + count
      return counts
    }
    await until(async () => (await settled()).sent === 60, 'all 60 sent and recorded')
    cluster.sandbox.setFaults({ latencyMs: 0 })
    // Its sends in WeChat's hands were recorded once it went on (its lease had not run out): none is in doubt,
    // and no job taken over from it was sent a second time.
    expect(await settled()).toEqual({ sent: 60 })
    expect(receivedBy(openids)).toBe(60)
    expect(cluster.sandbox.stats().sendCalls - callsBefore).toBe(60)
  }, 120_000)
})
