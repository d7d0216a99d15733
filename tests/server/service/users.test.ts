/**
 * Users through the HTTP contract: operators put tags and attributes, import thousands at once, page
 * through them, and read one with its credits and preferences. Sign-in makes a user; a session in use
 * keeps lastActiveAt current, written at most once per 5 minutes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ORDER_STATUS, adminHeaders, errorOf, signIn, startFakeService, type FakeService } from '../support/service'

let service: FakeService

beforeEach(async () => {
  service = await startFakeService()
})
afterEach(async () => service.close())

async function put(openid: string, payload: unknown) {
  return service.app.inject({ method: 'PUT', url: `/api/users/${openid}`, headers: adminHeaders, payload: payload as Record<string, unknown> })
}
async function importUsers(users: unknown[]) {
  return service.app.inject({ method: 'POST', url: '/api/users/import', headers: adminHeaders, payload: { users } })
}
async function get(url: string) {
  return service.app.inject({ method: 'GET', url, headers: adminHeaders })
}

describe('PUT /api/users/:openid', () => {
  it('creates a user who never signed in, then replaces only what each request names', async () => {
    const created = await put('op-zhang', { tags: ['vip', 'beijing'], attributes: { nickname: '张伟', level: 3 } })
    expect(created.statusCode).toBe(200)
    expect(created.json()).toEqual({
      openid: 'op-zhang',
      tags: ['beijing', 'vip'],
      attributes: { level: 3, nickname: '张伟' },
      lastActiveAt: null,
    })

    const tagsOnly = await put('op-zhang', { tags: ['shanghai'] })
    expect(tagsOnly.json()).toMatchObject({ tags: ['shanghai'], attributes: { level: 3, nickname: '张伟' } })

    const attributesOnly = await put('op-zhang', { attributes: { city: '上海', orderCount: 12.5 } })
    expect(attributesOnly.json()).toMatchObject({ tags: ['shanghai'], attributes: { city: '上海', orderCount: 12.5 } })

    const nothing = await put('op-zhang', {})
    expect(nothing.json()).toEqual({ openid: 'op-zhang', tags: ['shanghai'], attributes: { city: '上海', orderCount: 12.5 }, lastActiveAt: null })
    const cleared = await put('op-zhang', { tags: [], attributes: {} })
    expect(cleared.json()).toMatchObject({ tags: [], attributes: {} })
  })

  it.each([
    [{ tags: ['x'.repeat(33)] }, 'tags.0', 'tags.0: 最多 32 个字符'],
    [{ tags: [''] }, 'tags.0', 'tags.0: 至少 1 个字符'],
    [{ tags: ['has space'] }, 'tags.0', 'tags.0: 格式不正确'],
    [{ tags: ['vip', 'vip'] }, 'tags', 'tags: 不能有重复项'],
    [{ tags: Array.from({ length: 51 }, (_, index) => `t${index}`) }, 'tags', 'tags: 最多 50 项'],
    [{ attributes: { Nickname: '张伟' } }, 'attributes.Nickname', 'attributes.Nickname: 名称不符合规则（^[a-z][a-zA-Z0-9_]{0,31}$）'],
    [{ attributes: { ['a'.repeat(33)]: 1 } }, `attributes.${'a'.repeat(33)}`, `attributes.${'a'.repeat(33)}: 名称不符合规则（^[a-z][a-zA-Z0-9_]{0,31}$）`],
    [{ attributes: { nickname: '张'.repeat(201) } }, 'attributes.nickname', 'attributes.nickname: 最多 200 个字符'],
    [{ attributes: { vip: true } }, 'attributes.vip', 'attributes.vip: 应为字符串或数字'],
    [{ attributes: { city: null } }, 'attributes.city', 'attributes.city: 应为字符串或数字'],
    [{ attributes: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, index])) }, 'attributes', 'attributes: 最多 50 项'],
    [{ tag: ['vip'] }, 'tag', 'tag: 不是可用的字段'],
  ])('refuses %j naming %s, and writes nothing', async (payload, field, message) => {
    expect(errorOf(await put('op-li', payload), 400)).toEqual({ code: 'VALIDATION_FAILED', field, message })
    expect(errorOf(await get('/api/users/op-li'), 404).code).toBe('NOT_FOUND')
  })

  it('refuses half of a surrogate pair in an attribute value (SQLite would store U+FFFD instead)', async () => {
    const payload = '{"attributes":{"nickname":"张\\ud800"}}'
    const reply = await service.app.inject({
      method: 'PUT',
      url: '/api/users/op-li',
      headers: { ...adminHeaders, 'content-type': 'application/json' },
      payload,
    })
    expect(errorOf(reply, 400)).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'attributes.nickname',
      message: 'attributes.nickname: 含有无效的字符（不成对的代理项，不是完整的 Unicode 字符）',
    })
  })

  it('an openid outside [A-Za-z0-9_-] is refused naming params.openid', async () => {
    expect(errorOf(await put('op.li', {}), 400)).toMatchObject({ field: 'params.openid', message: 'params.openid: 格式不正确' })
  })

  it('needs the admin key: 401 without, 403 with a session token', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    expect(errorOf(await service.app.inject({ method: 'PUT', url: '/api/users/op-li', payload: {} }), 401).code).toBe('UNAUTHORIZED')
    const asAlice = await service.app.inject({ method: 'GET', url: '/api/users', headers: { authorization: alice.authorization } })
    expect(errorOf(asAlice, 403).code).toBe('FORBIDDEN')
  })
})

describe('POST /api/users/import', () => {
  it('creates and updates in one go, replacing only what each entry names', async () => {
    await put('op-a', { tags: ['old'], attributes: { level: 1 } })
    const reply = await importUsers([
      { openid: 'op-a', tags: ['vip'] },
      { openid: 'op-b', attributes: { city: '北京' } },
      { openid: 'op-c' },
    ])
    expect(reply.statusCode).toBe(200)
    expect(reply.json()).toEqual({ created: 2, updated: 1 })
    expect((await get('/api/users/op-a')).json()).toMatchObject({ tags: ['vip'], attributes: { level: 1 } })
    expect((await get('/api/users/op-b')).json()).toMatchObject({ tags: [], attributes: { city: '北京' } })
  })

  it('takes 10,000 users in one request (far more than the 64 KiB of other bodies); 10,001 is refused', async () => {
    const users = Array.from({ length: 10_000 }, (_, index) => ({
      openid: `op-${String(index).padStart(5, '0')}`,
      tags: index % 2 === 0 ? ['even'] : ['odd'],
      attributes: { level: index % 5, nickname: `用户${index}` },
    }))
    const reply = await importUsers(users)
    expect(reply.json()).toEqual({ created: 10_000, updated: 0 })
    const even = await get('/api/users?tag=even&limit=500')
    expect(even.json<{ items: unknown[] }>().items).toHaveLength(500)

    const tooMany = await importUsers([...users, { openid: 'op-10000' }])
    expect(errorOf(tooMany, 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'users', message: 'users: 最多 10000 项' })
    expect(errorOf(await get('/api/users/op-10000'), 404).code).toBe('NOT_FOUND')
  })

  it('all or none: an entry that is wrong names its index, and no entry is written', async () => {
    const reply = await importUsers([{ openid: 'op-a', tags: ['vip'] }, { openid: 'op-b', attributes: { Level: 1 } }])
    expect(errorOf(reply, 400)).toMatchObject({ field: 'users.1.attributes.Level' })
    expect(errorOf(await get('/api/users/op-a'), 404).code).toBe('NOT_FOUND')
  })

  it('refuses the same openid twice, naming both places', async () => {
    const reply = await importUsers([{ openid: 'op-a' }, { openid: 'op-b' }, { openid: 'op-a', tags: ['x'] }])
    expect(errorOf(reply, 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'users.2.openid', message: 'users.2.openid: 与 users.0 重复（op-a）' })
    expect(errorOf(await get('/api/users/op-b'), 404).code).toBe('NOT_FOUND')
  })

  it('refuses an empty list and entries with unknown fields', async () => {
    expect(errorOf(await importUsers([]), 400)).toMatchObject({ field: 'users', message: 'users: 至少 1 项' })
    expect(errorOf(await importUsers([{ openid: 'op-a', tagz: [] }]), 400)).toMatchObject({ field: 'users.0.tagz', message: 'users.0.tagz: 不是可用的字段' })
  })
})

describe('GET /api/users', () => {
  beforeEach(async () => {
    const reply = await importUsers([
      { openid: 'oA1', tags: ['vip'] },
      { openid: 'oA2' },
      { openid: 'oA22', tags: ['vip'] },
      { openid: 'oB1', tags: ['vip', 'new'] },
      { openid: 'oB2' },
    ])
    expect(reply.json()).toEqual({ created: 5, updated: 0 })
  })

  const openids = (reply: { json<T>(): T }): string[] => reply.json<{ items: { openid: string }[] }>().items.map((item) => item.openid)

  it('pages in openid order with a cursor; nextCursor is null on the last page', async () => {
    const first = await get('/api/users?limit=2')
    expect(first.json()).toMatchObject({ nextCursor: 'oA2' })
    expect(openids(first)).toEqual(['oA1', 'oA2'])
    const second = await get('/api/users?limit=2&cursor=oA2')
    expect(openids(second)).toEqual(['oA22', 'oB1'])
    expect(second.json()).toMatchObject({ nextCursor: 'oB1' })
    const last = await get('/api/users?limit=2&cursor=oB1')
    expect(last.json()).toEqual({ items: [{ openid: 'oB2', tags: [], attributes: {}, lastActiveAt: null }], nextCursor: null })
    // Exactly a page left: the page says there is no more, no empty page follows.
    expect((await get('/api/users?limit=3&cursor=oA2')).json()).toMatchObject({ nextCursor: null })
  })

  it('q is an openid or its beginning; tag is a tag the user has; both together', async () => {
    expect(openids(await get('/api/users?q=oA2'))).toEqual(['oA2', 'oA22'])
    expect(openids(await get('/api/users?q=oA22'))).toEqual(['oA22'])
    expect(openids(await get('/api/users?q=oC'))).toEqual([])
    expect(openids(await get('/api/users?tag=vip'))).toEqual(['oA1', 'oA22', 'oB1'])
    expect(openids(await get('/api/users?tag=vip&q=oA'))).toEqual(['oA1', 'oA22'])
    expect(openids(await get('/api/users?tag=vip&limit=1&cursor=oA1'))).toEqual(['oA22'])
  })

  it('refuses a limit out of range and a cursor that is not an openid', async () => {
    expect(errorOf(await get('/api/users?limit=501'), 400)).toMatchObject({ field: 'querystring.limit', message: 'querystring.limit: 不能大于 500' })
    expect(errorOf(await get('/api/users?cursor=a%20b'), 400)).toMatchObject({ field: 'querystring.cursor' })
  })
})

describe('GET /api/users/:openid', () => {
  it('answers the user with the ledger’s credits and their preferences (the defaults when none saved)', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: alice.authorization },
      payload: { consentId: 'consent-0001', results: { [ORDER_STATUS.id]: 'accept' } },
    })
    await put(alice.openid, { tags: ['vip'], attributes: { nickname: '爱丽丝' } })
    expect((await get(`/api/users/${alice.openid}`)).json()).toEqual({
      openid: alice.openid,
      tags: ['vip'],
      attributes: { nickname: '爱丽丝' },
      lastActiveAt: '2026-11-25T05:00:00.000Z',
      credits: { [ORDER_STATUS.id]: 1 },
      preferences: { quietHours: null, dailyLimit: 20, mutedCategories: [] },
    })
    await service.app.inject({
      method: 'PUT',
      url: '/api/me/preferences',
      headers: { authorization: alice.authorization },
      payload: { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['marketing'] },
    })
    expect((await get(`/api/users/${alice.openid}`)).json()).toMatchObject({
      preferences: { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['marketing'] },
    })
  })

  it('is 404 NOT_FOUND for an openid that is not a user', async () => {
    expect(errorOf(await get('/api/users/op-nobody'), 404)).toEqual({ code: 'NOT_FOUND', field: 'openid', message: '没有这个用户：op-nobody' })
  })
})

describe('lastActiveAt', () => {
  const lastActive = (openid: string): unknown =>
    service.storage.db.prepare('SELECT last_active_at AS at FROM users WHERE openid = ?').get(openid)

  it('is set by each sign-in, and by a request with the session at most once per 5 minutes', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    const start = service.manual.now().getTime()
    expect(lastActive(alice.openid)).toEqual({ at: start })

    const request = async (): Promise<void> => {
      const reply = await service.app.inject({ method: 'GET', url: '/api/me/subscriptions', headers: { authorization: alice.authorization } })
      expect(reply.statusCode).toBe(200)
    }
    service.manual.advance(60_000)
    await request()
    // Within 5 minutes of the sign-in's write: nothing written.
    expect(lastActive(alice.openid)).toEqual({ at: start })
    service.manual.advance(4 * 60_000)
    await request()
    expect(lastActive(alice.openid)).toEqual({ at: start + 5 * 60_000 })
    service.manual.advance(4 * 60_000)
    await request()
    expect(lastActive(alice.openid)).toEqual({ at: start + 5 * 60_000 })

    // A sign-in always writes.
    await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    expect(lastActive(alice.openid)).toEqual({ at: start + 9 * 60_000 })
  })

  it('a user an operator created becomes active when they sign in, keeping their tags', async () => {
    const openid = service.wechat.openidFor('bob')
    await put(openid, { tags: ['vip'] })
    await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    expect((await get(`/api/users/${openid}`)).json()).toMatchObject({ tags: ['vip'], lastActiveAt: '2026-11-25T05:00:00.000Z' })
  })
})
