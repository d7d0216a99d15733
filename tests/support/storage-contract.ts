/**
 * One storage contract, run against every engine: SQLite from the server project
 * (tests/server/db/storage.sqlite.test.ts), PostgreSQL from the multi project
 * (tests/multi/storage.postgres.test.ts). Each case opens a fresh, empty Storage with a manual clock
 * and asks it through the Storage interface alone, so both engines must answer the same, value for
 * value. This file holds sessions, the ledger, the token store and messages; the audience side's
 * repositories have their own cases beside it, with the same `open` functions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createManualClock, type ManualClock } from '../../server/clock'
import type { CampaignRecord, NewMessage, SendClaim, Storage } from '../../server/db/storage'
import type { Clock } from '../../server/wechat/types'

/** A fresh, empty Storage whose token store reads `clock`. */
export type OpenStorage = (clock: Clock) => Promise<Storage>

export const T0 = new Date('2026-11-25T05:00:00.000Z')
const DAY = '2026-11-25'
const at = (ms: number): Date => new Date(T0.getTime() + ms)

export function newMessage(id: string, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    id,
    openid: 'o-alice',
    templateId: 'tpl-order',
    category: 'order',
    // Keywords deliberately not in alphabetical (nor jsonb's) order: they must come back as written.
    data: { thing3: { value: '机械键盘' }, character_string1: { value: 'N1' }, phrase2: { value: '已发货' } },
    urgent: false,
    source: 'admin',
    createdAt: T0,
    ...overrides,
  }
}

export function campaign(id: string, status: CampaignRecord['status']): CampaignRecord {
  return {
    id,
    name: `campaign ${id}`,
    segmentId: 'seg-1',
    segmentFilter: {},
    templateId: 'tpl-order',
    data: { thing3: '机械键盘' },
    urgent: false,
    truncate: false,
    status,
    expansionCursor: null,
    expanded: false,
    total: 0,
    createdAt: T0,
  }
}

export function describeStorageContract(engine: string, open: OpenStorage): void {
  describe(`the storage contract on ${engine}`, () => {
    let clock: ManualClock
    let storage: Storage

    beforeEach(async () => {
      clock = createManualClock(T0)
      storage = await open(clock)
    })
    afterEach(async () => {
      await storage.close()
    })

    let grants = 0
    const grant = async (openid: string, templateId: string, amount: number): Promise<void> => {
      grants += 1
      await storage.ledger.applyConsent({ openid, consentId: `grant-${grants}`, changes: [{ templateId, result: 'accept', credit: { type: 'add', amount } }], now: clock.now() })
    }
    const leaseAll = (owner: string, limit = 100, now = clock.now()) =>
      storage.messages.leaseDue({ owner, now, until: new Date(now.getTime() + 60_000), limit, scope: { exceptCampaigns: [] } })
    const claim = (id: string, owner: string, overrides: Partial<SendClaim> = {}): SendClaim => ({
      id,
      owner,
      leaseUntil: at(120_000),
      spendCredit: true,
      dayKey: DAY,
      dailyLimit: 10,
      ...overrides,
    })
    /** Inserted, leased to `owner` and claimed: the message is `sending`. */
    const sending = async (id: string, owner = 'worker-a', overrides: Partial<NewMessage> = {}): Promise<void> => {
      await storage.messages.insert(newMessage(id, overrides))
      const { jobs } = await leaseAll(owner)
      expect(jobs.map((job) => job.id)).toContain(id)
      expect(await storage.messages.claimForSend({ ...claim(id, owner), now: clock.now() })).toEqual({ outcome: 'claimed', creditSpent: true })
    }

    describe('sessions', () => {
      it('finds a session until it expires, purges expired ones and keeps only the newest of a person', async () => {
        await storage.sessions.create({ tokenHash: 'h1', openid: 'o-alice', createdAt: T0, expiresAt: at(1000) })
        await storage.sessions.create({ tokenHash: 'h2', openid: 'o-alice', createdAt: T0, expiresAt: at(5000) })
        await storage.sessions.create({ tokenHash: 'h3', openid: 'o-alice', createdAt: T0, expiresAt: at(5000) })
        await storage.sessions.create({ tokenHash: 'h4', openid: 'o-bob', createdAt: at(10), expiresAt: at(5000) })
        expect(await storage.sessions.findOpenid('h1', at(999))).toBe('o-alice')
        expect(await storage.sessions.findOpenid('h1', at(1000))).toBeNull()
        expect(await storage.sessions.findOpenid('nope', T0)).toBeNull()
        expect(await storage.sessions.deleteExpired(at(1000))).toBe(1)
        // Same creation time: the one inserted last is the newest.
        expect(await storage.sessions.deleteAllButNewest('o-alice', 1)).toBe(1)
        expect(await storage.sessions.findOpenid('h2', T0)).toBeNull()
        expect(await storage.sessions.findOpenid('h3', T0)).toBe('o-alice')
        expect(await storage.sessions.findOpenid('h4', T0)).toBe('o-bob')
      })
    })

    describe('the ledger', () => {
      it('applies a consent once: the same consentId again returns the credits stored with it and changes nothing', async () => {
        const first = await storage.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'c1',
          changes: [
            { templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 } },
            { templateId: 'tpl-activity', result: 'reject', credit: { type: 'none' } },
          ],
          now: clock.now(),
        })
        expect(first).toEqual({ credits: { 'tpl-order': 1, 'tpl-activity': 0 }, replayed: false })
        clock.advance(1000)
        await grant('o-alice', 'tpl-order', 2)
        const again = await storage.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'c1',
          changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 } }],
          now: clock.now(),
        })
        expect(again).toEqual({ credits: { 'tpl-order': 1, 'tpl-activity': 0 }, replayed: true })
        expect(Object.keys(again.credits)).toEqual(['tpl-order', 'tpl-activity'])
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(3)
        expect(await storage.ledger.listSubscriptions('o-alice')).toEqual([
          { templateId: 'tpl-activity', credits: 0, lastResult: 'reject', updatedAt: T0 },
          { templateId: 'tpl-order', credits: 3, lastResult: 'accept', updatedAt: at(1000) },
        ])
        expect(await storage.ledger.credits('o-nobody', 'tpl-order')).toBe(0)
        expect(await storage.ledger.creditsOf(['o-alice', 'o-nobody'], 'tpl-order')).toEqual(new Map([['o-alice', 3]]))
        expect(await storage.ledger.creditsOf([], 'tpl-order')).toEqual(new Map())
        // A list that repeats a value answers it once, as it answers it when it does not.
        expect(await storage.ledger.creditsOf(['o-alice', 'o-nobody', 'o-alice'], 'tpl-order')).toEqual(new Map([['o-alice', 3]]))
      })

      it('sets, and removes never below zero; a change of none still records the answer', async () => {
        await grant('o-alice', 'tpl-order', 2)
        await storage.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'c-remove',
          changes: [
            { templateId: 'tpl-order', result: 'reject', credit: { type: 'remove', amount: 5 } },
            { templateId: 'tpl-security', result: 'accept', credit: { type: 'set', value: 1 } },
            { templateId: 'tpl-new', result: 'ban', credit: { type: 'none' } },
          ],
          now: clock.now(),
        })
        expect((await storage.ledger.listSubscriptions('o-alice')).map(({ templateId, credits, lastResult }) => ({ templateId, credits, lastResult }))).toEqual([
          { templateId: 'tpl-new', credits: 0, lastResult: 'ban' },
          { templateId: 'tpl-order', credits: 0, lastResult: 'reject' },
          { templateId: 'tpl-security', credits: 1, lastResult: 'accept' },
        ])
      })

      it('counts a retried push once and pairs an event that counted alone with the report that comes after it', async () => {
        const event = { key: 'k1', templateId: 'tpl-order', status: 'accept', popupScene: '0', credit: { type: 'add', amount: 1 } as const, whenPaired: { type: 'none' } as const, result: 'accept' as const }
        expect(await storage.ledger.applyWeChatEvents({ event: 'popup', openid: 'o-alice', createdAt: T0, items: [event], now: clock.now() })).toEqual({ applied: ['k1'], duplicates: [] })
        expect(await storage.ledger.applyWeChatEvents({ event: 'popup', openid: 'o-alice', createdAt: T0, items: [event], now: clock.now() })).toEqual({ applied: [], duplicates: ['k1'] })
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(1)
        clock.advance(5000)
        // The device's report of the same accept: paired, so `whenPaired` (nothing) applies.
        await storage.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'c1',
          changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 }, whenPaired: { type: 'none' } }],
          now: clock.now(),
          pairWithinMs: 60_000,
        })
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(1)
        expect(await storage.ledger.listUnconfirmed(at(3_600_000), 10)).toEqual([])
        // A second report finds no event left to pair with: it counts and waits, unconfirmed.
        await storage.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'c2',
          changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 }, whenPaired: { type: 'none' } }],
          now: clock.now(),
          pairWithinMs: 60_000,
        })
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(2)
        expect(await storage.ledger.listUnconfirmed(at(3_600_000), 10)).toEqual([{ seq: expect.any(Number), openid: 'o-alice', templateId: 'tpl-order' }])
      })

      it('does not pair a report with an event older than the window', async () => {
        const event = { key: 'k-old', templateId: 'tpl-order', status: 'accept', credit: { type: 'add', amount: 1 } as const, whenPaired: { type: 'none' } as const, result: 'accept' as const }
        await storage.ledger.applyWeChatEvents({ event: 'popup', openid: 'o-alice', createdAt: T0, items: [event], now: clock.now() })
        clock.advance(60_001)
        await storage.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'c-late',
          changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 }, whenPaired: { type: 'none' } }],
          now: clock.now(),
          pairWithinMs: 60_000,
        })
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(2)
      })

      it('confirms an unconfirmed report by the event that comes after it, and withdraws the ones never confirmed, once', async () => {
        const report = (consentId: string, openid = 'o-alice') =>
          storage.ledger.applyConsent({
            openid,
            consentId,
            changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 }, whenPaired: { type: 'none' } }],
            now: clock.now(),
            pairWithinMs: 60_000,
          })
        await report('c1')
        clock.advance(1000)
        await report('c2', 'o-bob')
        expect(await storage.ledger.listUnconfirmed(at(500), 10)).toEqual([{ seq: expect.any(Number), openid: 'o-alice', templateId: 'tpl-order' }])
        const event = { key: 'k-bob', templateId: 'tpl-order', status: 'accept', credit: { type: 'add', amount: 1 } as const, whenPaired: { type: 'none' } as const, result: 'accept' as const }
        expect(await storage.ledger.applyWeChatEvents({ event: 'popup', openid: 'o-bob', createdAt: clock.now(), items: [event], now: clock.now() })).toEqual({ applied: ['k-bob'], duplicates: [] })
        expect(await storage.ledger.credits('o-bob', 'tpl-order')).toBe(1)
        const due = await storage.ledger.listUnconfirmed(at(3_600_000), 10)
        expect(due.map((entry) => entry.openid)).toEqual(['o-alice'])
        const withdrawal = due.map((entry) => ({ seq: entry.seq, credit: { type: 'remove', amount: 1 } as const }))
        expect(await storage.ledger.withdrawReports(withdrawal, clock.now())).toBe(1)
        expect(await storage.ledger.withdrawReports(withdrawal, clock.now())).toBe(0)
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(0)
        expect(await storage.ledger.listUnconfirmed(at(3_600_000), 10)).toEqual([])
      })

      it('voids the unconfirmed reports of credits set to zero', async () => {
        await storage.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'c1',
          changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 }, whenPaired: { type: 'none' } }],
          now: clock.now(),
          pairWithinMs: 60_000,
        })
        await storage.ledger.applyConsent({ openid: 'o-alice', consentId: 'c2', changes: [{ templateId: 'tpl-order', result: 'reject', credit: { type: 'set', value: 0 } }], now: clock.now() })
        expect(await storage.ledger.listUnconfirmed(at(3_600_000), 10)).toEqual([])
      })
    })

    describe('the WeChat token', () => {
      it('keeps one token and one refresh lease, which its holder renews and which expires by the clock', async () => {
        expect(await storage.tokens.read()).toBeNull()
        await storage.tokens.write('ACCESS_TOKEN_1', at(7_200_000))
        await storage.tokens.write('ACCESS_TOKEN_2', at(7_300_000))
        expect(await storage.tokens.read()).toEqual({ token: 'ACCESS_TOKEN_2', expiresAt: at(7_300_000) })
        expect(await storage.tokens.tryLease('instance-a', 15_000)).toBe(true)
        expect(await storage.tokens.tryLease('instance-b', 15_000)).toBe(false)
        expect(await storage.tokens.tryLease('instance-a', 15_000)).toBe(true)
        await storage.tokens.releaseLease('instance-b')
        expect(await storage.tokens.tryLease('instance-b', 15_000)).toBe(false)
        await storage.tokens.releaseLease('instance-a')
        expect(await storage.tokens.tryLease('instance-b', 15_000)).toBe(true)
        clock.advance(14_999)
        expect(await storage.tokens.tryLease('instance-a', 15_000)).toBe(false)
        clock.advance(1)
        expect(await storage.tokens.tryLease('instance-a', 15_000)).toBe(true)
      })
    })

    describe('messages', () => {
      it('writes a queued message with its history, keeps its data as written, and answers a taken idempotency key with the message holding it', async () => {
        const written = await storage.messages.insert(newMessage('m1', { idempotencyKey: 'key-1', requestFingerprint: 'fp-1', page: 'pages/orders/index', lang: 'zh_CN', urgent: true }))
        expect(written.created).toBe(true)
        expect(written.message).toEqual({
          id: 'm1',
          openid: 'o-alice',
          templateId: 'tpl-order',
          category: 'order',
          data: { thing3: { value: '机械键盘' }, character_string1: { value: 'N1' }, phrase2: { value: '已发货' } },
          page: 'pages/orders/index',
          urgent: true,
          lang: 'zh_CN',
          idempotencyKey: 'key-1',
          requestFingerprint: 'fp-1',
          source: 'admin',
          status: 'queued',
          createdAt: T0,
          creditSpent: false,
          requeues: 0,
          attempts: [],
          history: [{ at: T0, status: 'queued' }],
        })
        expect(Object.keys(written.message.data)).toEqual(['thing3', 'character_string1', 'phrase2'])
        const again = await storage.messages.insert(newMessage('m2', { idempotencyKey: 'key-1', requestFingerprint: 'fp-2' }))
        expect(again.created).toBe(false)
        expect(again.message.id).toBe('m1')
        expect(again.message.requestFingerprint).toBe('fp-1')
        expect(await storage.messages.get('m2')).toBeNull()
        expect((await storage.messages.findByIdempotencyKey('key-1'))?.id).toBe('m1')
        expect(await storage.messages.findByIdempotencyKey('key-2')).toBeNull()
      })

      it('lists a recipient’s messages newest first', async () => {
        for (const id of ['m1', 'm2', 'm3']) await storage.messages.insert(newMessage(id))
        await storage.messages.insert(newMessage('m-bob', { openid: 'o-bob' }))
        expect((await storage.messages.listForRecipient('o-alice', 2)).map((message) => message.id)).toEqual(['m3', 'm2'])
        expect((await storage.messages.listForRecipient('o-bob', 10)).map((message) => message.id)).toEqual(['m-bob'])
      })

      it('leases due messages oldest due first, to one owner until the lease runs out, and then to another', async () => {
        await storage.messages.insert(newMessage('m1', { createdAt: at(2000) }))
        await storage.messages.insert(newMessage('m2', { createdAt: at(1000) }))
        await storage.messages.insert(newMessage('m3', { createdAt: at(1000) }))
        await storage.messages.insert(newMessage('m-later', { createdAt: at(10_000) }))
        clock.set(at(5000))
        const first = await storage.messages.leaseDue({ owner: 'worker-a', now: clock.now(), until: at(35_000), limit: 2, scope: { exceptCampaigns: [] } })
        expect(first.jobs.map((job) => job.id)).toEqual(['m2', 'm3'])
        expect(first.jobs[0]).toEqual({
          id: 'm2',
          openid: 'o-alice',
          templateId: 'tpl-order',
          category: 'order',
          data: { thing3: { value: '机械键盘' }, character_string1: { value: 'N1' }, phrase2: { value: '已发货' } },
          urgent: false,
          requeues: 0,
        })
        expect(first.unreadable).toEqual([])
        const second = await storage.messages.leaseDue({ owner: 'worker-b', now: clock.now(), until: at(35_000), limit: 10, scope: { exceptCampaigns: [] } })
        expect(second.jobs.map((job) => job.id)).toEqual(['m1'])
        expect((await storage.messages.leaseDue({ owner: 'worker-b', now: at(34_999), until: at(90_000), limit: 10, scope: { exceptCampaigns: [] } })).jobs.map((job) => job.id)).toEqual(['m-later'])
        const reclaimed = await storage.messages.leaseDue({ owner: 'worker-b', now: at(35_000), until: at(95_000), limit: 10, scope: { exceptCampaigns: [] } })
        // Which ones: every lease that ran out (the order of the list is not part of the contract).
        expect(reclaimed.jobs.map((job) => job.id).sort()).toEqual(['m1', 'm2', 'm3'])
        expect(await storage.messages.leaseDue({ owner: 'worker-a', now: at(35_000), until: at(95_000), limit: 0, scope: { exceptCampaigns: [] } })).toEqual({ jobs: [], unreadable: [] })
      })

      it('leases due messages by id alone as leaseDue leases them, oldest due first', async () => {
        await storage.messages.insert(newMessage('m1', { createdAt: at(2000) }))
        await storage.messages.insert(newMessage('m2', { createdAt: at(1000) }))
        await storage.messages.insert(newMessage('m3', { createdAt: at(3000) }))
        clock.set(at(5000))
        expect(await storage.messages.leaseDueIds({ owner: 'worker-a', now: clock.now(), until: at(35_000), limit: 2, scope: { exceptCampaigns: [] } })).toEqual(['m2', 'm1'])
        // Leased: hidden from another leaser until the lease runs out, by either call.
        expect((await storage.messages.leaseDue({ owner: 'worker-b', now: clock.now(), until: at(35_000), limit: 10, scope: { exceptCampaigns: [] } })).jobs.map((job) => job.id)).toEqual(['m3'])
        expect(await storage.messages.leaseDueIds({ owner: 'worker-b', now: clock.now(), until: at(35_000), limit: 10, scope: { exceptCampaigns: [] } })).toEqual([])
        expect((await storage.messages.leaseDueIds({ owner: 'worker-b', now: at(35_000), until: at(95_000), limit: 10, scope: { exceptCampaigns: [] } })).sort()).toEqual(['m1', 'm2', 'm3'])
        expect(await storage.messages.leaseDueIds({ owner: 'worker-b', now: at(95_000), until: at(99_000), limit: 0, scope: { exceptCampaigns: [] } })).toEqual([])
      })

      it('reads what the dispatcher decides a batch on in one call where offered: saved preferences, sends on the day, credits of each pair', async () => {
        // Where not offered, the three reads it stands for give the answers the one call must give.
        const dispatchFacts =
          storage.dispatchFacts ??
          (async ({ openids, dayKey, pairs }: Parameters<NonNullable<Storage['dispatchFacts']>>[0]) => {
            const credits = new Map<string, number>()
            for (const pair of pairs) {
              const count = (await storage.ledger.creditsOf([pair.openid], pair.templateId)).get(pair.openid)
              if (count !== undefined) credits.set(`${pair.openid} ${pair.templateId}`, count)
            }
            return { savedPreferences: await storage.preferences.getMany(openids), sentToday: await storage.messages.countsOnDay(openids, dayKey), credits }
          })
        const quiet = { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['activity'] }
        await storage.preferences.put('o-alice', quiet, clock.now())
        await grant('o-alice', 'tpl-order', 2)
        await grant('o-bob', 'tpl-order', 1)
        await grant('o-bob', 'tpl-activity', 4)
        await storage.messages.insert(newMessage('m-a1'))
        await storage.messages.insert(newMessage('m-a2'))
        await storage.messages.insert(newMessage('m-b1', { openid: 'o-bob' }))
        await leaseAll('worker-a')
        await storage.messages.claimForSends([claim('m-a1', 'worker-a'), claim('m-b1', 'worker-a')], clock.now())
        const pairs = [
          { openid: 'o-alice', templateId: 'tpl-order' },
          { openid: 'o-bob', templateId: 'tpl-activity' },
          { openid: 'o-carol', templateId: 'tpl-order' },
        ]
        const facts = await dispatchFacts({ openids: ['o-alice', 'o-bob', 'o-carol'], dayKey: DAY, pairs })
        expect(facts.savedPreferences).toEqual(await storage.preferences.getMany(['o-alice', 'o-bob', 'o-carol']))
        expect(facts.savedPreferences).toEqual(new Map([['o-alice', quiet]]))
        expect(facts.sentToday).toEqual(await storage.messages.countsOnDay(['o-alice', 'o-bob', 'o-carol'], DAY))
        expect(facts.sentToday).toEqual(new Map([['o-alice', 1], ['o-bob', 1]]))
        expect(facts.credits).toEqual(new Map([['o-alice tpl-order', 1], ['o-bob tpl-activity', 4]]))
        expect(await dispatchFacts({ openids: [], dayKey: DAY, pairs: [] })).toEqual({ savedPreferences: new Map(), sentToday: new Map(), credits: new Map() })
      })

      it('reads the jobs of many ids at once: status and what the send needs; an id with no message is left out', async () => {
        await storage.campaigns.create(campaign('camp-1', 'running'))
        await storage.messages.insert(newMessage('m1', { page: 'pages/orders/index', lang: 'zh_CN', urgent: true }))
        await storage.messages.insert(newMessage('m-camp', { openid: 'o-bob', templateId: 'tpl-activity', category: 'activity', campaignId: 'camp-1', source: 'campaign' }))
        await storage.messages.insert(newMessage('m-skipped'))
        await storage.messages.transition('m-skipped', ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, clock.now())
        const data = { thing3: { value: '机械键盘' }, character_string1: { value: 'N1' }, phrase2: { value: '已发货' } }
        const found = await storage.messages.jobsOf(['m-camp', 'nope', 'm1', 'm-skipped'])
        expect(found).toEqual(
          new Map([
            ['m1', { status: 'queued', job: { id: 'm1', openid: 'o-alice', templateId: 'tpl-order', category: 'order', data, page: 'pages/orders/index', lang: 'zh_CN', urgent: true, requeues: 0 } }],
            ['m-camp', { status: 'queued', job: { id: 'm-camp', openid: 'o-bob', templateId: 'tpl-activity', category: 'activity', data, urgent: false, requeues: 0, campaignId: 'camp-1' } }],
            ['m-skipped', { status: 'skipped', job: { id: 'm-skipped', openid: 'o-alice', templateId: 'tpl-order', category: 'order', data, urgent: false, requeues: 0 } }],
          ]),
        )
        // The keywords come back in the order they were written.
        expect(Object.keys(found.get('m1')?.job?.data ?? {})).toEqual(['thing3', 'character_string1', 'phrase2'])
        expect(await storage.messages.jobsOf([])).toEqual(new Map())
        expect([...(await storage.messages.jobsOf(['m1', 'm-camp', 'm1', 'm1'])).keys()].sort()).toEqual(['m-camp', 'm1'])
      })

      it('leases by campaign: one running campaign alone, or all but the listed ones; never a campaign that is not running', async () => {
        await storage.campaigns.create(campaign('camp-run', 'running'))
        await storage.campaigns.create(campaign('camp-limited', 'running'))
        await storage.campaigns.create(campaign('camp-paused', 'paused'))
        await storage.messages.insert(newMessage('m-plain'))
        await storage.messages.insert(newMessage('m-run', { campaignId: 'camp-run', source: 'campaign' }))
        await storage.messages.insert(newMessage('m-limited', { campaignId: 'camp-limited', source: 'campaign' }))
        await storage.messages.insert(newMessage('m-paused', { campaignId: 'camp-paused', source: 'campaign' }))
        const until = at(60_000)
        const limited = await storage.messages.leaseDue({ owner: 'w', now: T0, until, limit: 10, scope: { campaignId: 'camp-limited' } })
        expect(limited.jobs.map((job) => [job.id, job.campaignId])).toEqual([['m-limited', 'camp-limited']])
        await storage.messages.releaseLeases('w')
        const rest = await storage.messages.leaseDue({ owner: 'w', now: T0, until, limit: 10, scope: { exceptCampaigns: ['camp-limited'] } })
        expect(rest.jobs.map((job) => job.id)).toEqual(['m-plain', 'm-run'])
        expect((await storage.messages.leaseDue({ owner: 'w2', now: T0, until, limit: 10, scope: { campaignId: 'camp-paused' } })).jobs).toEqual([])
        expect(await storage.campaigns.setStatus('camp-paused', ['paused'], 'running', T0)).toBe(true)
        expect((await storage.messages.leaseDue({ owner: 'w2', now: T0, until, limit: 10, scope: { campaignId: 'camp-paused' } })).jobs.map((job) => job.id)).toEqual(['m-paused'])
      })

      it('gives leases back: its own, or everyone else’s', async () => {
        for (const id of ['m1', 'm2', 'm3']) await storage.messages.insert(newMessage(id))
        await leaseAll('worker-a', 1)
        await leaseAll('worker-b', 1)
        await leaseAll('worker-c', 1)
        expect(await storage.messages.releaseLeases('worker-a')).toBe(1)
        expect((await leaseAll('worker-d')).jobs.map((job) => job.id)).toEqual(['m1'])
        expect(await storage.messages.releaseOtherLeases('worker-d')).toBe(2)
        expect((await leaseAll('worker-e')).jobs.map((job) => job.id)).toEqual(['m2', 'm3'])
      })

      it('claims a leased message for sending: only its lease holder, only with a credit, only under the daily limit', async () => {
        await storage.messages.insert(newMessage('m1'))
        expect(await storage.messages.claimForSend({ ...claim('m1', 'worker-a'), now: clock.now() })).toEqual({ outcome: 'not-claimable' })
        await leaseAll('worker-a')
        expect(await storage.messages.claimForSend({ ...claim('m1', 'worker-b'), now: clock.now() })).toEqual({ outcome: 'not-claimable' })
        expect(await storage.messages.claimForSend({ ...claim('m1', 'worker-a'), now: clock.now() })).toEqual({ outcome: 'no-credit' })
        await grant('o-alice', 'tpl-order', 1)
        expect(await storage.messages.claimForSend({ ...claim('m1', 'worker-a', { dailyLimit: 0 }), now: clock.now() })).toEqual({ outcome: 'daily-limit-reached' })
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(1)
        clock.advance(10)
        expect(await storage.messages.claimForSend({ ...claim('m1', 'worker-a'), now: clock.now() })).toEqual({ outcome: 'claimed', creditSpent: true })
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(0)
        const record = await storage.messages.get('m1')
        expect(record?.status).toBe('sending')
        expect(record?.creditSpent).toBe(true)
        expect(record?.history).toEqual([{ at: T0, status: 'queued' }, { at: at(10), status: 'sending' }])
        expect(await storage.messages.countOnDay('o-alice', DAY)).toBe(1)
        expect(await storage.messages.countOnDay('o-alice', '2026-11-26')).toBe(0)
        expect(await storage.messages.claimForSend({ ...claim('m1', 'worker-a'), now: clock.now() })).toEqual({ outcome: 'not-claimable' })
      })

      it('claims a batch in order: credits and the daily limit counted claim by claim; a claim without spending only needs a credit', async () => {
        for (const id of ['m1', 'm2', 'm3', 'm4']) await storage.messages.insert(newMessage(id))
        await storage.messages.insert(newMessage('b1', { openid: 'o-bob' }))
        await grant('o-alice', 'tpl-order', 2)
        await grant('o-bob', 'tpl-order', 1)
        await leaseAll('worker-a')
        const results = await storage.messages.claimForSends(
          [claim('m1', 'worker-a'), claim('b1', 'worker-a', { spendCredit: false }), claim('m2', 'worker-a', { dailyLimit: 2 }), claim('m3', 'worker-a', { dailyLimit: 2 }), claim('m4', 'worker-a')],
          clock.now(),
        )
        expect(results).toEqual([
          { outcome: 'claimed', creditSpent: true },
          { outcome: 'claimed', creditSpent: false },
          { outcome: 'claimed', creditSpent: true },
          { outcome: 'daily-limit-reached' },
          { outcome: 'no-credit' },
        ])
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(0)
        expect(await storage.ledger.credits('o-bob', 'tpl-order')).toBe(1)
        expect(await storage.messages.countsOnDay(['o-alice', 'o-bob', 'o-carol'], DAY)).toEqual(new Map([['o-alice', 2], ['o-bob', 1]]))
        // A person listed twice is counted once: their messages, not their messages times the mentions.
        expect(await storage.messages.countsOnDay(['o-alice', 'o-carol', 'o-alice', 'o-bob', 'o-alice'], DAY)).toEqual(new Map([['o-alice', 2], ['o-bob', 1]]))
        expect(await storage.messages.claimForSends([], clock.now())).toEqual([])
      })

      it('claims a batch of different people: each claimed, short of a credit, at the daily limit or not claimable on its own', async () => {
        const people = ['o-a', 'o-b', 'o-c', 'o-d', 'o-e']
        for (const openid of people) await storage.messages.insert(newMessage(`m-${openid}`, { openid }))
        for (const openid of ['o-a', 'o-b', 'o-d', 'o-e']) await grant(openid, 'tpl-order', 1)
        await leaseAll('worker-a')
        await storage.messages.insert(newMessage('m-unleased', { openid: 'o-f' }))
        await grant('o-f', 'tpl-order', 1)
        clock.advance(10)
        const results = await storage.messages.claimForSends(
          [
            claim('m-o-a', 'worker-a'),
            claim('m-o-b', 'worker-a', { spendCredit: false }),
            claim('m-o-c', 'worker-a'),
            claim('m-o-d', 'worker-a', { dailyLimit: 0 }),
            claim('m-o-e', 'worker-b'),
            claim('m-unleased', 'worker-a'),
            claim('m-none', 'worker-a'),
          ],
          clock.now(),
        )
        expect(results).toEqual([
          { outcome: 'claimed', creditSpent: true },
          { outcome: 'claimed', creditSpent: false },
          { outcome: 'no-credit' },
          { outcome: 'daily-limit-reached' },
          { outcome: 'not-claimable' },
          { outcome: 'not-claimable' },
          { outcome: 'not-claimable' },
        ])
        const credits = await Promise.all(['o-a', 'o-b', 'o-c', 'o-d', 'o-e', 'o-f'].map((openid) => storage.ledger.credits(openid, 'tpl-order')))
        expect(credits).toEqual([0, 1, 0, 1, 1, 1])
        expect(await storage.messages.countsOnDay([...people, 'o-f'], DAY)).toEqual(new Map([['o-a', 1], ['o-b', 1]]))
        const claimed = await storage.messages.get('m-o-b')
        expect(claimed).toMatchObject({ status: 'sending', creditSpent: false })
        expect(claimed?.history).toEqual([{ at: T0, status: 'queued' }, { at: at(10), status: 'sending' }])
        expect((await storage.messages.jobsOf(['m-o-c', 'm-o-d', 'm-o-e'])).get('m-o-d')?.status).toBe('queued')
        expect(await storage.messages.listInDoubt({ now: at(120_000), owner: 'worker-a', otherOwners: false })).toEqual([
          { id: 'm-o-a', creditSpent: true },
          { id: 'm-o-b', creditSpent: false },
        ])
      })

      it('finishes a batch of sends that change no credit: each sent with its msgid and attempts, one no longer sending left alone', async () => {
        await grant('o-alice', 'tpl-order', 3)
        for (const id of ['m1', 'm2', 'm3']) await sending(id)
        await storage.messages.finishSends([{ id: 'm3', attempts: [], ending: { status: 'sent', msgid: '3' }, credit: { type: 'none' }, creditHeld: true }], clock.now())
        clock.advance(700)
        const attempts = [
          { at: at(100), errcode: -1, errmsg: 'system error' },
          { at: at(600), errcode: 0, errmsg: 'ok' },
        ]
        const result = await storage.messages.finishSends(
          [
            { id: 'm2', attempts: [{ at: at(650), errcode: 0, errmsg: 'ok' }], ending: { status: 'sent', msgid: '2002' }, credit: { type: 'none' }, creditHeld: true },
            { id: 'm3', attempts: [{ at: at(660), errcode: 0, errmsg: 'ok' }], ending: { status: 'sent', msgid: '3003' }, credit: { type: 'none' }, creditHeld: true },
            { id: 'm1', attempts, ending: { status: 'sent', msgid: '1001' }, credit: { type: 'none' }, creditHeld: true },
          ],
          clock.now(),
        )
        expect(result).toEqual({ notSending: ['m3'] })
        expect(await storage.messages.get('m1')).toMatchObject({ status: 'sent', msgid: '1001', sentAt: at(700), creditSpent: true, attempts })
        expect(await storage.messages.get('m2')).toMatchObject({ status: 'sent', msgid: '2002', sentAt: at(700), attempts: [{ at: at(650), errcode: 0, errmsg: 'ok' }] })
        const untouched = await storage.messages.get('m3')
        expect(untouched).toMatchObject({ msgid: '3', sentAt: T0, attempts: [] })
        expect(untouched?.history.map((change) => change.status)).toEqual(['queued', 'sending', 'sent'])
        expect((await storage.messages.get('m1'))?.history.at(-1)).toEqual({ at: at(700), status: 'sent' })
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(0)
      })

      it('finishes sends: sent with its msgid, failed with the credit given back, or queued again until WeChat’s time; never one that is not sending', async () => {
        await grant('o-alice', 'tpl-order', 3)
        for (const id of ['m-sent', 'm-failed', 'm-requeued']) await sending(id)
        await storage.messages.insert(newMessage('m-queued'))
        clock.advance(500)
        const attempts = [
          { at: at(100), errcode: -1, errmsg: 'system error' },
          { at: at(400), errcode: 0, errmsg: 'ok' },
        ]
        const result = await storage.messages.finishSends(
          [
            { id: 'm-sent', attempts, ending: { status: 'sent', msgid: '2345678901' }, credit: { type: 'none' }, creditHeld: true },
            { id: 'm-failed', attempts: [{ at: at(200), errcode: 43101, errmsg: 'user refuse to accept the msg' }], ending: { status: 'failed', reason: '43101' }, credit: { type: 'set', value: 0 }, creditHeld: false },
            { id: 'm-requeued', attempts: [{ at: at(300), errcode: 45009, errmsg: 'reach max api daily quota limit' }], ending: { status: 'queued', reason: '45009', dueAt: at(60_000) }, credit: { type: 'add', amount: 1 }, creditHeld: false },
            { id: 'm-queued', attempts: [], ending: { status: 'failed', reason: 'INTERNAL' }, credit: { type: 'add', amount: 1 }, creditHeld: false },
            { id: 'm-none', attempts: [], ending: { status: 'failed', reason: 'INTERNAL' }, credit: { type: 'add', amount: 1 }, creditHeld: false },
          ],
          clock.now(),
        )
        expect(result).toEqual({ notSending: ['m-queued', 'm-none'] })
        const sent = await storage.messages.get('m-sent')
        expect(sent).toMatchObject({ status: 'sent', msgid: '2345678901', sentAt: at(500), creditSpent: true, attempts })
        expect(sent?.reason).toBeUndefined()
        expect(sent?.history.map((change) => change.status)).toEqual(['queued', 'sending', 'sent'])
        const failed = await storage.messages.get('m-failed')
        expect(failed).toMatchObject({ status: 'failed', reason: '43101', creditSpent: false })
        expect(failed?.history.at(-1)).toEqual({ at: at(500), status: 'failed', reason: '43101' })
        // 43101 set the credits to 0; the requeued message gave its one back after that.
        expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(1)
        const requeued = await storage.messages.get('m-requeued')
        expect(requeued).toMatchObject({ status: 'queued', reason: '45009', requeues: 1, creditSpent: false })
        expect((await leaseAll('worker-b', 10, at(59_999))).jobs.map((job) => job.id)).toEqual(['m-queued'])
        expect((await leaseAll('worker-b', 10, at(60_000))).jobs.map((job) => job.id)).toEqual(['m-requeued'])
        expect((await storage.messages.get('m-queued'))?.status).toBe('queued')
        expect(await storage.messages.stats()).toEqual({ byStatus: { sent: 1, failed: 1, queued: 2 }, byErrcode: { '-1': 1, '0': 1, '43101': 1, '45009': 1 } })
      })

      it('moves queued and deferred messages without sending them, only from the statuses named', async () => {
        for (const id of ['m1', 'm2', 'm3']) await storage.messages.insert(newMessage(id))
        clock.advance(100)
        expect(await storage.messages.transition('m1', ['queued'], { status: 'deferred', deliverAfter: at(3_600_000) }, clock.now())).toBe(true)
        expect(await storage.messages.transition('m1', ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, clock.now())).toBe(false)
        expect(await storage.messages.transition('nope', ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, clock.now())).toBe(false)
        const moved = await storage.messages.transitions(
          [
            { id: 'm2', from: ['queued'], to: { status: 'skipped', reason: 'INVALID_DATA', detail: 'data.thing3.value: 最多 20 个字符' } },
            { id: 'm1', from: ['queued'], to: { status: 'failed', reason: 'INTERNAL' } },
            { id: 'm3', from: ['queued', 'deferred'], to: { status: 'failed', reason: 'UNKNOWN_TEMPLATE' } },
          ],
          clock.now(),
        )
        expect(moved).toEqual(['m2', 'm3'])
        expect(await storage.messages.transitions([], clock.now())).toEqual([])
        const deferred = await storage.messages.get('m1')
        expect(deferred).toMatchObject({ status: 'deferred', deliverAfter: at(3_600_000) })
        expect(deferred?.history).toEqual([{ at: T0, status: 'queued' }, { at: at(100), status: 'deferred' }])
        expect(await storage.messages.get('m2')).toMatchObject({ status: 'skipped', reason: 'INVALID_DATA', detail: 'data.thing3.value: 最多 20 个字符' })
        expect(await storage.messages.depth(clock.now())).toEqual({ queued: 0, due: 0, deferred: 1, sending: 0 })
        expect(await storage.messages.enqueueDeferred(at(3_599_999), 10)).toBe(0)
        expect(await storage.messages.enqueueDeferred(at(3_600_000), 10)).toBe(1)
        const queued = await storage.messages.get('m1')
        expect(queued?.status).toBe('queued')
        expect(queued?.history.at(-1)).toEqual({ at: at(3_600_000), status: 'queued' })
        expect((await leaseAll('worker-a', 10, at(3_600_000))).jobs.map((job) => job.id)).toEqual(['m1'])
      })

      it('queues due deferred messages at most `limit` at a time, earliest first', async () => {
        for (const [id, after] of [['m1', 3000], ['m2', 1000], ['m3', 2000]] as const) {
          await storage.messages.insert(newMessage(id))
          await storage.messages.transition(id, ['queued'], { status: 'deferred', deliverAfter: at(after) }, T0)
        }
        expect(await storage.messages.enqueueDeferred(at(5000), 2)).toBe(2)
        expect(await storage.messages.depth(at(5000))).toEqual({ queued: 2, due: 2, deferred: 1, sending: 0 })
        expect((await storage.messages.get('m1'))?.status).toBe('deferred')
      })

      it('lists the sends in doubt: a lease run out while sending, or with otherOwners every owner but this one', async () => {
        await grant('o-alice', 'tpl-order', 2)
        await sending('m-a', 'worker-a')
        await storage.messages.insert(newMessage('m-b'))
        await leaseAll('worker-b')
        expect(await storage.messages.claimForSend({ ...claim('m-b', 'worker-b', { spendCredit: false, leaseUntil: at(240_000) }), now: clock.now() })).toEqual({ outcome: 'claimed', creditSpent: false })
        expect(await storage.messages.listInDoubt({ now: at(119_999), owner: 'worker-a', otherOwners: false })).toEqual([])
        expect(await storage.messages.listInDoubt({ now: at(119_999), owner: 'worker-a', otherOwners: true })).toEqual([{ id: 'm-b', creditSpent: false }])
        expect(await storage.messages.listInDoubt({ now: at(120_000), owner: 'worker-b', otherOwners: false })).toEqual([{ id: 'm-a', creditSpent: true }])
        expect(await storage.messages.depth(clock.now())).toEqual({ queued: 0, due: 0, deferred: 0, sending: 2 })
      })

      it('retries a failed message only for the reasons given, due now, its requeues counted afresh', async () => {
        await grant('o-alice', 'tpl-order', 2)
        await sending('m1')
        await storage.messages.finishSends([{ id: 'm1', attempts: [], ending: { status: 'queued', reason: '45009', dueAt: at(1000) }, credit: { type: 'none' }, creditHeld: true }], clock.now())
        await leaseAll('worker-a', 10, at(1000))
        expect(await storage.messages.claimForSend({ ...claim('m1', 'worker-a', { spendCredit: false }), now: at(1000) })).toEqual({ outcome: 'claimed', creditSpent: false })
        expect(await storage.messages.finishSends([{ id: 'm1', attempts: [], ending: { status: 'failed', reason: '-1' }, credit: { type: 'none' }, creditHeld: true }], at(1000))).toEqual({ notSending: [] })
        expect(await storage.messages.retry('m1', ['INTERNAL'], at(2000))).toBe(false)
        expect(await storage.messages.retry('m1', ['-1', 'INTERNAL'], at(2000))).toBe(true)
        expect(await storage.messages.retry('m1', ['-1'], at(2000))).toBe(false)
        const record = await storage.messages.get('m1')
        expect(record).toMatchObject({ status: 'queued', requeues: 0 })
        expect(record?.reason).toBeUndefined()
        expect(record?.history.map((change) => [change.status, change.reason])).toEqual([
          ['queued', undefined], ['sending', undefined], ['queued', '45009'], ['sending', undefined], ['failed', '-1'], ['queued', undefined],
        ])
        expect((await leaseAll('worker-a', 10, at(2000))).jobs.map((job) => job.id)).toEqual(['m1'])
      })

      it('searches newest first by any of its filters, a page at a time', async () => {
        await storage.campaigns.create(campaign('camp-1', 'running'))
        for (let i = 1; i <= 5; i += 1) await storage.messages.insert(newMessage(`m${i}`, { createdAt: at(i * 1000) }))
        await storage.messages.insert(newMessage('m-bob', { openid: 'o-bob', templateId: 'tpl-activity', createdAt: at(6000) }))
        await storage.messages.insert(newMessage('m-camp', { campaignId: 'camp-1', source: 'campaign', createdAt: at(7000) }))
        await storage.messages.transition('m2', ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, at(8000))
        const ids = (result: { items: { id: string }[] }) => result.items.map((item) => item.id)
        const first = await storage.messages.search({ limit: 3 })
        expect(ids(first)).toEqual(['m-camp', 'm-bob', 'm5'])
        expect(first.next).not.toBeNull()
        const second = await storage.messages.search({ limit: 3, before: first.next ?? undefined })
        expect(ids(second)).toEqual(['m4', 'm3', 'm2'])
        const third = await storage.messages.search({ limit: 3, before: second.next ?? undefined })
        expect(ids(third)).toEqual(['m1'])
        expect(third.next).toBeNull()
        expect(ids(await storage.messages.search({ limit: 2, before: '99999999999999999999999999' }))).toEqual(['m-camp', 'm-bob'])
        expect(ids(await storage.messages.search({ limit: 10, openid: 'o-bob' }))).toEqual(['m-bob'])
        expect(ids(await storage.messages.search({ limit: 10, templateId: 'tpl-activity' }))).toEqual(['m-bob'])
        expect(ids(await storage.messages.search({ limit: 10, campaignId: 'camp-1' }))).toEqual(['m-camp'])
        expect(ids(await storage.messages.search({ limit: 10, status: 'skipped', reason: 'MUTED_CATEGORY' }))).toEqual(['m2'])
        expect(ids(await storage.messages.search({ limit: 10, since: at(2000), until: at(4000) }))).toEqual(['m3', 'm2'])
        const [summary] = (await storage.messages.search({ limit: 1, status: 'skipped' })).items
        expect(summary).toEqual({ id: 'm2', openid: 'o-alice', templateId: 'tpl-order', status: 'skipped', reason: 'MUTED_CATEGORY', createdAt: at(2000) })
      })
    })
  })
}
