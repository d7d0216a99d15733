/**
 * What the operator console reads and does through the HTTP contract: signing in with the admin key
 * for an operator session (stored hashed, expiring, ended by 退出), the health report, outcomes over
 * time, a filter's preview, and the catalogue for an operator.
 */
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FaultsState, OperatorSession, ReceivedList, SegmentPreview, ServiceHealth, Timeline } from '../../../src/domain/console-contract'
import type { MessageOutcome, TemplateList } from '../../../src/domain/contract'
import {
  ADMIN_KEY,
  NOON_SHANGHAI,
  ORDER_DATA,
  ORDER_STATUS,
  TEMPLATES,
  adminHeaders,
  errorOf,
  signIn,
  startFakeService,
  startSandboxService,
  testConfig,
  type FakeService,
} from '../support/service'
import { PUSH_APPID, PUSH_TOKEN, popup, postPush, sent as sentEvent, type Push } from '../support/push'

const HOUR_MS = 3_600_000

let service: FakeService

beforeEach(async () => {
  service = await startFakeService()
})
afterEach(async () => service.close())

async function operatorSignIn(key: string) {
  return service.app.inject({ method: 'POST', url: '/api/admin/session', payload: { key } })
}

async function operatorToken(): Promise<string> {
  const reply = await operatorSignIn(ADMIN_KEY)
  expect(reply.statusCode, reply.body).toBe(201)
  return reply.json<OperatorSession>().token
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('POST /api/admin/session: the admin key for an operator session', () => {
  it('answers 201 a random token that expires in 12 hours; only its sha256 is stored, and it opens the admin routes', async () => {
    const reply = await operatorSignIn(ADMIN_KEY)
    expect(reply.statusCode, reply.body).toBe(201)
    const session = reply.json<OperatorSession>()
    expect(session).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAt: '2026-11-25T17:00:00.000Z' })
    const rows = service.storage.db.prepare('SELECT token_hash, expires_at FROM operator_sessions').all()
    expect(rows).toEqual([
      { token_hash: createHash('sha256').update(session.token).digest('hex'), expires_at: NOON_SHANGHAI.getTime() + 12 * HOUR_MS },
    ])
    const campaigns = await service.app.inject({ method: 'GET', url: '/api/campaigns', headers: bearer(session.token) })
    expect(campaigns.statusCode, campaigns.body).toBe(200)
    expect(campaigns.json()).toEqual([])
    expect(service.logs.join('\n')).not.toContain(ADMIN_KEY)
    expect(service.logs.join('\n')).not.toContain(session.token)
  })

  it('refuses a wrong key: 403 FORBIDDEN naming key, and no session is made', async () => {
    expect(errorOf(await operatorSignIn('not-the-admin-key-at-all'), 403)).toEqual({ code: 'FORBIDDEN', message: '管理密钥不正确', field: 'key' })
    expect(service.storage.db.prepare('SELECT COUNT(*) AS n FROM operator_sessions').get()).toEqual({ n: 0 })
  })

  it('is limited per address like every sign-in: the 21st in a minute is 429', async () => {
    for (let i = 0; i < 20; i += 1) expect((await operatorSignIn(`wrong-key-${i}`)).statusCode).toBe(403)
    expect(errorOf(await operatorSignIn(ADMIN_KEY), 429).code).toBe('RATE_LIMITED')
  })

  it('an expired session is 401 UNAUTHORIZED saying so; an unknown token stays 403', async () => {
    const token = await operatorToken()
    service.manual.set(new Date(NOON_SHANGHAI.getTime() + 12 * HOUR_MS))
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/api/health', headers: bearer(token) }), 401)).toEqual({
      code: 'UNAUTHORIZED',
      message: '登录已过期，请重新输入管理密钥登录',
    })
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/api/health', headers: bearer('no-such-token') }), 403).code).toBe('FORBIDDEN')
  })

  it('DELETE /api/admin/session (退出) ends it: 204, then the token opens nothing', async () => {
    const token = await operatorToken()
    const out = await service.app.inject({ method: 'DELETE', url: '/api/admin/session', headers: bearer(token) })
    expect(out.statusCode, out.body).toBe(204)
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/api/segments', headers: bearer(token) }), 403).code).toBe('FORBIDDEN')
  })

  it('an operator reads the catalogue (GET /api/templates), which a person reads with a session', async () => {
    const reply = await service.app.inject({ method: 'GET', url: '/api/templates', headers: bearer(await operatorToken()) })
    expect(reply.statusCode, reply.body).toBe(200)
    expect(reply.json<TemplateList>().map((template) => template.key)).toEqual(TEMPLATES.map((template) => template.key))
  })
})

describe('GET /api/health', () => {
  it('on a fresh database: nothing waits, nothing in flight, no token yet, no run, no push; the real AppID', async () => {
    const reply = await service.app.inject({ method: 'GET', url: '/api/health', headers: adminHeaders })
    expect(reply.statusCode, reply.body).toBe(200)
    const health = reply.json<ServiceHealth>()
    expect(health).toEqual({
      now: '2026-11-25T05:00:00.000Z',
      wechat: { mode: 'real', appId: 'wx0123456789abcdef' },
      database: { ok: true, latencyMs: expect.any(Number) },
      dispatcher: { queued: 0, due: 0, deferred: 0, sending: 0, inFlight: 0, concurrency: 64, rateLimit: null, sentLastMinute: 0, slowedForMs: 0 },
      scheduler: { intervalMs: 5000, lastRunAt: null },
      accessToken: { expiresAt: null },
      push: { lastEventAt: null },
    })
  })

  it('after a send: the last minute counts it, the token kept is reported, the scheduler run is dated', async () => {
    await service.close()
    service = await startFakeService({ config: testConfig({ WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef', DISPATCH_RATE: '50' }) })
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    await accept(alice, 1)
    expect((await sendOrder(alice.openid)).status).toBe('sent')
    await service.app.scheduler.runOnce()
    const health = (await service.app.inject({ method: 'GET', url: '/api/health', headers: adminHeaders })).json<ServiceHealth>()
    expect(health.dispatcher).toMatchObject({ sentLastMinute: 1, rateLimit: 50, queued: 0 })
    expect(health.scheduler.lastRunAt).toBe('2026-11-25T05:00:00.000Z')
    // The fake WeChat keeps no token: the one in the store is what is reported.
    expect(health.accessToken.expiresAt).toBeNull()
    await service.storage.tokens.write('token-1', new Date('2026-11-25T07:00:00.000Z'))
    const later = (await service.app.inject({ method: 'GET', url: '/api/health', headers: adminHeaders })).json<ServiceHealth>()
    expect(later.accessToken.expiresAt).toBe('2026-11-25T07:00:00.000Z')
  })
})

async function accept(who: { authorization: string; openid: string }, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    service.wechat.grant(who.openid, { [ORDER_STATUS.id]: 'accept' })
    const reply = await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: who.authorization },
      payload: { consentId: `console-consent-${i}-${who.openid.slice(-4)}`, results: { [ORDER_STATUS.id]: 'accept' } },
    })
    expect(reply.statusCode).toBe(200)
  }
}

async function sendOrder(touser: string): Promise<MessageOutcome> {
  const reply = await service.app.inject({
    method: 'POST',
    url: '/api/messages?wait=true',
    headers: adminHeaders,
    payload: { touser, templateId: ORDER_STATUS.id, data: ORDER_DATA },
  })
  expect(reply.statusCode, reply.body).toBe(202)
  return reply.json<MessageOutcome>()
}

async function timeline(range: '24h' | '7d'): Promise<Timeline> {
  const reply = await service.app.inject({ method: 'GET', url: `/api/stats/timeline?range=${range}`, headers: adminHeaders })
  expect(reply.statusCode, reply.body).toBe(200)
  return reply.json<Timeline>()
}

describe('GET /api/stats/timeline', () => {
  it('24h: 24 hourly buckets ending with the current hour, each outcome and errcode counted where it happened; today so far', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    await accept(alice, 2)
    // 11:00 Shanghai: one sent. 13:00: one sent, one failed 43101 (WeChat), one failed NO_CREDIT (never called).
    service.manual.set(new Date('2026-11-25T03:10:00.000Z'))
    expect((await sendOrder(alice.openid)).status).toBe('sent')
    service.manual.set(NOON_SHANGHAI)
    service.wechat.failNext(43101, 1)
    expect((await sendOrder(alice.openid)).reason).toBe('43101')
    expect((await sendOrder(alice.openid)).reason).toBe('NO_CREDIT')

    const day = await timeline('24h')
    expect(day.bucketMs).toBe(HOUR_MS)
    expect(day.buckets).toHaveLength(24)
    expect(day.buckets[0]!.at).toBe('2026-11-24T06:00:00.000Z')
    expect(day.buckets[23]).toEqual({ at: '2026-11-25T05:00:00.000Z', byStatus: { failed: 2 }, byErrcode: { '43101': 1 } })
    expect(day.buckets[21]).toEqual({ at: '2026-11-25T03:00:00.000Z', byStatus: { sent: 1 }, byErrcode: { '0': 1 } })
    expect(day.buckets.filter((bucket) => Object.keys(bucket.byStatus).length > 0)).toHaveLength(2)
    expect(day.today).toEqual({ from: '2026-11-24T16:00:00.000Z', sent: 1, failed: 2, skipped: 0, delivered: null })
  })

  it('7d: 7 days in Shanghai, today last; an empty database gives empty buckets', async () => {
    const week = await timeline('7d')
    expect(week.bucketMs).toBe(24 * HOUR_MS)
    expect(week.buckets.map((bucket) => bucket.at)).toEqual([
      '2026-11-18T16:00:00.000Z',
      '2026-11-19T16:00:00.000Z',
      '2026-11-20T16:00:00.000Z',
      '2026-11-21T16:00:00.000Z',
      '2026-11-22T16:00:00.000Z',
      '2026-11-23T16:00:00.000Z',
      '2026-11-24T16:00:00.000Z',
    ])
    expect(week.buckets.every((bucket) => Object.keys(bucket.byStatus).length === 0 && Object.keys(bucket.byErrcode).length === 0)).toBe(true)
  })

  it('refuses another range naming it', async () => {
    const reply = await service.app.inject({ method: 'GET', url: '/api/stats/timeline?range=30d', headers: adminHeaders })
    expect(errorOf(reply, 400).field).toBe('querystring.range')
  })
})

describe('WeChat\'s message push in 概览: today\'s deliveries and the last push event', () => {
  const NOON_SECONDS = NOON_SHANGHAI.getTime() / 1000

  beforeEach(async () => {
    await service.close()
    service = await startFakeService({ config: testConfig({ WECHAT_APPID: PUSH_APPID, WECHAT_SECRET: 'secret0123456789abcdef', WECHAT_PUSH_TOKEN: PUSH_TOKEN }) })
  })

  async function push(event: Push): Promise<void> {
    expect((await postPush(service.app, event)).body).toBe('success')
  }
  const health = async (): Promise<ServiceHealth> => (await service.app.inject({ method: 'GET', url: '/api/health', headers: adminHeaders })).json<ServiceHealth>()

  it('with push set up and nothing pushed yet: 0 delivered today (not null), no last event', async () => {
    expect((await timeline('24h')).today.delivered).toBe(0)
    expect((await health()).push).toEqual({ lastEventAt: null })
  })

  it('counts the messages WeChat reported delivered today (once each, not the failed, not yesterday\'s); the last event is when the service received it', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    await accept(alice, 4)
    const msgids: string[] = []
    for (let i = 0; i < 4; i += 1) {
      const sent = await sendOrder(alice.openid)
      const detail = (await service.app.inject({ method: 'GET', url: `/api/messages/${sent.id}`, headers: adminHeaders })).json<{ msgid: string }>()
      msgids.push(detail.msgid)
    }
    service.manual.set(new Date(NOON_SHANGHAI.getTime() + 60_000))
    await push(sentEvent(alice.openid, NOON_SECONDS + 5, ORDER_STATUS.id, msgids[0]!))
    // Reported twice by WeChat (a second event, not a retried push): one message delivered.
    await push(sentEvent(alice.openid, NOON_SECONDS + 6, ORDER_STATUS.id, msgids[0]!))
    await push(sentEvent(alice.openid, NOON_SECONDS + 7, ORDER_STATUS.id, msgids[1]!))
    await push(sentEvent(alice.openid, NOON_SECONDS + 8, ORDER_STATUS.id, msgids[2]!, 10_005, 'fail:user refuse'))
    // Dated 23:59 yesterday in Shanghai (today began at 16:00Z).
    service.manual.set(new Date(NOON_SHANGHAI.getTime() + 120_000))
    await push(sentEvent(alice.openid, Date.parse('2026-11-24T15:59:00.000Z') / 1000, ORDER_STATUS.id, msgids[3]!))
    expect((await timeline('24h')).today).toMatchObject({ sent: 4, delivered: 2 })
    expect((await health()).push).toEqual({ lastEventAt: '2026-11-25T05:02:00.000Z' })
  })

  it('a popup event is a push event too', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    service.manual.set(new Date(NOON_SHANGHAI.getTime() + 30_000))
    await push(popup(alice.openid, NOON_SECONDS, [ORDER_STATUS.id, 'accept']))
    expect((await health()).push.lastEventAt).toBe('2026-11-25T05:00:30.000Z')
    expect((await timeline('24h')).today.delivered).toBe(0)
  })
})

describe('POST /api/segments/preview', () => {
  beforeEach(async () => {
    const users = [
      { openid: 'p-ann', tags: ['vip', 'beijing'], attributes: { level: 5 } },
      { openid: 'p-bob', tags: ['beijing'], attributes: { level: 2 } },
      { openid: 'p-cai', tags: ['vip'], attributes: { level: 4 } },
    ]
    const reply = await service.app.inject({ method: 'POST', url: '/api/users/import', headers: adminHeaders, payload: { users } })
    expect(reply.statusCode, reply.body).toBe(200)
  })

  async function preview(filter: unknown) {
    return service.app.inject({ method: 'POST', url: '/api/segments/preview', headers: adminHeaders, payload: { filter } })
  }

  it('counts what a filter not saved yet matches, with its first users', async () => {
    const reply = await preview({ tagsAll: ['vip'], attributes: { level: { gte: 4 } } })
    expect(reply.statusCode, reply.body).toBe(200)
    expect(reply.json<SegmentPreview>()).toEqual({
      users: 2,
      sample: [
        { openid: 'p-ann', tags: ['beijing', 'vip'], attributes: { level: 5 }, lastActiveAt: null },
        { openid: 'p-cai', tags: ['vip'], attributes: { level: 4 }, lastActiveAt: null },
      ],
    })
    expect((await preview({})).json<SegmentPreview>().users).toBe(3)
  })

  it('refuses a filter no one can meet, as saving it would', async () => {
    expect(errorOf(await preview({ tagsAll: ['vip'], tagsNone: ['vip'] }), 400).field).toBe('filter.tagsNone.0')
    expect(errorOf(await preview({ colour: 'red' }), 400).field).toBe('filter.colour')
  })
})

describe('the sandbox for the console: GET /sandbox/faults, GET /sandbox/received?limit=', () => {
  it('reads the switches as set, and the newest received messages only', async () => {
    const sandboxed = await startSandboxService()
    try {
      const put = await sandboxed.app.inject({ method: 'PUT', url: '/sandbox/faults', payload: { latencyMs: 5, busyRate: 0.25, failNext: { errcode: 45009, count: 3 } } })
      expect(put.statusCode, put.body).toBe(200)
      const faults = await sandboxed.app.inject({ method: 'GET', url: '/sandbox/faults' })
      expect(faults.json<FaultsState>()).toEqual({
        latencyMs: 5,
        busyRate: 0.25,
        failNext: { errcode: 45009, left: 3 },
        stats: { tokenIssued: 0, tokenCalls: 0, sendCalls: 0 },
      })
      await sandboxed.app.inject({ method: 'PUT', url: '/sandbox/faults', payload: { latencyMs: 0, busyRate: 0, failNext: { errcode: 45009, count: 0 } } })
      const alice = await signIn(sandboxed.app, (user) => sandboxed.sandbox.issueCode(user), 'alice')
      sandboxed.sandbox.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
      sandboxed.sandbox.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
      await sandboxed.storage.ledger.applyConsent({
        openid: alice.openid,
        consentId: 'console-sandbox-1',
        changes: [{ templateId: ORDER_STATUS.id, result: 'accept', credit: { type: 'add', amount: 2 } }],
        now: NOON_SHANGHAI,
      })
      for (const goods of ['键盘', '鼠标']) {
        const data = { ...ORDER_DATA, thing3: goods }
        const reply = await sandboxed.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: ORDER_STATUS.id, data } })
        expect(reply.json<MessageOutcome>().status).toBe('sent')
      }
      const newest = await sandboxed.app.inject({ method: 'GET', url: '/sandbox/received?limit=1' })
      expect(newest.json<ReceivedList>().map((message) => message.data.thing3?.value)).toEqual(['鼠标'])
      expect((await sandboxed.app.inject({ method: 'GET', url: '/sandbox/received' })).json<ReceivedList>()).toHaveLength(2)
    } finally {
      await sandboxed.close()
    }
  })
})
