/**
 * The consent flow end to end inside the client: tap → subscribe → answers recorded → consent queued
 * in the outbox (storage) → POST /api/consents → credits. Against the contract-checked FakeService.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { SUBSCRIBE_ERR_CODES, isSubscribeError, type SubscribeErrCode } from '@/rules/subscribe-errors'
import { useSubscriptionsStore } from '@/stores/subscriptions'
import { TEMPLATE_CATALOGUE_MAX_AGE_MS, useTemplatesStore } from '@/stores/templates'
import { useConsentOutboxStore } from '@/stores/consent-outbox'
import { useSessionStore } from '@/stores/session'
import { setupClient, storeSlot, type TestClient } from '../support/client'
import { EXTRA_TEMPLATES, templateByKey } from '../../support/templates'

const ORDER = templateByKey('order_status').id
const SHIPPING = templateByKey('shipping').id
const PAYMENT = templateByKey('payment').id
const ACTIVITY = templateByKey('activity_reminder').id
const LONG_TERM = templateByKey('account_security').id
const OPENID = 'o-device-alice'

let client: TestClient

async function signedInClient(options: Parameters<typeof setupClient>[0] = {}): Promise<TestClient> {
  const next = setupClient(options)
  await useSessionStore().signIn()
  await useTemplatesStore().load()
  return next
}

beforeEach(async () => {
  client = await signedInClient({ platform: { requireTap: true } })
})

describe('subscribe: the platform call is the first, synchronous thing', () => {
  it('calls requestSubscribe before returning its promise, inside the tap', async () => {
    const store = useSubscriptionsStore()
    let pending: Promise<unknown> | undefined
    client.platform.tap(() => {
      pending = store.subscribe([ORDER, SHIPPING])
      // Still inside the tap, before anything could have been awaited:
      expect(client.platform.subscribeCalls).toHaveLength(1)
    })
    expect(client.platform.subscribeCalls[0]).toMatchObject({ tmplIds: [ORDER, SHIPPING], inTap: true, dialogShown: true })
    await expect(pending).resolves.toMatchObject({ results: { [ORDER]: 'accept', [SHIPPING]: 'accept' }, reported: true })
  })

  it('a call outside the tap fails like WeChat does (the fake enforces the gesture)', async () => {
    await expect(useSubscriptionsStore().subscribe([ORDER])).rejects.toMatchObject({
      code: 'NOT_IN_TAP',
      message: '订阅需要你亲自点按按钮才能发起，请再点一次',
    })
    expect(useSubscriptionsStore().stateOf(ORDER).lastError).toBe('NOT_IN_TAP')
  })

  it('works from a modal confirm callback (WeChat counts it as the tap)', async () => {
    const store = useSubscriptionsStore()
    let pending: Promise<unknown> | undefined
    await client.platform.modal({ title: '订阅', content: '发货时通知你？', onConfirm: () => (pending = store.subscribe([ORDER])) })
    expect(client.platform.subscribeCalls[0]?.inTap).toBe(true)
    await expect(pending).resolves.toMatchObject({ results: { [ORDER]: 'accept' } })
  })
})

describe('subscribe: "总是保持以上选择" ticked in the dialog', () => {
  it('reads getSetting again afterwards, so an always-reject shows the settings guide at once', async () => {
    client = await signedInClient({ platform: { requireTap: true, keepChoices: true, answers: { [SHIPPING]: 'reject' } } })
    const store = useSubscriptionsStore()
    await client.platform.tap(() => store.subscribe([ORDER, SHIPPING]))
    expect(store.stateOf(SHIPPING)).toMatchObject({ status: 'reject', alwaysKeep: 'reject' })
    expect(store.stateOf(ORDER)).toMatchObject({ status: 'accept', alwaysKeep: 'accept', credits: 1 })
    expect(store.decisionFor(SHIPPING)).toEqual({ action: 'guide', reason: 'always-reject' })
  })
})

describe('subscribe: answers, outbox, credits', () => {
  it('records the answers and the credits the service reports', async () => {
    client.platform.answers[SHIPPING] = 'reject'
    const store = useSubscriptionsStore()
    const outcome = await client.platform.tap(() => store.subscribe([ORDER, SHIPPING]))
    expect(outcome.results).toEqual({ [ORDER]: 'accept', [SHIPPING]: 'reject' })
    expect(outcome.reported).toBe(true)
    expect(store.stateOf(ORDER)).toMatchObject({ status: 'accept', credits: 1, lastError: null })
    expect(store.stateOf(SHIPPING)).toMatchObject({ status: 'reject', credits: 0 })
    expect(store.stateOf(ORDER).prompts.dialog).toEqual({ at: client.time.now(), outcome: 'accept' })
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
    expect(useConsentOutboxStore().entries).toEqual([])
  })

  it('counts accepts up: three accepts are three credits', async () => {
    const store = useSubscriptionsStore()
    for (let i = 0; i < 3; i++) await client.platform.tap(() => store.subscribe([ORDER]))
    expect(store.stateOf(ORDER).credits).toBe(3)
    expect(client.service.credits(OPENID, ORDER)).toBe(3)
  })

  it('acceptWithAudio counts as accept', async () => {
    client.platform.answers[ORDER] = 'acceptWithAudio'
    const store = useSubscriptionsStore()
    await client.platform.tap(() => store.subscribe([ORDER]))
    expect(store.stateOf(ORDER).status).toBe('accept')
    expect(store.stateOf(ORDER).credits).toBe(1)
  })

  it('writes the consent to storage before any network call', async () => {
    const snapshots: Array<string | null> = []
    const handler = client.platform.requestHandler
    client.platform.requestHandler = (request) => {
      if (request.url.endsWith('/api/consents')) snapshots.push(client.platform.storage.get('uni-subscribe:consent-outbox'))
      return handler(request)
    }
    await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    expect(snapshots).toHaveLength(1)
    expect(snapshots[0]).toContain(`"results":{"${ORDER}":"accept"}`)
  })
})

describe('subscribe: ≤ 3 ids, never kinds mixed', () => {
  it('refuses 4 templates without calling WeChat', async () => {
    const attempt = client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER, SHIPPING, PAYMENT, ACTIVITY]))
    await expect(attempt).rejects.toMatchObject({ code: 'TOO_MANY_TEMPLATES', message: '一次最多只能订阅 3 种消息' })
    expect(client.platform.subscribeCalls).toHaveLength(0)
  })

  it('refuses one-time mixed with long-term without calling WeChat', async () => {
    const attempt = client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER, LONG_TERM]))
    await expect(attempt).rejects.toMatchObject({ code: 'KINDS_MIXED' })
    expect(client.platform.subscribeCalls).toHaveLength(0)
  })

  it('asks for a repeated id once', async () => {
    await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER, ORDER, SHIPPING]))
    expect(client.platform.subscribeCalls[0]?.tmplIds).toEqual([ORDER, SHIPPING])
  })
})

describe('subscribe: every WeChat errCode becomes a typed error', () => {
  const codes = Object.keys(SUBSCRIBE_ERR_CODES).map(Number) as SubscribeErrCode[]

  it.each(codes)('errCode %i', async (errCode) => {
    client.platform.failNextSubscribe(errCode)
    const store = useSubscriptionsStore()
    const error: unknown = await client.platform.tap(() => store.subscribe([ORDER])).catch((caught: unknown) => caught)
    expect(isSubscribeError(error)).toBe(true)
    if (!isSubscribeError(error)) return
    expect(error.code).toBe(SUBSCRIBE_ERR_CODES[errCode])
    expect(error.errCode).toBe(errCode)
    expect(error.errMsg).toMatch(/^requestSubscribeMessage:fail /)
    expect(error.message).toMatch(/[\u4e00-\u9fff]/)
    expect(store.stateOf(ORDER)).toMatchObject({ status: 'unknown', lastError: SUBSCRIBE_ERR_CODES[errCode] })
    expect(store.stateOf(ORDER).prompts.dialog).toEqual({ at: client.time.now(), outcome: 'failed' })
    // Nothing to report: no consent queued.
    expect(useConsentOutboxStore().entries).toEqual([])
  })

  it('20004 from a switched-off main switch turns the decision into the settings guide', async () => {
    client.platform.mainSwitch = false
    const store = useSubscriptionsStore()
    await expect(client.platform.tap(() => store.subscribe([ORDER]))).rejects.toMatchObject({
      code: 'MAIN_SWITCH_OFF',
      errCode: 20004,
      errMsg: 'requestSubscribeMessage:fail The main switch is switched off',
    })
    expect(store.mainSwitch).toBe(false)
    expect(store.decisionFor(ORDER)).toEqual({ action: 'guide', reason: 'main-switch-off' })
  })
})

describe('settings', () => {
  it('refreshSettings reads the main switch and the kept choices', async () => {
    client.platform.itemSettings = { [ORDER]: 'reject' }
    const store = useSubscriptionsStore()
    await store.refreshSettings()
    expect(store.mainSwitch).toBe(true)
    expect(store.stateOf(ORDER)).toMatchObject({ alwaysKeep: 'reject', status: 'reject' })
    expect(store.decisionFor(ORDER)).toEqual({ action: 'guide', reason: 'always-reject' })
    expect(store.stateOf(SHIPPING).alwaysKeep).toBeNull()
  })

  it('openSettings calls openSetting inside the tap and applies what the person changed', async () => {
    client.platform.mainSwitch = false
    client.platform.onOpenSetting = (current) => ({ ...current, mainSwitch: true })
    const store = useSubscriptionsStore()
    await store.refreshSettings()
    expect(store.decisionFor(ORDER)).toEqual({ action: 'guide', reason: 'main-switch-off' })
    const returned = client.platform.tap(() => store.openSettings())
    expect(client.platform.settingsCalls).toEqual([{ inTap: true }])
    await expect(returned).resolves.toEqual({ mainSwitch: true, itemSettings: {} })
    expect(store.mainSwitch).toBe(true)
    expect(store.decisionFor(ORDER)).toEqual({ action: 'offer' })
  })
})

describe('prompt history and the cooldown', () => {
  it('after a reject the template waits 72 h, then is offered again', async () => {
    client.platform.answers[ORDER] = 'reject'
    const store = useSubscriptionsStore()
    const rejectedAt = client.time.now()
    await client.platform.tap(() => store.subscribe([ORDER]))
    expect(store.decisionFor(ORDER)).toEqual({ action: 'wait', reason: 'cooldown', until: rejectedAt + 72 * 3_600_000 })
    client.time.advance(72 * 3_600_000 - 1)
    expect(store.decisionFor(ORDER).action).toBe('wait')
    client.time.advance(1)
    expect(store.decisionFor(ORDER)).toEqual({ action: 'offer' })
  })

  it('a declined pre-prompt is remembered across a restart', () => {
    useSubscriptionsStore().recordPrePrompt([ORDER], 'declined')
    client = client.restart()
    const store = useSubscriptionsStore()
    expect(store.stateOf(ORDER).prompts.prePrompt).toEqual({ at: client.time.now(), outcome: 'declined' })
    expect(store.decisionFor(ORDER).action).toBe('wait')
  })
})

describe('refreshFromService', () => {
  it('takes the credits and newer results from GET /api/me/subscriptions', async () => {
    client.service.setCredits(OPENID, PAYMENT, 4)
    const store = useSubscriptionsStore()
    await store.refreshFromService()
    expect(store.stateOf(PAYMENT)).toMatchObject({ credits: 4, status: 'accept' })
    expect(store.stateOf(ORDER).credits).toBe(0)
  })
})

describe('restart', () => {
  it('keeps templates, statuses and credits', async () => {
    await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    client = client.restart()
    const store = useSubscriptionsStore()
    expect(useTemplatesStore().templates.map((template) => template.id)).toContain(ORDER)
    expect(store.stateOf(ORDER)).toMatchObject({ status: 'accept', credits: 1 })
    expect(client.platform.requests).toEqual([])
  })

  it('keeps the catalogue 10 minutes, then asks the service again (templates added and retired show)', async () => {
    const templateRequests = (): number => client.service.requests.filter((request) => request.path === '/api/templates').length
    const before = templateRequests()
    client = client.restart()
    const store = useTemplatesStore()
    await store.load()
    expect(templateRequests()).toBe(before)

    client.service.templates.splice(client.service.templates.findIndex((template) => template.id === ACTIVITY), 1)
    client.service.templates.push(EXTRA_TEMPLATES.delivery)
    client.time.advance(TEMPLATE_CATALOGUE_MAX_AGE_MS - 1)
    await store.load()
    expect(templateRequests()).toBe(before)
    client.time.advance(1)
    await store.load()
    expect(templateRequests()).toBe(before + 1)
    expect(store.templates.map((template) => template.id)).toContain(EXTRA_TEMPLATES.delivery.id)
    expect(store.templates.map((template) => template.id)).not.toContain(ACTIVITY)

    // Unreachable once it is stale again: the load fails and the catalogue held stays.
    client.time.advance(TEMPLATE_CATALOGUE_MAX_AGE_MS)
    client.service.offline = true
    await expect(store.load()).rejects.toMatchObject({ code: 'OFFLINE' })
    expect(store.templates.map((template) => template.id)).toContain(EXTRA_TEMPLATES.delivery.id)
  })

  it('loads the catalogue once when two loads overlap (one GET /api/templates), and again after a failed one', async () => {
    const templateRequests = (): number => client.service.requests.filter((request) => request.path === '/api/templates').length
    client.time.advance(TEMPLATE_CATALOGUE_MAX_AGE_MS)
    const store = useTemplatesStore()
    const before = templateRequests()
    const [first, second] = await Promise.all([store.load(), store.load()])
    expect(templateRequests()).toBe(before + 1)
    expect(second).toBe(first)

    client.time.advance(TEMPLATE_CATALOGUE_MAX_AGE_MS)
    client.service.offline = true
    await expect(Promise.all([store.load(), store.load()])).rejects.toMatchObject({ code: 'OFFLINE' })
    client.service.offline = false
    await store.load()
    expect(templateRequests()).toBe(before + 2)
  })

  it('starts empty from corrupt storage', async () => {
    await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    const key = `uni-subscribe:subscriptions@${useSessionStore().openid ?? ''}`
    client.platform.storage.set(key, '{"v":1,"data":')
    client.platform.storage.set('uni-subscribe:templates', '{"v":1,"data":')
    client = client.restart()
    expect(useTemplatesStore().templates).toEqual([])
    expect(useSubscriptionsStore().stateOf(ORDER)).toMatchObject({ status: 'unknown', credits: null })
    expect(client.platform.storage.get(key)).toBeNull()
    expect(client.platform.storage.get('uni-subscribe:templates')).toBeNull()
  })

  it('reads back a stored catalogue, leaving out a template that is not the contract\'s Template', () => {
    const [order, shipping, payment] = client.service.templates
    storeSlot(client, 'templates', { templates: [order, { ...shipping, key: 'Shipping' }, { ...payment, keywords: [] }], loadedAt: client.time.now() })
    client = client.restart()
    expect(useTemplatesStore().templates).toEqual([order])
    expect(useTemplatesStore().titleOf(ORDER)).toBe('订单状态通知')
    expect(useTemplatesStore().titleOf(SHIPPING)).toBe('订阅消息')
  })

  it('keeps the states stored while the catalogue still shared their slot', () => {
    storeSlot(client, 'subscriptions', {
      templates: client.service.templates,
      templatesLoadedAt: 1,
      states: { [ORDER]: { status: 'accept', credits: 2, alwaysKeep: null, prompts: {}, updatedAt: 1, lastError: null } },
      mainSwitch: true,
      settingsReadAt: 1,
    }, useSessionStore().openid ?? '')
    client = client.restart()
    expect(useSubscriptionsStore().stateOf(ORDER)).toMatchObject({ status: 'accept', credits: 2 })
  })
})
