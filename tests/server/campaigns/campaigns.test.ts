/**
 * Campaigns through the HTTP API: a template with per-person data sent to a segment, humane by
 * default, with counts by outcome and reason, pause / resume / cancel, a start time, and retries of
 * what can be retried. Against the service with the in-process fake WeChat.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Campaign, MessageDetail, MessageOutcome, MessageSearchResult, Preferences } from '../../../src/domain/contract'
import { ACTIVITY_REMINDER, adminHeaders, errorOf, signIn, startFakeService, testConfig, type FakeService } from '../support/service'

let service: FakeService

beforeEach(async () => {
  service = await startFakeService({ config: testConfig({ WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef', RATE_LIMIT: 'off', DISPATCH_CONCURRENCY: '1' }) })
})
afterEach(async () => service.close())

interface Person {
  openid: string
  authorization: string
}

/** A person who signed in, with `credits` accepts of the activity reminder, and their attributes and tags. */
async function person(user: string, options: { credits?: number; tags?: string[]; attributes?: Record<string, string | number>; preferences?: Preferences } = {}): Promise<Person> {
  const who = await signIn(service.app, (name) => service.wechat.issueCode(name), user)
  for (let i = 0; i < (options.credits ?? 1); i += 1) {
    service.wechat.grant(who.openid, { [ACTIVITY_REMINDER.id]: 'accept' })
    const consent = await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: who.authorization },
      payload: { consentId: `consent-${user}-${i}`, results: { [ACTIVITY_REMINDER.id]: 'accept' } },
    })
    expect(consent.statusCode).toBe(200)
  }
  const put = await service.app.inject({
    method: 'PUT',
    url: `/api/users/${who.openid}`,
    headers: adminHeaders,
    payload: { tags: options.tags ?? ['vip'], attributes: options.attributes ?? {} },
  })
  expect(put.statusCode, put.body).toBe(200)
  if (options.preferences) {
    const saved = await service.app.inject({ method: 'PUT', url: '/api/me/preferences', headers: { authorization: who.authorization }, payload: options.preferences })
    expect(saved.statusCode, saved.body).toBe(200)
  }
  return who
}

async function segment(filter: Record<string, unknown> = { tagsAll: ['vip'] }, name = 'VIP'): Promise<string> {
  const reply = await service.app.inject({ method: 'POST', url: '/api/segments', headers: adminHeaders, payload: { name, filter } })
  expect(reply.statusCode, reply.body).toBe(201)
  return reply.json<{ id: string }>().id
}

const DATA = { thing1: '{{nickname|朋友}}的专属活动', date2: '2026年12月12日', thing3: '{{city|全国}}门店', thing4: '记得准时参加' }

async function create(body: Record<string, unknown>) {
  return service.app.inject({ method: 'POST', url: '/api/campaigns', headers: adminHeaders, payload: body })
}

async function campaign(id: string): Promise<Campaign> {
  return (await service.app.inject({ method: 'GET', url: `/api/campaigns/${id}`, headers: adminHeaders })).json<Campaign>()
}

async function settle(): Promise<void> {
  await service.app.scheduler.runOnce({ settle: true })
}

async function messagesOf(campaignId: string): Promise<MessageSearchResult['items']> {
  const reply = await service.app.inject({ method: 'GET', url: `/api/messages?campaign=${campaignId}&limit=200`, headers: adminHeaders })
  expect(reply.statusCode, reply.body).toBe(200)
  return reply.json<MessageSearchResult>().items
}

describe('a campaign to a segment', () => {
  it('fills each person\'s data, respects what each person asked for, and counts every outcome by reason', async () => {
    const zhang = await person('zhang', { attributes: { nickname: '张伟', city: '北京' } })
    const li = await person('li', { attributes: { city: '上海' } })
    const muted = await person('muted', { preferences: { quietHours: null, dailyLimit: 20, mutedCategories: ['marketing'] } })
    const night = await person('night', { preferences: { quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] } })
    await person('nocredit', { credits: 0 })
    const long = await person('long', { attributes: { nickname: '一二三四五六七八九十一二三四五六七八' } })
    await person('other', { tags: ['new'] })
    const segmentId = await segment()

    const reply = await create({ name: '双十二', segmentId, template: 'activity_reminder', data: DATA })
    expect(reply.statusCode, reply.body).toBe(201)
    const created = reply.json<Campaign>()
    expect(created).toMatchObject({ name: '双十二', status: 'running', segmentId, templateId: ACTIVITY_REMINDER.id, urgent: false })
    await settle()

    const done = await campaign(created.id)
    expect(done).toMatchObject({
      status: 'running',
      total: 6,
      expanded: true,
      counts: { pending: 0, sent: 2, deferred: 1, skipped: 2, failed: 1 },
      reasons: { MUTED_CATEGORY: 1, INVALID_DATA: 1, NO_CREDIT: 1 },
    })
    const sent = service.wechat.accepted.filter((message) => message.template_id === ACTIVITY_REMINDER.id)
    expect(Object.fromEntries(sent.map((message) => [message.touser, [message.data.thing1?.value, message.data.thing3?.value]]))).toEqual({
      [zhang.openid]: ['张伟的专属活动', '北京门店'],
      [li.openid]: ['朋友的专属活动', '上海门店'],
    })
    const items = await messagesOf(created.id)
    const byPerson = new Map(items.map((item) => [item.touser, item]))
    expect(byPerson.get(muted.openid)).toMatchObject({ status: 'skipped', reason: 'MUTED_CATEGORY', campaignId: created.id })
    expect(byPerson.get(night.openid)).toMatchObject({ status: 'deferred', deliverAfter: '2026-11-25T06:00:00.000Z' })
    expect(byPerson.get(long.openid)).toMatchObject({ status: 'skipped', reason: 'INVALID_DATA', detail: 'data.thing1.value: 最多 20 个字符' })

    // The night passes: the deferred one goes, and the campaign is completed.
    service.manual.set(new Date('2026-11-25T06:00:00.000Z'))
    await settle()
    expect(await campaign(created.id)).toMatchObject({ status: 'completed', counts: { pending: 0, sent: 3, deferred: 0 }, finishedAt: '2026-11-25T06:00:00.000Z' })
  })

  it('urgent ignores quiet hours only; truncate shortens what is too long instead of skipping', async () => {
    await person('night', { preferences: { quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] } })
    await person('long', { attributes: { nickname: '一二三四五六七八九十一二三四五六七八' } })
    const segmentId = await segment()
    const created = (await create({ name: '紧急', segmentId, template: ACTIVITY_REMINDER.id, data: DATA, urgent: true, truncate: true })).json<Campaign>()
    await settle()
    expect(await campaign(created.id)).toMatchObject({ status: 'completed', counts: { sent: 2, deferred: 0, skipped: 0 } })
    expect(service.wechat.accepted.map((message) => message.data.thing1?.value).sort()).toEqual(['一二三四五六七八九十一二三四五六七...', '朋友的专属活动'])
  })

  it('sends each person at most one message per campaign, also when asked to write a page twice', async () => {
    await person('zhang')
    const segmentId = await segment()
    const created = (await create({ name: '一次', segmentId, template: 'activity_reminder', data: DATA })).json<Campaign>()
    await settle()
    const again = await service.storage.campaigns.expandPage({ id: created.id, fromCursor: null, toCursor: null, done: true, messages: [], now: service.manual.now() })
    expect(again).toBeNull()
    expect((await campaign(created.id)).total).toBe(1)
    expect(service.wechat.sendCalls).toBe(1)
  })
})

describe('a campaign that cannot work is refused, naming the field', () => {
  let segmentId: string
  beforeEach(async () => {
    segmentId = await segment({}, 'everyone')
  })

  it.each([
    [{ segmentId: 'no-such-segment' }, 'UNKNOWN_SEGMENT', 'segmentId', 'segmentId: 没有这个分群（no-such-segment）'],
    [{ template: 'nope' }, 'UNKNOWN_TEMPLATE', 'template', 'template: 没有这个模板（nope）'],
    [{ data: { ...DATA, thing9: 'x' } }, 'INVALID_DATA', 'data.thing9', 'data.thing9: 模板「活动提醒」没有这个关键词（有：thing1、date2、thing3、thing4）'],
    [{ data: { thing1: 'x', date2: '2026年12月12日', thing3: 'y' } }, 'INVALID_DATA', 'data.thing4', 'data.thing4: 缺少关键词「温馨提示」'],
    [{ data: { ...DATA, thing1: '{{nickname' } }, 'INVALID_DATA', 'data.thing1', 'data.thing1: 有未闭合的 {{（占位符写作 {{名字}} 或 {{名字|默认值}}）'],
    [{ data: { ...DATA, date2: '下周' } }, 'INVALID_DATA', 'data.date2', expect.stringMatching(/^data\.date2: /) as string],
    [{ page: 'pages/nowhere/index' }, 'INVALID_PAGE', 'page', 'page: 不是小程序的页面（pages/nowhere/index），见 pages.json'],
  ] as const)('%j', async (change, code, field, message) => {
    const reply = await create({ name: '坏的', segmentId, template: 'activity_reminder', data: DATA, ...change })
    expect(errorOf(reply, 400)).toEqual({ code, field, message })
    expect((await service.app.inject({ method: 'GET', url: '/api/campaigns', headers: adminHeaders })).json()).toEqual([])
  })
})

describe('pause, resume, cancel and a start time', () => {
  it('a start time keeps it scheduled until then; paused, nothing goes; resumed, it goes', async () => {
    await person('zhang')
    const segmentId = await segment()
    const created = (await create({ name: '晚点', segmentId, template: 'activity_reminder', data: DATA, startAt: '2026-11-25T07:00:00.000Z' })).json<Campaign>()
    expect(created.status).toBe('scheduled')
    await settle()
    expect(await campaign(created.id)).toMatchObject({ status: 'scheduled', total: 0 })

    service.manual.set(new Date('2026-11-25T07:00:00.000Z'))
    const paused = await service.app.inject({ method: 'POST', url: `/api/campaigns/${created.id}/pause`, headers: adminHeaders })
    expect(paused.json()).toMatchObject({ status: 'paused' })
    await settle()
    expect(service.wechat.sendCalls).toBe(0)

    const resumed = await service.app.inject({ method: 'POST', url: `/api/campaigns/${created.id}/resume`, headers: adminHeaders })
    expect(resumed.json()).toMatchObject({ status: 'running', startedAt: '2026-11-25T07:00:00.000Z' })
    await settle()
    expect(await campaign(created.id)).toMatchObject({ status: 'completed', counts: { sent: 1 } })
    const again = await service.app.inject({ method: 'POST', url: `/api/campaigns/${created.id}/pause`, headers: adminHeaders })
    expect(errorOf(again, 409)).toEqual({ code: 'CONFLICT', message: '群发「晚点」已完成，不能暂停' })
  })

  it('a paused campaign\'s queued messages wait; cancelled, what was pending or deferred is skipped CANCELLED', async () => {
    for (const name of ['a', 'b', 'c']) await person(name)
    await person('night', { preferences: { quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] } })
    const segmentId = await segment()
    const hold = service.wechat.hold()
    const created = (await create({ name: '取消', segmentId, template: 'activity_reminder', data: DATA })).json<Campaign>()
    await hold.reached
    await service.app.inject({ method: 'POST', url: `/api/campaigns/${created.id}/pause`, headers: adminHeaders })
    hold.release()
    await settle()
    const paused = await campaign(created.id)
    expect(paused.status).toBe('paused')
    // The one WeChat already had went; the others wait.
    expect(paused.counts.sent + paused.counts.pending + paused.counts.deferred).toBe(4)
    expect(paused.counts.pending).toBeGreaterThan(0)

    const cancelled = await service.app.inject({ method: 'POST', url: `/api/campaigns/${created.id}/cancel`, headers: adminHeaders })
    expect(cancelled.json<Campaign>()).toMatchObject({
      status: 'cancelled',
      counts: { pending: 0, deferred: 0, sent: paused.counts.sent, skipped: 4 - paused.counts.sent },
      reasons: { CANCELLED: 4 - paused.counts.sent },
    })
    await settle()
    expect(service.wechat.sendCalls).toBe(paused.counts.sent)
  })
})

describe('retry', () => {
  it('sends again what WeChat was too busy for; refuses the rest, saying why', async () => {
    const zhang = await person('zhang')
    await person('nocredit', { credits: 0 })
    const segmentId = await segment()
    service.wechat.failNext(-1, 1, 5)
    const created = (await create({ name: '重试', segmentId, template: 'activity_reminder', data: DATA })).json<Campaign>()
    await settle()
    expect(await campaign(created.id)).toMatchObject({ status: 'completed', counts: { sent: 0, failed: 2 }, reasons: { '-1': 1, NO_CREDIT: 1 } })

    const retried = await service.app.inject({ method: 'POST', url: `/api/campaigns/${created.id}/retry`, headers: adminHeaders })
    expect(retried.json()).toEqual({ retried: 1 })
    await settle()
    expect(await campaign(created.id)).toMatchObject({ status: 'completed', counts: { sent: 1, failed: 1 }, reasons: { NO_CREDIT: 1 } })
    expect(service.wechat.accepted.map((message) => message.touser)).toEqual([zhang.openid])

    const [noCredit] = (await messagesOf(created.id)).filter((item) => item.reason === 'NO_CREDIT')
    const refused = await service.app.inject({ method: 'POST', url: `/api/messages/${noCredit!.id}/retry`, headers: adminHeaders })
    expect(errorOf(refused, 409)).toEqual({ code: 'NOT_RETRYABLE', message: 'NO_CREDIT 收件人没有可用的订阅次数（从未同意，或次数已用完），没有调用微信' })
  })

  it('a single message: 202 and sent again after -1; 47003 is refused naming the field WeChat refused', async () => {
    const zhang = await person('zhang', { credits: 2 })
    service.wechat.failNext(-1, 1, 5)
    const busy = (
      await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: zhang.openid, templateId: 'activity_reminder', data: { thing1: '活动', date2: '2026年12月12日', thing3: '线上', thing4: '准时' } } })
    ).json<MessageOutcome>()
    expect(busy).toMatchObject({ status: 'failed', reason: '-1' })
    const again = await service.app.inject({ method: 'POST', url: `/api/messages/${busy.id}/retry`, headers: adminHeaders })
    expect(again.statusCode).toBe(202)
    expect(again.json()).toMatchObject({ id: busy.id, status: 'queued' })
    await settle()
    const detail = (await service.app.inject({ method: 'GET', url: `/api/messages/${busy.id}`, headers: adminHeaders })).json<MessageDetail>()
    expect(detail).toMatchObject({ status: 'sent' })
    expect(detail.history.map((change) => change.status)).toEqual(['queued', 'sending', 'failed', 'queued', 'sending', 'sent'])

    service.wechat.failNext(47003, 1)
    const refusedByWeChat = (
      await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: zhang.openid, templateId: 'activity_reminder', data: { thing1: '活动', date2: '2026年12月12日', thing3: '线上', thing4: '准时' } } })
    ).json<MessageOutcome>()
    // The fake's scripted 47003 names no field: the explanation is the code's.
    const refused = await service.app.inject({ method: 'POST', url: `/api/messages/${refusedByWeChat.id}/retry`, headers: adminHeaders })
    expect(errorOf(refused, 409)).toEqual({ code: 'NOT_RETRYABLE', message: '47003 消息内容不符合模板关键词的格式要求' })
    const sent = await service.app.inject({ method: 'POST', url: `/api/messages/${busy.id}/retry`, headers: adminHeaders })
    expect(errorOf(sent, 409)).toEqual({ code: 'NOT_RETRYABLE', message: '只有发送失败的消息可以重试，这条消息已发送' })
    expect(errorOf(await service.app.inject({ method: 'POST', url: '/api/messages/nope/retry', headers: adminHeaders }), 404).code).toBe('NOT_FOUND')
  })
})

describe('GET /api/messages', () => {
  it('finds messages by recipient, status, template and reason, newest first, a page at a time', async () => {
    const zhang = await person('zhang', { credits: 3 })
    const send = async (): Promise<MessageOutcome> =>
      (
        await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: zhang.openid, templateId: 'activity_reminder', data: { thing1: '活动', date2: '2026年12月12日', thing3: '线上', thing4: '准时' } } })
      ).json<MessageOutcome>()
    const sent = [await send(), await send(), await send()]
    const failed = await send()
    expect(failed).toMatchObject({ status: 'failed', reason: 'NO_CREDIT' })

    const list = async (query: string): Promise<MessageSearchResult> =>
      (await service.app.inject({ method: 'GET', url: `/api/messages?${query}`, headers: adminHeaders })).json<MessageSearchResult>()
    const first = await list(`touser=${zhang.openid}&limit=2`)
    expect(first.items.map((item) => item.id)).toEqual([failed.id, sent[2]!.id])
    const second = await list(`touser=${zhang.openid}&limit=2&cursor=${first.nextCursor}`)
    expect(second).toEqual({ items: expect.any(Array) as unknown[], nextCursor: null })
    expect(second.items.map((item) => item.id)).toEqual([sent[1]!.id, sent[0]!.id])
    expect((await list('status=failed&reason=NO_CREDIT')).items.map((item) => item.id)).toEqual([failed.id])
    expect((await list('template=activity_reminder&status=sent')).items).toHaveLength(3)
    expect((await list('template=order_status')).items).toEqual([])
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/api/messages?reason=SOMETHING', headers: adminHeaders }), 400).field).toBe('querystring.reason')
  })
})
