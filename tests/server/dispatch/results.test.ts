/**
 * The result writer's batches: results that arrive in one turn are one write; with `batchWaitMs` (the
 * BullMQ engine) a write also waits for the expected results of sends claimed together, at most that
 * long. The ledger here records each write's ids (the writer's batching, not the storage, is tested).
 */
import { describe, expect, it } from 'vitest'
import { createResultWriter } from '../../../server/dispatch/results'
import type { SettledSend } from '../../../server/ledger/ledger'

function recordingLedger(): { writes: string[][]; settleSends(sends: readonly SettledSend[]): Promise<{ notSending: string[] }> } {
  const writes: string[][] = []
  return {
    writes,
    async settleSends(sends) {
      writes.push(sends.map((send) => send.id))
      return { notSending: [] }
    },
  }
}

const logger = { info: () => {}, warn: () => {}, error: () => {} }
const sent = (id: string): SettledSend => ({ id, creditSpent: true, attempts: [], ending: { status: 'sent', msgid: `m-${id}` } })
/** The next turn of the event loop (after the writer's own setImmediate). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('the result writer', () => {
  it('writes what arrived in one turn together, and what comes in later turns in writes of its own', async () => {
    const ledger = recordingLedger()
    const writer = createResultWriter({ ledger, logger })
    const claim = writer.expect(3)
    const first = writer.record(sent('a'), claim)
    await nextTurn()
    await first
    const rest = [writer.record(sent('b'), claim), writer.record(sent('c'), claim)]
    await Promise.all(rest)
    expect(ledger.writes).toEqual([['a'], ['b', 'c']])
  })

  it('with batchWaitMs, waits for the expected results of a claim and writes them in one', async () => {
    const ledger = recordingLedger()
    const writer = createResultWriter({ ledger, logger, batchWaitMs: 1_000 })
    const claim = writer.expect(3)
    const all = [writer.record(sent('a'), claim)]
    await nextTurn()
    await nextTurn()
    all.push(writer.record(sent('b'), claim))
    await nextTurn()
    expect(ledger.writes).toEqual([])
    const started = performance.now()
    all.push(writer.record(sent('c'), claim))
    await Promise.all(all)
    expect(ledger.writes).toEqual([['a', 'b', 'c']])
    // Written as soon as the last one came, not when the wait ran out.
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('with batchWaitMs, writes what it has once the wait runs out, without the result that never came', async () => {
    const ledger = recordingLedger()
    const writer = createResultWriter({ ledger, logger, batchWaitMs: 40 })
    const claim = writer.expect(2)
    const started = performance.now()
    await writer.record(sent('a'), claim)
    expect(performance.now() - started).toBeGreaterThanOrEqual(35)
    expect(ledger.writes).toEqual([['a']])
    // The late one is written in a turn of its own when it comes.
    await writer.record(sent('b'), claim)
    expect(ledger.writes).toEqual([['a'], ['b']])
  })

  it('with batchWaitMs, waits for the claims of the results it has, not for those claimed after them', async () => {
    const ledger = recordingLedger()
    const writer = createResultWriter({ ledger, logger, batchWaitMs: 1_000 })
    const first = writer.expect(2)
    const second = writer.expect(2)
    const started = performance.now()
    const done = [writer.record(sent('a'), first), writer.record(sent('b'), first)]
    await Promise.all(done)
    expect(performance.now() - started).toBeLessThan(500)
    expect(ledger.writes).toEqual([['a', 'b']])
    await Promise.all([writer.record(sent('c'), second), writer.record(sent('d'), second)])
    expect(ledger.writes).toEqual([['a', 'b'], ['c', 'd']])
  })
})
