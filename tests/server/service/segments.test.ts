/**
 * Segments through the HTTP contract: saved filters, the filter's meaning each way (tags, activity,
 * attributes), the filters refused because they cannot work, and reach: for a crafted mix of people
 * (muted, without credit, at their daily limit, in quiet hours, eligible) the exact counts the
 * dispatcher's rule gives. Membership is read through the paging campaigns use (users.page).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SegmentFilter, SegmentReach } from '../../../src/domain/contract'
import { createAudience, type Audience } from '../../../server/audience/audience'
import { createLedger } from '../../../server/ledger/ledger'
import { createTemplateDirectory } from '../../../server/messages/templates'
import { createPreferencesService } from '../../../server/preferences/preferences'
import {
  ACTIVITY_REMINDER,
  ORDER_DATA,
  ORDER_STATUS,
  TEMPLATES,
  adminHeaders,
  errorOf,
  signIn,
  startFakeService,
  type FakeService,
} from '../support/service'

const DAY_MS = 86_400_000

let service: FakeService

beforeEach(async () => {
  service = await startFakeService()
})
afterEach(async () => service.close())

async function createSegment(name: string, filter: unknown) {
  return service.app.inject({ method: 'POST', url: '/api/segments', headers: adminHeaders, payload: { name, filter } })
}
async function admin(method: 'GET' | 'DELETE', url: string) {
  return service.app.inject({ method, url, headers: adminHeaders })
}
async function importUsers(users: unknown[]): Promise<void> {
  const reply = await service.app.inject({ method: 'POST', url: '/api/users/import', headers: adminHeaders, payload: { users } })
  expect(reply.statusCode, reply.body).toBe(200)
}

/** The audience services over the test's storage (users.page is what campaigns walk through). */
function audience(reachPageSize?: number): Audience {
  const templates = createTemplateDirectory(TEMPLATES)
  const ledger = createLedger({ storage: service.storage, templates, clock: service.clock })
  const preferences = createPreferencesService({ repository: service.storage.preferences, templates, clock: service.clock })
  return createAudience({
    storage: service.storage,
    ledger,
    preferences,
    templates,
    clock: service.clock,
    timeZone: 'Asia/Shanghai',
    ...(reachPageSize !== undefined && { reachPageSize }),
  })
}

/** Every openid `filter` matches, walked a page of `limit` at a time. */
async function members(filter: SegmentFilter, limit = 2): Promise<string[]> {
  const { users } = audience()
  const found: string[] = []
  let after: string | undefined
  do {
    const page = await users.page(filter, { ...(after !== undefined && { after }), limit })
    expect(page.users.length).toBeLessThanOrEqual(limit)
    found.push(...page.users.map((user) => user.openid))
    after = page.next ?? undefined
  } while (after !== undefined)
  return found
}

describe('segments', () => {
  it('are created (201), listed oldest first, read and deleted (204); a name is unique (409)', async () => {
    const created = await createSegment('北京 VIP', { tagsAll: ['vip', 'beijing'] })
    expect(created.statusCode).toBe(201)
    const segment = created.json<{ id: string }>()
    expect(segment).toEqual({ id: expect.any(String), name: '北京 VIP', filter: { tagsAll: ['vip', 'beijing'] }, createdAt: '2026-11-25T05:00:00.000Z' })

    expect(errorOf(await createSegment('北京 VIP', {}), 409)).toEqual({ code: 'CONFLICT', field: 'name', message: 'name: 已有名为「北京 VIP」的用户分群' })
    service.manual.advance(1000)
    const everyone = (await createSegment('所有人', {})).json<{ id: string }>()

    expect((await admin('GET', '/api/segments')).json<{ name: string }[]>().map((one) => one.name)).toEqual(['北京 VIP', '所有人'])
    expect((await admin('GET', `/api/segments/${everyone.id}`)).json()).toEqual({
      id: everyone.id,
      name: '所有人',
      filter: {},
      createdAt: '2026-11-25T05:00:01.000Z',
    })

    const deleted = await admin('DELETE', `/api/segments/${segment.id}`)
    expect(deleted.statusCode).toBe(204)
    expect(deleted.body).toBe('')
    expect(errorOf(await admin('GET', `/api/segments/${segment.id}`), 404)).toEqual({
      code: 'NOT_FOUND',
      field: 'id',
      message: `没有这个用户分群：${segment.id}`,
    })
    expect(errorOf(await admin('DELETE', `/api/segments/${segment.id}`), 404).code).toBe('NOT_FOUND')
    // The name is free again.
    expect((await createSegment('北京 VIP', {})).statusCode).toBe(201)
  })

  it.each([
    [{ colour: 'red' }, 'filter.colour', 'filter.colour: 不是可用的字段'],
    [{ attributes: { level: { gte: '3' } } }, 'filter.attributes.level.gte', 'filter.attributes.level.gte: 应为数字'],
    [{ attributes: { city: { in: [] } } }, 'filter.attributes.city.in', 'filter.attributes.city.in: 至少 1 项'],
    [{ attributes: { level: {} } }, 'filter.attributes.level', 'filter.attributes.level: 至少 1 项'],
    [{ attributes: { level: { gt: 3 } } }, 'filter.attributes.level.gt', 'filter.attributes.level.gt: 不是可用的字段'],
    [{ attributes: { Level: { eq: 3 } } }, 'filter.attributes.Level', 'filter.attributes.Level: 名称不符合规则（^[a-z][a-zA-Z0-9_]{0,31}$）'],
    [{ attributes: { level: { gte: 4, lte: 2 } } }, 'filter.attributes.level.lte', 'filter.attributes.level.lte: 不能小于 gte（4）：没有数值能同时满足'],
    [{ tagsAny: [] }, 'filter.tagsAny', 'filter.tagsAny: 至少 1 项'],
    [{ tagsAll: ['vip'], tagsNone: ['new', 'vip'] }, 'filter.tagsNone.1', 'filter.tagsNone.1: 「vip」也在 tagsAll 里：没有用户能既有又没有这个标签'],
    [{ activeWithinDays: 0 }, 'filter.activeWithinDays', 'filter.activeWithinDays: 不能小于 1'],
    [{ activeWithinDays: 1.5 }, 'filter.activeWithinDays', 'filter.activeWithinDays: 应为整数'],
  ])('a filter that cannot work, %j, is refused naming %s', async (filter, field, message) => {
    expect(errorOf(await createSegment('坏的', filter), 400)).toEqual({ code: 'VALIDATION_FAILED', field, message })
    expect((await admin('GET', '/api/segments')).json()).toEqual([])
  })

  it('refuses a name that is empty, blank or longer than 40 characters, and a missing filter', async () => {
    expect(errorOf(await createSegment('', {}), 400)).toMatchObject({ field: 'name', message: 'name: 至少 1 个字符' })
    expect(errorOf(await createSegment('   ', {}), 400)).toMatchObject({ field: 'name', message: 'name: 格式不正确' })
    expect(errorOf(await createSegment('名'.repeat(41), {}), 400)).toMatchObject({ field: 'name', message: 'name: 最多 40 个字符' })
    const noFilter = await service.app.inject({ method: 'POST', url: '/api/segments', headers: adminHeaders, payload: { name: 'x' } })
    expect(errorOf(noFilter, 400)).toMatchObject({ field: 'filter', message: 'filter: 缺少这个字段' })
  })
})

describe('a filter means', () => {
  beforeEach(async () => {
    await importUsers([
      { openid: 'u1', tags: ['vip', 'beijing'], attributes: { city: '北京', level: 5, orderCount: 30 } },
      { openid: 'u2', tags: ['vip', 'shanghai'], attributes: { city: '上海', level: 3, orderCount: 2 } },
      { openid: 'u3', tags: ['new', 'beijing'], attributes: { city: '北京', level: 1, orderCount: 0 } },
      { openid: 'u4', tags: ['new'], attributes: { city: '广州', level: '3' } },
      { openid: 'u5', tags: [], attributes: {} },
    ])
  })

  it('{} is every user', async () => {
    expect(await members({})).toEqual(['u1', 'u2', 'u3', 'u4', 'u5'])
  })

  it('tagsAll: every tag; tagsAny: at least one; tagsNone: none of them', async () => {
    expect(await members({ tagsAll: ['vip', 'beijing'] })).toEqual(['u1'])
    expect(await members({ tagsAny: ['shanghai', 'new'] })).toEqual(['u2', 'u3', 'u4'])
    expect(await members({ tagsNone: ['vip', 'new'] })).toEqual(['u5'])
    expect(await members({ tagsAll: ['beijing'], tagsNone: ['vip'] })).toEqual(['u3'])
    expect(await members({ tagsAll: [], tagsNone: [] })).toEqual(['u1', 'u2', 'u3', 'u4', 'u5'])
  })

  it('attributes: eq is typed (the number 3 is not the text "3"), in lists either, gte/lte match numbers only', async () => {
    expect(await members({ attributes: { city: { eq: '北京' } } })).toEqual(['u1', 'u3'])
    expect(await members({ attributes: { level: { eq: 3 } } })).toEqual(['u2'])
    expect(await members({ attributes: { level: { eq: '3' } } })).toEqual(['u4'])
    expect(await members({ attributes: { level: { in: [1, '3'] } } })).toEqual(['u3', 'u4'])
    expect(await members({ attributes: { city: { in: ['上海', '广州'] } } })).toEqual(['u2', 'u4'])
    expect(await members({ attributes: { level: { gte: 3 } } })).toEqual(['u1', 'u2'])
    expect(await members({ attributes: { level: { gte: 2, lte: 4 } } })).toEqual(['u2'])
    expect(await members({ attributes: { orderCount: { lte: 2 } } })).toEqual(['u2', 'u3'])
    // A user without the attribute matches none of its conditions.
    expect(await members({ attributes: { nickname: { in: ['张伟'] } } })).toEqual([])
    expect(await members({ tagsAny: ['vip', 'new'], attributes: { city: { eq: '北京' }, level: { lte: 4 } } })).toEqual(['u3'])
  })

  it('activeWithinDays: lastActiveAt within N days of the service clock; never signed in never matches', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    service.manual.advance(3 * DAY_MS)
    const bob = await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    service.manual.advance(DAY_MS)
    expect(await members({ activeWithinDays: 1 })).toEqual([bob.openid])
    expect((await members({ activeWithinDays: 4 })).sort()).toEqual([alice.openid, bob.openid].sort())
    expect(await members({ activeWithinDays: 4, tagsAll: ['vip'] })).toEqual([])
  })

  it('pages of any size give the same users, each once, with their attributes', async () => {
    for (const limit of [1, 2, 3, 5, 100]) expect(await members({ tagsAny: ['vip', 'new'] }, limit)).toEqual(['u1', 'u2', 'u3', 'u4'])
    const page = await audience().users.page({ tagsAll: ['vip'] }, { limit: 10 })
    expect(page).toEqual({
      users: [
        { openid: 'u1', attributes: { city: '北京', level: 5, orderCount: 30 } },
        { openid: 'u2', attributes: { city: '上海', level: 3, orderCount: 2 } },
      ],
      next: null,
    })
  })
})

describe('GET /api/segments/:id/reach', () => {
  /** Signs `name` in, accepts order_status `credits` times, saves `preferences` if given, and tags them `campaign`. */
  async function person(name: string, options: { credits: number; preferences?: Record<string, unknown>; tag?: string }) {
    const session = await signIn(service.app, (user) => service.wechat.issueCode(user), name)
    for (let index = 0; index < options.credits; index += 1) {
      service.wechat.grant(session.openid, { [ORDER_STATUS.id]: 'accept' })
      const consent = await service.app.inject({
        method: 'POST',
        url: '/api/consents',
        headers: { authorization: session.authorization },
        payload: { consentId: `${name}-consent-${index}`, results: { [ORDER_STATUS.id]: 'accept' } },
      })
      expect(consent.statusCode).toBe(200)
    }
    if (options.preferences) {
      const saved = await service.app.inject({
        method: 'PUT',
        url: '/api/me/preferences',
        headers: { authorization: session.authorization },
        payload: { quietHours: null, dailyLimit: 20, mutedCategories: [], ...options.preferences },
      })
      expect(saved.statusCode, saved.body).toBe(200)
    }
    const tagged = await service.app.inject({
      method: 'PUT',
      url: `/api/users/${session.openid}`,
      headers: adminHeaders,
      payload: { tags: [options.tag ?? 'campaign'] },
    })
    expect(tagged.statusCode).toBe(200)
    return session.openid
  }

  let segmentId: string

  beforeEach(async () => {
    await person('muted', { credits: 1, preferences: { mutedCategories: ['order'] } })
    await person('mutedNoCredit', { credits: 0, preferences: { mutedCategories: ['order'] } })
    await person('noCredit', { credits: 0 })
    await person('mutedOther', { credits: 0, preferences: { mutedCategories: ['marketing'] } })
    const limited = await person('limitUsed', { credits: 2, preferences: { dailyLimit: 1 } })
    // 13:00 in Shanghai: quiet hours 12:00–14:00 cover now.
    await person('quiet', { credits: 1, preferences: { quietHours: { start: '12:00', end: '14:00' } } })
    await person('quietNoCredit', { credits: 0, preferences: { quietHours: { start: '12:00', end: '14:00' } } })
    await person('eligible1', { credits: 1 })
    await person('eligible2', { credits: 3, preferences: { quietHours: { start: '22:00', end: '08:00' } } })
    await person('outsider', { credits: 5, tag: 'other' })
    await importUsers([{ openid: 'op-imported', tags: ['campaign'] }])

    // limitUsed gets one message today: their daily limit of 1 is used up.
    const sent = await service.app.inject({
      method: 'POST',
      url: '/api/messages?wait=true',
      headers: adminHeaders,
      payload: { touser: limited, templateId: ORDER_STATUS.id, data: ORDER_DATA },
    })
    expect(sent.json()).toMatchObject({ status: 'sent' })

    segmentId = (await createSegment('活动', { tagsAll: ['campaign'] })).json<{ id: string }>().id
  })

  async function reach(template: string): Promise<SegmentReach> {
    const reply = await admin('GET', `/api/segments/${segmentId}/reach?template=${template}`)
    expect(reply.statusCode, reply.body).toBe(200)
    return reply.json<SegmentReach>()
  }

  const EXPECTED: SegmentReach = {
    users: 10,
    eligible: 2,
    deferred: 1,
    // mutedNoCredit is muted first (the dispatcher's order); quietNoCredit has no credit, quiet hours or not.
    notEligible: { NO_CREDIT: 4, MUTED_CATEGORY: 2, DAILY_LIMIT: 1 },
  }

  it('counts each user by the dispatcher’s rule: muted, no credit, daily limit used up, quiet hours, eligible', async () => {
    expect(await reach(ORDER_STATUS.id)).toEqual(EXPECTED)
    // By the catalogue key too.
    expect(await reach('order_status')).toEqual(EXPECTED)
  })

  it('counts for the template asked: nobody has an activity_reminder credit; marketing is muted by one', async () => {
    expect(await reach(ACTIVITY_REMINDER.key)).toEqual({
      users: 10,
      eligible: 0,
      deferred: 0,
      notEligible: { NO_CREDIT: 9, MUTED_CATEGORY: 1, DAILY_LIMIT: 0 },
    })
  })

  it('follows the service clock: after quiet hours the deferred user is eligible, the next day the limit is free again', async () => {
    service.manual.advance(2 * 3_600_000) // 15:00
    expect(await reach(ORDER_STATUS.id)).toMatchObject({ eligible: 3, deferred: 0, notEligible: { DAILY_LIMIT: 1 } })
    service.manual.advance(12 * 3_600_000) // 03:00 the next day: inside eligible2's 22:00–08:00
    expect(await reach(ORDER_STATUS.id)).toMatchObject({ eligible: 3, deferred: 1, notEligible: { DAILY_LIMIT: 0 } })
  })

  it('gives the same numbers walking the segment two users at a time as a thousand', async () => {
    const { segments } = audience(2)
    expect(await segments.reach(segmentId, ORDER_STATUS.id)).toEqual(EXPECTED)
  })

  it('is 400 UNKNOWN_TEMPLATE naming querystring.template, 404 for an unknown segment', async () => {
    expect(errorOf(await admin('GET', `/api/segments/${segmentId}/reach?template=nope`), 400)).toEqual({
      code: 'UNKNOWN_TEMPLATE',
      field: 'querystring.template',
      message: 'querystring.template: 没有这个模板（ID 或 key）：nope',
    })
    expect(errorOf(await admin('GET', `/api/segments/${segmentId}/reach`), 400)).toMatchObject({ field: 'querystring.template' })
    expect(errorOf(await admin('GET', '/api/segments/nope/reach?template=order_status'), 404).code).toBe('NOT_FOUND')
  })
})
