/**
 * Values the service refuses beyond their JSON types: half of a surrogate pair, preferences the rules
 * refuse, a numeric query written loosely, a goods name no keyword rule accepts. Each is the
 * caller's mistake: a 400 naming the field, nothing written, nothing logged as an error.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ORDER_DATA, ORDER_STATUS, adminHeaders, errorOf, signIn, startFakeService, type FakeService } from '../support/service'

let service: FakeService
let alice: { authorization: string; openid: string }

beforeEach(async () => {
  service = await startFakeService()
  alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
})
afterEach(async () => service.close())

const messageCount = (): unknown => service.storage.db.prepare('SELECT COUNT(*) AS n FROM messages').get()
const errorLines = (): string[] => service.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)

describe('a lone surrogate in a keyword value', () => {
  it('is refused as INVALID_DATA naming the field, as WeChat would refuse it', async () => {
    // "\ud800" is valid JSON and reaches the service as half of a surrogate pair.
    const payload = JSON.stringify({ touser: alice.openid, templateId: ORDER_STATUS.id, data: { ...ORDER_DATA, thing3: '键盘\ud800' } })
    expect(payload).toContain('\\ud800')
    const reply = await service.app.inject({
      method: 'POST',
      url: '/api/messages',
      headers: { ...adminHeaders, 'content-type': 'application/json' },
      payload,
    })
    expect(errorOf(reply, 400)).toEqual({
      code: 'INVALID_DATA',
      field: 'data.thing3.value',
      message: 'data.thing3.value: 含有无效的字符（不成对的代理项，不是完整的 Unicode 字符）',
    })
    expect(messageCount()).toEqual({ n: 0 })
  })
})

describe('preferences the rules refuse', () => {
  async function put(body: Record<string, unknown>) {
    return service.app.inject({ method: 'PUT', url: '/api/me/preferences', headers: { authorization: alice.authorization }, payload: body })
  }

  it('quiet hours that start when they end: 400 on quietHours.end, as the app says, and nothing saved', async () => {
    const reply = await put({ quietHours: { start: '22:00', end: '22:00' }, dailyLimit: 5, mutedCategories: [] })
    expect(errorOf(reply, 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'quietHours.end', message: '免打扰的开始和结束时间不能相同' })
    const saved = await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers: { authorization: alice.authorization } })
    expect(saved.json()).toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
  })

  it('a muted category the catalogue does not have: 400 naming which one', async () => {
    const reply = await put({ quietHours: null, dailyLimit: 5, mutedCategories: ['marketing', 'lottery'] })
    expect(errorOf(reply, 400)).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'mutedCategories.1',
      message: 'mutedCategories.1: 没有这类通知（lottery）',
    })
    const known = await put({ quietHours: null, dailyLimit: 5, mutedCategories: ['marketing', 'order'] })
    expect(known.statusCode).toBe(200)
  })
})

describe('GET /api/me/messages?limit=', () => {
  async function list(limit: string) {
    return service.app.inject({ method: 'GET', url: `/api/me/messages?limit=${limit}`, headers: { authorization: alice.authorization } })
  }

  it.each(['1.5', 'true', '0x3', '1e1', '%205', '+5', '05', 'abc', ''])('limit=%s is refused, not read as a number', async (limit) => {
    expect(errorOf(await list(limit), 400)).toMatchObject({ code: 'VALIDATION_FAILED', field: 'querystring.limit' })
  })

  it('a plain decimal integer in range is read as one; out of range is refused', async () => {
    expect((await list('5')).statusCode).toBe(200)
    expect(errorOf(await list('101'), 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'querystring.limit', message: 'querystring.limit: 不能大于 100' })
    expect(errorOf(await list('1.5'), 400).message).toBe('querystring.limit: 应为整数')
  })
})

describe('POST /api/events with a goods name no keyword rule accepts', () => {
  it('answers 400 naming goodsName; no message is written and no error is logged', async () => {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/api/events',
      headers: { authorization: alice.authorization },
      payload: { type: 'order.status_changed', orderId: 'DD1', status: 'paid', goodsName: '生日蛋糕🎂' },
    })
    expect(errorOf(reply, 400)).toEqual({ code: 'INVALID_DATA', field: 'goodsName', message: 'goodsName: 作为「商品名称」不能包含表情符号' })
    expect(messageCount()).toEqual({ n: 0 })
    expect(errorLines()).toEqual([])
  })
})
