/**
 * The storage contract of the audience side: users and the audience query, segments, campaigns
 * (their expansion into message rows, counts, cancelling, retrying), deliveries, outcomes over time,
 * preferences, operator sessions. The same cases run against every engine (SQLite from
 * tests/server/db, PostgreSQL from tests/multi), through the `Storage` interface only, so an engine
 * that answers differently from the other fails here.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { CampaignMessage, CampaignRecord, Storage } from '../../server/db/storage'
import type { Reason } from '../../src/domain/contract'
import { createManualClock } from '../../server/clock'
import { T0, type OpenStorage } from './storage-contract'

const DAY_MS = 86_400_000
const at = (ms: number): Date => new Date(T0.getTime() + ms)

function campaign(id: string, overrides: Partial<CampaignRecord> = {}): CampaignRecord {
  return {
    id,
    name: `双11 ${id}`,
    segmentId: 'seg-vip',
    segmentFilter: { attributes: { level: { gte: 2 } }, tagsAny: ['vip'] },
    templateId: 'tpl-order',
    data: { thing1: '{{nickname|朋友}}，订单已发货', time2: '2026-11-25 13:00' },
    urgent: false,
    truncate: true,
    status: 'running',
    expansionCursor: null,
    expanded: false,
    total: 0,
    createdAt: T0,
    ...overrides,
  }
}

function message(campaignId: string, openid: string, skipped?: { reason: Reason; detail: string }): CampaignMessage {
  const base = {
    id: `${campaignId}:${openid}`,
    openid,
    templateId: 'tpl-order',
    category: 'order',
    data: { thing1: { value: `${openid} 的订单` }, time2: { value: '2026-11-25 13:00' } },
    urgent: false,
    source: 'campaign' as const,
    campaignId,
    createdAt: T0,
  }
  return skipped ? { ...base, skipped } : base
}

/** What the message rows of an expansion look like, through the messages repository. */
async function messageState(storage: Storage, id: string) {
  const record = await storage.messages.get(id)
  if (record === null) return null
  return {
    status: record.status,
    reason: record.reason ?? null,
    detail: record.detail ?? null,
    campaignId: record.campaignId ?? null,
    source: record.source,
    history: record.history.map((entry) => ({ at: entry.at.toISOString(), status: entry.status, reason: entry.reason ?? null })),
  }
}

/** Sends `id` (a message already inserted) through lease, claim and finish, WeChat answering with `msgid`; the other messages it leased are given back. */
async function send(storage: Storage, id: string, msgid: string, when: Date): Promise<void> {
  const { jobs } = await storage.messages.leaseDue({
    owner: 'worker-1',
    now: when,
    until: new Date(when.getTime() + 60_000),
    limit: 10,
    scope: { exceptCampaigns: [] },
  })
  expect(jobs.map((job) => job.id)).toContain(id)
  const claim = await storage.messages.claimForSend({
    id,
    owner: 'worker-1',
    leaseUntil: new Date(when.getTime() + 60_000),
    spendCredit: false,
    dayKey: '2026-11-25',
    dailyLimit: 100,
    now: when,
  })
  expect(claim).toEqual({ outcome: 'claimed', creditSpent: false })
  // The lease took every message due; the others go back, so that the next send can lease its own.
  await storage.messages.releaseLeases('worker-1')
  const { notSending } = await storage.messages.finishSends(
    [{ id, attempts: [{ at: when, errcode: 0, errmsg: 'ok' }], ending: { status: 'sent', msgid }, credit: { type: 'none' }, creditHeld: false }],
    when,
  )
  expect(notSending).toEqual([])
}

async function subscribe(storage: Storage, openid: string): Promise<void> {
  await storage.ledger.applyConsent({
    openid,
    consentId: `consent-${openid}`,
    changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'set', value: 1 } }],
    now: T0,
  })
}

export function describeAudienceStorageContract(name: string, open: OpenStorage): void {
  describe(`${name}: audience storage contract`, () => {
    const opened: Storage[] = []
    afterEach(async () => {
      for (const storage of opened.splice(0)) await Promise.resolve(storage.close())
    })
    async function fresh(): Promise<Storage> {
      const storage = await open(createManualClock(T0))
      opened.push(storage)
      return storage
    }

    describe('users', () => {
      it('touch creates a user last active now, and a later touch moves only that', async () => {
        const { users } = await fresh()
        await users.touch('o-alice', T0)
        await users.put([{ openid: 'o-alice', tags: ['vip'] }], at(1000))
        await users.touch('o-alice', at(5000))
        expect(await users.details(['o-alice'])).toEqual([{ openid: 'o-alice', tags: ['vip'], attributes: {}, lastActiveAt: at(5000) }])
      })

      it('put creates the absent, replaces only what an entry names, and counts an openid given twice once created', async () => {
        const { users } = await fresh()
        await users.touch('o-old', T0)
        await users.put([{ openid: 'o-old', tags: ['vip', 'beijing'], attributes: { city: '北京', level: 3 } }], T0)
        const result = await users.put(
          [
            { openid: 'o-old', tags: ['gold'] },
            { openid: 'o-new', attributes: { nickname: '小明' } },
            { openid: 'o-new', tags: ['trial'] },
            { openid: 'o-new', attributes: { nickname: '小红', orderCount: 12 } },
          ],
          at(1000),
        )
        expect(result).toEqual({ created: 1, updated: 3 })
        expect(await users.details(['o-new', 'o-old', 'o-missing'])).toEqual([
          { openid: 'o-new', tags: ['trial'], attributes: { nickname: '小红', orderCount: 12 }, lastActiveAt: null },
          { openid: 'o-old', tags: ['gold'], attributes: { city: '北京', level: 3 }, lastActiveAt: T0 },
        ])
        expect(await users.put([{ openid: 'o-old', tags: [], attributes: {} }], at(2000))).toEqual({ created: 0, updated: 1 })
        expect(await users.details(['o-old'])).toEqual([{ openid: 'o-old', tags: [], attributes: {}, lastActiveAt: T0 }])
        expect(await users.put([], at(3000))).toEqual({ created: 0, updated: 0 })
      })

      it('gives tags in byte order and attributes by key in byte order, numbers as numbers', async () => {
        const { users } = await fresh()
        await users.put(
          [{ openid: 'o-1', tags: ['vip', '北京', 'Beijing', '2026双11', '上海', 'a.b'], attributes: { zeta: 'z', alpha: 1.5, order_2: -2, orderCount: 7, beta: '0' } }],
          T0,
        )
        const [user] = await users.details(['o-1'])
        expect(user!.tags).toEqual(['2026双11', 'Beijing', 'a.b', 'vip', '上海', '北京'])
        expect(Object.keys(user!.attributes)).toEqual(['alpha', 'beta', 'orderCount', 'order_2', 'zeta'])
        expect(user!.attributes).toEqual({ alpha: 1.5, beta: '0', orderCount: 7, order_2: -2, zeta: 'z' })
      })

      it('counts a user created once when two batches name them at the same time, and keeps what both wrote', async () => {
        const { users } = await fresh()
        const results = await Promise.all([
          users.put([{ openid: 'o-both', tags: ['vip'] }, { openid: 'o-a' }], T0),
          users.put([{ openid: 'o-both', attributes: { city: '北京' } }, { openid: 'o-b' }], T0),
        ])
        expect(results.reduce((sum, result) => sum + result.created, 0)).toBe(3)
        expect(results.reduce((sum, result) => sum + result.updated, 0)).toBe(1)
        expect(await users.details(['o-both'])).toEqual([{ openid: 'o-both', tags: ['vip'], attributes: { city: '北京' }, lastActiveAt: null }])
      })

      it('refuses a tag given twice in one entry, and writes nothing of that batch', async () => {
        const { users } = await fresh()
        await expect(users.put([{ openid: 'o-a', tags: ['vip'] }, { openid: 'o-b', tags: ['vip', 'gold', 'vip'] }], T0)).rejects.toThrow()
        expect(await users.details(['o-a', 'o-b'])).toEqual([])
      })

      it('gives details in the order asked, leaving out who does not exist', async () => {
        const { users } = await fresh()
        await users.put([{ openid: 'o-a' }, { openid: 'o-b' }, { openid: 'o-c' }], T0)
        expect((await users.details(['o-c', 'o-x', 'o-a'])).map((user) => user.openid)).toEqual(['o-c', 'o-a'])
        expect(await users.details([])).toEqual([])
      })
    })

    describe('the audience query (users.page)', () => {
      const now = at(30 * DAY_MS)
      async function seeded() {
        const storage = await fresh()
        await storage.users.put(
          [
            { openid: 'u1', tags: ['vip', 'beijing'], attributes: { city: '北京', level: 3, orderCount: 12 } },
            { openid: 'u10', tags: ['vip'], attributes: { city: '上海', level: 1 } },
            { openid: 'u11', tags: ['beijing'], attributes: { city: '北京', level: '3' } },
            { openid: 'u2', tags: ['trial'], attributes: { city: '深圳', level: 2.5 } },
            { openid: 'U3', tags: ['vip', 'gold'], attributes: { level: 5 } },
            { openid: '_u4', tags: [], attributes: { city: '上海' } },
            { openid: '-u5', tags: ['gold'], attributes: { level: 2 } },
          ],
          T0,
        )
        await storage.users.touch('u1', now)
        await storage.users.touch('u2', new Date(now.getTime() - 7 * DAY_MS))
        await storage.users.touch('U3', new Date(now.getTime() - 7 * DAY_MS - 1))
        return storage
      }
      const all = async (storage: Storage, filter: Parameters<Storage['users']['page']>[0]['filter'], extra: { prefix?: string } = {}) =>
        (await storage.users.page({ filter, limit: 100, now, ...extra })).openids

      it('walks every user in byte order of openid, a page at a time, the cursor the last of a page', async () => {
        const { users } = await seeded()
        const first = await users.page({ filter: {}, limit: 3, now })
        expect(first).toEqual({ openids: ['-u5', 'U3', '_u4'], next: '_u4' })
        const second = await users.page({ filter: {}, limit: 3, now, after: first.next! })
        expect(second).toEqual({ openids: ['u1', 'u10', 'u11'], next: 'u11' })
        // Exactly one left: a short page and no cursor.
        expect(await users.page({ filter: {}, limit: 3, now, after: second.next! })).toEqual({ openids: ['u2'], next: null })
        // A page that ends the list exactly has no cursor either.
        expect(await users.page({ filter: {}, limit: 4, now, after: '_u4' })).toEqual({ openids: ['u1', 'u10', 'u11', 'u2'], next: null })
      })

      it('keeps to an openid prefix', async () => {
        const storage = await seeded()
        expect(await all(storage, {}, { prefix: 'u1' })).toEqual(['u1', 'u10', 'u11'])
        expect(await all(storage, { tagsAny: ['vip'] }, { prefix: 'u1' })).toEqual(['u1', 'u10'])
        expect(await all(storage, {}, { prefix: 'U' })).toEqual(['U3'])
        expect(await all(storage, {}, { prefix: 'x' })).toEqual([])
      })

      it('filters by tags: all of, any of, none of (an empty list is no condition)', async () => {
        const storage = await seeded()
        expect(await all(storage, { tagsAll: ['vip', 'beijing'] })).toEqual(['u1'])
        expect(await all(storage, { tagsAll: [] })).toHaveLength(7)
        expect(await all(storage, { tagsAny: ['gold', 'trial'] })).toEqual(['-u5', 'U3', 'u2'])
        expect(await all(storage, { tagsNone: ['vip', 'gold'] })).toEqual(['_u4', 'u11', 'u2'])
        expect(await all(storage, { tagsNone: [] })).toHaveLength(7)
        expect(await all(storage, { tagsAny: ['vip'], tagsNone: ['beijing'] })).toEqual(['U3', 'u10'])
        expect(await all(storage, { tagsAny: ['nobody'] })).toEqual([])
      })

      it('filters by activity: active since now minus the days (inclusive), never for who never signed in', async () => {
        const storage = await seeded()
        expect(await all(storage, { activeWithinDays: 7 })).toEqual(['u1', 'u2'])
        expect(await all(storage, { activeWithinDays: 8 })).toEqual(['U3', 'u1', 'u2'])
        expect(await all(storage, { activeWithinDays: 1 })).toEqual(['u1'])
      })

      it('filters by attributes: equal, one of, ranges on numbers; a string never equals a number nor falls in a range', async () => {
        const storage = await seeded()
        expect(await all(storage, { attributes: { city: { eq: '北京' } } })).toEqual(['u1', 'u11'])
        expect(await all(storage, { attributes: { level: { eq: 3 } } })).toEqual(['u1'])
        expect(await all(storage, { attributes: { level: { eq: '3' } } })).toEqual(['u11'])
        expect(await all(storage, { attributes: { level: { in: [2, '3', 5] } } })).toEqual(['-u5', 'U3', 'u11'])
        expect(await all(storage, { attributes: { city: { in: ['上海', '深圳'] } } })).toEqual(['_u4', 'u10', 'u2'])
        expect(await all(storage, { attributes: { level: { gte: 2.5 } } })).toEqual(['U3', 'u1', 'u2'])
        expect(await all(storage, { attributes: { level: { gte: 2, lte: 3 } } })).toEqual(['-u5', 'u1', 'u2'])
        expect(await all(storage, { attributes: { level: { lte: 2.5 } } })).toEqual(['-u5', 'u10', 'u2'])
        expect(await all(storage, { attributes: { city: { gte: 0 } } })).toEqual([])
        expect(await all(storage, { attributes: { nickname: { in: ['北京', 3] } } })).toEqual([])
        expect(await all(storage, { attributes: { level: { gte: 1 }, city: { eq: '上海' } } })).toEqual(['u10'])
      })

      it('combines every condition, and pages through a filter by its cursor', async () => {
        const { users } = await seeded()
        const filter = { tagsAny: ['vip', 'gold', 'beijing'], attributes: { level: { gte: 1 } } }
        const first = await users.page({ filter, limit: 2, now })
        expect(first).toEqual({ openids: ['-u5', 'U3'], next: 'U3' })
        expect(await users.page({ filter, limit: 2, now, after: 'U3' })).toEqual({ openids: ['u1', 'u10'], next: null })
        expect(await users.page({ filter: { ...filter, activeWithinDays: 7, tagsNone: ['gold'] }, limit: 2, now })).toEqual({ openids: ['u1'], next: null })
      })
    })

    describe('segments', () => {
      it('creates, lists oldest first, finds, refuses a taken name and deletes', async () => {
        const { segments } = await fresh()
        const vip = { id: 'seg-vip', name: 'VIP 北京', filter: { attributes: { city: { eq: '北京' } }, tagsAll: ['vip'] }, createdAt: at(1000) }
        const all = { id: 'seg-all', name: '全部', filter: {}, createdAt: at(1000) }
        const early = { id: 'seg-early', name: '老用户', filter: { activeWithinDays: 30 }, createdAt: T0 }
        expect(await segments.create(vip)).toBe(true)
        expect(await segments.create(all)).toBe(true)
        expect(await segments.create(early)).toBe(true)
        expect(await segments.create({ id: 'seg-other', name: 'VIP 北京', filter: {}, createdAt: at(2000) })).toBe(false)
        expect(await segments.create({ ...all, name: '另一个' })).toBe(false)
        expect(await segments.list()).toEqual([early, vip, all])
        expect(await segments.get('seg-vip')).toEqual(vip)
        expect(Object.keys((await segments.get('seg-vip'))!.filter)).toEqual(['attributes', 'tagsAll'])
        expect(await segments.get('seg-other')).toBeNull()
        expect(await segments.delete('seg-vip')).toBe(true)
        expect(await segments.delete('seg-vip')).toBe(false)
        expect((await segments.list()).map((segment) => segment.id)).toEqual(['seg-early', 'seg-all'])
        expect(await segments.create({ ...vip, id: 'seg-vip-2' })).toBe(true)
      })
    })

    describe('preferences', () => {
      it('is null until saved, then what was saved; getMany gives only who saved', async () => {
        const { preferences } = await fresh()
        expect(await preferences.get('o-a')).toBeNull()
        await preferences.put('o-a', { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['promo', 'news'] }, T0)
        await preferences.put('o-b', { quietHours: null, dailyLimit: 10, mutedCategories: [] }, T0)
        await preferences.put('o-b', { quietHours: null, dailyLimit: 1, mutedCategories: ['order'] }, at(1000))
        expect(await preferences.get('o-a')).toEqual({ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['promo', 'news'] })
        const many = await preferences.getMany(['o-b', 'o-c', 'o-a'])
        expect([...many.keys()].sort()).toEqual(['o-a', 'o-b'])
        expect(many.get('o-b')).toEqual({ quietHours: null, dailyLimit: 1, mutedCategories: ['order'] })
        expect((await preferences.getMany([])).size).toBe(0)
        const repeated = await preferences.getMany(['o-a', 'o-c', 'o-a', 'o-b', 'o-a'])
        expect([...repeated.keys()].sort()).toEqual(['o-a', 'o-b'])
        expect(repeated.get('o-a')).toEqual({ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['promo', 'news'] })
      })
    })

    describe('operator sessions', () => {
      it('stores by hash with its expiry, ends one, and removes those expired by a time (inclusive)', async () => {
        const { operatorSessions } = await fresh()
        await operatorSessions.create({ tokenHash: 'h1', createdAt: T0, expiresAt: at(1000) })
        await operatorSessions.create({ tokenHash: 'h2', createdAt: T0, expiresAt: at(2000) })
        await operatorSessions.create({ tokenHash: 'h3', createdAt: T0, expiresAt: at(3000) })
        expect(await operatorSessions.expiry('h2')).toEqual(at(2000))
        expect(await operatorSessions.expiry('nope')).toBeNull()
        expect(await operatorSessions.delete('h3')).toBe(true)
        expect(await operatorSessions.delete('h3')).toBe(false)
        expect(await operatorSessions.deleteExpired(at(1000))).toBe(1)
        expect(await operatorSessions.expiry('h1')).toBeNull()
        expect(await operatorSessions.expiry('h2')).toEqual(at(2000))
        await expect(operatorSessions.create({ tokenHash: 'h2', createdAt: T0, expiresAt: at(9000) })).rejects.toThrow()
      })
    })

    describe('campaigns', () => {
      it('stores a campaign as given, optional times and all, and lists the newest first', async () => {
        const { campaigns } = await fresh()
        const scheduled = campaign('c-1', { status: 'scheduled', startAt: at(60_000), page: 'pages/order/detail?id=1', ratePerSecond: 2.5, urgent: true, truncate: false })
        const running = campaign('c-2', { startedAt: at(1000), createdAt: at(1000) })
        await campaigns.create(scheduled)
        await campaigns.create(running)
        expect(await campaigns.get('c-1')).toEqual(scheduled)
        expect(await campaigns.get('c-2')).toEqual(running)
        // Kept as written, key order and all (what the console shows, what the messages are made from).
        expect(Object.keys((await campaigns.get('c-2'))!.data)).toEqual(['thing1', 'time2'])
        expect(Object.keys((await campaigns.get('c-2'))!.segmentFilter)).toEqual(['attributes', 'tagsAny'])
        expect(await campaigns.get('c-3')).toBeNull()
        expect((await campaigns.list()).map((record) => record.id)).toEqual(['c-2', 'c-1'])
        await expect(campaigns.create(running)).rejects.toThrow()
      })

      it('moves status only from the states given, setting and clearing its times', async () => {
        const { campaigns } = await fresh()
        await campaigns.create(campaign('c-1', { status: 'scheduled', startAt: at(1000) }))
        expect(await campaigns.setStatus('c-1', ['running'], 'paused', at(1000))).toBe(false)
        expect(await campaigns.setStatus('c-1', ['scheduled', 'paused'], 'running', at(2000), { startedAt: at(2000) })).toBe(true)
        expect(await campaigns.setStatus('c-1', ['running'], 'completed', at(3000), { finishedAt: at(3000) })).toBe(true)
        expect(await campaigns.get('c-1')).toMatchObject({ status: 'completed', startedAt: at(2000), finishedAt: at(3000) })
        // No times: both kept; finishedAt null: cleared.
        expect(await campaigns.setStatus('c-1', ['completed'], 'running', at(4000))).toBe(true)
        expect(await campaigns.get('c-1')).toMatchObject({ startedAt: at(2000), finishedAt: at(3000) })
        expect(await campaigns.setStatus('c-1', ['running'], 'paused', at(5000), { finishedAt: null })).toBe(true)
        const record = await campaigns.get('c-1')
        expect(record).toMatchObject({ status: 'paused', startedAt: at(2000) })
        expect(record).not.toHaveProperty('finishedAt')
        expect(await campaigns.setStatus('c-missing', ['running'], 'paused', at(5000))).toBe(false)
      })

      it('expands a page once: messages written with their history, cursor and total moved, a recipient never twice', async () => {
        const storage = await fresh()
        const { campaigns } = storage
        await campaigns.create(campaign('c-1'))
        const page1 = await campaigns.expandPage({
          id: 'c-1',
          fromCursor: null,
          toCursor: 'o-b',
          done: false,
          messages: [message('c-1', 'o-a'), message('c-1', 'o-b', { reason: 'INVALID_DATA', detail: 'data.thing1.value: 最多 20 个字符' })],
          now: at(1000),
        })
        expect(page1).toEqual({ written: 2 })
        expect(await messageState(storage, 'c-1:o-a')).toEqual({
          status: 'queued',
          reason: null,
          detail: null,
          campaignId: 'c-1',
          source: 'campaign',
          history: [{ at: at(1000).toISOString(), status: 'queued', reason: null }],
        })
        expect(await messageState(storage, 'c-1:o-b')).toEqual({
          status: 'skipped',
          reason: 'INVALID_DATA',
          detail: 'data.thing1.value: 最多 20 个字符',
          campaignId: 'c-1',
          source: 'campaign',
          history: [
            { at: at(1000).toISOString(), status: 'queued', reason: null },
            { at: at(1000).toISOString(), status: 'skipped', reason: 'INVALID_DATA' },
          ],
        })
        expect(Object.keys((await storage.messages.get('c-1:o-a'))!.data)).toEqual(['thing1', 'time2'])
        expect(await campaigns.get('c-1')).toMatchObject({ expansionCursor: 'o-b', expanded: false, total: 2 })
        expect(await campaigns.expanding()).toEqual(['c-1'])

        // The same page again (a restart that wrote it already): nothing.
        expect(await campaigns.expandPage({ id: 'c-1', fromCursor: null, toCursor: 'o-b', done: false, messages: [message('c-1', 'o-c')], now: at(2000) })).toBeNull()
        expect(await storage.messages.get('c-1:o-c')).toBeNull()

        // o-a already has one (under another id): passed over, not counted.
        const again = { ...message('c-1', 'o-a'), id: 'c-1:o-a:again' }
        const page2 = await campaigns.expandPage({ id: 'c-1', fromCursor: 'o-b', toCursor: null, done: true, messages: [again, message('c-1', 'o-c'), message('c-1', 'o-d'), { ...message('c-1', 'o-d'), id: 'c-1:o-d:twice' }], now: at(2000) })
        expect(page2).toEqual({ written: 2 })
        expect(await storage.messages.get('c-1:o-a:again')).toBeNull()
        expect(await storage.messages.get('c-1:o-d:twice')).toBeNull()
        expect((await storage.messages.get('c-1:o-d'))?.status).toBe('queued')
        expect(await campaigns.get('c-1')).toMatchObject({ expansionCursor: null, expanded: true, total: 4 })
        expect(await campaigns.expanding()).toEqual([])
        expect(await campaigns.expandPage({ id: 'c-1', fromCursor: null, toCursor: null, done: true, messages: [], now: at(3000) })).toBeNull()
        expect(await campaigns.counts('c-1')).toEqual({ byStatus: { queued: 3, skipped: 1 }, byReason: { INVALID_DATA: 1 } })
      })

      it('expands only a running campaign whose expansion is not done; an empty last page marks it done', async () => {
        const { campaigns } = await fresh()
        await campaigns.create(campaign('c-paused', { status: 'paused' }))
        await campaigns.create(campaign('c-run'))
        expect(await campaigns.expandPage({ id: 'c-paused', fromCursor: null, toCursor: 'o-a', done: false, messages: [message('c-paused', 'o-a')], now: at(1000) })).toBeNull()
        expect(await campaigns.expandPage({ id: 'c-missing', fromCursor: null, toCursor: null, done: true, messages: [], now: at(1000) })).toBeNull()
        expect(await campaigns.counts('c-paused')).toEqual({ byStatus: {}, byReason: {} })
        expect(await campaigns.expandPage({ id: 'c-run', fromCursor: null, toCursor: null, done: true, messages: [], now: at(1000) })).toEqual({ written: 0 })
        expect(await campaigns.get('c-run')).toMatchObject({ expanded: true, total: 0, expansionCursor: null })
        expect(await campaigns.finished()).toEqual(['c-run'])
      })

      it('writes a page once when two expanders race with the same cursor', async () => {
        const storage = await fresh()
        await storage.campaigns.create(campaign('c-1'))
        const pageOf = (suffix: string) => ({
          id: 'c-1',
          fromCursor: null,
          toCursor: 'o-c',
          done: false,
          messages: ['o-a', 'o-b', 'o-c'].map((openid) => ({ ...message('c-1', openid), id: `c-1:${openid}:${suffix}` })),
          now: at(1000),
        })
        const results = await Promise.all([storage.campaigns.expandPage(pageOf('x')), storage.campaigns.expandPage(pageOf('y'))])
        expect(results.filter((result) => result !== null)).toEqual([{ written: 3 }])
        expect(await storage.campaigns.get('c-1')).toMatchObject({ total: 3, expansionCursor: 'o-c' })
        expect(await storage.campaigns.counts('c-1')).toEqual({ byStatus: { queued: 3 }, byReason: {} })
      })

      it('finds the campaigns due to start, expanding, finished and with a rate of their own', async () => {
        const storage = await fresh()
        const { campaigns } = storage
        await campaigns.create(campaign('c-now', { status: 'scheduled' }))
        await campaigns.create(campaign('c-soon', { status: 'scheduled', startAt: at(60_000) }))
        await campaigns.create(campaign('c-due', { status: 'scheduled', startAt: at(30_000) }))
        await campaigns.create(campaign('c-run', { ratePerSecond: 5 }))
        await campaigns.create(campaign('c-paused', { status: 'paused', ratePerSecond: 1 }))
        await campaigns.create(campaign('c-slow', { ratePerSecond: 0.5 }))
        expect(await campaigns.dueToStart(at(30_000))).toEqual(['c-now', 'c-due'])
        expect(await campaigns.dueToStart(at(60_000))).toEqual(['c-now', 'c-soon', 'c-due'])
        expect(await campaigns.expanding()).toEqual(['c-run', 'c-slow'])
        expect(await campaigns.rates()).toEqual([{ id: 'c-run', ratePerSecond: 5 }, { id: 'c-slow', ratePerSecond: 0.5 }])

        await campaigns.expandPage({ id: 'c-run', fromCursor: null, toCursor: null, done: true, messages: [message('c-run', 'o-a'), message('c-run', 'o-b')], now: at(1000) })
        await campaigns.expandPage({ id: 'c-slow', fromCursor: null, toCursor: null, done: true, messages: [message('c-slow', 'o-a', { reason: 'INVALID_DATA', detail: 'x' })], now: at(1000) })
        expect(await campaigns.finished()).toEqual(['c-slow'])
        await storage.messages.transition('c-run:o-a', ['queued'], { status: 'deferred', deliverAfter: at(90_000) }, at(2000))
        await storage.messages.transition('c-run:o-b', ['queued'], { status: 'failed', reason: '43101' }, at(2000))
        expect(await campaigns.finished()).toEqual(['c-slow'])
        await storage.messages.transition('c-run:o-a', ['deferred'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, at(3000))
        expect(await campaigns.finished()).toEqual(['c-run', 'c-slow'])
      })

      it('skips its queued and deferred messages when cancelled, recording why', async () => {
        const storage = await fresh()
        const { campaigns } = storage
        await campaigns.create(campaign('c-1'))
        await campaigns.create(campaign('c-2'))
        await campaigns.expandPage({ id: 'c-1', fromCursor: null, toCursor: null, done: true, messages: ['o-a', 'o-b', 'o-c', 'o-d'].map((openid) => message('c-1', openid)), now: at(1000) })
        await campaigns.expandPage({ id: 'c-2', fromCursor: null, toCursor: null, done: true, messages: [message('c-2', 'o-a')], now: at(1000) })
        await storage.messages.transition('c-1:o-b', ['queued'], { status: 'deferred', deliverAfter: at(90_000) }, at(2000))
        await storage.messages.transition('c-1:o-c', ['queued'], { status: 'failed', reason: '43101' }, at(2000))
        expect(await campaigns.skipPending('c-1', 'CANCELLED', at(3000))).toBe(3)
        expect(await messageState(storage, 'c-1:o-b')).toMatchObject({
          status: 'skipped',
          reason: 'CANCELLED',
          history: [
            { at: at(1000).toISOString(), status: 'queued', reason: null },
            { at: at(2000).toISOString(), status: 'deferred', reason: null },
            { at: at(3000).toISOString(), status: 'skipped', reason: 'CANCELLED' },
          ],
        })
        expect(await campaigns.counts('c-1')).toEqual({ byStatus: { skipped: 3, failed: 1 }, byReason: { CANCELLED: 3, 43101: 1 } })
        expect(await campaigns.counts('c-2')).toEqual({ byStatus: { queued: 1 }, byReason: {} })
        expect(await campaigns.skipPending('c-1', 'CANCELLED', at(4000))).toBe(0)
      })

      it('cancelling while a dispatcher claims: each message is either claimed or skipped, never both, and the counts agree', async () => {
        const storage = await fresh()
        const openids = Array.from({ length: 40 }, (_, index) => `o-${String(index).padStart(2, '0')}`)
        for (const openid of openids) await subscribe(storage, openid)
        await storage.campaigns.create(campaign('c-1'))
        await storage.campaigns.expandPage({ id: 'c-1', fromCursor: null, toCursor: null, done: true, messages: openids.map((openid) => message('c-1', openid)), now: at(1000) })
        const { jobs } = await storage.messages.leaseDue({ owner: 'w', now: at(2000), until: at(62_000), limit: 100, scope: { campaignId: 'c-1' } })
        expect(jobs).toHaveLength(40)
        // One claim at a time per message, the cancel among them: on an engine with several connections they interleave.
        const claim = (id: string) =>
          storage.messages.claimForSend({ id, owner: 'w', leaseUntil: at(62_000), spendCredit: false, dayKey: '2026-11-25', dailyLimit: 100, now: at(3000) })
        const [first, skipped, second] = await Promise.all([
          Promise.all(jobs.slice(0, 10).map((job) => claim(job.id))),
          storage.campaigns.skipPending('c-1', 'CANCELLED', at(3000)),
          Promise.all(jobs.slice(10).map((job) => claim(job.id))),
        ])
        const results = [...first, ...second]
        const claimed = results.filter((result) => result.outcome === 'claimed').length
        expect(results.every((result) => result.outcome === 'claimed' || result.outcome === 'not-claimable')).toBe(true)
        expect(claimed + skipped).toBe(40)
        expect(await storage.campaigns.counts('c-1')).toEqual({
          byStatus: { ...(claimed > 0 && { sending: claimed }), ...(skipped > 0 && { skipped }) },
          byReason: skipped > 0 ? { CANCELLED: skipped } : {},
        })
        for (const [index, job] of jobs.entries()) {
          const state = await messageState(storage, job.id)
          const expected = results[index]!.outcome === 'claimed' ? 'sending' : 'skipped'
          expect(state?.status).toBe(expected)
          expect(state?.history.map((entry) => entry.status)).toEqual(['queued', expected])
        }
      })

      it('puts back in the queue its failed messages of the reasons given, due now, requeues counted afresh', async () => {
        const storage = await fresh()
        const { campaigns } = storage
        await campaigns.create(campaign('c-1'))
        await campaigns.expandPage({ id: 'c-1', fromCursor: null, toCursor: null, done: true, messages: ['o-a', 'o-b', 'o-c'].map((openid) => message('c-1', openid)), now: at(1000) })
        await storage.messages.transition('c-1:o-a', ['queued'], { status: 'failed', reason: '-1', detail: 'system busy' }, at(2000))
        await storage.messages.transition('c-1:o-b', ['queued'], { status: 'failed', reason: '43101' }, at(2000))
        expect(await campaigns.retryFailed('c-1', ['-1', '45009'], at(3000))).toBe(1)
        const retried = await storage.messages.get('c-1:o-a')
        expect(retried).toMatchObject({ status: 'queued', requeues: 0 })
        expect(retried?.reason).toBeUndefined()
        expect(retried?.detail).toBeUndefined()
        expect(retried?.history.map((entry) => [entry.at.toISOString(), entry.status, entry.reason ?? null])).toEqual([
          [at(1000).toISOString(), 'queued', null],
          [at(2000).toISOString(), 'failed', '-1'],
          [at(3000).toISOString(), 'queued', null],
        ])
        expect(await campaigns.counts('c-1')).toEqual({ byStatus: { queued: 2, failed: 1 }, byReason: { 43101: 1 } })
        // Due at the retry: a lease at that time takes it.
        const { jobs } = await storage.messages.leaseDue({ owner: 'w', now: at(3000), until: at(63_000), limit: 10, scope: { campaignId: 'c-1' } })
        expect(jobs.map((job) => job.id).sort()).toEqual(['c-1:o-a', 'c-1:o-c'])
        expect(await campaigns.retryFailed('c-1', [], at(4000))).toBe(0)
      })
    })

    describe('deliveries', () => {
      it('records each event once by key, says which msgids no message has, and gives each msgid its latest', async () => {
        const storage = await fresh()
        await subscribe(storage, 'o-a')
        await storage.messages.insert({ id: 'm-1', openid: 'o-a', templateId: 'tpl-order', category: 'order', data: {}, urgent: false, source: 'admin', createdAt: T0 })
        await send(storage, 'm-1', 'msg-1', at(1000))
        const failed = { status: 'failed' as const, errorCode: 10002, errorStatus: 'failed:user refuse to accept the msg', at: at(2000) }
        const delivered = { status: 'delivered' as const, errorCode: 0, errorStatus: 'success', at: at(3000) }
        const first = await storage.deliveries.record({
          openid: 'o-a',
          items: [
            { key: 'k1', templateId: 'tpl-order', msgid: 'msg-1', delivery: failed },
            { key: 'k2', templateId: 'tpl-order', msgid: 'msg-later', delivery: delivered },
            { key: 'k1', templateId: 'tpl-order', msgid: 'msg-1', delivery: failed },
          ],
          now: at(4000),
        })
        expect(first).toEqual({ applied: ['k1', 'k2'], duplicates: ['k1'], unknownMsgids: ['msg-later'] })
        expect(await storage.deliveries.counts()).toEqual({ delivered: 0, failed: 1 })
        const second = await storage.deliveries.record({
          openid: 'o-a',
          items: [
            { key: 'k2', templateId: 'tpl-order', msgid: 'msg-later', delivery: delivered },
            { key: 'k3', templateId: 'tpl-order', msgid: 'msg-1', delivery: delivered },
          ],
          now: at(5000),
        })
        expect(second).toEqual({ applied: ['k3'], duplicates: ['k2'], unknownMsgids: [] })
        const found = await storage.deliveries.forMsgids(['msg-1', 'msg-later', 'msg-none'])
        expect(Object.fromEntries(found)).toEqual({ 'msg-1': delivered, 'msg-later': delivered })
        expect((await storage.deliveries.forMsgids([])).size).toBe(0)
        expect(await storage.deliveries.counts()).toEqual({ delivered: 1, failed: 0 })
        expect(await storage.deliveries.record({ openid: 'o-a', items: [], now: at(6000) })).toEqual({ applied: [], duplicates: [], unknownMsgids: [] })
      })

      it('applies a push WeChat retried while the first was being recorded once', async () => {
        const { deliveries } = await fresh()
        const item = { key: 'k-retried', templateId: 'tpl-order', msgid: 'msg-1', delivery: { status: 'delivered' as const, errorCode: 0, errorStatus: 'success', at: T0 } }
        const results = await Promise.all([1, 2, 3].map(() => deliveries.record({ openid: 'o-a', items: [item], now: at(1000) })))
        expect(results.flatMap((result) => result.applied)).toEqual(['k-retried'])
        expect(results.flatMap((result) => result.duplicates)).toEqual(['k-retried', 'k-retried'])
      })
    })

    describe('outcomes over time', () => {
      it('counts status changes and WeChat answers per bucket, from inclusive to exclusive, leaving out empty buckets', async () => {
        const storage = await fresh()
        await subscribe(storage, 'o-a')
        await storage.campaigns.create(campaign('c-1'))
        await storage.campaigns.expandPage({ id: 'c-1', fromCursor: null, toCursor: null, done: true, messages: ['o-a', 'o-b', 'o-c', 'o-d'].map((openid) => message('c-1', openid)), now: at(0) })
        // Bucket 0 [0, 60 s): a deferral. Bucket 2 [120 s, 180 s): a send (its attempt) and a skip at its very start.
        await storage.messages.transition('c-1:o-b', ['queued'], { status: 'deferred', deliverAfter: at(500_000) }, at(59_999))
        await send(storage, 'c-1:o-a', 'msg-a', at(150_000))
        await storage.messages.transition('c-1:o-c', ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, at(120_000))
        // At `to`: left out.
        await storage.messages.transition('c-1:o-d', ['queued'], { status: 'failed', reason: '43101' }, at(240_000))
        const buckets = await storage.outcomes.overTime({ from: at(0), to: at(240_000), bucketMs: 60_000 })
        expect(buckets).toEqual([
          { index: 0, byStatus: { deferred: 1 }, byErrcode: {} },
          { index: 2, byStatus: { sent: 1, skipped: 1 }, byErrcode: { 0: 1 } },
        ])
        expect(await storage.outcomes.overTime({ from: at(60_000), to: at(300_000), bucketMs: 90_000 })).toEqual([
          { index: 0, byStatus: { skipped: 1 }, byErrcode: {} },
          { index: 1, byStatus: { sent: 1 }, byErrcode: { 0: 1 } },
          { index: 2, byStatus: { failed: 1 }, byErrcode: {} },
        ])
      })

      it('folds per-second counts before a time into per-minute counts, exact for minute buckets, leaving later seconds alone', async () => {
        const storage = await fresh()
        await storage.campaigns.create(campaign('c-1'))
        const openids = ['o-a', 'o-b', 'o-c', 'o-d', 'o-e']
        for (const openid of openids) await subscribe(storage, openid)
        await storage.campaigns.expandPage({ id: 'c-1', fromCursor: null, toCursor: null, done: true, messages: openids.map((openid) => message('c-1', openid)), now: at(0) })
        // One lease for all five, then each claimed and sent at its time. Minute 0: two sends in one
        // second and one 40 s later; minute 1: a send; minute 5: a send, after the fold's time.
        const until = at(600_000)
        const { jobs } = await storage.messages.leaseDue({ owner: 'worker-1', now: at(0), until, limit: 10, scope: { exceptCampaigns: [] } })
        expect(jobs).toHaveLength(5)
        const sendAt = async (openid: string, ms: number): Promise<void> => {
          const id = `c-1:${openid}`
          const claimed = await storage.messages.claimForSend({ id, owner: 'worker-1', leaseUntil: until, spendCredit: false, dayKey: '2026-11-25', dailyLimit: 100, now: at(ms) })
          expect(claimed).toEqual({ outcome: 'claimed', creditSpent: false })
          const attempts = [{ at: at(ms), errcode: 0, errmsg: 'ok' }]
          await storage.messages.finishSends([{ id, attempts, ending: { status: 'sent', msgid: `msg-${openid}` }, credit: { type: 'none' }, creditHeld: false }], at(ms))
        }
        await sendAt('o-a', 1_000)
        await sendAt('o-b', 1_500)
        await sendAt('o-c', 41_000)
        await sendAt('o-d', 61_000)
        await sendAt('o-e', 300_500)
        const byMinute = { from: at(0), to: at(360_000), bucketMs: 60_000 }
        const before = await storage.outcomes.overTime(byMinute)
        expect(before).toEqual([
          { index: 0, byStatus: { sent: 3 }, byErrcode: { 0: 3 } },
          { index: 1, byStatus: { sent: 1 }, byErrcode: { 0: 1 } },
          { index: 5, byStatus: { sent: 1 }, byErrcode: { 0: 1 } },
        ])

        // Seconds 1, 41 and 61 each hold a count of `sent` and one of errcode 0: six per-second counts, folded
        // into four per-minute ones.
        expect(await storage.outcomes.compact(at(120_000))).toBe(6)
        expect(await storage.outcomes.overTime(byMinute)).toEqual(before)
        // By the second: the folded counts sit at their minute's start, the later one where it was.
        expect(await storage.outcomes.overTime({ from: at(0), to: at(360_000), bucketMs: 1_000 })).toEqual([
          { index: 0, byStatus: { sent: 3 }, byErrcode: { 0: 3 } },
          { index: 60, byStatus: { sent: 1 }, byErrcode: { 0: 1 } },
          { index: 300, byStatus: { sent: 1 }, byErrcode: { 0: 1 } },
        ])
        // Folding again finds nothing to fold.
        expect(await storage.outcomes.compact(at(120_000))).toBe(0)
        expect((await storage.messages.stats()).byErrcode).toEqual({ 0: 5 })
      })
    })
  })
}
