import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import { HttpWeChatClient, type HttpWeChatClientOptions } from '../../../server/wechat/client'
import { createMemoryTokenStore } from '../../../server/wechat/memory-token-store'
import { createSandboxWeChat, type SandboxWeChat } from '../../../server/wechat/sandbox'
import { isWeChatError, WeChatError, type SubscribeMessage, type TokenStore } from '../../../server/wechat/types'
import { ACCOUNT_SECURITY, APP_ID, manualClock, ORDER_DATA, ORDER_STATUS, PAGES, SECRET, SECURITY_DATA, type ManualClock } from './support'

let clock: ManualClock
let sandbox: SandboxWeChat
let pool: Pool
let store: TokenStore
/** Every backoff the client asked for, in ms; nothing really waits. */
let sleeps: number[]
let openid: string

const recordSleep = (ms: number): Promise<void> => {
  sleeps.push(ms)
  return Promise.resolve()
}
/** Lets I/O run between polls of the token store: a yield, not a timed wait. */
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function client(overrides: Partial<HttpWeChatClientOptions> = {}): HttpWeChatClient {
  return new HttpWeChatClient({
    baseUrl: sandbox.url,
    appId: APP_ID,
    secret: SECRET,
    dispatcher: pool,
    tokenStore: store,
    clock,
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, sleep: recordSleep, random: () => 1 },
    ...overrides,
  })
}

const message = (extra: Partial<SubscribeMessage> = {}): SubscribeMessage => ({
  touser: openid,
  template_id: ORDER_STATUS.id,
  page: 'pages/orders/index',
  data: ORDER_DATA,
  miniprogram_state: 'developer',
  lang: 'zh_CN',
  ...extra,
})

beforeEach(async () => {
  clock = manualClock()
  sandbox = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: [ORDER_STATUS, ACCOUNT_SECURITY], pages: PAGES, clock })
  await sandbox.listen()
  pool = new Pool(sandbox.url, { connections: 16 })
  store = createMemoryTokenStore(clock)
  sleeps = []
  openid = sandbox.openidFor('alice')
})

afterEach(async () => {
  await pool.close()
  await sandbox.close()
})

describe('sendSubscribeMessage', () => {
  it('sends with a stable token, kept in the store and reused', async () => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const wechat = client()
    const first = await wechat.sendSubscribeMessage(message())
    const second = await wechat.sendSubscribeMessage(message())
    expect(first).toEqual({ ok: true, msgid: sandbox.received()[0]!.msgid, attempts: [{ at: clock.now(), errcode: 0, errmsg: 'ok' }] })
    expect(second.ok).toBe(true)
    expect(sandbox.stats()).toEqual({ tokenIssued: 1, tokenCalls: 1, sendCalls: 2 })
    expect(await store.read()).toEqual({ token: expect.stringMatching(/^S_/) as string, expiresAt: new Date(clock.now().getTime() + 7_200_000) })
    expect(sandbox.received().map((m) => m.data)).toEqual([ORDER_DATA, ORDER_DATA])
  })

  it.each([40003, 40037, 41030, 43101, 47003])('does not retry %i (from the sandbox’s own checks)', async (errcode) => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const cases: Record<number, Partial<SubscribeMessage>> = {
      40003: { touser: 'oNotAUserOfThisApp0000000000' },
      40037: { template_id: 'Xx'.repeat(21) + 'X' },
      41030: { page: 'pages/admin/index' },
      43101: { template_id: ACCOUNT_SECURITY.id, data: SECURITY_DATA },
      47003: { data: { ...ORDER_DATA, phrase2: { value: 'shipped' } } },
    }
    const outcome = await client().sendSubscribeMessage(message(cases[errcode]))
    expect(outcome).toMatchObject({ ok: false, errcode, attempts: [{ errcode }] })
    expect(outcome.attempts).toHaveLength(1)
    expect(sleeps).toEqual([])
    expect(sandbox.stats().sendCalls).toBe(1)
  })

  it.each([45009, 43108] as const)('does not call again after %i: the dispatcher requeues the message for later', async (errcode) => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    sandbox.setFaults({ failNext: { errcode, count: 1 } })
    const outcome = await client().sendSubscribeMessage(message())
    expect(outcome).toMatchObject({ ok: false, errcode })
    expect(outcome.attempts.map((a) => a.errcode)).toEqual([errcode])
    expect(sleeps).toEqual([])
    expect(sandbox.quota(openid, ORDER_STATUS.id)).toBe(1)
  })

  it.each([-1, -2, 'reset'] as const)('retries %s with exponential backoff until it goes through', async (fault) => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    sandbox.setFaults({ failNext: { errcode: fault, count: 2 } })
    const outcome = await client().sendSubscribeMessage(message())
    const failed = fault === 'reset' || fault === -2 ? -2 : fault
    expect(outcome.ok).toBe(true)
    expect(outcome.attempts.map((a) => a.errcode)).toEqual([failed, failed, 0])
    expect(sleeps).toEqual([100, 200])
    expect(sandbox.received()).toHaveLength(1)
  })

  it('gives up after maxAttempts calls, with the delays capped and jittered', async () => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    sandbox.setFaults({ failNext: { errcode: -1, count: 10 } })
    const outcome = await client({ retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300, sleep: recordSleep, random: () => 0.5 } }).sendSubscribeMessage(message())
    expect(outcome).toMatchObject({ ok: false, errcode: -1, errmsg: 'sandbox fault -1' })
    expect(outcome.attempts).toHaveLength(5)
    // step = min(300, 100·2ⁿ); delay = step/2 + 0.5·step/2
    expect(sleeps).toEqual([75, 150, 225, 225])
    expect(sandbox.quota(openid, ORDER_STATUS.id)).toBe(1)
  })

  it.each([40001, 40014, 42001])('renews the token once on %i and calls once more', async (errcode) => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const wechat = client()
    const before = await wechat.getAccessToken()
    sandbox.setFaults({ failNext: { errcode, count: 1 } })
    const outcome = await wechat.sendSubscribeMessage(message())
    expect(outcome.ok).toBe(true)
    expect(outcome.attempts.map((a) => a.errcode)).toEqual([errcode, 0])
    // WeChat still hands out the refused token without force_refresh, so the keeper forces one.
    expect((await store.read())?.token).not.toBe(before)
    expect(sandbox.stats()).toMatchObject({ tokenIssued: 2, tokenCalls: 3, sendCalls: 2 })
    expect(sleeps).toEqual([])
  })

  it('stops after the second token error (refresh once, retry once)', async () => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    sandbox.setFaults({ failNext: { errcode: 40001, count: 5 } })
    const outcome = await client().sendSubscribeMessage(message())
    expect(outcome).toMatchObject({ ok: false, errcode: 40001 })
    expect(outcome.attempts.map((a) => a.errcode)).toEqual([40001, 40001])
    expect(sandbox.stats().sendCalls).toBe(2)
  })

  it('a token expiry in the middle of a burst of 100 sends causes exactly one refresh', async () => {
    sandbox.grant(openid, Object.fromEntries([[ORDER_STATUS.id, 'accept']]))
    for (let i = 1; i < 100; i += 1) sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const wechat = client()
    await wechat.getAccessToken()
    const burst = Promise.all(Array.from({ length: 100 }, () => wechat.sendSubscribeMessage(message())))
    while (sandbox.stats().sendCalls < 30) await yieldToIo()
    sandbox.setFaults({ expireTokens: true })
    const outcomes = await burst

    expect(outcomes.filter((o) => o.ok)).toHaveLength(100)
    const refused = outcomes.filter((o) => o.attempts.length === 2)
    expect(refused.length).toBeGreaterThan(0)
    for (const o of refused) expect(o.attempts.map((a) => a.errcode)).toEqual([42001, 0])
    expect(sandbox.stats()).toMatchObject({ tokenIssued: 2, tokenCalls: 2 })
    expect(sandbox.received()).toHaveLength(100)
    expect(sandbox.quota(openid, ORDER_STATUS.id)).toBe(0)
  })

  it('two processes sharing the token store refresh once between them', async () => {
    for (let i = 0; i < 100; i += 1) sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const processA = client({ retry: { sleep: yieldToIo } })
    const processB = client({ retry: { sleep: yieldToIo } })
    await processA.getAccessToken()
    expect(await processB.getAccessToken()).toBe((await store.read())?.token)
    const burst = Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? processA : processB).sendSubscribeMessage(message())))
    while (sandbox.stats().sendCalls < 20) await yieldToIo()
    sandbox.setFaults({ expireTokens: true })
    const outcomes = await burst
    expect(outcomes.every((o) => o.ok)).toBe(true)
    expect(sandbox.stats()).toMatchObject({ tokenIssued: 2, tokenCalls: 2 })
  })

  it('with a store that answers an I/O turn later (a network database), two processes still refresh once', async () => {
    // Each operation runs a turn after it is asked and answers a turn after it ran: reads can be stale.
    const roundTrip = async <T>(operation: () => Promise<T>): Promise<T> => {
      await yieldToIo()
      const answer = await operation()
      await yieldToIo()
      return answer
    }
    const shared = store
    const networkStore: TokenStore = {
      read: () => roundTrip(() => shared.read()),
      write: (token, expiresAt) => roundTrip(() => shared.write(token, expiresAt)),
      tryLease: (holder, ms) => roundTrip(() => shared.tryLease(holder, ms)),
      releaseLease: (holder) => roundTrip(() => shared.releaseLease(holder)),
    }
    for (let i = 0; i < 100; i += 1) sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const processA = client({ tokenStore: networkStore, retry: { sleep: yieldToIo } })
    const processB = client({ tokenStore: networkStore, retry: { sleep: yieldToIo } })
    await processA.getAccessToken()
    const burst = Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? processA : processB).sendSubscribeMessage(message())))
    while (sandbox.stats().sendCalls < 20) await yieldToIo()
    sandbox.setFaults({ expireTokens: true })
    const outcomes = await burst
    expect(outcomes.every((o) => o.ok)).toBe(true)
    expect(outcomes.some((o) => o.attempts.length === 2)).toBe(true)
    expect(sandbox.stats()).toMatchObject({ tokenIssued: 2, tokenCalls: 2 })
    expect(sandbox.received()).toHaveLength(100)
  })

  it('comes back as -2 after the bounded retries when WeChat cannot be reached', async () => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    const wechat = client()
    await wechat.getAccessToken()
    await sandbox.close()
    const outcome = await wechat.sendSubscribeMessage(message())
    expect(outcome).toMatchObject({ ok: false, errcode: -2 })
    expect(outcome.attempts.map((a) => a.errcode)).toEqual([-2, -2, -2, -2])
    expect(sleeps).toEqual([100, 200, 400])
  })

  it('comes back with the refresh’s error, keeping the refused call, when no new token can be had', async () => {
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept' })
    await client().getAccessToken()
    sandbox.setFaults({ expireTokens: true })
    const outcome = await client({ secret: 'rotated-secret-00000000000000000' }).sendSubscribeMessage(message())
    expect(outcome).toMatchObject({ ok: false, errcode: 40125, errmsg: 'invalid appsecret' })
    expect(outcome.attempts.map((a) => a.errcode)).toEqual([42001])
  })
})

describe('the token keeper', () => {
  it('renews the token 5 minutes before it expires', async () => {
    const wechat = client()
    const first = await wechat.getAccessToken()
    clock.advance(7_200_000 - 300_000 - 1)
    expect(await wechat.getAccessToken()).toBe(first)
    clock.advance(1)
    const second = await wechat.getAccessToken()
    expect(second).not.toBe(first)
    expect(sandbox.stats()).toMatchObject({ tokenIssued: 2, tokenCalls: 2 })
  })

  it('reads the store once while its token is fresh, not on every call (no database round trip per send)', async () => {
    let reads = 0
    const counted: TokenStore = { ...store, read: () => ((reads += 1), store.read()) }
    const wechat = client({ tokenStore: counted })
    const first = await wechat.getAccessToken()
    const readsForTheFirst = reads
    for (let i = 0; i < 10; i += 1) expect(await wechat.getAccessToken()).toBe(first)
    expect(reads).toBe(readsForTheFirst)
    expect(sandbox.stats().tokenIssued).toBe(1)
  })

  it('forceRefresh gets a new token even while the stored one is valid', async () => {
    const wechat = client()
    const first = await wechat.getAccessToken()
    const forced = await wechat.getAccessToken({ forceRefresh: true })
    expect(forced).not.toBe(first)
    expect((await store.read())?.token).toBe(forced)
  })

  it('waits for another process holding the lease and takes the token it stores', async () => {
    expect(await store.tryLease('other-process', 15_000)).toBe(true)
    let polls = 0
    const wechat = client({
      retry: {
        sleep: () => {
          polls += 1
          return polls === 3 ? store.write('T_from_the_other_process', new Date(clock.now().getTime() + 7_200_000)) : Promise.resolve()
        },
      },
    })
    expect(await wechat.getAccessToken()).toBe('T_from_the_other_process')
    expect(polls).toBe(3)
    expect(sandbox.stats().tokenCalls).toBe(0)
  })

  it('keeps using a still-valid token while another process renews it', async () => {
    await store.write('T_current', new Date(clock.now().getTime() + 60_000))
    expect(await store.tryLease('other-process', 15_000)).toBe(true)
    expect(await client().getAccessToken()).toBe('T_current')
    expect(sandbox.stats().tokenCalls).toBe(0)
  })

  it('refreshes by itself once a lease outlives the time a refresh takes', async () => {
    expect(await store.tryLease('stuck-process', 15_000)).toBe(true)
    let polls = 0
    const wechat = client({
      retry: {
        sleep: (ms) => {
          polls += 1
          clock.advance(ms)
          return Promise.resolve()
        },
      },
    })
    const token = await wechat.getAccessToken()
    expect(token).toMatch(/^S_/)
    expect(polls).toBe(300)
    expect(sandbox.stats().tokenCalls).toBe(1)
  })
})

describe('code2Session and getTemplateList', () => {
  it('turns a code into the user’s openid, without the session_key', async () => {
    const result = await client().code2Session(sandbox.issueCode('bob'))
    expect(result).toEqual({ openid: sandbox.openidFor('bob') })
  })

  it('rejects a bad code with WeChatError 40029, without retrying', async () => {
    const error: unknown = await client().code2Session('bad-code').catch((e: unknown) => e)
    expect(isWeChatError(error)).toBe(true)
    expect(error).toMatchObject({ errcode: 40029, errmsg: 'invalid code', message: 'WeChat errcode 40029: invalid code' })
    expect(sleeps).toEqual([])
  })

  it('lists the templates through a token', async () => {
    const templates = await client().getTemplateList()
    expect(templates.map((t) => [t.priTmplId, t.type])).toEqual([
      [ORDER_STATUS.id, 2],
      [ACCOUNT_SECURITY.id, 3],
    ])
  })
})

describe('secrets', () => {
  const leaks = (value: unknown, secrets: string[]): string[] => {
    const text = value instanceof Error ? `${value.message}\n${value.stack ?? ''}\n${JSON.stringify(value)}` : JSON.stringify(value)
    return secrets.filter((secret) => text.includes(secret))
  }

  it('a wrong AppSecret: the error names the code, never the secret', async () => {
    const wrongSecret = 'wrong-secret-9f8e7d6c5b4a39281706'
    const wechat = client({ secret: wrongSecret })
    const error: unknown = await wechat.getAccessToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WeChatError)
    expect(error).toMatchObject({ errcode: 40125 })
    expect(leaks(error, [wrongSecret, SECRET])).toEqual([])
    const outcome = await wechat.sendSubscribeMessage(message())
    expect(outcome).toEqual({ ok: false, errcode: 40125, errmsg: 'invalid appsecret', attempts: [] })
  })

  it('a network failure: the error carries no secret and no query string', async () => {
    const url = sandbox.url
    await sandbox.close()
    const error: unknown = await client({ baseUrl: url }).code2Session('some-code').catch((e: unknown) => e)
    expect(error).toMatchObject({ errcode: -2 })
    expect(leaks(error, [SECRET, 'js_code'])).toEqual([])
    expect(sleeps).toEqual([100, 200, 400])
  })

  describe('against a WeChat that echoes what it was sent', () => {
    let echo: ReturnType<typeof createServer>
    let echoUrl: string
    let echoPool: Pool
    beforeEach(async () => {
      echo = createServer((request: IncomingMessage, response: ServerResponse) => {
        const chunks: Buffer[] = []
        request.on('data', (chunk: Buffer) => chunks.push(chunk))
        request.on('end', () => {
          const sent = Buffer.concat(chunks).toString('utf8')
          const body = request.url?.startsWith('/cgi-bin/stable_token')
            ? '{"access_token":"T_echo_token_5d41402abc4b2a76b9719d911017c592","expires_in":7200}'
            : request.url?.startsWith('/cgi-bin/message/subscribe/send?access_token=T_echo')
              ? sent.includes('"ok-please"')
                ? '{"errcode":0,"errmsg":"ok","msgid":2893383766488252416}'
                : JSON.stringify({ errcode: 47003, errmsg: `argument invalid! ${request.url} ${sent} secret=${SECRET}` })
              : JSON.stringify({ errcode: 40125, errmsg: `invalid appsecret ${SECRET}` })
          response.writeHead(200, { 'content-type': 'application/json' }).end(body)
        })
      })
      await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
      echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`
      echoPool = new Pool(echoUrl)
    })
    afterEach(async () => {
      await echoPool.close()
      await new Promise((resolve) => echo.close(resolve))
    })

    it('redacts the secret and the token from WeChat’s errmsg', async () => {
      const outcome = await client({ baseUrl: echoUrl, dispatcher: echoPool }).sendSubscribeMessage(message())
      expect(outcome).toMatchObject({ ok: false, errcode: 47003 })
      expect(leaks(outcome, [SECRET, 'T_echo_token_5d41402abc4b2a76b9719d911017c592'])).toEqual([])
      expect(outcome.ok ? '' : outcome.errmsg).toContain('[access_token]')
    })

    it('keeps a 64-bit msgid exact', async () => {
      const outcome = await client({ baseUrl: echoUrl, dispatcher: echoPool }).sendSubscribeMessage(
        message({ data: { ...ORDER_DATA, thing3: { value: 'ok-please' } } }),
      )
      expect(outcome).toMatchObject({ ok: true, msgid: '2893383766488252416' })
    })
  })
})
