/**
 * What the send pipeline and the restart tests rely on from WeChat, run against the real client
 * with the sandbox WeChat and against the in-process fake WeChatClient
 * (tests/contract/support/wechat-targets.ts). Where they disagree the sandbox is right.
 *
 * Compared: the outcome of each send (ok and msgid, or the errcode) with the calls it took, the
 * quota WeChat reports after each dialog answer, and login codes. WeChat's errmsg texts are not
 * compared: nothing reads them but the operator.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { SubscribeResult } from '../../src/domain/contract'
import { isWeChatError, type SendOutcome, type SubscribeMessage } from '../../server/wechat/types'
import { NOON_SHANGHAI } from '../server/support/service'
import { RETIRED_TEMPLATE_ID, sampleKeywordValues, templateByKey } from '../support/templates'
import { WECHAT_TARGETS, type WeChatDriver } from './support/wechat-targets'

const ORDER = templateByKey('order_status') // one-time
const SECURITY = templateByKey('account_security') // long-term

describe.each(WECHAT_TARGETS)('what the service relies on from WeChat: $name', (target) => {
  let wechat: WeChatDriver
  let people = 0
  let openid: string

  beforeAll(async () => {
    wechat = await target.start()
  })
  afterAll(async () => wechat.close())
  beforeEach(() => {
    wechat.clock.set(NOON_SHANGHAI)
    openid = wechat.openidFor(`alice-${++people}`)
  })

  const message = (extra: Partial<SubscribeMessage> = {}): SubscribeMessage => ({
    touser: openid,
    template_id: ORDER.id,
    page: 'pages/orders/index?id=DD20261125001',
    data: sampleKeywordValues('order_status'),
    miniprogram_state: 'formal',
    lang: 'zh_CN',
    ...extra,
  })
  const send = (extra: Partial<SubscribeMessage> = {}): Promise<SendOutcome> => wechat.client.sendSubscribeMessage(message(extra))
  const grant = (results: Record<string, SubscribeResult>): Record<string, number> => wechat.grant(openid, results)
  /** An outcome as compared: ok with a msgid, or the errcode; one entry per call WeChat got. */
  const shape = (outcome: SendOutcome): { ok: boolean; errcode: number; calls: number[] } => ({
    ok: outcome.ok,
    errcode: outcome.ok ? 0 : outcome.errcode,
    calls: outcome.attempts.map((attempt) => attempt.errcode),
  })
  const SENT = { ok: true, errcode: 0, calls: [0] }
  const refused = (errcode: number): { ok: false; errcode: number; calls: number[] } => ({ ok: false, errcode, calls: [errcode] })

  it('a send with quota is ok, with a msgid of digits and the call at the clock\'s time', async () => {
    expect(grant({ [ORDER.id]: 'accept' })).toEqual({ [ORDER.id]: 1 })
    const outcome = await send()
    expect(outcome).toEqual({ ok: true, msgid: expect.stringMatching(/^\d+$/) as string, attempts: [{ at: NOON_SHANGHAI, errcode: 0, errmsg: 'ok' }] })
  })

  it('a send without quota is 43101, in one call', async () => {
    expect(shape(await send())).toEqual(refused(43101))
  })

  it('a one-time quota is used up by a send: two accepts allow two sends', async () => {
    expect(grant({ [ORDER.id]: 'accept' })).toEqual({ [ORDER.id]: 1 })
    expect(grant({ [ORDER.id]: 'acceptWithAudio' })).toEqual({ [ORDER.id]: 2 })
    expect(shape(await send())).toEqual(SENT)
    expect(shape(await send())).toEqual(SENT)
    expect(shape(await send())).toEqual(refused(43101))
  })

  it('a one-time reject, ban or filter keeps the quota accepted before', async () => {
    grant({ [ORDER.id]: 'accept' })
    expect(grant({ [ORDER.id]: 'reject' })).toEqual({ [ORDER.id]: 1 })
    expect(grant({ [ORDER.id]: 'ban' })).toEqual({ [ORDER.id]: 1 })
    expect(grant({ [ORDER.id]: 'filter' })).toEqual({ [ORDER.id]: 1 })
    expect(shape(await send())).toEqual(SENT)
  })

  it('a long-term accept (quota 1) is not used up by sends; a reject or ban ends it', async () => {
    const data = sampleKeywordValues('account_security')
    expect(grant({ [SECURITY.id]: 'accept' })).toEqual({ [SECURITY.id]: 1 })
    for (let i = 0; i < 3; i += 1) expect(shape(await send({ template_id: SECURITY.id, data }))).toEqual(SENT)
    expect(grant({ [SECURITY.id]: 'reject' })).toEqual({ [SECURITY.id]: 0 })
    expect(shape(await send({ template_id: SECURITY.id, data }))).toEqual(refused(43101))
    grant({ [SECURITY.id]: 'accept' })
    expect(grant({ [SECURITY.id]: 'ban' })).toEqual({ [SECURITY.id]: 0 })
    expect(shape(await send({ template_id: SECURITY.id, data }))).toEqual(refused(43101))
  })

  it('an openid WeChat does not know is 40003; a template it does not have is 40037', async () => {
    grant({ [ORDER.id]: 'accept' })
    expect(shape(await send({ touser: 'o-nobody-this-app-knows' }))).toEqual(refused(40003))
    expect(shape(await send({ template_id: RETIRED_TEMPLATE_ID }))).toEqual(refused(40037))
  })

  it('a page the mini-program does not have is 41030; a value that breaks a keyword rule is 47003; neither uses the quota', async () => {
    grant({ [ORDER.id]: 'accept' })
    expect(shape(await send({ page: 'pages/nowhere/index' }))).toEqual(refused(41030))
    expect(shape(await send({ data: { ...sampleKeywordValues('order_status'), thing3: { value: '一'.repeat(21) } } }))).toEqual(refused(47003))
    expect(shape(await send())).toEqual(SENT)
  })

  it('a login code gives the user\'s openid once: used again 40163, unknown 40029', async () => {
    const code = wechat.issueCode(`bob-${++people}`)
    const session = await wechat.client.code2Session(code)
    expect(session.openid).toBe(wechat.openidFor(`bob-${people}`))
    const errcodeOf = (jsCode: string): Promise<unknown> =>
      wechat.client.code2Session(jsCode).then(
        () => 'accepted',
        (error: unknown) => (isWeChatError(error) ? error.errcode : error),
      )
    expect(await errcodeOf(code)).toBe(40163)
    expect(await errcodeOf('0a1b2c3d4e5f60718293a4b5c6d7e8f9')).toBe(40029)
  })
})
