/**
 * Send results are written in batches: every result that arrives while a write is under way goes into
 * the next one, so under load one transaction records many sends. A caller's promise resolves once its
 * result is written; the dispatcher counts the message in flight until then.
 *
 * No write waits for results still under way. The BullMQ engine's writer once waited up to 5 ms for
 * the rest of a claim's sends (one write a claim), which held every slot until its claim's slowest
 * answer. Without it 1 instance reached 49.6 % of SQLite's rate on average against 46.8 % (nine runs
 * each) for the same CPU a message (bench/README.md, fifth pass). That gain is within what the order of
 * runs alone makes (the sixth pass); the wait goes for what it cost in any case, a state per claim and
 * slots held longer.
 *
 * A failed write (a locked database) is logged and tried once more; the message is never sent again
 * for it. If the second write fails too, the messages stay `sending` and the recovery marks them
 * INTERRUPTED (their credit given back), as for a process that died mid-call.
 */
import type { Ledger, SettledSend } from '../ledger/ledger'
import type { DispatchLogger } from './worker'

export interface ResultWriter {
  /** Resolves when `send` is written; rejects when it could not be written twice. */
  record(send: SettledSend): Promise<void>
  /** Resolves once everything handed in so far is written. */
  flushed(): Promise<void>
}

export interface ResultWriterOptions {
  ledger: Pick<Ledger, 'settleSends'>
  logger: DispatchLogger
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
  let pending: Array<{ send: SettledSend; resolve: () => void; reject: (error: unknown) => void }> = []
  let writing: Promise<void> | null = null
  let gathering: NodeJS.Immediate | null = null

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
    if (writing !== null || pending.length === 0) return
    const batch = pending.slice(0, MAX_BATCH)
    pending = pending.slice(MAX_BATCH)
    writing = write(batch).finally(() => {
      writing = null
      schedule(true)
    })
  }

  /** Writes now (a write just ended, or enough gathered) or after this turn. */
  function schedule(afterWrite = false): void {
    if (writing !== null || pending.length === 0) return
    if (afterWrite || pending.length >= GATHER_COUNT) drain()
    else gathering ??= setImmediate(drain)
  }

  return {
    record(send) {
      return new Promise((resolve, reject) => {
        pending.push({ send, resolve, reject })
        schedule()
      })
    },
    async flushed() {
      while (writing !== null || pending.length > 0) {
        drain()
        await writing
      }
    },
  }
}
