/**
 * Bad input, missing and foreign auth, limits, CORS, and secrets kept out of answers and logs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createHash } from 'node:crypto'
import { ORDER_DATA, ORDER_STATUS, ADMIN_KEY, adminHeaders, errorOf, signIn, startFakeService, testConfig, type FakeService } from '../support/service'

let service: FakeService
let alice: { authorization: string; openid: string; token: string }

async function start(env: Record<string, string> = {}): Promise<void> {
  service = await startFakeService({
    config: testConfig({ WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef', ...env }),
  })
  alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
}

beforeEach(async () => start())
afterEach(async () => service.close())

describe('authentication', () => {
  it('refuses user routes without a token, with a made-up token, and with the admin key (the catalogue excepted: operators read it)', async () => {
    for (const url of ['/api/templates', '/api/me/subscriptions', '/api/me/preferences', '/api/me/messages']) {
      expect(errorOf(await service.app.inject({ method: 'GET', url }), 401).code).toBe('UNAUTHORIZED')
      expect(errorOf(await service.app.inject({ method: 'GET', url, headers: { authorization: 'Bearer not-a-session' } }), 401).code).toBe('UNAUTHORIZED')
      if (url !== '/api/templates') expect(errorOf(await service.app.inject({ method: 'GET', url, headers: adminHeaders }), 401).code).toBe('UNAUTHORIZED')
      expect(errorOf(await service.app.inject({ method: 'GET', url, headers: { authorization: alice.token } }), 401).code).toBe('UNAUTHORIZED')
    }
    expect((await service.app.inject({ method: 'GET', url: '/api/templates', headers: adminHeaders })).statusCode).toBe(200)
  })

  it('refuses admin routes to a person’s session and to a wrong key (403), and without a key (401)', async () => {
    const send = { touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA }
    expect(errorOf(await service.app.inject({ method: 'POST', url: '/api/messages', payload: send }), 401).code).toBe('UNAUTHORIZED')
    const asUser = await service.app.inject({ method: 'POST', url: '/api/messages', headers: { authorization: alice.authorization }, payload: send })
    expect(errorOf(asUser, 403).code).toBe('FORBIDDEN')
    const wrongKey = await service.app.inject({ method: 'GET', url: '/api/stats', headers: { authorization: `Bearer ${ADMIN_KEY}x` } })
    expect(errorOf(wrongKey, 403).code).toBe('FORBIDDEN')
    const prefix = await service.app.inject({ method: 'GET', url: '/api/stats', headers: { authorization: `Bearer ${ADMIN_KEY.slice(0, 10)}` } })
    expect(errorOf(prefix, 403).code).toBe('FORBIDDEN')
    expect((await service.app.inject({ method: 'GET', url: '/api/stats', headers: adminHeaders })).statusCode).toBe(200)
  })

  it('checks the session before the body: no or a bad token with a bad body is 401, not a field-level 400', async () => {
    const bad = { nonsense: true }
    for (const [method, url] of [['POST', '/api/consents'], ['POST', '/api/events'], ['PUT', '/api/me/preferences']] as const) {
      expect(errorOf(await service.app.inject({ method, url, payload: bad }), 401)).toEqual({
        code: 'UNAUTHORIZED',
        message: '未登录：请求头需要 Authorization: Bearer <令牌>',
      })
      const madeUp = await service.app.inject({ method, url, payload: bad, headers: { authorization: 'Bearer not-a-session' } })
      expect(errorOf(madeUp, 401)).toEqual({ code: 'UNAUTHORIZED', message: '登录已失效或令牌无效，请重新登录' })
      // Not JSON at all: still the session first.
      const notJson = await service.app.inject({ method, url, payload: '{"consentId": ', headers: { 'content-type': 'application/json' } })
      expect(errorOf(notJson, 401).code).toBe('UNAUTHORIZED')
    }
    // With the session, the same body is the caller's mistake in a field.
    const signedIn = await service.app.inject({ method: 'POST', url: '/api/consents', payload: bad, headers: { authorization: alice.authorization } })
    expect(errorOf(signedIn, 400)).toMatchObject({ code: 'VALIDATION_FAILED', field: 'consentId' })
  })

  it('checks the admin key before the body: 401 without a key, 403 with a wrong one, then 400', async () => {
    const bad = { touser: 42, templateId: ORDER_STATUS.id, data: ORDER_DATA }
    expect(errorOf(await service.app.inject({ method: 'POST', url: '/api/messages', payload: bad }), 401).code).toBe('UNAUTHORIZED')
    const wrong = await service.app.inject({ method: 'POST', url: '/api/messages', payload: bad, headers: { authorization: alice.authorization } })
    expect(errorOf(wrong, 403)).toEqual({ code: 'FORBIDDEN', message: '管理密钥不正确：这个接口只对运营方开放' })
    const badId = await service.app.inject({ method: 'GET', url: `/api/messages/${'x'.repeat(65)}`, headers: { authorization: 'Bearer wrong-admin-key-0123' } })
    expect(errorOf(badId, 403).code).toBe('FORBIDDEN')
    const admin = await service.app.inject({ method: 'POST', url: '/api/messages', payload: bad, headers: adminHeaders })
    expect(errorOf(admin, 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'touser', message: 'touser: 应为字符串' })
  })

  it('a person sees only their own messages and sends events only to themselves', async () => {
    const bob = await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA } })
    const bobs = await service.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: bob.authorization } })
    expect(bobs.json()).toEqual([])
    // There is no field to name another recipient: an extra `touser` is ignored, the event is Bob's.
    const event = await service.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { authorization: bob.authorization },
      payload: { type: 'order.status_changed', orderId: 'DD9', status: 'paid', touser: alice.openid },
    })
    expect(event.statusCode).toBe(200)
    const [message] = await service.storage.messages.listForRecipient(bob.openid, 5)
    expect(message?.openid).toBe(bob.openid)
    expect(await service.storage.messages.listForRecipient(alice.openid, 5)).toHaveLength(1)
  })

  it('sessions expire after SESSION_TTL hours', async () => {
    await service.close()
    await start({ SESSION_TTL: '2' })
    const ok = await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers: { authorization: alice.authorization } })
    expect(ok.statusCode).toBe(200)
    service.manual.advance(2 * 3_600_000)
    const expired = await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers: { authorization: alice.authorization } })
    expect(errorOf(expired, 401).message).toBe('登录已失效或令牌无效，请重新登录')
  })

  it('issues 256-bit random tokens and stores only their sha256', async () => {
    expect(alice.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const rows = service.storage.db.prepare('SELECT token_hash FROM sessions').all() as { token_hash: string }[]
    expect(rows.map((row) => row.token_hash)).toContain(createHash('sha256').update(alice.token).digest('hex'))
    expect(JSON.stringify(rows)).not.toContain(alice.token)
  })
})

describe('bad input', () => {
  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    service.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } })

  it('malformed JSON is 400 MALFORMED_JSON, no stack', async () => {
    const reply = await post('/api/session', '{"code": ')
    expect(errorOf(reply, 400).code).toBe('MALFORMED_JSON')
    expect(reply.body).not.toMatch(/at .*\.(ts|js)/)
  })

  it('a body over 64 KiB is 413 PAYLOAD_TOO_LARGE', async () => {
    const reply = await post('/api/messages', JSON.stringify({ touser: 'x', templateId: 'y', data: {}, pad: 'x'.repeat(70_000) }), adminHeaders)
    expect(errorOf(reply, 413).code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('a body that is not JSON is 415', async () => {
    const reply = await service.app.inject({ method: 'POST', url: '/api/session', payload: 'code=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(errorOf(reply, 415).code).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  it('missing fields, wrong types, too long values and an array body name the field', async () => {
    expect(errorOf(await post('/api/session', '{}'), 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'code', message: 'code: 缺少这个字段' })
    expect(errorOf(await post('/api/session', '{"code": 42}'), 400)).toMatchObject({ field: 'code', message: 'code: 应为字符串' })
    expect(errorOf(await post('/api/session', JSON.stringify({ code: 'x'.repeat(129) })), 400)).toMatchObject({ message: 'code: 最多 128 个字符' })
    expect(errorOf(await post('/api/session', '[]'), 400)).toMatchObject({ field: 'body', message: 'body: 应为对象' })
    const data = await post('/api/messages', JSON.stringify({ touser: alice.openid, templateId: ORDER_STATUS.id, data: { thing3: { value: 'x'.repeat(201) } } }), adminHeaders)
    expect(errorOf(data, 400)).toMatchObject({ field: 'data.thing3.value', message: 'data.thing3.value: 最多 200 个字符' })
    const event = await post('/api/events', JSON.stringify({ type: 'order.status_changed', orderId: 'DD1', status: 'lost' }), { authorization: alice.authorization })
    expect(errorOf(event, 400)).toMatchObject({ field: 'status' })
    expect(errorOf(event, 400).message).toContain('"shipped"')
    const query = await service.app.inject({ method: 'GET', url: '/api/me/messages?limit=1000', headers: { authorization: alice.authorization } })
    expect(errorOf(query, 400)).toMatchObject({ field: 'querystring.limit', message: 'querystring.limit: 不能大于 100' })
  })

  it('an unknown route is a JSON 404', async () => {
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/api/nothing' }), 404).code).toBe('NOT_FOUND')
    expect(errorOf(await service.app.inject({ method: 'GET', url: `/api/messages/does-not-exist`, headers: adminHeaders }), 404).code).toBe('NOT_FOUND')
  })
})

describe('real-WeChat mode', () => {
  it('has no sandbox routes and says so in /api/info', async () => {
    for (const [method, url] of [['POST', '/sandbox/code'], ['GET', '/sandbox/received'], ['PUT', '/sandbox/clock'], ['POST', '/sandbox/scheduler/run'], ['PUT', '/sandbox/faults']] as const) {
      expect((await service.app.inject({ method, url, payload: {} })).statusCode).toBe(404)
    }
    expect((await service.app.inject({ method: 'GET', url: '/api/info' })).json()).toEqual({ sandbox: false, miniprogramState: 'formal' })
  })
})

describe('CORS', () => {
  it('answers only configured origins', async () => {
    await service.close()
    await start({ CORS_ORIGINS: 'https://shop.example.com' })
    const allowed = await service.app.inject({ method: 'OPTIONS', url: '/api/templates', headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'GET' } })
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example.com')
    const other = await service.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://evil.example.com' } })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('secrets', () => {
  it('never appear in answers or logs: session tokens, the admin key, the AppSecret, access tokens', async () => {
    const secret = 'secret0123456789abcdef'
    await service.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: alice.authorization } })
    await service.app.inject({ method: 'GET', url: '/api/stats', headers: adminHeaders })
    await service.app.inject({ method: 'GET', url: '/api/stats?access_token=leaky-token-123', headers: adminHeaders })
    await service.app.inject({ method: 'GET', url: '/api/stats', headers: { authorization: 'Bearer wrong-admin-key-guess' } })
    const logs = service.logs.join('')
    expect(logs).toContain('/api/me/messages')
    expect(logs).not.toContain(alice.token)
    expect(logs).not.toContain(ADMIN_KEY)
    expect(logs).not.toContain('wrong-admin-key-guess')
    expect(logs).not.toContain(secret)
    expect(logs).not.toContain('leaky-token-123')
    const info = await service.app.inject({ method: 'GET', url: '/api/info' })
    expect(info.body).not.toContain(secret)
  })

  it('a 500 says nothing about the inside and logs the error without secrets', async () => {
    vi.spyOn(service.storage.messages, 'get').mockRejectedValueOnce(
      new Error('boom at https://api.weixin.qq.com/cgi-bin/message/subscribe/send?access_token=SECRET_TOKEN_42'),
    )
    const reply = await service.app.inject({ method: 'GET', url: '/api/messages/some-id', headers: adminHeaders })
    expect(errorOf(reply, 500)).toEqual({ code: 'INTERNAL', message: '服务内部错误，请稍后重试' })
    expect(reply.body).not.toContain('boom')
    expect(service.logs.join('')).toContain('access_token=[REDACTED]')
    expect(service.logs.join('')).not.toContain('SECRET_TOKEN_42')
  })

  it('a send that fails inside the service, and then cannot even be recorded, leaks no secret either', async () => {
    service.wechat.sendSubscribeMessage = async () => {
      throw new Error('boom at https://api.weixin.qq.com/cgi-bin/message/subscribe/send?access_token=SECRET_TOKEN_43')
    }
    // …and then the database refuses to record the failure.
    service.storage.db.exec(`CREATE TRIGGER refuse_failed BEFORE UPDATE OF status ON messages WHEN NEW.status = 'failed'
      BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`)
    await service.app.inject({ method: 'POST', url: '/api/consents', headers: { authorization: alice.authorization }, payload: { consentId: 'consent-500x', results: { [ORDER_STATUS.id]: 'accept' } } })
    const reply = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA } })
    expect(reply.statusCode).toBe(202)
    expect(reply.json()).toMatchObject({ status: 'sending' })
    expect(reply.body).not.toContain('disk on fire')
    expect(service.logs.join('')).toContain('access_token=[REDACTED]')
    expect(service.logs.join('')).not.toContain('SECRET_TOKEN_43')
  })
})
