/**
 * The HTTP contract, as scenarios run against both the real service and the client tests'
 * FakeService (tests/contract/support/service-targets.ts). Where they disagree the service is right.
 *
 * Compared exactly: status codes, error codes, fields, and every answer body except what each side
 * makes up (tokens, openids, message ids). Chinese messages are compared only where the app shows
 * the service's text to a person: the refused login code (a page's 加载失败：…), and what
 * PUT /api/me/preferences refuses (通知设置 shows 保存失败（设置）：…). The other messages reach
 * no one (the app acts on the code) and may be worded differently.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { TSchema, Static } from 'typebox'
import { Value } from 'typebox/value'
import {
  ConsentResponse,
  ErrorBody,
  EventResponse,
  Health,
  MyMessageList,
  Preferences,
  SandboxCodeResponse,
  SandboxConsentResponse,
  ServiceInfo,
  SessionResponse,
  SubscriptionList,
  TemplateList,
  type EventRequest,
  type MessageOutcome,
  type SubscribeResult,
} from '../../src/domain/contract'
import { NOON_SHANGHAI } from '../server/support/service'
import { RETIRED_TEMPLATE_ID, TEMPLATES, templateByKey } from '../support/templates'
import { SERVICE_TARGETS, type ContractAnswer, type ContractRequest, type ServiceDriver, type SignedIn } from './support/service-targets'

const ORDER = templateByKey('order_status') // one-time, category order: what order events send
const SHIPPING = templateByKey('shipping') // one-time, order
const ACTIVITY = templateByKey('activity_reminder') // one-time, marketing
const SECURITY = templateByKey('account_security') // long-term, security

const EVENT: EventRequest = { type: 'order.status_changed', orderId: 'DD20261125001', status: 'shipped', goodsName: '机械键盘', amountFen: 12800 }
const MINUTE_MS = 60_000

/** The body of a 200 answer, which must pass the contract's schema. */
function bodyOf<Schema extends TSchema>(answer: ContractAnswer, schema: Schema): Static<Schema> {
  expect(answer.statusCode, JSON.stringify(answer.body)).toBe(200)
  expect(Value.Check(schema, answer.body), JSON.stringify(answer.body)).toBe(true)
  return answer.body as Static<Schema>
}

/** The error of an answer, which must be an ErrorBody. */
function errorOf(answer: ContractAnswer): ErrorBody['error'] & { status: number } {
  expect(Value.Check(ErrorBody, answer.body), JSON.stringify(answer.body)).toBe(true)
  return { status: answer.statusCode, ...(answer.body as ErrorBody).error }
}

/** Status, code and field of a refusal (its message is the side's own). */
function refusal(answer: ContractAnswer): { status: number; code: string; field?: string } {
  const { status, code, field } = errorOf(answer)
  return { status, code, ...(field !== undefined && { field }) }
}

describe.each(SERVICE_TARGETS)('the HTTP contract: $name', (target) => {
  // One service per target for the whole suite, as one process serves many people: each scenario
  // starts at 13:00 in Shanghai with people of its own, so no scenario sees another's data.
  let service: ServiceDriver
  let alice: SignedIn
  let people = 0
  const signIn = (name: string): Promise<SignedIn> => service.signIn(`${name}-${++people}`)

  beforeAll(async () => {
    service = await target.start()
  })
  afterAll(async () => service.close())
  beforeEach(async () => {
    service.clock.set(NOON_SHANGHAI)
    alice = await signIn('alice')
  })

  const request = (req: ContractRequest): Promise<ContractAnswer> => service.request(req)
  const consent = (consentId: string, results: Record<string, SubscribeResult>, person = alice): Promise<ContractAnswer> =>
    request({ method: 'POST', url: '/api/consents', token: person.token, body: { consentId, results } })
  const creditsOf = async (consentId: string, results: Record<string, SubscribeResult>, person = alice): Promise<Record<string, number>> =>
    bodyOf(await consent(consentId, results, person), ConsentResponse).credits
  /** What the H5 stand-in dialog does after an answer: tell the sandbox WeChat, then the service. */
  async function subscribe(consentId: string, results: Record<string, SubscribeResult>, person = alice): Promise<Record<string, number>> {
    bodyOf(await request({ method: 'POST', url: '/sandbox/subscriptions', token: person.token, body: { results } }), SandboxConsentResponse)
    return creditsOf(consentId, results, person)
  }
  const subscriptions = async (person = alice) =>
    bodyOf(await request({ method: 'GET', url: '/api/me/subscriptions', token: person.token }), SubscriptionList)
  const creditsNow = async (templateId: string): Promise<number | undefined> =>
    (await subscriptions()).find((entry) => entry.templateId === templateId)?.credits
  const putPreferences = (body: unknown): Promise<ContractAnswer> => request({ method: 'PUT', url: '/api/me/preferences', token: alice.token, body })
  const getPreferences = async () => bodyOf(await request({ method: 'GET', url: '/api/me/preferences', token: alice.token }), Preferences)
  async function savePreferences(preferences: Preferences): Promise<void> {
    bodyOf(await putPreferences(preferences), Preferences)
  }
  const postEvent = (body: unknown = EVENT): Promise<ContractAnswer> => request({ method: 'POST', url: '/api/events', token: alice.token, body })
  const event = async (): Promise<MessageOutcome> => bodyOf(await postEvent(), EventResponse).message
  /** After WeChat's pushes of what went before (a sent message's delivery) have reached the service. */
  const messages = async (query = '', person = alice) => {
    await service.settled()
    return bodyOf(await request({ method: 'GET', url: `/api/me/messages${query}`, token: person.token }), MyMessageList)
  }
  const at = (iso: string): void => service.clock.set(new Date(iso))

  describe('sign-in', () => {
    it('a sandbox code gives a SessionResponse that expires in 168 h; one user keeps one openid', async () => {
      const bob = `bob-${++people}`
      const code = bodyOf(await request({ method: 'POST', url: '/sandbox/code', body: { user: bob } }), SandboxCodeResponse)
      const session = bodyOf(await request({ method: 'POST', url: '/api/session', body: { code: code.code } }), SessionResponse)
      expect(session.expiresAt).toBe('2026-12-02T05:00:00.000Z')
      const again = await service.signIn(bob)
      expect(again.openid).toBe(session.openid)
      expect(again.token).not.toBe(session.token)
      expect(session.openid).not.toBe(alice.openid)
      // Each token is that person's session.
      bodyOf(await request({ method: 'GET', url: '/api/me/preferences', token: session.token }), Preferences)
      await creditsOf('consent-bob-0001', { [ORDER.id]: 'accept' }, { token: session.token, openid: session.openid })
      expect(await subscriptions()).toEqual([])
    })

    it('a code is good once: the second use is 401 INVALID_CODE on `code`, in words the app shows', async () => {
      const { code } = bodyOf(await request({ method: 'POST', url: '/sandbox/code', body: { user: `bob-${++people}` } }), SandboxCodeResponse)
      bodyOf(await request({ method: 'POST', url: '/api/session', body: { code } }), SessionResponse)
      const reused = errorOf(await request({ method: 'POST', url: '/api/session', body: { code } }))
      expect(reused).toEqual({ status: 401, code: 'INVALID_CODE', field: 'code', message: 'code: 登录凭证无效或已使用，请重新调用 uni.login 获取' })
    })

    it('a body without a code is 400 VALIDATION_FAILED on `code`', async () => {
      expect(refusal(await request({ method: 'POST', url: '/api/session', body: {} }))).toEqual({ status: 400, code: 'VALIDATION_FAILED', field: 'code' })
      expect(refusal(await request({ method: 'POST', url: '/api/session', body: { code: '' } }))).toEqual({ status: 400, code: 'VALIDATION_FAILED', field: 'code' })
    })

    it('GET /healthz and GET /api/info need no session', async () => {
      expect(bodyOf(await request({ method: 'GET', url: '/healthz' }), Health)).toEqual({ status: 'ok' })
      expect(bodyOf(await request({ method: 'GET', url: '/api/info' }), ServiceInfo)).toEqual({ sandbox: true, miniprogramState: 'formal' })
    })
  })

  it('GET /api/templates answers the catalogue the service ships', async () => {
    expect(bodyOf(await request({ method: 'GET', url: '/api/templates', token: alice.token }), TemplateList)).toEqual(TEMPLATES)
  })

  describe('POST /api/consents', () => {
    /** Dialog answers one after another (each a consent of its own), with the credits the service answers to each. */
    type Answers = Array<[Record<string, SubscribeResult>, Record<string, number>]>
    const order = (result: SubscribeResult, credits: number): Answers[number] => [{ [ORDER.id]: result }, { [ORDER.id]: credits }]
    const security = (result: SubscribeResult, credits: number): Answers[number] => [{ [SECURITY.id]: result }, { [SECURITY.id]: credits }]
    const CREDIT_RULES: Array<[string, Answers]> = [
      ['a one-time accept adds one credit; two accepts are 2', [order('accept', 1), order('accept', 2)]],
      ['acceptWithAudio counts as an accept', [order('acceptWithAudio', 1), order('accept', 2)]],
      ['a one-time reject, ban or filter changes no credit', [order('accept', 1), order('accept', 2), order('reject', 2), order('ban', 2), order('filter', 2)]],
      ['a long-term accept sets the credits to 1, however often', [security('accept', 1), security('acceptWithAudio', 1)]],
      ['a long-term reject or ban sets the credits to 0; a filter keeps them', [security('accept', 1), security('filter', 1), security('reject', 0), security('accept', 1), security('ban', 0)]],
      [
        'each answer reports the credits of every template of its dialog',
        [[{ [ORDER.id]: 'accept', [SHIPPING.id]: 'reject', [ACTIVITY.id]: 'acceptWithAudio' }, { [ORDER.id]: 1, [SHIPPING.id]: 0, [ACTIVITY.id]: 1 }]],
      ],
    ]

    it.each(CREDIT_RULES)('%s', async (_rule, answers) => {
      for (const [index, [results, credits]] of answers.entries()) expect(await creditsOf(`consent-000${index + 1}`, results)).toEqual(credits)
    })

    it('the same consentId again counts once and returns the first answer, whatever it carries', async () => {
      expect(await creditsOf('consent-replay', { [ORDER.id]: 'accept' })).toEqual({ [ORDER.id]: 1 })
      expect(await creditsOf('consent-later', { [ORDER.id]: 'accept' })).toEqual({ [ORDER.id]: 2 })
      expect(await creditsOf('consent-replay', { [ORDER.id]: 'accept' })).toEqual({ [ORDER.id]: 1 })
      expect(await creditsOf('consent-replay', { [SHIPPING.id]: 'accept' })).toEqual({ [ORDER.id]: 1 })
      expect((await subscriptions()).map(({ templateId, credits }) => [templateId, credits])).toEqual([[ORDER.id, 2]])
    })

    it('a consentId is one person\'s: another person\'s same id is their own consent', async () => {
      const bob = await signIn('bob')
      await creditsOf('consent-shared', { [ORDER.id]: 'accept' })
      expect(await creditsOf('consent-shared', { [ORDER.id]: 'accept' }, bob)).toEqual({ [ORDER.id]: 1 })
      expect(await creditsNow(ORDER.id)).toBe(1)
    })

    it('an unknown template id is 400 UNKNOWN_TEMPLATE on results.<id>, and no other credit changes', async () => {
      await creditsOf('consent-0001', { [ORDER.id]: 'accept' })
      const refused = await consent('consent-0002', { [ORDER.id]: 'accept', [RETIRED_TEMPLATE_ID]: 'accept' })
      expect(refusal(refused)).toEqual({ status: 400, code: 'UNKNOWN_TEMPLATE', field: `results.${RETIRED_TEMPLATE_ID}` })
      expect(await creditsNow(ORDER.id)).toBe(1)
      // The refused consent was not recorded: its id counts once it comes without the unknown template.
      expect(await creditsOf('consent-0002', { [ORDER.id]: 'accept' })).toEqual({ [ORDER.id]: 2 })
    })

    it('no results at all is 400 VALIDATION_FAILED on results', async () => {
      expect(refusal(await consent('consent-0001', {}))).toEqual({ status: 400, code: 'VALIDATION_FAILED', field: 'results' })
    })

    it.each([
      ['a consentId shorter than 8', { consentId: 'short', results: { [ORDER.id]: 'accept' } }, 'consentId'],
      ['a consentId with a space', { consentId: 'consent 0001', results: { [ORDER.id]: 'accept' } }, 'consentId'],
      ['no consentId', { results: { [ORDER.id]: 'accept' } }, 'consentId'],
      ['an answer WeChat never gives', { consentId: 'consent-0001', results: { [ORDER.id]: 'maybe' } }, `results.${ORDER.id}`],
      ['results that are a list', { consentId: 'consent-0001', results: [ORDER.id] }, 'results'],
    ])('%s is 400 VALIDATION_FAILED naming the field', async (_case, body, field) => {
      const answer = await request({ method: 'POST', url: '/api/consents', token: alice.token, body })
      expect(refusal(answer)).toEqual({ status: 400, code: 'VALIDATION_FAILED', field })
      expect(await subscriptions()).toEqual([])
    })
  })

  describe('GET /api/me/subscriptions', () => {
    it('is empty before any consent', async () => {
      expect(await subscriptions()).toEqual([])
    })

    it('lists each template answered, by template id, with its credits, last answer and when it changed', async () => {
      await creditsOf('consent-0001', { [ORDER.id]: 'accept' })
      await creditsOf('consent-0002', { [SECURITY.id]: 'accept' })
      at('2026-11-25T05:01:00.000Z')
      await creditsOf('consent-0003', { [SHIPPING.id]: 'reject' })
      at('2026-11-25T05:02:00.000Z')
      await creditsOf('consent-0004', { [ORDER.id]: 'acceptWithAudio' })
      // By template id, as bytes: N6BX… (shipping) < Wa1m… (account_security) < oy3Z… (order_status).
      expect(await subscriptions()).toEqual([
        { templateId: SHIPPING.id, credits: 0, lastResult: 'reject', updatedAt: '2026-11-25T05:01:00.000Z' },
        { templateId: SECURITY.id, credits: 1, lastResult: 'accept', updatedAt: '2026-11-25T05:00:00.000Z' },
        { templateId: ORDER.id, credits: 2, lastResult: 'acceptWithAudio', updatedAt: '2026-11-25T05:02:00.000Z' },
      ])
    })

    it('shows only the caller\'s own', async () => {
      await creditsOf('consent-0001', { [ORDER.id]: 'accept' })
      expect(await subscriptions(await signIn('bob'))).toEqual([])
    })
  })

  describe('GET/PUT /api/me/preferences', () => {
    it('defaults to no quiet hours, 20 a day, nothing muted', async () => {
      expect(await getPreferences()).toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
    })

    it('keeps what was put, and only what the contract names', async () => {
      const saved = { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: ['marketing', 'order'] }
      expect(bodyOf(await putPreferences({ ...saved, theme: 'dark' }), Preferences)).toEqual(saved)
      expect(await getPreferences()).toEqual(saved)
      await savePreferences({ quietHours: null, dailyLimit: 0, mutedCategories: [] })
      expect(await getPreferences()).toEqual({ quietHours: null, dailyLimit: 0, mutedCategories: [] })
    })

    it('quiet hours that start when they end are 400 on quietHours.end, and nothing is saved', async () => {
      const refused = errorOf(await putPreferences({ quietHours: { start: '08:00', end: '08:00' }, dailyLimit: 5, mutedCategories: [] }))
      expect(refused).toEqual({ status: 400, code: 'VALIDATION_FAILED', field: 'quietHours.end', message: '免打扰的开始和结束时间不能相同' })
      expect(await getPreferences()).toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
    })

    it('a muted category the catalogue does not have is 400 naming it, and nothing is saved', async () => {
      const refused = errorOf(await putPreferences({ quietHours: null, dailyLimit: 5, mutedCategories: ['order', 'weather'] }))
      expect(refused).toEqual({ status: 400, code: 'VALIDATION_FAILED', field: 'mutedCategories.1', message: 'mutedCategories.1: 没有这类通知（weather）' })
      expect(await getPreferences()).toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
    })

    it.each([
      ['a time that is not HH:MM', { quietHours: { start: '24:00', end: '08:00' }, dailyLimit: 5, mutedCategories: [] }, 'quietHours.start'],
      ['quiet hours without an end', { quietHours: { start: '22:00' }, dailyLimit: 5, mutedCategories: [] }, 'quietHours.end'],
      ['a daily limit above 100', { quietHours: null, dailyLimit: 101, mutedCategories: [] }, 'dailyLimit'],
      ['a daily limit as text', { quietHours: null, dailyLimit: '5', mutedCategories: [] }, 'dailyLimit'],
      ['no daily limit', { quietHours: null, mutedCategories: [] }, 'dailyLimit'],
      ['a category muted twice', { quietHours: null, dailyLimit: 5, mutedCategories: ['order', 'order'] }, 'mutedCategories'],
    ])('%s is 400 VALIDATION_FAILED naming the field', async (_case, body, field) => {
      expect(refusal(await putPreferences(body))).toEqual({ status: 400, code: 'VALIDATION_FAILED', field })
      expect(await getPreferences()).toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
    })
  })

  describe('POST /api/events', () => {
    it('sent: the order-status message goes and spends one credit', async () => {
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      await subscribe('consent-0002', { [ORDER.id]: 'accept' })
      at('2026-11-25T05:01:00.000Z')
      const outcome = await event()
      expect(outcome).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'sent' })
      expect(await subscriptions()).toEqual([{ templateId: ORDER.id, credits: 1, lastResult: 'accept', updatedAt: '2026-11-25T05:01:00.000Z' }])
    })

    it('failed NO_CREDIT, naming the template to offer', async () => {
      expect(await event()).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'failed', reason: 'NO_CREDIT' })
    })

    it('a credit WeChat never granted (the sandbox was not told): failed 43101, and the credits go to 0', async () => {
      await creditsOf('consent-0001', { [ORDER.id]: 'accept' })
      await creditsOf('consent-0002', { [ORDER.id]: 'accept' })
      expect(await event()).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'failed', reason: '43101' })
      expect(await creditsNow(ORDER.id)).toBe(0)
    })

    it('skipped MUTED_CATEGORY for a muted category; the credit stays', async () => {
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      await savePreferences({ quietHours: null, dailyLimit: 20, mutedCategories: ['order'] })
      expect(await event()).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'skipped', reason: 'MUTED_CATEGORY' })
      expect(await creditsNow(ORDER.id)).toBe(1)
    })

    it('deferred inside quiet hours until they end; the credit stays until it goes', async () => {
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      await savePreferences({ quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] })
      // 13:00 in Shanghai: the quiet hours end at 14:00, 06:00 UTC.
      const outcome = await event()
      expect(outcome).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'deferred', deliverAfter: '2026-11-25T06:00:00.000Z' })
      expect(await creditsNow(ORDER.id)).toBe(1)
    })

    it('quiet hours across midnight: deferred at 23:30 to 08:00 the next day, sent at 08:00', async () => {
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      await savePreferences({ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 20, mutedCategories: [] })
      at('2026-11-25T15:30:00.000Z') // 23:30 in Shanghai
      expect(await event()).toMatchObject({ status: 'deferred', deliverAfter: '2026-11-26T00:00:00.000Z' })
      at('2026-11-26T00:00:00.000Z') // 08:00: the end is not inside
      expect(await event()).toMatchObject({ status: 'sent' })
    })

    it('skipped DAILY_LIMIT once the day\'s messages are sent; the next local day sends again', async () => {
      for (const n of [1, 2, 3]) await subscribe(`consent-000${n}`, { [ORDER.id]: 'accept' })
      await savePreferences({ quietHours: null, dailyLimit: 1, mutedCategories: [] })
      expect(await event()).toMatchObject({ status: 'sent' })
      expect(await event()).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'skipped', reason: 'DAILY_LIMIT' })
      expect(await creditsNow(ORDER.id)).toBe(2)
      at('2026-11-25T16:00:00.000Z') // 00:00 on 26 November in Shanghai
      expect(await event()).toMatchObject({ status: 'sent' })
    })

    it('without a credit it fails NO_CREDIT at once, also inside quiet hours or past the daily limit', async () => {
      await savePreferences({ quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 0, mutedCategories: [] })
      expect(await event()).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'failed', reason: 'NO_CREDIT' })
    })

    it('a daily limit of 0 skips a message that has its credit, before quiet hours would defer it', async () => {
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      await savePreferences({ quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 0, mutedCategories: [] })
      expect(await event()).toMatchObject({ status: 'skipped', reason: 'DAILY_LIMIT' })
      expect(await creditsNow(ORDER.id)).toBe(1)
    })

    it('a goods name its keyword refuses even shortened is 400 INVALID_DATA on goodsName, in words the app shows, and nothing is written', async () => {
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      const refused = errorOf(await postEvent({ ...EVENT, goodsName: '机械键盘😀' }))
      expect(refused).toEqual({ status: 400, code: 'INVALID_DATA', field: 'goodsName', message: 'goodsName: 作为「商品名称」不能包含表情符号' })
      expect(await messages()).toEqual([])
      expect(await creditsNow(ORDER.id)).toBe(1)
      // Too long is not refused: it is shortened to 17 characters and "...".
      expect(await event()).toMatchObject({ status: 'sent' })
    })

    it.each([
      ['an orderId with a space', { ...EVENT, orderId: 'DD 1' }, 'orderId'],
      ['no orderId', { type: 'order.status_changed', status: 'shipped' }, 'orderId'],
      ['a status orders do not have', { ...EVENT, status: 'lost' }, 'status'],
      ['another event type', { ...EVENT, type: 'order.created' }, 'type'],
      ['a negative amount', { ...EVENT, amountFen: -1 }, 'amountFen'],
      ['an amount with fractions of a fen', { ...EVENT, amountFen: 12.5 }, 'amountFen'],
    ])('%s is 400 VALIDATION_FAILED naming the field, and no message is made', async (_case, body, field) => {
      expect(refusal(await postEvent(body))).toEqual({ status: 400, code: 'VALIDATION_FAILED', field })
      expect(await messages()).toEqual([])
    })
  })

  describe('GET /api/me/messages', () => {
    it('lists the caller\'s messages newest first, with reason, sentAt and deliverAfter where they apply', async () => {
      const failed = await event()
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      await subscribe('consent-0002', { [ORDER.id]: 'accept' })
      at('2026-11-25T05:01:00.000Z')
      const sent = await event()
      await savePreferences({ quietHours: null, dailyLimit: 20, mutedCategories: ['order'] })
      at('2026-11-25T05:02:00.000Z')
      const skipped = await event()
      await savePreferences({ quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] })
      at('2026-11-25T05:03:00.000Z')
      const deferred = await event()
      const listed = await messages()
      // Each row carries what the notice showed: the template's labels in order, with the event's values.
      for (const message of listed) {
        expect(message.content?.map((keyword) => keyword.label)).toEqual(ORDER.keywords.map((keyword) => keyword.label))
        expect(message.content?.find((keyword) => keyword.name === 'phrase2')?.value).toBe('已发货')
      }
      expect(listed.map(({ content: _content, ...row }) => row)).toEqual([
        { id: deferred.id, templateId: ORDER.id, status: 'deferred', createdAt: '2026-11-25T05:03:00.000Z', deliverAfter: '2026-11-25T06:00:00.000Z' },
        { id: skipped.id, templateId: ORDER.id, status: 'skipped', reason: 'MUTED_CATEGORY', createdAt: '2026-11-25T05:02:00.000Z' },
        {
          id: sent.id,
          templateId: ORDER.id,
          status: 'sent',
          createdAt: '2026-11-25T05:01:00.000Z',
          sentAt: '2026-11-25T05:01:00.000Z',
          // The sandbox WeChat reported it delivered (subscribe_msg_sent_event).
          delivery: { status: 'delivered', errorCode: 0, errorStatus: 'success', at: '2026-11-25T05:01:00.000Z' },
        },
        { id: failed.id, templateId: ORDER.id, status: 'failed', reason: 'NO_CREDIT', createdAt: '2026-11-25T05:00:00.000Z' },
      ])
      expect(new Set([failed.id, sent.id, skipped.id, deferred.id]).size).toBe(4)
      expect(await messages('', await signIn('bob'))).toEqual([])
    })

    it('?limit= gives the newest that many', async () => {
      const ids: string[] = []
      for (const minute of [0, 1, 2]) {
        service.clock.set(new Date(Date.parse('2026-11-25T05:00:00.000Z') + minute * MINUTE_MS))
        ids.push((await event()).id)
      }
      expect((await messages('?limit=2')).map((message) => message.id)).toEqual([ids[2], ids[1]])
      expect((await messages('?limit=100')).map((message) => message.id)).toEqual([ids[2], ids[1], ids[0]])
    })

    it.each(['?limit=0', '?limit=101', '?limit=two', '?limit=1.5', '?limit=05', '?limit=+5', '?limit=0x3'])('%s is 400 VALIDATION_FAILED on querystring.limit', async (query) => {
      const answer = await request({ method: 'GET', url: `/api/me/messages${query}`, token: alice.token })
      expect(refusal(answer)).toEqual({ status: 400, code: 'VALIDATION_FAILED', field: 'querystring.limit' })
    })
  })

  describe('POST /sandbox/subscriptions (what the H5 stand-in dialog tells the sandbox WeChat)', () => {
    const grant = (results: Record<string, SubscribeResult>): Promise<ContractAnswer> =>
      request({ method: 'POST', url: '/sandbox/subscriptions', token: alice.token, body: { results } })
    const quota = async (results: Record<string, SubscribeResult>) => bodyOf(await grant(results), SandboxConsentResponse).quota

    it('one-time quota adds up with accepts; a reject keeps it', async () => {
      expect(await quota({ [ORDER.id]: 'accept' })).toEqual({ [ORDER.id]: 1 })
      expect(await quota({ [ORDER.id]: 'acceptWithAudio', [SHIPPING.id]: 'reject' })).toEqual({ [ORDER.id]: 2, [SHIPPING.id]: 0 })
      expect(await quota({ [ORDER.id]: 'reject' })).toEqual({ [ORDER.id]: 2 })
    })

    it('a long-term accept is quota 1 (sends do not use it up) until a reject', async () => {
      expect(await quota({ [SECURITY.id]: 'accept' })).toEqual({ [SECURITY.id]: 1 })
      expect(await quota({ [SECURITY.id]: 'reject' })).toEqual({ [SECURITY.id]: 0 })
    })

    it('an unknown template is 400 UNKNOWN_TEMPLATE on results.<id>', async () => {
      expect(refusal(await grant({ [RETIRED_TEMPLATE_ID]: 'accept' }))).toEqual({ status: 400, code: 'UNKNOWN_TEMPLATE', field: `results.${RETIRED_TEMPLATE_ID}` })
    })
  })

  describe('POST /sandbox/turn-off (the person turns a template off in WeChat\'s settings)', () => {
    const turnOff = (templateIds: string[]): Promise<ContractAnswer> =>
      request({ method: 'POST', url: '/sandbox/turn-off', token: alice.token, body: { templateIds } })

    it('no quota and no credits are left, the last result is a reject, and the next order message is not sent', async () => {
      await subscribe('consent-0001', { [ORDER.id]: 'accept' })
      await subscribe('consent-0002', { [ORDER.id]: 'accept' })
      at('2026-11-25T05:01:00.000Z')
      expect(bodyOf(await turnOff([ORDER.id]), SandboxConsentResponse).quota).toEqual({ [ORDER.id]: 0 })
      await service.settled()
      expect(await subscriptions()).toEqual([{ templateId: ORDER.id, credits: 0, lastResult: 'reject', updatedAt: '2026-11-25T05:01:00.000Z' }])
      expect(await event()).toEqual({ id: expect.any(String) as string, templateId: ORDER.id, status: 'failed', reason: 'NO_CREDIT' })
    })

    it('an unknown template is 400 UNKNOWN_TEMPLATE on templateIds.<n>; an empty list is 400 on templateIds', async () => {
      expect(refusal(await turnOff([ORDER.id, RETIRED_TEMPLATE_ID]))).toEqual({ status: 400, code: 'UNKNOWN_TEMPLATE', field: 'templateIds.1' })
      expect(refusal(await turnOff([]))).toEqual({ status: 400, code: 'VALIDATION_FAILED', field: 'templateIds' })
    })
  })

  describe('without a session', () => {
    const SESSION_ROUTES: readonly ContractRequest[] = [
      { method: 'GET', url: '/api/templates' },
      { method: 'POST', url: '/api/consents', body: { consentId: 'consent-0001', results: { [ORDER.id]: 'accept' } } },
      { method: 'GET', url: '/api/me/subscriptions' },
      { method: 'GET', url: '/api/me/preferences' },
      { method: 'PUT', url: '/api/me/preferences', body: { quietHours: null, dailyLimit: 5, mutedCategories: [] } },
      { method: 'GET', url: '/api/me/messages' },
      { method: 'POST', url: '/api/events', body: EVENT },
      { method: 'POST', url: '/sandbox/subscriptions', body: { results: { [ORDER.id]: 'accept' } } },
      { method: 'POST', url: '/sandbox/turn-off', body: { templateIds: [ORDER.id] } },
    ]

    it.each(SESSION_ROUTES)('$method $url is 401 UNAUTHORIZED, with no token or one never issued', async (route) => {
      expect(refusal(await request(route))).toEqual({ status: 401, code: 'UNAUTHORIZED' })
      expect(refusal(await request({ ...route, token: 'not-a-token-the-service-issued' }))).toEqual({ status: 401, code: 'UNAUTHORIZED' })
    })

    it('a bad body without a session is still 401: the session is checked first', async () => {
      expect(refusal(await request({ method: 'POST', url: '/api/events', body: { type: 'order.created' } }))).toEqual({ status: 401, code: 'UNAUTHORIZED' })
      expect(refusal(await request({ method: 'PUT', url: '/api/me/preferences', body: { dailyLimit: 'many' } }))).toEqual({ status: 401, code: 'UNAUTHORIZED' })
    })

    it('an unknown path is 404 NOT_FOUND, signed in or not', async () => {
      expect(refusal(await request({ method: 'GET', url: '/api/nowhere' }))).toEqual({ status: 404, code: 'NOT_FOUND' })
      expect(refusal(await request({ method: 'GET', url: '/api/nowhere', token: alice.token }))).toEqual({ status: 404, code: 'NOT_FOUND' })
    })

    it('a method the path does not have is 405 METHOD_NOT_ALLOWED, signed in or not', async () => {
      expect(refusal(await request({ method: 'POST', url: '/api/me/subscriptions' }))).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED' })
      expect(refusal(await request({ method: 'PUT', url: '/api/events', token: alice.token, body: EVENT }))).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED' })
    })
  })
})
