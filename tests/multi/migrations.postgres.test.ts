/**
 * A PostgreSQL database made before migration 4 (history and attempts in rows of their own) opens with
 * today's code and answers as it did: each message's record, the outcomes over time, the stats. The
 * old rows are written as the code of migrations 1–3 wrote them (a message row, its history rows, its
 * attempt rows), straight in SQL. Migration 6 leaves room in the pages of credits for a credit taken
 * in place.
 */
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createManualClock } from '../../server/clock'
import { openPostgres, type Sql } from '../../server/db/postgres/connection'
import { migrate, MIGRATIONS } from '../../server/db/postgres/migrations'
import { takeCredit } from '../../server/db/postgres/credits'
import { jsonText } from '../../server/db/postgres/parameters'
import { createPostgresStorage, type PostgresStorage } from '../../server/db/postgres/storage'
import { createDatabase } from '../support/servers'
import { T0 } from '../support/storage-contract'

const DATA = { thing1: { value: '订单已发货' }, time2: { value: '2026-11-25 13:00' } }
const at = (ms: number): Date => new Date(T0.getTime() + ms)
const opened: Array<{ close(): Promise<void> }> = []

afterEach(async () => {
  await Promise.all(opened.splice(0).map((handle) => handle.close()))
})

/** A new database of its own with every migration applied, closed after the test. */
async function migratedStorage(name: string): Promise<PostgresStorage> {
  const url = await createDatabase(inject('postgresUrl'), name)
  const storage = await createPostgresStorage(url, createManualClock(T0), { max: 1 })
  opened.push(storage)
  return storage
}

interface OldMessage {
  id: string
  status: string
  reason?: string
  msgid?: string
  idempotencyKey?: string
  deliverAfter?: Date
  history: Array<{ at: Date; status: string; reason?: string }>
  attempts: Array<{ at: Date; errcode: number; errmsg: string }>
}

/** One message as the code before migration 4 wrote it: the row, then its history and attempts in order. */
async function writeOld(sql: Sql, message: OldMessage): Promise<void> {
  await sql`
    INSERT INTO messages (id, openid, template_id, category, data, urgent, idempotency_key, source, status, reason, msgid,
      credit_spent, day_key, due_at, created_at, updated_at, sent_at, deliver_after)
    VALUES (${message.id}, 'o-a', 'tpl-order', 'order', ${jsonText(sql, DATA)}::json, false,
      ${message.idempotencyKey ?? null}, 'admin', ${message.status}, ${message.reason ?? null}, ${message.msgid ?? null},
      ${message.status === 'sent'}, ${message.status === 'sent' ? '2026-11-25' : null}, ${T0}, ${T0}, ${message.history.at(-1)!.at},
      ${message.status === 'sent' ? message.history.at(-1)!.at : null}, ${message.deliverAfter ?? null})`
  for (const change of message.history) {
    await sql`INSERT INTO message_history (message_id, at, status, reason) VALUES (${message.id}, ${change.at}, ${change.status}, ${change.reason ?? null})`
  }
  for (const attempt of message.attempts) {
    await sql`INSERT INTO message_attempts (message_id, at, errcode, errmsg) VALUES (${message.id}, ${attempt.at}, ${attempt.errcode}, ${attempt.errmsg})`
  }
}

const OLD: OldMessage[] = [
  {
    id: 'm-sent',
    status: 'sent',
    msgid: 'msg-1',
    idempotencyKey: 'key-1',
    history: [{ at: T0, status: 'queued' }, { at: at(1_000), status: 'sending' }, { at: at(1_500), status: 'sent' }],
    attempts: [{ at: at(1_200), errcode: -1, errmsg: 'system error' }, { at: at(1_400), errcode: 0, errmsg: 'ok' }],
  },
  {
    id: 'm-failed',
    status: 'failed',
    reason: '43101',
    history: [{ at: T0, status: 'queued' }, { at: at(61_000), status: 'sending' }, { at: at(61_500), status: 'failed', reason: '43101' }],
    attempts: [{ at: at(61_300), errcode: 43101, errmsg: 'user refuse to accept the msg' }],
  },
  {
    id: 'm-deferred',
    status: 'deferred',
    deliverAfter: at(3_600_000),
    history: [{ at: T0, status: 'queued' }, { at: at(2_000), status: 'deferred' }],
    attempts: [],
  },
  {
    id: 'm-skipped',
    status: 'skipped',
    reason: 'MUTED_CATEGORY',
    history: [{ at: T0, status: 'queued' }, { at: at(130_000), status: 'skipped', reason: 'MUTED_CATEGORY' }],
    attempts: [],
  },
]

describe('PostgreSQL migration 4 (history and attempts into the message row, outcome counts)', () => {
  it('opens a database holding history and attempt rows and answers get, overTime and stats as before', async () => {
    const url = await createDatabase(inject('postgresUrl'), 'migration')
    const old = openPostgres(url, { max: 1 })
    opened.push({ close: () => old.end({ timeout: 1 }) })
    expect(await migrate(old, MIGRATIONS.filter((migration) => migration.version <= 3))).toEqual([1, 2, 3])
    for (const message of OLD) await writeOld(old, message)

    const storage: PostgresStorage = await createPostgresStorage(url, createManualClock(at(200_000)), { max: 2 })
    opened.push(storage)
    expect(await migrate(storage.sql)).toEqual([])
    const [tables] = await storage.sql<{ left: number }[]>`
      SELECT COUNT(*)::integer AS left FROM pg_tables WHERE tablename IN ('message_history', 'message_attempts')`
    expect(tables!.left).toBe(0)

    expect(await storage.messages.get('m-sent')).toEqual({
      id: 'm-sent',
      openid: 'o-a',
      templateId: 'tpl-order',
      category: 'order',
      data: DATA,
      urgent: false,
      idempotencyKey: 'key-1',
      source: 'admin',
      status: 'sent',
      createdAt: T0,
      sentAt: at(1_500),
      msgid: 'msg-1',
      creditSpent: true,
      requeues: 0,
      attempts: [{ at: at(1_200), errcode: -1, errmsg: 'system error' }, { at: at(1_400), errcode: 0, errmsg: 'ok' }],
      history: [{ at: T0, status: 'queued' }, { at: at(1_000), status: 'sending' }, { at: at(1_500), status: 'sent' }],
    })
    for (const message of OLD) {
      const record = await storage.messages.get(message.id)
      expect(record?.history).toEqual(message.history)
      expect(record?.attempts).toEqual(message.attempts)
    }
    expect(await storage.messages.findByIdempotencyKey('key-1')).toEqual(await storage.messages.get('m-sent'))

    expect(await storage.outcomes.overTime({ from: T0, to: at(180_000), bucketMs: 60_000 })).toEqual([
      { index: 0, byStatus: { sent: 1, deferred: 1 }, byErrcode: { '-1': 1, 0: 1 } },
      { index: 1, byStatus: { failed: 1 }, byErrcode: { 43101: 1 } },
      { index: 2, byStatus: { skipped: 1 }, byErrcode: {} },
    ])
    expect(await storage.messages.stats()).toEqual({
      byStatus: { sent: 1, failed: 1, deferred: 1, skipped: 1 },
      byErrcode: { '-1': 1, 0: 1, 43101: 1 },
    })

    // The moved history goes on: a retry appends to it, and the counts fold like any others.
    expect(await storage.messages.retry('m-failed', ['43101'], at(200_000))).toBe(true)
    expect((await storage.messages.get('m-failed'))?.history.map((change) => change.status)).toEqual(['queued', 'sending', 'failed', 'queued'])
    expect(await storage.outcomes.compact(at(180_000))).toBe(7)
    expect(await storage.outcomes.overTime({ from: T0, to: at(180_000), bucketMs: 60_000 })).toEqual([
      { index: 0, byStatus: { sent: 1, deferred: 1 }, byErrcode: { '-1': 1, 0: 1 } },
      { index: 1, byStatus: { failed: 1 }, byErrcode: { 43101: 1 } },
      { index: 2, byStatus: { skipped: 1 }, byErrcode: {} },
    ])
  })
})

describe('PostgreSQL migration 6 (room in the pages of subscriptions)', () => {
  it('takes a credit from each of 600 people with every row kept in its page (a HOT update: no new index entry)', async () => {
    const storage = await migratedStorage('credits_room')
    const { sql } = storage
    const [table] = await sql<{ options: string[] }[]>`SELECT reloptions AS options FROM pg_class WHERE relname = 'subscriptions'`
    expect(table!.options).toEqual(['fillfactor=70'])
    await sql`
      INSERT INTO subscriptions (openid, template_id, credits, updated_at)
      SELECT 'o-' || md5(i::text), 'tpl-order', 2, ${T0} FROM generate_series(1, 600) AS i`
    // The page a row is in: the block of its ctid, '(block,item)'.
    const pages = async (): Promise<Map<string, string>> =>
      new Map((await sql<{ openid: string; page: string }[]>`SELECT openid, split_part(trim(both '()' from ctid::text), ',', 1) AS page FROM subscriptions`).map((row) => [row.openid, row.page]))
    const before = await pages()
    expect(new Set(before.values()).size).toBeGreaterThan(5)
    for (const openid of [...before.keys()].sort()) expect(await takeCredit(sql, openid, 'tpl-order', at(1_000))).toBe(true)
    const after = await pages()
    expect([...before].filter(([openid, page]) => after.get(openid) !== page)).toEqual([])
    const [credits] = await sql<{ total: number }[]>`SELECT SUM(credits)::integer AS total FROM subscriptions`
    expect(credits!.total).toBe(600)
  })
})

describe('PostgreSQL migration 7 (the campaign index holds the rows at rest)', () => {
  it("writes no campaign index entry for a message's expansion and claim, one for its ending, and counts the campaign all along", async () => {
    const storage = await migratedStorage('campaign_at_rest')
    const { sql } = storage
    await sql`CREATE EXTENSION IF NOT EXISTS pageinspect`
    // Index tuples (dead versions' entries among them): none before the first (the metapage alone),
    // then those of the one leaf, block 1 (the root of an index this small, level 0).
    const entries = async (index: string): Promise<number> => {
      const [meta] = await sql<{ root: number; level: number }[]>`SELECT root, level FROM bt_metap(${index})`
      if (meta!.root === 0) return 0
      expect(meta).toEqual({ root: 1, level: 0 })
      return (await sql<{ n: number }[]>`SELECT live_items AS n FROM bt_page_stats(${index}, 1)`)[0]!.n
    }
    const openids = Array.from({ length: 20 }, (_, i) => `o-${String(i).padStart(2, '0')}`)
    await sql`INSERT INTO subscriptions (openid, template_id, credits, updated_at) SELECT unnest(${openids}::text[]), 'tpl', 1, ${T0}`
    const campaign = {
      id: 'c-1', name: 'c-1', segmentId: 's', segmentFilter: {}, templateId: 'tpl', data: {}, urgent: false, truncate: true,
      status: 'running' as const, expansionCursor: null, expanded: false, total: 0, createdAt: T0,
    }
    await storage.campaigns.create(campaign)
    await storage.campaigns.expandPage({
      id: 'c-1', fromCursor: null, toCursor: 'end', done: true, now: T0,
      messages: openids.map((openid) => ({ id: `c-1:${openid}`, openid, templateId: 'tpl', category: 'c', data: DATA, urgent: false, source: 'campaign' as const, campaignId: 'c-1', createdAt: T0 })),
    })
    expect([await entries('messages_by_campaign'), await entries('messages_due_by_campaign')]).toEqual([0, 20])
    expect((await storage.campaigns.counts('c-1')).byStatus).toEqual({ queued: 20 })

    const { jobs } = await storage.messages.leaseDue({ owner: 'w', now: at(1), until: at(60_000), limit: 50, scope: { campaignId: 'c-1' } })
    expect(jobs.map((job) => job.openid)).toEqual(openids)
    const claims = await storage.messages.claimForSends(
      jobs.map((job) => ({ id: job.id, owner: 'w', leaseUntil: at(60_000), spendCredit: true, dayKey: '2026-11-25', dailyLimit: 5 })),
      at(2),
    )
    expect(claims.filter((claim) => claim.outcome === 'claimed')).toHaveLength(20)
    expect(await entries('messages_by_campaign')).toBe(0)
    expect((await storage.campaigns.counts('c-1')).byStatus).toEqual({ sending: 20 })
    expect(await storage.campaigns.finished()).toEqual([])

    const ended = jobs.map((job, i) => ({
      id: job.id, attempts: [{ at: at(3), errcode: i < 2 ? 43101 : 0, errmsg: i < 2 ? 'user refuse to accept the msg' : 'ok' }],
      ending: i < 2 ? { status: 'failed' as const, reason: '43101' as const } : { status: 'sent' as const, msgid: `m-${i}` },
      credit: { type: 'none' as const }, creditHeld: true,
    }))
    expect(await storage.messages.finishSends(ended, at(3))).toEqual({ notSending: [] })
    expect(await entries('messages_by_campaign')).toBe(20)
    expect(await storage.campaigns.counts('c-1')).toEqual({ byStatus: { sent: 18, failed: 2 }, byReason: { '43101': 2 } })
    expect(await storage.campaigns.finished()).toEqual(['c-1'])
    // The campaign's failed ones found again through the index of the rows at rest.
    expect(await storage.campaigns.retryFailed('c-1', ['43101'], at(4))).toBe(2)
    expect((await storage.campaigns.counts('c-1')).byStatus).toEqual({ sent: 18, queued: 2 })
    expect(await storage.campaigns.skipPending('c-1', 'CANCELLED', at(5))).toBe(2)
    expect((await storage.campaigns.counts('c-1')).byStatus).toEqual({ sent: 18, skipped: 2 })
  })
})
