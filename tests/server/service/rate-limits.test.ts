/**
 * Request limits: per person (the session's openid) on the routes behind a session, per address on
 * the sign-in routes, never for the admin key, all off with RATE_LIMIT=off; and the cap on a
 * person's live sessions. Windows are counted on the service clock, which the tests move.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { LightMyRequestResponse } from 'fastify'
import {
  ORDER_DATA,
  ORDER_STATUS,
  adminHeaders,
  errorOf,
  signIn,
  startFakeService,
  startSandboxService,
  testConfig,
  type FakeService,
  type TestService,
} from '../support/service'

const REAL = { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef' }

let running: TestService | null = null
afterEach(async () => {
  await running?.close()
  running = null
})

async function start(env: Record<string, string> = {}): Promise<FakeService> {
  const service = await startFakeService({ config: testConfig({ ...REAL, ...env }) })
  running = service
  return service
}

function expectLimited(reply: LightMyRequestResponse, seconds: number): void {
  expect(errorOf(reply, 429)).toEqual({ code: 'RATE_LIMITED', message: `请求太频繁，请等 ${seconds} 秒后再试` })
  expect(reply.headers['retry-after']).toBe(String(seconds))
}

const event = (orderId: string) => ({ type: 'order.status_changed', orderId, status: 'paid' })
const consent = (consentId: string) => ({ consentId, results: { [ORDER_STATUS.id]: 'accept' } })

describe('per person', () => {
  it('by default 60 a minute on POST /api/consents and on POST /api/events, each on its own', async () => {
    const service = await start()
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    const headers = { authorization: alice.authorization }
    for (let i = 0; i < 60; i += 1) {
      const reply = await service.app.inject({ method: 'POST', url: '/api/consents', headers, payload: consent(`consent-${i}`) })
      expect(reply.statusCode, reply.body).toBe(200)
    }
    expectLimited(await service.app.inject({ method: 'POST', url: '/api/consents', headers, payload: consent('consent-60') }), 60)
    expect(await service.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(60)

    for (let i = 0; i < 60; i += 1) {
      const reply = await service.app.inject({ method: 'POST', url: '/api/events', headers, payload: event(`DD${i}`) })
      expect(reply.statusCode, reply.body).toBe(200)
    }
    expectLimited(await service.app.inject({ method: 'POST', url: '/api/events', headers, payload: event('DD60') }), 60)
    expect(await service.storage.messages.listForRecipient(alice.openid, 100)).toHaveLength(60)
  })

  it('counts each person apart, says how long to wait, and lets them in again after the minute', async () => {
    const service = await start({ RATE_LIMIT_WRITES_PER_MINUTE: '3' })
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    const bob = await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    const post = (who: { authorization: string }, orderId: string) =>
      service.app.inject({ method: 'POST', url: '/api/events', headers: { authorization: who.authorization }, payload: event(orderId) })

    for (const orderId of ['DD1', 'DD2', 'DD3']) {
      const reply = await post(alice, orderId)
      expect(reply.statusCode).toBe(200)
      expect(reply.headers['x-ratelimit-limit']).toBe('3')
    }
    expectLimited(await post(alice, 'DD4'), 60)
    // Refused before the body is read: no message row for the refused event.
    expect(await service.storage.messages.listForRecipient(alice.openid, 10)).toHaveLength(3)
    expect((await post(bob, 'DD1')).statusCode).toBe(200)

    service.manual.advance(20_000)
    expectLimited(await post(alice, 'DD5'), 40)
    service.manual.advance(40_000)
    expect((await post(alice, 'DD6')).statusCode).toBe(200)
  })

  it('limits reads per route at RATE_LIMIT_READS_PER_MINUTE, apart from the writes', async () => {
    const service = await start({ RATE_LIMIT_READS_PER_MINUTE: '2', RATE_LIMIT_WRITES_PER_MINUTE: '2' })
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    const headers = { authorization: alice.authorization }
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers })
    expect((await get('/api/me/messages')).statusCode).toBe(200)
    expect((await get('/api/me/messages?limit=5')).statusCode).toBe(200)
    expectLimited(await get('/api/me/messages'), 60)
    expect((await get('/api/me/preferences')).statusCode).toBe(200)
    const preferences = { quietHours: null, dailyLimit: 5, mutedCategories: [] }
    expect((await service.app.inject({ method: 'PUT', url: '/api/me/preferences', headers, payload: preferences })).statusCode).toBe(200)
    expect((await get('/api/templates')).statusCode).toBe(200)
  })

  it('checks the session first: a caller without one is 401 and uses nobody’s budget', async () => {
    const service = await start({ RATE_LIMIT_WRITES_PER_MINUTE: '1' })
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    for (let i = 0; i < 5; i += 1) {
      const anonymous = await service.app.inject({ method: 'POST', url: '/api/events', payload: event('DD1') })
      expect(errorOf(anonymous, 401).code).toBe('UNAUTHORIZED')
    }
    const reply = await service.app.inject({ method: 'POST', url: '/api/events', headers: { authorization: alice.authorization }, payload: event('DD1') })
    expect(reply.statusCode).toBe(200)
  })

  it('never limits the admin key', async () => {
    const service = await start({ RATE_LIMIT_WRITES_PER_MINUTE: '1', RATE_LIMIT_READS_PER_MINUTE: '1', RATE_LIMIT_SIGN_INS_PER_MINUTE: '1' })
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    for (let i = 0; i < 5; i += 1) {
      const send = await service.app.inject({
        method: 'POST',
        url: '/api/messages',
        headers: adminHeaders,
        payload: { touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA },
      })
      expect(send.statusCode).toBe(202)
      expect(send.headers['x-ratelimit-limit']).toBeUndefined()
      expect((await service.app.inject({ method: 'GET', url: '/api/stats', headers: adminHeaders })).statusCode).toBe(200)
    }
  })
})

describe('per address', () => {
  it('by default 20 sign-ins a minute from one address; another address has its own', async () => {
    const service = await start()
    const session = (user: string, remoteAddress = '203.0.113.7') =>
      service.app.inject({ method: 'POST', url: '/api/session', remoteAddress, payload: { code: service.wechat.issueCode(user) } })
    for (let i = 0; i < 20; i += 1) expect((await session(`user${i}`)).statusCode).toBe(200)
    expectLimited(await session('user20'), 60)
    expect((await session('user20', '198.51.100.1')).statusCode).toBe(200)
  })

  it('counts an IPv6 caller by its /64, and passes the admin key', async () => {
    const service = await start({ RATE_LIMIT_SIGN_INS_PER_MINUTE: '1' })
    const session = (remoteAddress: string, headers: Record<string, string> = {}) =>
      service.app.inject({ method: 'POST', url: '/api/session', remoteAddress, headers, payload: { code: service.wechat.issueCode('alice') } })
    expect((await session('2001:db8:0:1::1')).statusCode).toBe(200)
    expectLimited(await session('2001:db8:0:1::2'), 60)
    expect((await session('2001:db8:0:2::1')).statusCode).toBe(200)
    expect((await session('2001:db8:0:1::3', adminHeaders)).statusCode).toBe(200)
  })

  it('believes X-Forwarded-For only from a TRUST_PROXY address', async () => {
    const direct = await start({ RATE_LIMIT_SIGN_INS_PER_MINUTE: '1' })
    const viaProxy = (service: FakeService, forwardedFor: string) =>
      service.app.inject({
        method: 'POST',
        url: '/api/session',
        remoteAddress: '10.0.0.2',
        headers: { 'x-forwarded-for': forwardedFor },
        payload: { code: service.wechat.issueCode('alice') },
      })
    expect((await viaProxy(direct, '203.0.113.1')).statusCode).toBe(200)
    expectLimited(await viaProxy(direct, '203.0.113.2'), 60)
    await direct.close()

    const proxied = await start({ RATE_LIMIT_SIGN_INS_PER_MINUTE: '1', TRUST_PROXY: '10.0.0.0/8' })
    expect((await viaProxy(proxied, '203.0.113.1')).statusCode).toBe(200)
    expect((await viaProxy(proxied, '203.0.113.2')).statusCode).toBe(200)
    expectLimited(await viaProxy(proxied, '203.0.113.1'), 60)
  })

  it('limits POST /sandbox/code in sandbox mode', async () => {
    const service = await startSandboxService({ config: testConfig({ RATE_LIMIT_SIGN_INS_PER_MINUTE: '2' }) })
    running = service
    const code = () => service.app.inject({ method: 'POST', url: '/sandbox/code', payload: { user: 'alice' } })
    expect((await code()).statusCode).toBe(200)
    expect((await code()).statusCode).toBe(200)
    expectLimited(await code(), 60)
  })
})

describe('RATE_LIMIT=off', () => {
  it('turns every limit off (load tests and benchmarks)', async () => {
    const service = await start({ RATE_LIMIT: 'off', RATE_LIMIT_WRITES_PER_MINUTE: '1', RATE_LIMIT_SIGN_INS_PER_MINUTE: '1' })
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    for (let i = 0; i < 5; i += 1) {
      const reply = await service.app.inject({ method: 'POST', url: '/api/events', headers: { authorization: alice.authorization }, payload: event(`DD${i}`) })
      expect(reply.statusCode).toBe(200)
      expect(reply.headers['x-ratelimit-limit']).toBeUndefined()
    }
  })
})

describe('live sessions per person', () => {
  it('beyond SESSIONS_PER_USER, a sign-in ends that person’s oldest session', async () => {
    const service = await start({ SESSIONS_PER_USER: '3' })
    const issue = (user: string) => service.wechat.issueCode(user)
    const bob = await signIn(service.app, issue, 'bob')
    const alices = []
    for (let i = 0; i < 4; i += 1) alices.push(await signIn(service.app, issue, 'alice'))
    const status = async (who: { authorization: string }) =>
      (await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers: { authorization: who.authorization } })).statusCode
    expect(await Promise.all(alices.map(status))).toEqual([401, 200, 200, 200])
    expect(await status(bob)).toBe(200)
    const rows = service.storage.db.prepare('SELECT openid, COUNT(*) AS sessions FROM sessions GROUP BY openid ORDER BY openid').all()
    expect(rows).toEqual(
      [
        { openid: alices[0]!.openid, sessions: 3 },
        { openid: bob.openid, sessions: 1 },
      ].sort((a, b) => a.openid.localeCompare(b.openid)),
    )
  })

  it('by default keeps 20', async () => {
    const service = await start({ RATE_LIMIT: 'off' })
    const issue = (user: string) => service.wechat.issueCode(user)
    const first = await signIn(service.app, issue, 'alice')
    for (let i = 0; i < 19; i += 1) await signIn(service.app, issue, 'alice')
    const headers = { authorization: first.authorization }
    expect((await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers })).statusCode).toBe(200)
    await signIn(service.app, issue, 'alice')
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers }), 401).code).toBe('UNAUTHORIZED')
  })
})
