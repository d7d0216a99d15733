/**
 * Message inserts asked for together share one transaction (group commit), and each still answers
 * for itself: what one caller gets never depends on the others of its batch. Message ids sort by
 * the time they were made.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createManualClock } from '../../../server/clock'
import type { NewMessage } from '../../../server/db/storage'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import { newMessageId } from '../../../server/messages/ids'
import { removeDatabase, tempDatabasePath } from '../support/service'

const clock = createManualClock(new Date('2026-12-02T08:00:00.000Z'))
const opened: { storage: SqliteStorage; path: string }[] = []
afterEach(() => {
  for (const { storage, path } of opened.splice(0)) {
    storage.close()
    removeDatabase(path)
  }
})

function open(): SqliteStorage {
  const path = tempDatabasePath()
  const storage = createSqliteStorage(path, clock)
  opened.push({ storage, path })
  return storage
}

const message = (overrides: Partial<NewMessage> = {}): NewMessage => ({
  id: newMessageId(clock.now().getTime()),
  openid: 'o-alice',
  templateId: 'tmpl-order',
  category: 'order',
  data: { thing1: { value: '订单已发货' } },
  urgent: false,
  source: 'admin',
  createdAt: clock.now(),
  ...overrides,
})

describe('message ids', () => {
  it('are UUID version 7 whose first 48 bits are the milliseconds, so later ids sort after earlier ones', () => {
    const early = newMessageId(Date.parse('2026-12-02T08:00:00.000Z'))
    const late = newMessageId(Date.parse('2026-12-02T08:00:00.001Z'))
    expect(early).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(Number.parseInt(early.replaceAll('-', '').slice(0, 12), 16)).toBe(Date.parse('2026-12-02T08:00:00.000Z'))
    expect(early < late).toBe(true)
    expect(new Set(Array.from({ length: 1000 }, () => newMessageId(0))).size).toBe(1000)
  })
})

describe('inserts asked for together', () => {
  it('are written in one transaction, each answered with its own record as a read gives it', async () => {
    const storage = open()
    // WAL frames written: one per page per commit, so 40 commits of a row each write far more than one commit of 40.
    const framesAfter = async (insert: (batch: NewMessage[]) => Promise<unknown>): Promise<number> => {
      storage.db.pragma('wal_checkpoint(TRUNCATE)')
      await insert(Array.from({ length: 40 }, (_, i) => message({ openid: `o-${i}` })))
      return (storage.db.pragma('wal_checkpoint(PASSIVE)', { simple: false }) as Array<{ log: number }>)[0]!.log
    }
    const oneByOne = await framesAfter(async (batch) => {
      for (const one of batch) await storage.messages.insert(one)
    })
    const messages = Array.from({ length: 40 }, (_, i) => message({ openid: `o-together-${i}` }))
    let results: Awaited<ReturnType<SqliteStorage['messages']['insert']>>[] = []
    const together = await framesAfter(async () => {
      results = await Promise.all(messages.map((one) => storage.messages.insert(one)))
    })
    expect(oneByOne).toBeGreaterThan(40 * 3)
    expect(together).toBeLessThan(oneByOne / 10)
    expect(results.map((result) => result.created)).toEqual(messages.map(() => true))
    for (const [index, result] of results.entries()) {
      expect(result.message).toEqual(await storage.messages.get(messages[index]!.id))
    }
    expect((await storage.messages.depth(clock.now())).queued).toBe(80)
  })

  it('give a repeated idempotency key in the same batch the first one’s message, not a second', async () => {
    const storage = open()
    const first = message({ idempotencyKey: 'order-1001-shipped' })
    const second = message({ idempotencyKey: 'order-1001-shipped', openid: 'o-bob' })
    const [a, b] = await Promise.all([storage.messages.insert(first), storage.messages.insert(second)])
    expect(a.created).toBe(true)
    expect(b.created).toBe(false)
    expect(b.message.id).toBe(first.id)
    expect(b.message.openid).toBe('o-alice')
    expect((await storage.messages.depth(clock.now())).queued).toBe(1)
  })

  it('fail only the caller whose row breaks a constraint; the others of its batch are written', async () => {
    const storage = open()
    const taken = message()
    await storage.messages.insert(taken)
    const fine = message({ openid: 'o-carol' })
    const results = await Promise.allSettled([storage.messages.insert({ ...taken, openid: 'o-dave' }), storage.messages.insert(fine)])
    expect(results[0]!.status).toBe('rejected')
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed: messages\.id/)
    expect(results[1]!.status).toBe('fulfilled')
    expect((await storage.messages.get(fine.id))?.openid).toBe('o-carol')
    expect((await storage.messages.get(taken.id))?.openid).toBe('o-alice')
    expect((await storage.messages.get(taken.id))?.history.map((change) => change.status)).toEqual(['queued'])
  })
})
