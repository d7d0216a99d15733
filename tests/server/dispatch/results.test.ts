/**
 * The result writer's batches: results that arrive in one turn are one write, and those that arrive
 * while a write is under way are the next. The ledger here records each write's ids (the writer's
 * batching, not the storage, is tested).
 */
import { describe, expect, it } from 'vitest'
import { createResultWriter } from '../../../server/dispatch/results'
import type { SettledSend } from '../../../server/ledger/ledger'

/** Records each write's ids; with `holdFirst`, the first write stays under way until `release()`. */
function recordingLedger(options: { holdFirst?: boolean } = {}): {
  writes: string[][]
  release(): void
  settleSends(sends: readonly SettledSend[]): Promise<{ notSending: string[] }>
} {
  const writes: string[][] = []
  let release = (): void => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  return {
    writes,
    release: () => release(),
    async settleSends(sends) {
      writes.push(sends.map((send) => send.id))
      if (options.holdFirst && writes.length === 1) await held
      return { notSending: [] }
    },
  }
}

const logger = { info: () => {}, warn: () => {}, error: () => {} }
const sent = (id: string): SettledSend => ({ id, creditSpent: true, attempts: [], ending: { status: 'sent', msgid: `m-${id}` } })
/** The next turn of the event loop (after the writer's own setImmediate). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('the result writer', () => {
  it('writes what arrived in one turn together, and does not wait for the sends still under way', async () => {
    const ledger = recordingLedger()
    const writer = createResultWriter({ ledger, logger })
    const first = writer.record(sent('a'))
    await nextTurn()
    await first
    const rest = [writer.record(sent('b')), writer.record(sent('c'))]
    await Promise.all(rest)
    expect(ledger.writes).toEqual([['a'], ['b', 'c']])
  })

  it('puts every result that arrives while a write is under way into the next write', async () => {
    const ledger = recordingLedger({ holdFirst: true })
    const { writes } = ledger
    const writer = createResultWriter({ ledger, logger })
    const all = [writer.record(sent('a'))]
    await nextTurn()
    expect(writes).toEqual([['a']])
    for (const id of ['b', 'c', 'd']) {
      all.push(writer.record(sent(id)))
      await nextTurn()
    }
    // Three turns, one write still under way: nothing more written yet.
    expect(writes).toEqual([['a']])
    ledger.release()
    await Promise.all(all)
    expect(writes).toEqual([['a'], ['b', 'c', 'd']])
  })
})
