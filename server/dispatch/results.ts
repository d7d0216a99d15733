/**
 * Send results are written in batches: every result that arrives while a write is under way goes into
 * the next one, so under load one transaction records many sends. A caller's promise resolves once its
 * result is written; the dispatcher counts the message in flight until then.
 *
 * With `batchWaitMs` (the BullMQ engine on PostgreSQL, where a statement's cost per message falls with
 * its batch), a write also waits, at most that long, for the results of sends claimed together that are
 * still under way (`expect`): a claim's sends end in one write rather than in the two or three their
 * answers' turns would make.
 *
 * A failed write (a locked database) is logged and tried once more; the message is never sent again
 * for it. If the second write fails too, the messages stay `sending` and the recovery marks them
 * INTERRUPTED (their credit given back), as for a process that died mid-call.
 */
import type { Ledger, SettledSend } from '../ledger/ledger'
import type { DispatchLogger } from './worker'

export interface ResultWriter {
  /** Resolves when `send` is written; rejects when it could not be written twice. `claim`: what `expect` gave for its claim. */
  record(send: SettledSend, claim?: number): Promise<void>
  /** Resolves once everything handed in so far is written. */
  flushed(): Promise<void>
  /** `count` sends were claimed together and are under way; each will be `record`ed with the number this returns. */
  expect(count: number): number
}

export interface ResultWriterOptions {
  ledger: Pick<Ledger, 'settleSends'>
  logger: DispatchLogger
  /** How long a write may wait for the expected results still under way; 0 (the default): none. */
  batchWaitMs?: number
}

const MAX_BATCH = 256
/**
 * Results wait for the others WeChat answered in the same turn of the event loop (under load, dozens:
 * batches of ~25 at 7,000 sends/s), or until this many have gathered. Not for a timer: with WeChat
 * 50 ms away answers come one at a time, and a 1 ms wait held every slot 1–2 ms longer per send.
 */
const GATHER_COUNT = 32

export function createResultWriter(options: ResultWriterOptions): ResultWriter {
  const { ledger, logger } = options
  const batchWaitMs = options.batchWaitMs ?? 0
  let pending: Array<{ send: SettledSend; claim: number | undefined; resolve: () => void; reject: (error: unknown) => void }> = []
  let writing: Promise<void> | null = null
  let gathering: NodeJS.Immediate | null = null
  /** Each claim's results not recorded yet, by the number `expect` gave it (only with `batchWaitMs`). */
  const outstanding = new Map<number, number>()
  let claims = 0
  /** When the oldest pending result came (performance.now()), for `batchWaitMs`. */
  let oldestAt = 0
  let waiting: NodeJS.Timeout | null = null

  async function write(batch: typeof pending): Promise<void> {
    const sends = batch.map((entry) => entry.send)
    try {
      await ledger.settleSends(sends)
    } catch (error) {
      logger.error({ err: error, messageIds: sends.map((send) => send.id), results: sends.map((send) => send.ending) }, 'recording the send result failed; writing it again')
      try {
        // A write whose answer was lost may have landed: only messages still `sending` are written.
        await ledger.settleSends(sends)
      } catch (second) {
        logger.error(
          { err: second, messageIds: sends.map((send) => send.id), results: sends.map((send) => send.ending) },
          'send result not recorded: the message stays sending until the next start marks it failed (INTERRUPTED)',
        )
        for (const entry of batch) entry.reject(second)
        return
      }
    }
    for (const entry of batch) entry.resolve()
  }

  function drain(): void {
    if (gathering !== null) {
      clearImmediate(gathering)
      gathering = null
    }
    if (waiting !== null) {
      clearTimeout(waiting)
      waiting = null
    }
    if (writing !== null || pending.length === 0) return
    const batch = pending.slice(0, MAX_BATCH)
    pending = pending.slice(MAX_BATCH)
    if (pending.length > 0) oldestAt = performance.now()
    writing = write(batch).finally(() => {
      writing = null
      schedule(true)
    })
  }

  /**
   * Writes now (a write just ended, or enough gathered), after this turn, or once the expected results
   * are in (at most `batchWaitMs` after the oldest pending).
   */
  function schedule(afterWrite = false): void {
    if (writing !== null || pending.length === 0) return
    // Only the claims of the results at hand are waited for, not the ones claimed after them.
    if (batchWaitMs > 0 && pending.length < MAX_BATCH && pending.some((entry) => entry.claim !== undefined && outstanding.has(entry.claim))) {
      const left = batchWaitMs - (performance.now() - oldestAt)
      if (left > 0) {
        waiting ??= setTimeout(drain, left)
        return
      }
    }
    if (afterWrite || pending.length >= GATHER_COUNT) drain()
    else gathering ??= setImmediate(drain)
  }

  return {
    record(send, claim) {
      return new Promise((resolve, reject) => {
        if (pending.length === 0) oldestAt = performance.now()
        pending.push({ send, claim, resolve, reject })
        const left = claim === undefined ? undefined : outstanding.get(claim)
        if (left !== undefined) {
          if (left <= 1) outstanding.delete(claim!)
          else outstanding.set(claim!, left - 1)
        }
        schedule()
      })
    },
    expect(count) {
      claims += 1
      if (batchWaitMs > 0 && count > 0) outstanding.set(claims, count)
      return claims
    },
    async flushed() {
      while (writing !== null || pending.length > 0) {
        drain()
        await writing
      }
    },
  }
}
