/**
 * What WeChat's events do, through the service's HTTP routes: device reports (POST /api/consents)
 * and popup events reconciled into one count, reports withdrawn when WeChat never confirms them,
 * change events that stop sends, sent events that become the delivery record of a message.
 * CONSENT_CONFIRM_WINDOW_S is the default 600; the scheduler's run is what withdraws.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MessageDetail, MyMessage, SubscribeResult } from '../../../src/domain/contract'
import {
  ACCOUNT_SECURITY,
  NOON_SHANGHAI,
  ORDER_DATA,
  ORDER_STATUS,
  adminHeaders,
  signIn,
  startFakeService,
  testConfig,
  type FakeService,
} from '../support/service'
import { PUSH_APPID, PUSH_TOKEN, change, popup, postPush, postRaw, sent, type Push } from '../support/push'

const REAL = { WECHAT_APPID: PUSH_APPID, WECHAT_SECRET: 'secret0123456789abcdef' }
const WINDOW_MS = 600_000
/** 2026-11-25 13:00 in Shanghai, in WeChat's CreateTime seconds. */
const NOON_SECONDS = NOON_SHANGHAI.getTime() / 1000

let service: FakeService
let alice: { authorization: string; openid: string }
let consents = 0

async function start(env: Record<string, string> = { WECHAT_PUSH_TOKEN: PUSH_TOKEN }): Promise<void> {
  service = await startFakeService({ config: testConfig({ ...REAL, ...env }) })
  alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
}
afterEach(async () => service.close())

/** What the device reports after the dialog (POST /api/consents); the credits it answers. */
async function report(results: Record<string, SubscribeResult>, consentId = `consent-${String(++consents).padStart(4, '0')}`): Promise<Record<string, number>> {
  const reply = await service.app.inject({ method: 'POST', url: '/api/consents', headers: { authorization: alice.authorization }, payload: { consentId, results } })
  expect(reply.statusCode, reply.body).toBe(200)
  return reply.json<{ credits: Record<string, number> }>().credits
}

async function push(event: Push): Promise<void> {
  const reply = await postPush(service.app, event)
  expect(reply.body).toBe('success')
}

/** WeChat's popup event for one accept of `templateId`, `seconds` after noon. */
const accepted = (seconds: number, templateId = ORDER_STATUS.id): Promise<void> => push(popup(alice.openid, NOON_SECONDS + seconds, [templateId, 'accept']))

const credits = (templateId = ORDER_STATUS.id): Promise<number> => service.storage.ledger.credits(alice.openid, templateId)

/** Moves the clock and runs the scheduler, which withdraws what the window let lapse. */
async function later(ms: number): Promise<void> {
  service.manual.advance(ms)
  await service.app.scheduler.runOnce()
}

async function subscription(templateId = ORDER_STATUS.id) {
  const reply = await service.app.inject({ method: 'GET', url: '/api/me/subscriptions', headers: { authorization: alice.authorization } })
  return reply.json<Array<{ templateId: string; credits: number; lastResult: string | null; updatedAt: string }>>().find((entry) => entry.templateId === templateId)
}

describe('device reports and popup events count once', () => {
  beforeEach(() => start())

  it('the report first: it counts at once, the event confirms it, nothing is withdrawn', async () => {
    expect(await report({ [ORDER_STATUS.id]: 'accept' })).toEqual({ [ORDER_STATUS.id]: 1 })
    await accepted(1)
    expect(await credits()).toBe(1)
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(1)
  })

  it('the event first: it counts, and the report that follows answers the same credits', async () => {
    await accepted(0)
    expect(await credits()).toBe(1)
    expect(await report({ [ORDER_STATUS.id]: 'accept' })).toEqual({ [ORDER_STATUS.id]: 1 })
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(1)
  })

  it('a report no event confirms is withdrawn once the window has passed, not before', async () => {
    expect(await report({ [ORDER_STATUS.id]: 'accept' })).toEqual({ [ORDER_STATUS.id]: 1 })
    await later(WINDOW_MS - 1_000)
    expect(await credits()).toBe(1)
    await later(2_000)
    expect(await credits()).toBe(0)
    expect(service.logs.some((line) => line.includes('"withdrawn":1'))).toBe(true)
    // The answer stays what the person chose; only the credit WeChat never granted is gone.
    expect(await subscription()).toMatchObject({ credits: 0, lastResult: 'accept' })
  })

  it('an event without a report (the report was lost) keeps its credit', async () => {
    await accepted(0)
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(1)
  })

  it('two dialogs, in any order, are two credits; when one event never comes, one is withdrawn', async () => {
    await report({ [ORDER_STATUS.id]: 'accept' })
    await accepted(0)
    await accepted(5)
    await report({ [ORDER_STATUS.id]: 'accept' })
    expect(await credits()).toBe(2)
    await report({ [ORDER_STATUS.id]: 'accept' })
    await report({ [ORDER_STATUS.id]: 'accept' })
    await accepted(10)
    expect(await credits()).toBe(4)
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(3)
  })

  it('a report that arrives more than the window after its event is not paired with it: it counts until it is withdrawn', async () => {
    await accepted(0)
    service.manual.advance(WINDOW_MS + 100_000)
    expect(await report({ [ORDER_STATUS.id]: 'accept' })).toEqual({ [ORDER_STATUS.id]: 2 })
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(1)
  })

  it('a report sent again with its consentId makes no second report', async () => {
    await report({ [ORDER_STATUS.id]: 'accept' }, 'consent-replayed')
    await report({ [ORDER_STATUS.id]: 'accept' }, 'consent-replayed')
    await accepted(0)
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(1)
  })

  it('credits zeroed by WeChat (43101) void the unconfirmed report: its withdrawal cannot take a later credit', async () => {
    await report({ [ORDER_STATUS.id]: 'accept' })
    // WeChat never had this consent: the send meets 43101 and the credits go to 0.
    const first = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
    expect(first.json()).toMatchObject({ status: 'failed', reason: '43101' })
    // A real accept afterwards, its report lost.
    await accepted(30)
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(1)
  })

  it('long-term answers are not paired: the latest, from either side, sets the subscription', async () => {
    await report({ [ACCOUNT_SECURITY.id]: 'accept' })
    await later(WINDOW_MS + 1_000)
    expect(await credits(ACCOUNT_SECURITY.id)).toBe(1)
    await push(popup(alice.openid, NOON_SECONDS + 700, [ACCOUNT_SECURITY.id, 'reject']))
    expect(await subscription(ACCOUNT_SECURITY.id)).toMatchObject({ credits: 0, lastResult: 'reject' })
    await push(popup(alice.openid, NOON_SECONDS + 701, [ACCOUNT_SECURITY.id, 'accept']))
    expect(await credits(ACCOUNT_SECURITY.id)).toBe(1)
  })
})

it('without WECHAT_PUSH_TOKEN, the device\'s report is all there is: never withdrawn', async () => {
  await start({})
  expect(await report({ [ORDER_STATUS.id]: 'accept' })).toEqual({ [ORDER_STATUS.id]: 1 })
  await later(WINDOW_MS * 10)
  expect(await credits()).toBe(1)
})

it('CONSENT_CONFIRM_WINDOW_S sets how long a report waits', async () => {
  await start({ WECHAT_PUSH_TOKEN: PUSH_TOKEN, CONSENT_CONFIRM_WINDOW_S: '60' })
  await report({ [ORDER_STATUS.id]: 'accept' })
  await later(59_000)
  expect(await credits()).toBe(1)
  await later(2_000)
  expect(await credits()).toBe(0)
})

describe('a change event (the person turned the template off) stops sends', () => {
  beforeEach(() => start())

  it('credits go to 0, the last result is a reject (the prompt policy reads it), and the next message is not sent', async () => {
    await accepted(0)
    await accepted(1)
    service.wechat.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
    service.manual.advance(60_000)
    await push(change(alice.openid, NOON_SECONDS + 60, ORDER_STATUS.id))
    expect(await subscription()).toEqual({ templateId: ORDER_STATUS.id, credits: 0, lastResult: 'reject', updatedAt: '2026-11-25T05:01:00.000Z' })
    const send = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
    expect(send.json()).toMatchObject({ status: 'failed', reason: 'NO_CREDIT' })
    expect(service.wechat.sendCalls).toBe(0)
  })

  it('applies to several templates at once, long-term too, and a retry of it changes nothing more', async () => {
    await accepted(0)
    await push(popup(alice.openid, NOON_SECONDS + 1, [ACCOUNT_SECURITY.id, 'accept']))
    const turnedOff = change(alice.openid, NOON_SECONDS + 2, ORDER_STATUS.id, ACCOUNT_SECURITY.id)
    await push(turnedOff)
    expect([await credits(), await credits(ACCOUNT_SECURITY.id)]).toEqual([0, 0])
    await accepted(3)
    await push(turnedOff)
    expect(await credits()).toBe(1)
  })

  it('a device report still waiting is void: nothing is withdrawn from a later accept', async () => {
    await report({ [ORDER_STATUS.id]: 'accept' })
    await push(change(alice.openid, NOON_SECONDS + 1, ORDER_STATUS.id))
    await accepted(2)
    await later(WINDOW_MS + 1_000)
    expect(await credits()).toBe(1)
  })
})

describe('sent events become the delivery record of the message with that msgid', () => {
  beforeEach(() => start())

  async function sendOrder(): Promise<{ id: string; msgid: string }> {
    service.wechat.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
    await accepted(++consents)
    const reply = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
    expect(reply.json()).toMatchObject({ status: 'sent' })
    const id = reply.json<{ id: string }>().id
    return { id, msgid: (await detail(id)).msgid! }
  }
  const detail = async (id: string): Promise<MessageDetail> =>
    (await service.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: adminHeaders })).json<MessageDetail>()
  const mine = async (): Promise<MyMessage[]> =>
    (await service.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: alice.authorization } })).json<MyMessage[]>()
  const stats = async () => (await service.app.inject({ method: 'GET', url: '/api/stats', headers: adminHeaders })).json<{ byDelivery: Record<string, number> }>().byDelivery

  it('ErrorCode 0 is delivered: in GET /api/messages/:id, in the person\'s list and in /api/stats', async () => {
    const { id, msgid } = await sendOrder()
    expect((await detail(id)).delivery).toBeUndefined()
    await push(sent(alice.openid, NOON_SECONDS + 3, ORDER_STATUS.id, msgid))
    const delivery = { status: 'delivered', errorCode: 0, errorStatus: 'success', at: '2026-11-25T05:00:03.000Z' }
    expect((await detail(id)).delivery).toEqual(delivery)
    expect((await mine())[0]).toMatchObject({ id, status: 'sent', delivery })
    expect(await stats()).toEqual({ delivered: 1, failed: 0 })
  })

  it('another ErrorCode is failed, with WeChat\'s ErrorStatus; a retry of the event counts once', async () => {
    const { id, msgid } = await sendOrder()
    const refused = sent(alice.openid, NOON_SECONDS + 3, ORDER_STATUS.id, msgid, 10_005, 'fail:user refuse')
    await push(refused)
    await push(refused)
    expect((await detail(id)).delivery).toEqual({ status: 'failed', errorCode: 10_005, errorStatus: 'fail:user refuse', at: '2026-11-25T05:00:03.000Z' })
    expect(await stats()).toEqual({ delivered: 0, failed: 1 })
  })

  it('an unknown msgid is logged and answered success; a message that gets that msgid later shows it', async () => {
    // The fake WeChat gives msgids in order from 3000000000: the next send's is known.
    await push(sent(alice.openid, NOON_SECONDS + 3, ORDER_STATUS.id, '3000000000'))
    expect(service.logs.some((line) => line.includes('3000000000') && line.includes('no message has'))).toBe(true)
    expect(await stats()).toEqual({ delivered: 0, failed: 0 })
    const { id, msgid } = await sendOrder()
    expect(msgid).toBe('3000000000')
    expect((await detail(id)).delivery).toMatchObject({ status: 'delivered' })
  })

  it('a 64-bit MsgID written as a bare JSON number keeps every digit', async () => {
    const body = JSON.stringify({ ToUserName: 'gh_3f2b1c0ffee0', FromUserName: alice.openid, CreateTime: NOON_SECONDS, MsgType: 'event', Event: 'subscribe_msg_sent_event', List: { TemplateId: ORDER_STATUS.id, MsgID: 'MSGID', ErrorCode: 0, ErrorStatus: 'success' } }).replace('"MSGID"', '1700827132819554304')
    expect((await postRaw(service.app, body, 'application/json')).body).toBe('success')
    expect(service.logs.some((line) => line.includes('"1700827132819554304"'))).toBe(true)
  })
})
