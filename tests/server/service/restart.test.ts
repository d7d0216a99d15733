/**
 * A restart: a new app on the same database file picks up what the old one left behind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MessageDetail, MessageOutcome } from '../../../src/domain/contract'
import { createManualClock, type ManualClock } from '../../../server/clock'
import { createFakeWeChat, type FakeWeChat } from '../support/fake-wechat'
import {
  NOON_SHANGHAI,
  ORDER_DATA,
  ORDER_STATUS,
  PAGES,
  TEMPLATES,
  adminHeaders,
  removeDatabase,
  signIn,
  startFakeService,
  tempDatabasePath,
  type FakeService,
} from '../support/service'

let databasePath: string
let manual: ManualClock
/** WeChat outlives the service's restarts. */
let wechat: FakeWeChat
const running: FakeService[] = []

beforeEach(() => {
  databasePath = tempDatabasePath()
  manual = createManualClock(NOON_SHANGHAI)
  wechat = createFakeWeChat({ templates: TEMPLATES, pages: PAGES, clock: manual })
})

async function start(): Promise<FakeService> {
  const service = await startFakeService({ databasePath, manual, wechat, keepDatabase: true })
  running.push(service)
  return service
}

afterEach(async () => {
  for (const service of running.splice(0)) {
    await service.app.close()
    if (service.storage.db.open) service.storage.close()
  }
  removeDatabase(databasePath)
})

async function detail(service: FakeService, id: string): Promise<MessageDetail> {
  return (await service.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: adminHeaders })).json<MessageDetail>()
}

async function prepareAlice(service: FakeService, credits: number) {
  const alice = await signIn(service.app, (user) => wechat.issueCode(user), 'alice')
  for (let i = 0; i < credits; i += 1) {
    wechat.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
    await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: alice.authorization },
      payload: { consentId: `consent-restart-${i}`, results: { [ORDER_STATUS.id]: 'accept' } },
    })
  }
  return alice
}

describe('restart', () => {
  it('keeps sessions, and sends a deferred message after the restart when its time comes', async () => {
    const first = await start()
    const alice = await prepareAlice(first, 1)
    await first.app.inject({
      method: 'PUT',
      url: '/api/me/preferences',
      headers: { authorization: alice.authorization },
      payload: { quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] },
    })
    const reply = await first.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
    const outcome = reply.json<MessageOutcome>()
    expect(outcome.status).toBe('deferred')
    await first.close()

    manual.set(new Date('2026-11-25T06:30:00.000Z'))
    const second = await start()
    const mine = await second.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: alice.authorization } })
    expect(mine.statusCode).toBe(200)
    await second.app.scheduler.start()
    await second.app.scheduler.runOnce({ settle: true })
    expect(await detail(second, outcome.id)).toMatchObject({ status: 'sent', sentAt: '2026-11-25T06:30:00.000Z' })
    expect(wechat.accepted).toHaveLength(1)
  })

  it('sends a message that was written (queued) when the process stopped', async () => {
    const first = await start()
    const alice = await prepareAlice(first, 1)
    // Written, then the process died before the pipeline moved it on.
    await first.storage.messages.insert({
      id: 'queued-at-crash',
      openid: alice.openid,
      templateId: ORDER_STATUS.id,
      category: ORDER_STATUS.category,
      data: Object.fromEntries(Object.entries(ORDER_DATA).map(([name, value]) => [name, { value }])),
      urgent: false,
      source: 'admin',
      createdAt: manual.now(),
    })
    await first.close()

    const second = await start()
    await second.app.scheduler.start()
    await second.app.scheduler.runOnce({ settle: true })
    expect(await detail(second, 'queued-at-crash')).toMatchObject({ status: 'sent' })
    expect(wechat.accepted.map((message) => message.touser)).toEqual([alice.openid])
  })

  it('sends at once a message the dead process had leased but not yet started', async () => {
    const first = await start()
    const alice = await prepareAlice(first, 1)
    await first.storage.messages.insert({
      id: 'leased-at-crash',
      openid: alice.openid,
      templateId: ORDER_STATUS.id,
      category: ORDER_STATUS.category,
      data: Object.fromEntries(Object.entries(ORDER_DATA).map(([name, value]) => [name, { value }])),
      urgent: false,
      source: 'admin',
      createdAt: manual.now(),
    })
    // Leased for two minutes by a dispatcher that then died before it claimed the message.
    const leased = await first.storage.messages.leaseDue({
      owner: 'dispatcher-gone',
      now: manual.now(),
      until: new Date(manual.now().getTime() + 120_000),
      limit: 1,
      scope: { exceptCampaigns: [] },
    })
    expect(leased.jobs.map((job) => job.id)).toEqual(['leased-at-crash'])
    await first.close()

    const second = await start()
    await second.app.scheduler.start()
    await second.app.scheduler.runOnce({ settle: true })
    expect(await detail(second, 'leased-at-crash')).toMatchObject({ status: 'sent' })
  })

  it('does not send again a message that was mid-call: failed INTERRUPTED, credit given back', async () => {
    const first = await start()
    const alice = await prepareAlice(first, 2)
    const hold = wechat.hold()
    // The request never finishes: the process "dies" while WeChat has the call.
    void first.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
    await hold.reached
    const [inFlight] = await first.storage.messages.listForRecipient(alice.openid, 1)
    expect(inFlight).toMatchObject({ status: 'sending' })
    expect(await first.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(1)
    first.storage.close()

    const second = await start()
    await second.app.scheduler.start()
    const message = await detail(second, inFlight!.id)
    expect(message).toMatchObject({ status: 'failed', reason: 'INTERRUPTED' })
    expect(message.history.map((change) => change.status)).toEqual(['queued', 'sending', 'failed'])
    expect(await second.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(2)
    // The held call never comes back to that process: it is gone (its late answer finds the database closed).
    expect(wechat.sendCalls).toBe(1)
    hold.release()
  })
})
