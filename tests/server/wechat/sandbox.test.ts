import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { parseTemplateContent } from '../../../src/domain/template-content'
import { createSandboxWeChat, type SandboxWeChat } from '../../../server/wechat/sandbox'
import { ACCOUNT_SECURITY, APP_ID, manualClock, ORDER_DATA, ORDER_STATUS, PAGES, SECRET, SECURITY_DATA, type ManualClock } from './support'

let clock: ManualClock
let sandbox: SandboxWeChat

beforeEach(async () => {
  clock = manualClock()
  sandbox = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: [ORDER_STATUS, ACCOUNT_SECURITY], pages: PAGES, clock })
  await sandbox.listen()
})
afterEach(() => sandbox.close())

type Answer = { errcode?: number; errmsg?: string } & Record<string, unknown>

async function get(path: string, query: Record<string, string>): Promise<Answer> {
  const response = await request(`${sandbox.url}${path}?${new URLSearchParams(query).toString()}`)
  expect(response.statusCode).toBe(200)
  return (await response.body.json()) as Answer
}

async function post(path: string, body: unknown, query: Record<string, string> = {}): Promise<{ status: number; answer: Answer | null }> {
  const response = await request(`${sandbox.url}${path}?${new URLSearchParams(query).toString()}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.body.text()
  return { status: response.statusCode, answer: response.statusCode === 200 ? (JSON.parse(text) as Answer) : null }
}

async function stableToken(forceRefresh = false): Promise<string> {
  const { answer } = await post('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: APP_ID, secret: SECRET, force_refresh: forceRefresh })
  expect(answer).toMatchObject({ errcode: 0, expires_in: expect.any(Number) as number })
  return String(answer!.access_token)
}

async function send(token: string, body: Record<string, unknown>): Promise<Answer> {
  const { status, answer } = await post('/cgi-bin/message/subscribe/send', body, { access_token: token })
  expect(status).toBe(200)
  return answer!
}

describe('sandbox tokens', () => {
  it('stable_token gives every caller the same token until 5 minutes before expiry', async () => {
    const first = await stableToken()
    expect(await stableToken()).toBe(first)
    clock.advance(7_200_000 - 300_001)
    expect(await stableToken()).toBe(first)
    clock.advance(2)
    const second = await stableToken()
    expect(second).not.toBe(first)
    expect(sandbox.stats()).toMatchObject({ tokenIssued: 2, tokenCalls: 4 })
  })

  it('force_refresh issues a new token; the old one works 5 more minutes, then answers 40001', async () => {
    const openid = sandbox.openidFor('alice')
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const old = await stableToken()
    const fresh = await stableToken(true)
    expect(fresh).not.toBe(old)
    clock.advance(299_000)
    expect(await send(old, { touser: openid, template_id: 'nope', data: {} })).toEqual({ errcode: 40037, errmsg: 'invalid template_id' })
    clock.advance(1_000)
    expect(await send(old, { touser: openid, template_id: ORDER_STATUS.id, data: ORDER_DATA })).toEqual({
      errcode: 40001,
      errmsg: 'invalid credential, access_token is invalid or not latest',
    })
    expect(await send(fresh, { touser: openid, template_id: ORDER_STATUS.id, data: ORDER_DATA })).toMatchObject({ errcode: 0 })
  })

  it('answers 42001 after expiry, 40001 for a token it never issued, 41001 without one', async () => {
    const token = await stableToken()
    clock.advance(7_200_000)
    expect(await send(token, {})).toEqual({ errcode: 42001, errmsg: 'access_token expired' })
    expect(await send('made-up', {})).toMatchObject({ errcode: 40001 })
    expect((await post('/cgi-bin/message/subscribe/send', {})).answer).toEqual({ errcode: 41001, errmsg: 'access_token missing' })
  })

  it('refuses a wrong appid or secret', async () => {
    expect((await post('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: 'wxother', secret: SECRET })).answer).toEqual({
      errcode: 40013,
      errmsg: 'invalid appid',
    })
    expect(await get('/cgi-bin/token', { grant_type: 'client_credential', appid: APP_ID, secret: 'wrong' })).toEqual({
      errcode: 40125,
      errmsg: 'invalid appsecret',
    })
  })

  it('cgi-bin/token issues a new token on every call', async () => {
    const query = { grant_type: 'client_credential', appid: APP_ID, secret: SECRET }
    const first = await get('/cgi-bin/token', query)
    const second = await get('/cgi-bin/token', query)
    expect(first).toMatchObject({ errcode: 0, expires_in: 7200 })
    expect(second.access_token).not.toBe(first.access_token)
  })
})

describe('sandbox login', () => {
  const session = (code: string): Promise<Answer> =>
    get('/sns/jscode2session', { appid: APP_ID, secret: SECRET, js_code: code, grant_type: 'authorization_code' })

  it('maps a code it issued to the user’s stable openid, once', async () => {
    const code = sandbox.issueCode('alice')
    const answer = await session(code)
    expect(answer).toMatchObject({ errcode: 0, openid: sandbox.openidFor('alice'), session_key: expect.any(String) as string })
    expect(sandbox.openidFor('alice')).toMatch(/^o[A-Za-z0-9_-]{27}$/)
    expect(sandbox.openidFor('bob')).not.toBe(sandbox.openidFor('alice'))
    expect(await session(code)).toEqual({ errcode: 40163, errmsg: 'code been used' })
  })

  it('answers 40029 for an unknown or expired code', async () => {
    expect(await session('0a1b2c')).toEqual({ errcode: 40029, errmsg: 'invalid code' })
    const code = sandbox.issueCode('alice')
    clock.advance(300_000)
    expect(await session(code)).toEqual({ errcode: 40029, errmsg: 'invalid code' })
  })
})

describe('sandbox send', () => {
  let token: string
  let openid: string
  beforeEach(async () => {
    token = await stableToken()
    openid = sandbox.openidFor('alice')
  })
  const message = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    touser: openid,
    template_id: ORDER_STATUS.id,
    page: 'pages/orders/index?id=DD20260301001',
    data: ORDER_DATA,
    miniprogram_state: 'developer',
    lang: 'zh_CN',
    ...extra,
  })

  it('spends one quota per accepted send, then answers 43101', async () => {
    expect(sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })).toEqual({ [ORDER_STATUS.id]: 1 })
    expect(sandbox.grant(openid, { [ORDER_STATUS.id]: 'acceptWithAudio' })).toEqual({ [ORDER_STATUS.id]: 2 })
    expect(sandbox.grant(openid, { [ORDER_STATUS.id]: 'reject' })).toEqual({ [ORDER_STATUS.id]: 2 })
    const first = await send(token, message())
    expect(first).toEqual({ errcode: 0, errmsg: 'ok', msgid: expect.any(Number) as number })
    expect(await send(token, message())).toMatchObject({ errcode: 0 })
    expect(sandbox.quota(openid, ORDER_STATUS.id)).toBe(0)
    expect(await send(token, message())).toEqual({ errcode: 43101, errmsg: 'user refuse to accept the msg' })
    expect(sandbox.received()).toHaveLength(2)
    expect(sandbox.received()[0]).toMatchObject({
      touser: openid,
      template_id: ORDER_STATUS.id,
      page: 'pages/orders/index?id=DD20260301001',
      data: ORDER_DATA,
      msgid: String(first.msgid),
      at: clock.now(),
    })
    expect(sandbox.stats().sendCalls).toBe(3)
  })

  it('lets one long-term accept allow many sends until rejected', async () => {
    const data = SECURITY_DATA
    expect(sandbox.grant(openid, { [ACCOUNT_SECURITY.id]: 'accept' })).toEqual({ [ACCOUNT_SECURITY.id]: 1 })
    for (let i = 0; i < 3; i += 1) expect(await send(token, message({ template_id: ACCOUNT_SECURITY.id, data }))).toMatchObject({ errcode: 0 })
    sandbox.grant(openid, { [ACCOUNT_SECURITY.id]: 'reject' })
    expect(await send(token, message({ template_id: ACCOUNT_SECURITY.id, data }))).toMatchObject({ errcode: 43101 })
  })

  it('remember: a user it forgot is one again with the quota given; a count it still has is kept', async () => {
    const forgotten = 'oRememberedFromTheDatabase00'
    expect(await send(token, message({ touser: forgotten }))).toMatchObject({ errcode: 40003 })
    sandbox.remember(forgotten, { [ORDER_STATUS.id]: 2 })
    expect(sandbox.quota(forgotten, ORDER_STATUS.id)).toBe(2)
    expect(await send(token, message({ touser: forgotten }))).toMatchObject({ errcode: 0 })
    expect(sandbox.quota(forgotten, ORDER_STATUS.id)).toBe(1)

    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    sandbox.remember(openid, { [ORDER_STATUS.id]: 0, [ACCOUNT_SECURITY.id]: 1 })
    expect(sandbox.quota(openid, ORDER_STATUS.id)).toBe(1)
    expect(sandbox.quota(openid, ACCOUNT_SECURITY.id)).toBe(1)
  })

  it('answers 40003, 40037, 41030 and 47003 before touching the quota', async () => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    expect(await send(token, message({ touser: 'oUnknownOpenid000000000000000' }))).toEqual({ errcode: 40003, errmsg: 'invalid openid' })
    expect(await send(token, message({ template_id: 'x'.repeat(43) }))).toEqual({ errcode: 40037, errmsg: 'invalid template_id' })
    expect(await send(token, message({ page: 'pages/unknown/index' }))).toEqual({ errcode: 41030, errmsg: 'invalid page' })
    expect(await send(token, message({ data: { ...ORDER_DATA, thing3: { value: '一二三四五六七八九十一二三四五六七八九十一' } } }))).toEqual({
      errcode: 47003,
      errmsg: 'argument invalid! data.thing3.value invalid',
    })
    expect(await send(token, message({ data: { ...ORDER_DATA, phrase2: { value: 'shipped' } } }))).toEqual({
      errcode: 47003,
      errmsg: 'argument invalid! data.phrase2.value invalid',
    })
    expect(await send(token, message({ miniprogram_state: 'beta' }))).toEqual({ errcode: 47003, errmsg: 'argument invalid! miniprogram_state invalid' })
    expect(sandbox.quota(openid, ORDER_STATUS.id)).toBe(1)
    expect(sandbox.received()).toEqual([])
  })

  it('answers 47001 for a body that is not JSON', async () => {
    const { answer } = await post('/cgi-bin/message/subscribe/send', '{not json', { access_token: token })
    expect(answer).toEqual({ errcode: 47001, errmsg: 'data format error' })
  })

  it('failNext answers the given errcode for exactly the next N sends', async () => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    sandbox.setFaults({ failNext: { errcode: 45009, count: 2 } })
    expect(await send(token, message())).toMatchObject({ errcode: 45009 })
    expect(await send(token, message())).toMatchObject({ errcode: 45009 })
    expect(await send(token, message())).toMatchObject({ errcode: 0 })
    expect(sandbox.quota(openid, ORDER_STATUS.id)).toBe(0)
  })

  it('failNext -2 answers HTTP 502; reset drops the connection', async () => {
    sandbox.setFaults({ failNext: { errcode: -2, count: 1 } })
    expect((await post('/cgi-bin/message/subscribe/send', message(), { access_token: token })).status).toBe(502)
    sandbox.setFaults({ failNext: { errcode: 'reset', count: 1 } })
    await expect(post('/cgi-bin/message/subscribe/send', message(), { access_token: token })).rejects.toThrow()
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    expect(await send(token, message())).toMatchObject({ errcode: 0 })
  })

  it('busyRate answers -1 to an exact, evenly spread share of sends', async () => {
    sandbox.grant(openid, Object.fromEntries([[ORDER_STATUS.id, 'accept']]))
    sandbox.setFaults({ busyRate: 0.25 })
    const codes: number[] = []
    for (let i = 0; i < 8; i += 1) codes.push((await send(token, message({ template_id: 'unknown' }))).errcode ?? NaN)
    expect(codes).toEqual([40037, 40037, 40037, -1, 40037, 40037, 40037, -1])
    sandbox.setFaults({ busyRate: 0 })
    expect(await send(token, message())).toMatchObject({ errcode: 0 })
  })

  it('expireTokens makes every token answer 42001 and stable_token issue a new one', async () => {
    sandbox.setFaults({ expireTokens: true })
    expect(await send(token, message())).toMatchObject({ errcode: 42001 })
    const fresh = await stableToken()
    expect(fresh).not.toBe(token)
  })
})

describe('sandbox gettemplate', () => {
  it('lists the catalogue with content WeChat’s way, parseable back into the keywords', async () => {
    const answer = await get('/wxaapi/newtmpl/gettemplate', { access_token: await stableToken() })
    expect(answer.errcode).toBe(0)
    const data = answer.data as { priTmplId: string; title: string; content: string; type: number; keywordEnumValueList?: unknown }[]
    expect(data.map((t) => [t.priTmplId, t.title, t.type])).toEqual([
      [ORDER_STATUS.id, '订单状态通知', 2],
      [ACCOUNT_SECURITY.id, '账户安全提醒', 3],
    ])
    expect(data[0]!.content).toBe('订单号:{{character_string1.DATA}}\n订单状态:{{phrase2.DATA}}\n商品名称:{{thing3.DATA}}\n更新时间:{{time4.DATA}}\n备注:{{thing5.DATA}}\n')
    expect(parseTemplateContent(data[1]!.content)).toEqual(ACCOUNT_SECURITY.keywords.map(({ name, type, label }) => ({ name, type, label })))
    expect(data[1]!.keywordEnumValueList).toEqual([{ keywordCode: 'enum3.DATA', enumValueList: ['低', '中', '高'] }])
  })

  it('needs a valid token', async () => {
    expect(await get('/wxaapi/newtmpl/gettemplate', { access_token: 'stale' })).toMatchObject({ errcode: 40001 })
  })
})
