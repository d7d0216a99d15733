/**
 * What the send pipeline and the restart tests rely on from WeChat, run against the real client
 * with the sandbox WeChat and against the in-process fake WeChatClient
 * (tests/contract/support/wechat-targets.ts). Where they disagree the sandbox is right.
 *
 * Compared: the outcome of each send (ok and msgid, or the errcode) with the calls it took, the
 * quota WeChat reports after each dialog answer, login codes, and template management (the public
 * library, adding and deleting). WeChat's errmsg texts are not compared: nothing reads them but the
 * operator.
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

  describe('template management', () => {
    const errcodeOf = (call: Promise<unknown>): Promise<unknown> =>
      call.then(
        () => 'accepted',
        (error: unknown) => (isWeChatError(error) ? error.errcode : error),
      )

    it('the categories, a page of their public titles and a title\'s keywords', async () => {
      expect((await wechat.client.getCategories()).map((category) => category.id)).toEqual([612, 307, 411, 508, 1046])
      expect(await wechat.client.getPublicTemplateTitles({ ids: [612, 1046], start: 3, limit: 2 })).toEqual({
        count: 5,
        titles: [
          { tid: 1435, title: '退款成功通知', type: 2, categoryId: 612 },
          { tid: 6107, title: '账户变动提醒', type: 3, categoryId: 1046 },
        ],
      })
      expect((await wechat.client.getPublicTemplateKeywords(1221)).map((keyword) => [keyword.kid, keyword.rule])).toEqual([
        [1, 'character_string'],
        [2, 'amount'],
        [3, 'thing'],
        [4, 'time'],
        [5, 'phrase'],
      ])
    })

    it('refuses a bad page (200016, 200017), categories not the mini-program\'s (200019) and an unknown title (200014)', async () => {
      expect(await errcodeOf(wechat.client.getPublicTemplateTitles({ ids: [612], start: -1, limit: 5 }))).toBe(200016)
      expect(await errcodeOf(wechat.client.getPublicTemplateTitles({ ids: [612], start: 0, limit: 31 }))).toBe(200017)
      expect(await errcodeOf(wechat.client.getPublicTemplateTitles({ ids: [999], start: 0, limit: 5 }))).toBe(200019)
      expect(await errcodeOf(wechat.client.getPublicTemplateKeywords(9))).toBe(200014)
    })

    it('an added template is listed with its keywords in its content and can be sent; deleted, it is 40037, and a second delete 20002', async () => {
      const id = await wechat.client.addTemplate({ tid: 1221, kidList: [2, 1], sceneDesc: '支付结果' })
      const listed = (await wechat.client.getTemplateList()).find((template) => template.priTmplId === id)
      expect(listed).toMatchObject({ title: '支付成功通知', type: 2, content: '支付金额:{{amount2.DATA}}\n订单号:{{character_string1.DATA}}\n' })
      grant({ [id]: 'accept' })
      const data = { amount2: { value: '128.00元' }, character_string1: { value: 'DD20261125001' } }
      expect(shape(await send({ template_id: id, data }))).toEqual(SENT)
      await wechat.client.deleteTemplate(id)
      grant({ [id]: 'accept' })
      expect(shape(await send({ template_id: id, data }))).toEqual(refused(40037))
      expect(await errcodeOf(wechat.client.deleteTemplate(id))).toBe(20002)
    })

    it('refuses keywords the title does not have (200020), a scene longer than 15 characters (200021), an unknown title (200014)', async () => {
      expect(await errcodeOf(wechat.client.addTemplate({ tid: 1221, kidList: [1, 9] }))).toBe(200020)
      expect(await errcodeOf(wechat.client.addTemplate({ tid: 1221, kidList: [1, 2], sceneDesc: '一二三四五六七八九十一二三四五六' }))).toBe(200021)
      expect(await errcodeOf(wechat.client.addTemplate({ tid: 9, kidList: [1, 2] }))).toBe(200014)
    })
  })
})
