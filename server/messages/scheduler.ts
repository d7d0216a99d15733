/**
 * The scheduler: on an interval it queues the `deferred` messages whose quiet hours have ended and
 * marks the sends in doubt (a `sending` message whose lease ran out: its process died mid-call) as
 * failed INTERRUPTED; then it wakes the dispatcher, which sends what is queued. It never sends itself.
 * While WeChat's push is configured, each run also has the ledger withdraw the device-reported
 * consents WeChat did not confirm in time. Each run folds the outcome counts per second older than
 * OUTCOME_SECONDS_KEPT_MS into counts per minute, so they stay small (storage.ts, OutcomeRepository).
 * `runOnce()` is also called directly (tests, and POST /sandbox/scheduler/run in sandbox mode), with
 * `settle` to wait until the dispatcher has sent what came due. Time comes from the injected clock;
 * the interval only decides how often it looks. With several instances (the BullMQ engine) the
 * interval is the cluster's (`dispatcher.clusterTicker`): one run per interval in all, on whichever
 * instance takes it, never one per process.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Storage } from '../db/storage'
import type { Dispatcher } from '../dispatch/dispatcher'
import type { Ledger } from '../ledger/ledger'
import type { Clock } from '../wechat/types'
import type { PipelineLogger } from './pipeline'

/** How long outcome counts stay per second (the console's last-minute figures read them) before they are folded per minute. */
const OUTCOME_SECONDS_KEPT_MS = 2 * 60 * 60 * 1000

export interface SchedulerOptions {
  storage: Storage
  ledger: Ledger
  dispatcher: Dispatcher
  clock: Clock
  intervalMs: number
  logger: PipelineLogger & Pick<FastifyBaseLogger, 'debug'>
  /**
   * One process alone on its database (embedded SQLite): at start, every `sending` message is from a
   * process that is gone, whatever its lease says.
   */
  exclusive: boolean
  /** Campaigns to move along on every run (start, expand, complete). */
  campaigns?: { kick(): Promise<void> }
  /** Messages queued per transaction (default 500). */
  batchSize?: number
}

export interface Scheduler {
  /** Marks the sends interrupted by a crash (see README), runs once, then on every interval. */
  start(): Promise<void>
  /** Stops the interval and waits for a run in progress. */
  stop(): Promise<void>
  /**
   * Queues every message that has come due and wakes the dispatcher; with `settle`, waits until the
   * dispatcher has nothing due left. Returns how many it queued. Runs never overlap: a second call
   * joins the run in progress.
   */
  runOnce(options?: { settle?: boolean }): Promise<{ processed: number }>
  /** When the last run in this process began (service clock); null before the first. */
  lastRunAt(): Date | null
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { storage, ledger, dispatcher, clock, logger } = options
  const batchSize = options.batchSize ?? 500
  let timer: NodeJS.Timeout | null = null
  let running: Promise<{ processed: number }> | null = null
  let lastRunAt: Date | null = null

  /**
   * A message in `sending` whose process died was in the middle of its WeChat call: WeChat may or may
   * not have accepted it. It is NOT sent again (that could deliver it twice): it becomes `failed`
   * INTERRUPTED and the ledger gives its credit back. If WeChat did use that consent, the next send
   * meets 43101, which zeroes it: at worst one 43101, never a duplicate and never a lost consent.
   */
  async function failInDoubt(otherOwners: boolean): Promise<void> {
    const inDoubt = await storage.messages.listInDoubt({ now: clock.now(), owner: dispatcher.owner, otherOwners })
    if (inDoubt.length === 0) return
    await ledger.settleSends(
      inDoubt.map((message) => ({ id: message.id, creditSpent: message.creditSpent, attempts: [], ending: { status: 'failed', reason: 'INTERRUPTED' } })),
    )
    logger.warn({ messageIds: inDoubt.map((message) => message.id) }, 'messages interrupted mid-send marked failed (INTERRUPTED), credits given back')
  }

  async function run(): Promise<{ processed: number }> {
    lastRunAt = clock.now()
    logger.debug({ at: lastRunAt.toISOString() }, 'scheduler run')
    await failInDoubt(false)
    const withdrawn = await ledger.withdrawUnconfirmed()
    if (withdrawn > 0) logger.info({ withdrawn }, 'device-reported consents WeChat never confirmed were withdrawn')
    let processed = 0
    for (;;) {
      const queued = await storage.messages.enqueueDeferred(clock.now(), batchSize)
      processed += queued
      if (queued < batchSize) break
    }
    dispatcher.wake()
    // A campaign's expansion can take a while: it goes on beside the next runs, never holding them up.
    options.campaigns?.kick().catch((error: unknown) => logger.error({ err: error }, 'moving campaigns along failed'))
    // After the wake: folding old counts never holds up what came due.
    const folded = await storage.outcomes.compact(new Date(clock.now().getTime() - OUTCOME_SECONDS_KEPT_MS))
    if (folded > 0) logger.debug({ folded }, 'outcome counts per second folded per minute')
    return { processed }
  }

  /** Until nothing is left to send now: campaigns written out, the dispatcher idle, finished campaigns completed. */
  async function settle(): Promise<void> {
    await options.campaigns?.kick()
    await dispatcher.drain()
    await options.campaigns?.kick()
  }

  function runOnce(runOptions: { settle?: boolean } = {}): Promise<{ processed: number }> {
    running ??= run().finally(() => {
      running = null
    })
    const current = running
    return runOptions.settle ? current.then(async (result) => (await settle(), result)) : current
  }

  function tick(): void {
    runOnce().catch((error: unknown) => logger.error({ err: error }, 'scheduler run failed'))
  }

  return {
    async start() {
      if (options.exclusive) {
        // Alone on this database: whoever else leased messages is gone, and they may go at once.
        const released = await storage.messages.releaseOtherLeases(dispatcher.owner)
        if (released > 0) logger.info({ released }, 'leases of a process that is gone given back')
      }
      await failInDoubt(options.exclusive)
      const cluster = dispatcher.clusterTicker
      if (cluster) {
        // The cluster's job scheduler runs it (the first run comes at once).
        await cluster.start(options.intervalMs, async () => void (await runOnce()))
        return
      }
      await runOnce()
      timer = setInterval(tick, options.intervalMs)
      timer.unref()
    },
    async stop() {
      await dispatcher.clusterTicker?.stop()
      if (timer) clearInterval(timer)
      timer = null
      if (running) await running
    },
    runOnce,
    lastRunAt: () => lastRunAt,
  }
}
