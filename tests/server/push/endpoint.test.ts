/**
 * GET|POST /wechat/push through the service's HTTP routes (app.inject), with pushes written as WeChat
 * writes them (tests/server/support/push.ts): the URL check, every mode and both formats, what a bad
 * signature or body gets, and retries applied once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { encryptPush } from '../../../server/wechat/push/crypto'
import { ACTIVITY_REMINDER, ORDER_STATUS, errorOf, signIn, startFakeService, testConfig, type FakeService } from '../support/service'
import {
  NONCE,
  PUSH_AES_KEY,
  PUSH_APPID,
  PUSH_TOKEN,
  TIMESTAMP,
  popup,
  postPush,
  postRaw,
  pushRequest,
  sha1Signature,
  type Format,
} from '../support/push'

const REAL = { WECHAT_APPID: PUSH_APPID, WECHAT_SECRET: 'secret0123456789abcdef' }
const SHIPPING_ID = 'N6BX5UxxW1cLJOMam0uuJ5dFRK18CNWKbb6L2ISKxlw'
const CREATED = 1_764_648_000

let service: FakeService
afterEach(async () => service.close())

async function start(env: Record<string, string> = {}): Promise<FakeService> {
  service = await startFakeService({ config: testConfig({ ...REAL, WECHAT_PUSH_TOKEN: PUSH_TOKEN, ...env }) })
  return service
}
const startSecure = (): Promise<FakeService> => start({ WECHAT_PUSH_AES_KEY: PUSH_AES_KEY })

const person = (user: string) => signIn(service.app, (name) => service.wechat.issueCode(name), user)
const credits = (openid: string, templateId = ORDER_STATUS.id): Promise<number> => service.storage.ledger.credits(openid, templateId)
const storedEvents = (): number => (service.storage.db.prepare('SELECT COUNT(*) AS n FROM wechat_events').get() as { n: number }).n

function expectSuccess(reply: { statusCode: number; body: string; headers: Record<string, unknown> }): void {
  expect(reply.statusCode, reply.body).toBe(200)
  expect(reply.body).toBe('success')
  expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8')
}

describe('the URL check (GET)', () => {
  const check = (signature: string) =>
    service.app.inject({ method: 'GET', url: `/wechat/push?${new URLSearchParams({ signature, timestamp: TIMESTAMP, nonce: NONCE, echostr: '7340520816512734285' }).toString()}` })

  it('echoes echostr when signature = sha1(sort(Token, timestamp, nonce))', async () => {
    await start()
    const reply = await check(sha1Signature(PUSH_TOKEN, TIMESTAMP, NONCE))
    expect(reply.statusCode).toBe(200)
    expect(reply.body).toBe('7340520816512734285')
  })

  it('a signature made with another Token is 401 INVALID_SIGNATURE on signature; none at all too', async () => {
    await start()
    expect(errorOf(await check(sha1Signature('AnotherToken', TIMESTAMP, NONCE)), 401)).toMatchObject({ code: 'INVALID_SIGNATURE', field: 'signature' })
    const bare = await service.app.inject({ method: 'GET', url: '/wechat/push?echostr=1' })
    expect(errorOf(bare, 401)).toMatchObject({ code: 'INVALID_SIGNATURE', field: 'signature' })
  })
})

describe.each<Format>(['xml', 'json'])('plaintext mode, %s', (format) => {
  it('one template (List an object): the accept is a credit, answered success', async () => {
    await start()
    const alice = await person('alice')
    expectSuccess(await postPush(service.app, popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { format }))
    expect(await credits(alice.openid)).toBe(1)
  })

  it('several templates (List an array): each accept a credit, a reject recorded as the last result', async () => {
    await start()
    const alice = await person('alice')
    const push = popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept'], [SHIPPING_ID, 'reject'], [ACTIVITY_REMINDER.id, 'accept'])
    expectSuccess(await postPush(service.app, push, { format }))
    const listed = await service.app.inject({ method: 'GET', url: '/api/me/subscriptions', headers: { authorization: alice.authorization } })
    expect(listed.json<Array<{ templateId: string; credits: number; lastResult: string }>>().map(({ templateId, credits: n, lastResult }) => [templateId, n, lastResult])).toEqual([
      [SHIPPING_ID, 0, 'reject'],
      [ACTIVITY_REMINDER.id, 1, 'accept'],
      [ORDER_STATUS.id, 1, 'accept'],
    ])
  })

  it('a signature made with another Token is 401 and nothing is stored', async () => {
    await start()
    const alice = await person('alice')
    const reply = await postPush(service.app, popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { format, token: 'AnotherToken' })
    expect(errorOf(reply, 401)).toMatchObject({ code: 'INVALID_SIGNATURE', field: 'signature' })
    expect(await credits(alice.openid)).toBe(0)
    expect(storedEvents()).toBe(0)
  })
})

it('JSON with List under the event\'s element (as some reports show it) reads the same', async () => {
  await start()
  const alice = await person('alice')
  const push = { ...popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept'], [ACTIVITY_REMINDER.id, 'accept']), wrapped: true }
  expectSuccess(await postPush(service.app, push, { format: 'json' }))
  expect([await credits(alice.openid), await credits(alice.openid, ACTIVITY_REMINDER.id)]).toEqual([1, 1])
})

describe.each<Format>(['xml', 'json'])('secure and compatible mode (encrypt_type=aes), %s', (format) => {
  it('secure mode: msg_signature checked, decrypted, applied', async () => {
    await startSecure()
    const alice = await person('alice')
    const push = popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept'], [ACTIVITY_REMINDER.id, 'accept'])
    expectSuccess(await postPush(service.app, push, { format, mode: 'secure' }))
    expect([await credits(alice.openid), await credits(alice.openid, ACTIVITY_REMINDER.id)]).toEqual([1, 1])
  })

  it('compatible mode: only the decrypted push counts, never the plaintext beside it', async () => {
    await startSecure()
    const alice = await person('alice')
    const { url, body, contentType } = pushRequest(popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { format, mode: 'compatible' })
    // Someone edits the plaintext part to claim another template: the signature covers only Encrypt.
    const forged = body.replace(ORDER_STATUS.id, ACTIVITY_REMINDER.id)
    expect(forged).not.toBe(body)
    expectSuccess(await service.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: forged }))
    expect([await credits(alice.openid), await credits(alice.openid, ACTIVITY_REMINDER.id)]).toEqual([1, 0])
  })

  it.each([
    ['a msg_signature made with another Token', { token: 'AnotherToken' }, 'msg_signature'],
    ['a msg_signature that is not of this Encrypt', { query: { msg_signature: sha1Signature(PUSH_TOKEN, TIMESTAMP, NONCE, 'other') } }, 'msg_signature'],
    ['a push for another mini-program (its AppID inside)', { appId: 'wx9999999999999999' }, 'Encrypt'],
  ] as const)('%s is 401 INVALID_SIGNATURE and nothing is stored', async (_case, options, field) => {
    await startSecure()
    const alice = await person('alice')
    const reply = await postPush(service.app, popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { format, mode: 'secure', ...options })
    expect(errorOf(reply, 401)).toMatchObject({ code: 'INVALID_SIGNATURE', field })
    expect(await credits(alice.openid)).toBe(0)
    expect(storedEvents()).toBe(0)
  })

  it('a signed push whose decrypted message is not readable XML is 400 MALFORMED_PUSH, never a 500', async () => {
    await startSecure()
    // Opened with the service's key under a matching msg_signature, the message is not checked again
    // before it is parsed: what the parser cannot read is still refused by name.
    const encrypted = encryptPush(PUSH_AES_KEY, '<xml><![CDATA[not closed</xml>', PUSH_APPID)
    const query = new URLSearchParams({ signature: sha1Signature(PUSH_TOKEN, TIMESTAMP, NONCE), timestamp: TIMESTAMP, nonce: NONCE, encrypt_type: 'aes', msg_signature: sha1Signature(PUSH_TOKEN, TIMESTAMP, NONCE, encrypted) })
    const body = format === 'xml' ? `<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` : JSON.stringify({ ToUserName: 'gh_0123456789ab', Encrypt: encrypted })
    const reply = await service.app.inject({ method: 'POST', url: `/wechat/push?${query.toString()}`, headers: { 'content-type': format === 'xml' ? 'text/xml' : 'application/json' }, payload: body })
    expect(errorOf(reply, 400)).toEqual({ code: 'MALFORMED_PUSH', message: '请求体不是合法的 XML' })
    expect(storedEvents()).toBe(0)
  })

  it('a secure-mode push to a service without WECHAT_PUSH_AES_KEY is 400 on encrypt_type', async () => {
    await start()
    const alice = await person('alice')
    const reply = await postPush(service.app, popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { format, mode: 'secure' })
    expect(errorOf(reply, 400)).toEqual({
      code: 'MALFORMED_PUSH',
      field: 'encrypt_type',
      message: 'encrypt_type: 这是兼容或安全模式的加密推送，但服务没有配置 WECHAT_PUSH_AES_KEY',
    })
    expect(storedEvents()).toBe(0)
  })

  it('with WECHAT_PUSH_AES_KEY set, a plaintext push is 401: its signature does not cover the body', async () => {
    await startSecure()
    const alice = await person('alice')
    const reply = await postPush(service.app, popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { format })
    expect(errorOf(reply, 401)).toMatchObject({ code: 'INVALID_SIGNATURE', field: 'encrypt_type' })
    expect(storedEvents()).toBe(0)
  })
})

describe('bodies that do not parse are 400 MALFORMED_PUSH naming what is wrong, and nothing is stored', () => {
  it.each([
    ['XML that does not close', '<xml><ToUserName><![CDATA[gh]]></ToUserName>', '请求体不是合法的 XML', undefined],
    ['XML without <xml>', '<root><MsgType>event</MsgType></root>', 'XML 推送的根元素应为 <xml>', undefined],
    ['JSON cut short', '{"ToUserName": "gh", ', '请求体不是合法的 JSON', undefined],
    ['neither', 'ToUserName=gh', '请求体既不是 XML 也不是 JSON', undefined],
    ['nothing', '', '请求体既不是 XML 也不是 JSON', undefined],
    [
      'a popup event without FromUserName',
      '{"ToUserName":"gh","CreateTime":1764648000,"MsgType":"event","Event":"subscribe_msg_popup_event","List":{"TemplateId":"t","SubscribeStatusString":"accept"}}',
      'FromUserName: 缺少这个字段',
      'FromUserName',
    ],
    [
      'a popup event without its List',
      '<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1764648000</CreateTime><MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event></xml>',
      'SubscribeMsgPopupEvent.List: 缺少模板列表',
      'SubscribeMsgPopupEvent.List',
    ],
    [
      'a sent event whose MsgID is not a number',
      '{"ToUserName":"gh","FromUserName":"o1","CreateTime":"1764648000","MsgType":"event","Event":"subscribe_msg_sent_event","List":{"TemplateId":"t","MsgID":"x1","ErrorCode":"0","ErrorStatus":"success"}}',
      'SubscribeMsgSentEvent.List.0.MsgID: 应为数字',
      'SubscribeMsgSentEvent.List.0.MsgID',
    ],
  ])('%s', async (_case, body, message, field) => {
    await start()
    const reply = await postRaw(service.app, body, body.startsWith('{') ? 'application/json' : 'text/xml')
    expect(errorOf(reply, 400)).toEqual({ code: 'MALFORMED_PUSH', message, ...(field !== undefined && { field }) })
    expect(storedEvents()).toBe(0)
  })
})

describe('retries and other pushes', () => {
  it('WeChat retrying a push (same ToUserName, FromUserName, CreateTime, Event, template) applies it once', async () => {
    await startSecure()
    const alice = await person('alice')
    const push = popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept'])
    for (let attempt = 0; attempt < 3; attempt += 1) expectSuccess(await postPush(service.app, push, { mode: 'secure' }))
    expect(await credits(alice.openid)).toBe(1)
    // The same template accepted in a dialog a second later is another accept.
    expectSuccess(await postPush(service.app, popup(alice.openid, CREATED + 1, [ORDER_STATUS.id, 'accept']), { mode: 'secure' }))
    expect(await credits(alice.openid)).toBe(2)
    // A retry in the other format is still the same push.
    expectSuccess(await postPush(service.app, push, { mode: 'secure', format: 'json' }))
    expect(await credits(alice.openid)).toBe(2)
  })

  it('another kind of push (a text message) is answered success and changes nothing', async () => {
    await start()
    const text = '<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1764648000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>'
    expectSuccess(await postRaw(service.app, text))
    expect(storedEvents()).toBe(0)
  })

  it('a template the catalogue does not have is recorded and credits nothing', async () => {
    await start()
    const alice = await person('alice')
    expectSuccess(await postPush(service.app, popup(alice.openid, CREATED, ['retired-template-id', 'accept'], [ORDER_STATUS.id, 'accept'])))
    expect(await credits(alice.openid, 'retired-template-id')).toBe(0)
    expect(await credits(alice.openid)).toBe(1)
    expect(service.logs.some((line) => line.includes('retired-template-id') && line.includes('catalogue does not have'))).toBe(true)
  })

  it('WeChat is never rate-limited: 40 pushes from one address in a minute all land', async () => {
    await start({ RATE_LIMIT_SIGN_INS_PER_MINUTE: '5', RATE_LIMIT_WRITES_PER_MINUTE: '5' })
    const alice = await person('alice')
    for (let second = 0; second < 40; second += 1) expectSuccess(await postPush(service.app, popup(alice.openid, CREATED + second, [ORDER_STATUS.id, 'accept'])))
    expect(await credits(alice.openid)).toBe(40)
  })

  it('neither the Token nor the EncodingAESKey reaches the logs', async () => {
    await startSecure()
    const alice = await person('alice')
    await postPush(service.app, popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { mode: 'secure' })
    await postPush(service.app, popup(alice.openid, CREATED, [ORDER_STATUS.id, 'accept']), { mode: 'secure', token: 'AnotherToken' })
    // Should a line ever carry the push configuration, its secrets are redacted.
    service.app.log.info({ push: testConfig({ ...REAL, WECHAT_PUSH_TOKEN: PUSH_TOKEN, WECHAT_PUSH_AES_KEY: PUSH_AES_KEY }).push }, 'push configuration')
    const logs = service.logs.join('\n')
    expect(logs).toContain('WeChat push applied')
    expect(logs).not.toContain(PUSH_TOKEN)
    expect(logs).not.toContain(PUSH_AES_KEY)
    expect(logs).toContain('"token":"[REDACTED]"')
    expect(logs).toContain('"aesKey":"[REDACTED]"')
  })

  it('without WECHAT_PUSH_TOKEN there is no push endpoint', async () => {
    service = await startFakeService({ config: testConfig(REAL) })
    const reply = await service.app.inject({ method: 'POST', url: '/wechat/push', payload: '<xml></xml>', headers: { 'content-type': 'text/xml' } })
    expect(reply.statusCode).toBe(404)
  })
})
