/**
 * The audience side of the service on PostgreSQL, over HTTP as an operator uses it: users put and
 * imported, listed by tag a page at a time, a segment and its reach, a campaign filled per person and
 * counted by outcome and reason, a retry, a cancel. The same journey runs on SQLite in the same test,
 * and both services must answer alike, value for value (the fake WeChat gives both the same openids).
 */
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { writeFileSync, rmSync } from 'node:fs'
import { buildApp } from '../../server/app'
import { createAdjustableClock, createManualClock, type ManualClock } from '../../server/clock'
import { createPostgresStorage } from '../../server/db/postgres/storage'
import { createSqliteStorage } from '../../server/db/sqlite/storage'
import type { Storage } from '../../server/db/storage'
import { formatCatalogue } from '../../server/templates/catalogue'
import type { Campaign, SegmentReach, UserList } from '../../src/domain/contract'
import { createFakeWeChat, type FakeWeChat } from '../server/support/fake-wechat'
import { ACTIVITY_REMINDER, adminHeaders, NOON_SHANGHAI, PAGES, signIn, tempDatabasePath, testConfig, TEMPLATES } from '../server/support/service'
import { createDatabase } from '../support/servers'

interface Service {
  app: FastifyInstance
  wechat: FakeWeChat
  manual: ManualClock
  close(): Promise<void>
}

const started: Service[] = []
afterEach(async () => {
  for (const service of started.splice(0)) await service.close()
})

/** A service on SQLite, or on PostgreSQL (a fresh database, or `shared.url` with the WeChat and clock of another instance). */
async function start(engine: 'sqlite' | 'postgres', shared: { url?: string; wechat?: FakeWeChat; manual?: ManualClock } = {}): Promise<Service> {
  const manual = shared.manual ?? createManualClock(NOON_SHANGHAI)
  const clock = createAdjustableClock(manual)
  const path = tempDatabasePath()
  const storage: Storage =
    engine === 'sqlite'
      ? createSqliteStorage(path, clock)
      : await createPostgresStorage(shared.url ?? (await createDatabase(inject('postgresUrl'), 'audience_http')), clock, { max: 4 })
  const wechat = shared.wechat ?? createFakeWeChat({ templates: TEMPLATES, pages: PAGES, clock: manual })
  const templatesFile = `${path}.templates.json`
  writeFileSync(templatesFile, formatCatalogue([...TEMPLATES]))
  const app = await buildApp({
    config: testConfig({ WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef', RATE_LIMIT: 'off', DISPATCH_CONCURRENCY: '1' }),
    storage,
    wechat,
    templates: TEMPLATES,
    templatesFile,
    pages: PAGES,
    clock,
    logStream: { write: () => {} },
  })
  await app.ready()
  const service: Service = {
    app,
    wechat,
    manual,
    async close() {
      await app.close()
      await storage.close()
      for (const file of [path, `${path}-wal`, `${path}-shm`, templatesFile]) rmSync(file, { force: true })
    },
  }
  started.push(service)
  return service
}

const DATA = { thing1: '{{nickname|朋友}}的专属活动', date2: '2026年12月12日', thing3: '{{city|全国}}门店', thing4: '记得准时参加' }

/** The journey; what each step answered, for the two engines to be compared. */
async function journey(service: Service) {
  const { app, wechat } = service
  const call = async <T>(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<T> => {
    const reply = await app.inject({ method, url, headers: adminHeaders, ...(payload && { payload }) })
    expect(reply.statusCode, `${method} ${url}: ${reply.body}`).toBeLessThan(300)
    return reply.json<T>()
  }
  const person = async (user: string, options: { credits?: number; tags?: string[]; attributes?: Record<string, string | number>; muted?: boolean; night?: boolean } = {}) => {
    const who = await signIn(app, (name) => wechat.issueCode(name), user)
    for (let i = 0; i < (options.credits ?? 1); i += 1) {
      wechat.grant(who.openid, { [ACTIVITY_REMINDER.id]: 'accept' })
      const consent = await app.inject({ method: 'POST', url: '/api/consents', headers: { authorization: who.authorization }, payload: { consentId: `consent-${user}-${i}`, results: { [ACTIVITY_REMINDER.id]: 'accept' } } })
      expect(consent.statusCode, consent.body).toBe(200)
    }
    await call('PUT', `/api/users/${who.openid}`, { tags: options.tags ?? ['vip'], attributes: options.attributes ?? {} })
    if (options.muted || options.night) {
      const preferences = { quietHours: options.night ? { start: '12:00', end: '14:00' } : null, dailyLimit: 20, mutedCategories: options.muted ? ['marketing'] : [] }
      const saved = await app.inject({ method: 'PUT', url: '/api/me/preferences', headers: { authorization: who.authorization }, payload: preferences })
      expect(saved.statusCode, saved.body).toBe(200)
    }
    return who.openid
  }

  const zhang = await person('zhang', { attributes: { nickname: '张伟', city: '北京', level: 3 } })
  const li = await person('li', { attributes: { city: '上海', level: 1 } })
  await person('muted', { muted: true })
  await person('night', { night: true })
  await person('nocredit', { credits: 0 })
  await person('long', { attributes: { nickname: '一二三四五六七八九十一二三四五六七八' } })
  await person('other', { tags: ['new'] })
  // Added by the operator, never signed in: in the segment, without a credit.
  const imported = await call<{ created: number; updated: number }>('POST', '/api/users/import', {
    users: [
      { openid: 'op-imported-1', tags: ['vip', 'crm'], attributes: { city: '深圳' } },
      { openid: 'op-imported-2', tags: ['crm'] },
      { openid: zhang, tags: ['vip', 'gold'] },
    ],
  })

  const firstPage = await call<UserList>('GET', '/api/users?tag=vip&limit=4')
  const secondPage = await call<UserList>('GET', `/api/users?tag=vip&limit=4&cursor=${firstPage.nextCursor}`)
  const segment = await call<{ id: string }>('POST', '/api/segments', { name: 'VIP', filter: { tagsAll: ['vip'] } })
  const reach = await call<SegmentReach>('GET', `/api/segments/${segment.id}/reach?template=activity_reminder`)
  const shanghai = await call<{ id: string }>('POST', '/api/segments', { name: '上海以外的 VIP', filter: { tagsAny: ['vip', 'gold'], attributes: { level: { gte: 2 } } } })
  const shanghaiReach = await call<SegmentReach>('GET', `/api/segments/${shanghai.id}/reach?template=activity_reminder`)

  const created = await call<Campaign>('POST', '/api/campaigns', { name: '双十二', segmentId: segment.id, template: 'activity_reminder', data: DATA })
  await app.scheduler.runOnce({ settle: true })
  const afterSend = await call<Campaign>('GET', `/api/campaigns/${created.id}`)
  const sent = Object.fromEntries(
    wechat.accepted.map((message) => [message.touser, { keywords: Object.keys(message.data), thing1: message.data.thing1?.value, thing3: message.data.thing3?.value }]),
  )
  service.manual.set(new Date('2026-11-25T06:00:00.000Z'))
  await app.scheduler.runOnce({ settle: true })
  const completed = await call<Campaign>('GET', `/api/campaigns/${created.id}`)
  const retried = await call<{ retried: number }>('POST', `/api/campaigns/${created.id}/retry`)

  const later = await call<Campaign>('POST', '/api/campaigns', { name: '晚点', segmentId: segment.id, template: 'activity_reminder', data: DATA, startAt: '2026-11-25T09:00:00.000Z' })
  const cancelled = await call<Campaign>('POST', `/api/campaigns/${later.id}/cancel`)
  const list = (await call<Campaign[]>('GET', '/api/campaigns')).map((campaign) => [campaign.name, campaign.status])

  const strip = (campaign: Campaign) => ({ ...campaign, id: undefined, segmentId: undefined })
  return {
    zhang,
    li,
    imported,
    pages: [firstPage, secondPage],
    reach,
    shanghaiReach,
    afterSend: strip(afterSend),
    sent,
    completed: strip(completed),
    retried,
    cancelled: strip(cancelled),
    list,
  }
}

describe('the audience side over HTTP on PostgreSQL', () => {
  it('answers as the service on SQLite does: users, segments and reach, a campaign sent, retried and cancelled', async () => {
    const onPostgres = await journey(await start('postgres'))
    const onSqlite = await journey(await start('sqlite'))
    expect(onPostgres).toEqual(onSqlite)

    const { zhang, li } = onPostgres
    expect(onPostgres.imported).toEqual({ created: 2, updated: 1 })
    // Nine users, seven with vip, in byte order of openid, four a page.
    expect(onPostgres.pages[0]!.items).toHaveLength(4)
    expect(onPostgres.pages[0]!.nextCursor).toBe(onPostgres.pages[0]!.items[3]!.openid)
    const vip = [...onPostgres.pages[0]!.items, ...onPostgres.pages[1]!.items]
    expect(vip).toHaveLength(7)
    expect(onPostgres.pages[1]!.nextCursor).toBeNull()
    expect(vip.map((user) => user.openid)).toEqual(vip.map((user) => user.openid).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
    expect(vip.find((user) => user.openid === zhang)).toMatchObject({ tags: ['gold', 'vip'], attributes: { city: '北京', level: 3, nickname: '张伟' } })
    expect(vip.find((user) => user.openid === 'op-imported-1')).toMatchObject({ tags: ['crm', 'vip'], lastActiveAt: null })

    expect(onPostgres.reach).toEqual({ users: 7, eligible: 3, deferred: 1, notEligible: { NO_CREDIT: 2, MUTED_CATEGORY: 1, DAILY_LIMIT: 0 } })
    expect(onPostgres.shanghaiReach).toMatchObject({ users: 1, eligible: 1 })

    expect(onPostgres.afterSend).toMatchObject({
      status: 'running',
      total: 7,
      expanded: true,
      counts: { pending: 0, sent: 2, deferred: 1, skipped: 2, failed: 2 },
      reasons: { MUTED_CATEGORY: 1, INVALID_DATA: 1, NO_CREDIT: 2 },
    })
    const keywords = ['thing1', 'date2', 'thing3', 'thing4']
    expect(onPostgres.sent).toEqual({
      [zhang]: { keywords, thing1: '张伟的专属活动', thing3: '北京门店' },
      [li]: { keywords, thing1: '朋友的专属活动', thing3: '上海门店' },
    })
    expect(onPostgres.completed).toMatchObject({ status: 'completed', counts: { pending: 0, sent: 3, deferred: 0 }, finishedAt: '2026-11-25T06:00:00.000Z' })
    expect(onPostgres.retried).toEqual({ retried: 0 })
    expect(onPostgres.cancelled).toMatchObject({ status: 'cancelled', total: 0 })
    expect(onPostgres.list).toEqual([['晚点', 'cancelled'], ['双十二', 'completed']])
  })

  it('runs one campaign from two instances on one database: each person gets exactly one message', async () => {
    const url = await createDatabase(inject('postgresUrl'), 'audience_two')
    const a = await start('postgres', { url })
    const b = await start('postgres', { url, wechat: a.wechat, manual: a.manual })
    const openids: string[] = []
    for (let i = 0; i < 30; i += 1) {
      const who = await signIn(a.app, (name) => a.wechat.issueCode(name), `person-${i}`)
      a.wechat.grant(who.openid, { [ACTIVITY_REMINDER.id]: 'accept' })
      const consent = await a.app.inject({ method: 'POST', url: '/api/consents', headers: { authorization: who.authorization }, payload: { consentId: `consent-two-${i}`, results: { [ACTIVITY_REMINDER.id]: 'accept' } } })
      expect(consent.statusCode, consent.body).toBe(200)
      // Half tagged through one instance, half through the other.
      const put = await (i % 2 === 0 ? a : b).app.inject({ method: 'PUT', url: `/api/users/${who.openid}`, headers: adminHeaders, payload: { tags: ['vip'], attributes: { nickname: `用户${i}` } } })
      expect(put.statusCode, put.body).toBe(200)
      openids.push(who.openid)
    }
    const segment = (await b.app.inject({ method: 'POST', url: '/api/segments', headers: adminHeaders, payload: { name: 'VIP', filter: { tagsAll: ['vip'] } } })).json<{ id: string }>()
    const created = await a.app.inject({ method: 'POST', url: '/api/campaigns', headers: adminHeaders, payload: { name: '两个实例', segmentId: segment.id, template: 'activity_reminder', data: DATA } })
    expect(created.statusCode, created.body).toBe(201)
    const { id } = created.json<Campaign>()

    await Promise.all([a.app.scheduler.runOnce({ settle: true }), b.app.scheduler.runOnce({ settle: true })])
    await Promise.all([a.app.scheduler.runOnce({ settle: true }), b.app.scheduler.runOnce({ settle: true })])

    const accepted = a.wechat.accepted.filter((message) => message.template_id === ACTIVITY_REMINDER.id)
    expect(accepted.map((message) => message.touser).sort()).toEqual([...openids].sort())
    expect(Object.fromEntries(accepted.map((message) => [message.touser, message.data.thing1?.value]))).toEqual(
      Object.fromEntries(openids.map((openid, i) => [openid, `用户${i}的专属活动`])),
    )
    const seen = (await b.app.inject({ method: 'GET', url: `/api/campaigns/${id}`, headers: adminHeaders })).json<Campaign>()
    expect(seen).toMatchObject({ status: 'completed', total: 30, expanded: true, counts: { pending: 0, sent: 30, failed: 0, skipped: 0 } })
  })
})
