/**
 * The service as `npm run server` runs it without an AppID: the real undici WeChat client against the
 * sandbox WeChat on loopback, through HTTP routes only (app.inject).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MessageDetail, MessageOutcome } from '../../../src/domain/contract'
import {
  ORDER_DATA,
  ORDER_STATUS,
  adminHeaders,
  errorOf,
  startSandboxService,
  testConfig,
  type SandboxService,
} from '../support/service'

let service: SandboxService

beforeEach(async () => {
  service = await startSandboxService()
})
afterEach(async () => service.close())

interface Person {
  authorization: string
  openid: string
}

/** What the H5 client does in sandbox mode: a code from the sandbox, then POST /api/session. */
async function signIn(user: string): Promise<Person> {
  const code = await service.app.inject({ method: 'POST', url: '/sandbox/code', payload: { user } })
  expect(code.statusCode).toBe(200)
  const session = await service.app.inject({ method: 'POST', url: '/api/session', payload: code.json<{ code: string }>() })
  expect(session.statusCode, session.body).toBe(200)
  const { token, openid } = session.json<{ token: string; openid: string }>()
  return { authorization: `Bearer ${token}`, openid }
}

/** The stand-in dialog: tells the sandbox WeChat (as WeChat's dialog would), then reports the consent. */
async function subscribe(person: Person, templateId: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const results = { [templateId]: 'accept' }
    const granted = await service.app.inject({
      method: 'POST',
      url: '/sandbox/subscriptions',
      headers: { authorization: person.authorization },
      payload: { results },
    })
    expect(granted.statusCode).toBe(200)
    const consent = await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: person.authorization },
      payload: { consentId: `consent-${person.openid.slice(1, 9)}-${templateId.slice(0, 6)}-${i}`, results },
    })
    expect(consent.statusCode).toBe(200)
  }
}

async function sendOrder(person: Person, extra: Record<string, unknown> = {}): Promise<MessageOutcome> {
  const reply = await service.app.inject({
    method: 'POST',
    url: '/api/messages?wait=true',
    headers: adminHeaders,
    payload: { touser: person.openid, templateId: 'order_status', data: ORDER_DATA, ...extra },
  })
  expect(reply.statusCode, reply.body).toBe(202)
  return reply.json<MessageOutcome>()
}

async function detail(id: string): Promise<MessageDetail> {
  return (await service.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: adminHeaders })).json<MessageDetail>()
}

const credits = (person: Person): Promise<number> => service.storage.ledger.credits(person.openid, ORDER_STATUS.id)

describe('sandbox mode end to end', () => {
  it('an order event becomes an order-status message that the sandbox WeChat receives', async () => {
    const alice = await signIn('alice')
    await subscribe(alice, ORDER_STATUS.id, 1)
    const reply = await service.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { authorization: alice.authorization },
      payload: { type: 'order.status_changed', orderId: 'DD20261125001', status: 'shipped', goodsName: '罗技 MX Keys 无线蓝牙键盘（石墨黑）' },
    })
    expect(reply.statusCode, reply.body).toBe(200)
    expect(reply.json()).toEqual({ message: { id: expect.any(String), templateId: ORDER_STATUS.id, status: 'sent' } })

    expect(service.sandbox.received()).toEqual([
      {
        touser: alice.openid,
        template_id: ORDER_STATUS.id,
        page: 'pages/orders/index?id=DD20261125001',
        miniprogram_state: 'formal',
        data: {
          character_string1: { value: 'DD20261125001' },
          phrase2: { value: '已发货' },
          thing3: { value: '罗技 MX Keys 无线蓝牙键盘...' },
          time4: { value: '2026年11月25日 13:00' },
          thing5: { value: '包裹正在路上，请留意查收' },
        },
        msgid: expect.stringMatching(/^\d+$/),
        at: new Date('2026-11-25T05:00:00.000Z'),
      },
    ])
    const received = await service.app.inject({ method: 'GET', url: '/sandbox/received' })
    expect(received.json()).toHaveLength(1)
    expect(await credits(alice)).toBe(0)
  })

  it('an event without a credit is failed NO_CREDIT and WeChat is not called', async () => {
    const alice = await signIn('alice')
    const reply = await service.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { authorization: alice.authorization },
      payload: { type: 'order.status_changed', orderId: 'DD1', status: 'paid' },
    })
    // The outcome names the template, so the client offers that one (not a guess).
    expect(reply.json()).toEqual({ message: { id: expect.any(String), templateId: ORDER_STATUS.id, status: 'failed', reason: 'NO_CREDIT' } })
    expect(service.sandbox.stats().sendCalls).toBe(0)
  })

  it('200 concurrent sends against 50 credits: exactly 50 sent, and the sandbox received exactly 50', async () => {
    const alice = await signIn('alice')
    await subscribe(alice, ORDER_STATUS.id, 50)
    const limit = await service.app.inject({
      method: 'PUT',
      url: '/api/me/preferences',
      headers: { authorization: alice.authorization },
      payload: { quietHours: null, dailyLimit: 100, mutedCategories: [] },
    })
    expect(limit.statusCode).toBe(200)

    const outcomes = await Promise.all(Array.from({ length: 200 }, () => sendOrder(alice)))
    const sent = outcomes.filter((outcome) => outcome.status === 'sent')
    const noCredit = outcomes.filter((outcome) => outcome.status === 'failed' && outcome.reason === 'NO_CREDIT')
    expect(sent).toHaveLength(50)
    expect(noCredit).toHaveLength(150)
    expect(service.sandbox.received()).toHaveLength(50)
    expect(service.sandbox.stats().sendCalls).toBe(50)
    expect(await credits(alice)).toBe(0)
    expect(service.sandbox.quota(alice.openid, ORDER_STATUS.id)).toBe(0)
    // The sandbox WeChat reported each of the 50 delivered (subscribe_msg_sent_event).
    await service.settled()
    const stats = await service.app.inject({ method: 'GET', url: '/api/stats', headers: adminHeaders })
    expect(stats.json()).toEqual({ byStatus: { sent: 50, failed: 150 }, byErrcode: { '0': 50 }, byDelivery: { delivered: 50, failed: 0 } })
  })

  it('a token expiry in the middle of a burst causes exactly one refresh and every send goes through', async () => {
    // 30 people signing in at once from one address: a load test, so without the request limits.
    await service.close()
    service = await startSandboxService({ config: testConfig({ RATE_LIMIT: 'off' }) })
    const people = await Promise.all(Array.from({ length: 30 }, (_, i) => signIn(`user${i}`)))
    for (const person of people) await subscribe(person, ORDER_STATUS.id, 2)
    await Promise.all(people.map((person) => sendOrder(person)))
    const before = service.sandbox.stats()
    expect(before.tokenIssued).toBe(1)

    const faults = await service.app.inject({ method: 'PUT', url: '/sandbox/faults', payload: { expireTokens: true } })
    expect(faults.statusCode).toBe(200)
    const outcomes = await Promise.all(people.map((person) => sendOrder(person)))
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(30).fill('sent'))
    expect(service.sandbox.stats().tokenIssued).toBe(2)
    // Each of the 30 sends met the expired token once (42001), then went through with the new one.
    const attempts = (await detail(outcomes[0]!.id)).attempts.map((attempt) => attempt.errcode)
    expect(attempts).toEqual([42001, 0])
  })

  it('43101 from WeChat (the service counted a consent WeChat never saw): failed, credits set to zero', async () => {
    const alice = await signIn('alice')
    // The consent reaches the service, but not WeChat's quota.
    await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: alice.authorization },
      payload: { consentId: 'consent-only-service', results: { [ORDER_STATUS.id]: 'accept' } },
    })
    await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: alice.authorization },
      payload: { consentId: 'consent-only-service-2', results: { [ORDER_STATUS.id]: 'accept' } },
    })
    expect(await credits(alice)).toBe(2)
    expect(await sendOrder(alice)).toMatchObject({ status: 'failed', reason: '43101' })
    expect(await credits(alice)).toBe(0)
  })

  it('retries exhausted on -1: five calls, failed "-1", the credit given back and the WeChat quota untouched', async () => {
    const alice = await signIn('alice')
    await subscribe(alice, ORDER_STATUS.id, 1)
    await service.app.inject({ method: 'PUT', url: '/sandbox/faults', payload: { failNext: { errcode: -1, count: 5 } } })
    const outcome = await sendOrder(alice)
    expect(outcome).toMatchObject({ status: 'failed', reason: '-1' })
    expect((await detail(outcome.id)).attempts.map((attempt) => attempt.errcode)).toEqual([-1, -1, -1, -1, -1])
    expect(await credits(alice)).toBe(1)
    expect(service.sandbox.quota(alice.openid, ORDER_STATUS.id)).toBe(1)
    // The next one goes through with the credit given back.
    expect((await sendOrder(alice)).status).toBe('sent')
  })

  it('a -1 then success: retried, sent, both calls recorded', async () => {
    const alice = await signIn('alice')
    await subscribe(alice, ORDER_STATUS.id, 1)
    await service.app.inject({ method: 'PUT', url: '/sandbox/faults', payload: { failNext: { errcode: -1, count: 1 } } })
    const outcome = await sendOrder(alice)
    expect(outcome.status).toBe('sent')
    expect((await detail(outcome.id)).attempts.map((attempt) => attempt.errcode)).toEqual([-1, 0])
    expect(await credits(alice)).toBe(0)
  })

  it('HTTP 502 five times (errcode -2, no WeChat answer): failed "-2", credit given back', async () => {
    const alice = await signIn('alice')
    await subscribe(alice, ORDER_STATUS.id, 1)
    await service.app.inject({ method: 'PUT', url: '/sandbox/faults', payload: { failNext: { errcode: -2, count: 5 } } })
    expect(await sendOrder(alice)).toMatchObject({ status: 'failed', reason: '-2' })
    expect(await credits(alice)).toBe(1)
  })

  it('47003 from WeChat: failed, credit given back', async () => {
    const alice = await signIn('alice')
    await subscribe(alice, ORDER_STATUS.id, 1)
    await service.app.inject({ method: 'PUT', url: '/sandbox/faults', payload: { failNext: { errcode: 47003, count: 1 } } })
    expect(await sendOrder(alice)).toMatchObject({ status: 'failed', reason: '47003' })
    expect(await credits(alice)).toBe(1)
  })

  it('quiet hours with the clock moved through /sandbox/clock: deferred, then sent by /sandbox/scheduler/run', async () => {
    const alice = await signIn('alice')
    await subscribe(alice, ORDER_STATUS.id, 1)
    await service.app.inject({
      method: 'PUT',
      url: '/api/me/preferences',
      headers: { authorization: alice.authorization },
      payload: { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 20, mutedCategories: [] },
    })
    // 23:30 in Shanghai.
    const moved = await service.app.inject({ method: 'PUT', url: '/sandbox/clock', payload: { now: '2026-11-25T15:30:00.000Z' } })
    expect(moved.json()).toEqual({ now: '2026-11-25T15:30:00.000Z', offsetMs: 37_800_000 })
    const event = await service.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { authorization: alice.authorization },
      payload: { type: 'order.status_changed', orderId: 'DD2', status: 'delivered' },
    })
    expect(event.json()).toEqual({ message: { id: expect.any(String), templateId: ORDER_STATUS.id, status: 'deferred', deliverAfter: '2026-11-26T00:00:00.000Z' } })

    const early = await service.app.inject({ method: 'POST', url: '/sandbox/scheduler/run' })
    expect(early.json()).toEqual({ processed: 0 })
    await service.app.inject({ method: 'PUT', url: '/sandbox/clock', payload: { now: '2026-11-26T00:00:30.000Z' } })
    const run = await service.app.inject({ method: 'POST', url: '/sandbox/scheduler/run' })
    expect(run.json()).toEqual({ processed: 1 })
    expect(service.sandbox.received().map((message) => message.data.time4?.value)).toEqual(['2026年11月25日 23:30'])

    await service.settled()
    const mine = await service.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: alice.authorization } })
    expect(mine.json()).toEqual([
      {
        id: event.json<{ message: { id: string } }>().message.id,
        templateId: ORDER_STATUS.id,
        status: 'sent',
        createdAt: '2026-11-25T15:30:00.000Z',
        sentAt: '2026-11-26T00:00:30.000Z',
        delivery: { status: 'delivered', errorCode: 0, errorStatus: 'success', at: '2026-11-26T00:00:30.000Z' },
        content: expect.arrayContaining([
          { name: 'character_string1', label: '订单号', value: 'DD2' },
          { name: 'phrase2', label: '订单状态', value: '已送达' },
          { name: 'time4', label: '更新时间', value: '2026年11月25日 23:30' },
        ]),
      },
    ])
    const back = await service.app.inject({ method: 'PUT', url: '/sandbox/clock', payload: { now: null } })
    expect(back.json()).toEqual({ now: '2026-11-25T05:00:00.000Z', offsetMs: 0 })
  })

  it('GET /api/me/messages/:id: my message as its notice showed it (labels, values, page), its history, its delivery; another\'s is 404', async () => {
    const alice = await signIn('alice')
    const bob = await signIn('bob')
    await subscribe(alice, ORDER_STATUS.id, 1)
    const event = await service.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { authorization: alice.authorization },
      payload: { type: 'order.status_changed', orderId: '261125-130000', status: 'paid', goodsName: '帆布托特包', amountFen: 12900 },
    })
    const { id } = event.json<{ message: { id: string } }>().message
    await service.settled()

    const mine = await service.app.inject({ method: 'GET', url: `/api/me/messages/${id}`, headers: { authorization: alice.authorization } })
    expect(mine.statusCode, mine.body).toBe(200)
    expect(mine.json()).toEqual({
      id,
      templateId: ORDER_STATUS.id,
      status: 'sent',
      createdAt: '2026-11-25T05:00:00.000Z',
      sentAt: '2026-11-25T05:00:00.000Z',
      delivery: { status: 'delivered', errorCode: 0, errorStatus: 'success', at: '2026-11-25T05:00:00.000Z' },
      page: 'pages/orders/index?id=261125-130000',
      content: [
        { name: 'character_string1', label: '订单号', value: '261125-130000' },
        { name: 'phrase2', label: '订单状态', value: '已支付' },
        { name: 'thing3', label: '商品名称', value: '帆布托特包' },
        { name: 'time4', label: '更新时间', value: '2026年11月25日 13:00' },
        { name: 'thing5', label: '备注', value: '商家正在备货' },
      ],
      history: [
        { at: '2026-11-25T05:00:00.000Z', status: 'queued' },
        { at: '2026-11-25T05:00:00.000Z', status: 'sending' },
        { at: '2026-11-25T05:00:00.000Z', status: 'sent' },
      ],
    })
    const list = await service.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: alice.authorization } })
    expect(list.json<Array<{ content: unknown }>>()[0]?.content).toEqual(mine.json<{ content: unknown }>().content)

    const theirs = await service.app.inject({ method: 'GET', url: `/api/me/messages/${id}`, headers: { authorization: bob.authorization } })
    expect(errorOf(theirs, 404)).toMatchObject({ code: 'NOT_FOUND' })
    const none = await service.app.inject({ method: 'GET', url: '/api/me/messages/no-such-message', headers: { authorization: alice.authorization } })
    expect(errorOf(none, 404)).toMatchObject({ code: 'NOT_FOUND' })
    expect((await service.app.inject({ method: 'GET', url: `/api/me/messages/${id}` })).statusCode).toBe(401)
  })

  it('POST /api/session: a made-up code is 401 INVALID_CODE, and a code works once', async () => {
    const bad = await service.app.inject({ method: 'POST', url: '/api/session', payload: { code: 'made-up' } })
    expect(errorOf(bad, 401)).toMatchObject({ code: 'INVALID_CODE', field: 'code' })
    const code = (await service.app.inject({ method: 'POST', url: '/sandbox/code', payload: { user: 'alice' } })).json<{ code: string }>()
    expect((await service.app.inject({ method: 'POST', url: '/api/session', payload: code })).statusCode).toBe(200)
    expect(errorOf(await service.app.inject({ method: 'POST', url: '/api/session', payload: code }), 401).code).toBe('INVALID_CODE')
  })

  it('/sandbox/subscriptions needs a session and refuses unknown templates', async () => {
    const anonymous = await service.app.inject({ method: 'POST', url: '/sandbox/subscriptions', payload: { results: { [ORDER_STATUS.id]: 'accept' } } })
    expect(errorOf(anonymous, 401).code).toBe('UNAUTHORIZED')
    const alice = await signIn('alice')
    const unknown = await service.app.inject({
      method: 'POST',
      url: '/sandbox/subscriptions',
      headers: { authorization: alice.authorization },
      payload: { results: { nope: 'accept' } },
    })
    expect(errorOf(unknown, 400)).toMatchObject({ code: 'UNKNOWN_TEMPLATE', field: 'results.nope' })
    const granted = await service.app.inject({
      method: 'POST',
      url: '/sandbox/subscriptions',
      headers: { authorization: alice.authorization },
      payload: { results: { [ORDER_STATUS.id]: 'accept' } },
    })
    expect(granted.json()).toEqual({ quota: { [ORDER_STATUS.id]: 1 } })
  })

  it('/sandbox/subscriptions checks the session before the body', async () => {
    const anonymous = await service.app.inject({ method: 'POST', url: '/sandbox/subscriptions', payload: { results: 'not an object' } })
    expect(errorOf(anonymous, 401).code).toBe('UNAUTHORIZED')
  })

  it('GET /api/info says sandbox', async () => {
    const info = await service.app.inject({ method: 'GET', url: '/api/info' })
    expect(info.json()).toEqual({ sandbox: true, miniprogramState: 'formal' })
  })
})

describe('the sandbox refuses to be changed by a page of another origin', () => {
  const own = { host: '127.0.0.1:8080' }
  const refusal = (origin: string) => ({
    code: 'FORBIDDEN',
    message: `拒绝来自 ${origin} 的跨源请求：沙箱接口只接受本服务自己的页面和 CORS_ORIGINS 中的来源修改数据`,
  })

  it('POST and PUT to /sandbox/* with a foreign Origin are 403 and change nothing', async () => {
    const origin = 'https://evil.example.com'
    const code = await service.app.inject({ method: 'POST', url: '/sandbox/code', headers: { ...own, origin }, payload: { user: 'alice' } })
    expect(errorOf(code, 403)).toEqual(refusal(origin))
    const clock = await service.app.inject({ method: 'PUT', url: '/sandbox/clock', headers: { ...own, origin }, payload: { now: '2026-11-25T15:30:00.000Z' } })
    expect(errorOf(clock, 403)).toEqual(refusal(origin))
    expect(service.clock.offsetMs()).toBe(0)
    // Before the session and the body: the origin alone decides.
    const grant = await service.app.inject({ method: 'POST', url: '/sandbox/subscriptions', headers: { ...own, origin, 'content-type': 'text/plain' }, payload: '{}' })
    expect(errorOf(grant, 403)).toEqual(refusal(origin))
    for (const [method, url] of [['POST', '/sandbox/scheduler/run'], ['PUT', '/sandbox/faults']] as const) {
      expect(errorOf(await service.app.inject({ method, url, headers: { ...own, origin }, payload: {} }), 403)).toEqual(refusal(origin))
    }
    // A sandboxed iframe or a file:// page sends Origin: null.
    expect(errorOf(await service.app.inject({ method: 'POST', url: '/sandbox/code', headers: { ...own, origin: 'null' }, payload: { user: 'alice' } }), 403)).toEqual(refusal('null'))
    // The same host on another port or scheme is another origin.
    for (const other of ['http://127.0.0.1:5173', 'https://127.0.0.1:8080']) {
      expect(errorOf(await service.app.inject({ method: 'POST', url: '/sandbox/code', headers: { ...own, origin: other }, payload: { user: 'alice' } }), 403)).toEqual(refusal(other))
    }
  })

  it('accepts the service’s own origin, no Origin at all, and reads from anywhere', async () => {
    const post = (headers: Record<string, string>) => service.app.inject({ method: 'POST', url: '/sandbox/code', headers: { ...own, ...headers }, payload: { user: 'alice' } })
    expect((await post({ origin: 'http://127.0.0.1:8080' })).statusCode).toBe(200)
    expect((await post({ host: 'LOCALHOST:80', origin: 'http://localhost' })).statusCode).toBe(200)
    expect((await post({})).statusCode).toBe(200)
    const read = await service.app.inject({ method: 'GET', url: '/sandbox/received', headers: { ...own, origin: 'https://evil.example.com' } })
    expect(read.statusCode).toBe(200)
  })

  it('accepts the origins of CORS_ORIGINS (the H5 dev server)', async () => {
    await service.close()
    service = await startSandboxService({ config: testConfig({ CORS_ORIGINS: 'http://127.0.0.1:5173' }) })
    const reply = await service.app.inject({ method: 'POST', url: '/sandbox/code', headers: { ...own, origin: 'http://127.0.0.1:5173' }, payload: { user: 'alice' } })
    expect(reply.statusCode).toBe(200)
    const other = await service.app.inject({ method: 'POST', url: '/sandbox/code', headers: { ...own, origin: 'http://127.0.0.1:5174' }, payload: { user: 'alice' } })
    expect(errorOf(other, 403)).toEqual(refusal('http://127.0.0.1:5174'))
  })
})
