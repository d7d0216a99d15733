/**
 * The scheduler: on an interval, moves on every `queued` message (left behind by a restart) and every
 * `deferred` one whose quiet hours have ended. `runOnce()` is also called directly (tests, and
 * POST /sandbox/scheduler/run in sandbox mode). Time comes from the injected clock; the interval only
 * decides how often it looks.
 */
import type { Pipeline, PipelineLogger } from './pipeline'
import type { Storage } from '../db/storage'
import type { Clock } from '../wechat/types'

export interface SchedulerOptions {
  pipeline: Pipeline
  storage: Storage
  clock: Clock
  intervalMs: number
  logger: PipelineLogger
  /** Messages read per batch (default 100). */
  batchSize?: number
  /** Sends in flight at once within a batch (default 8). */
  concurrency?: number
}

export interface Scheduler {
  /** Marks messages interrupted by a crash (see pipeline.ts), runs once, then on every interval. */
  start(): Promise<void>
  /** Stops the interval and waits for a run in progress. */
  stop(): Promise<void>
  /** Moves every message that is due now; returns how many it looked at. Runs never overlap. */
  runOnce(): Promise<{ processed: number }>
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { pipeline, storage, clock, logger } = options
  const batchSize = options.batchSize ?? 100
  const concurrency = options.concurrency ?? 8
  let timer: NodeJS.Timeout | null = null
  let running: Promise<{ processed: number }> | null = null

  async function runBatches(): Promise<{ processed: number }> {
    let processed = 0
    const seen = new Set<string>()
    for (;;) {
      // A message that stays due after its turn (e.g. still not claimable) is not taken twice in one run.
      const ids = (await storage.messages.listDue(clock.now(), batchSize + seen.size)).filter((id) => !seen.has(id))
      if (ids.length === 0) return { processed }
      for (let i = 0; i < ids.length; i += concurrency) {
        const slice = ids.slice(i, i + concurrency)
        for (const id of slice) seen.add(id)
        // One message that cannot be moved on (a row that no longer reads) must not hold up the
        // others: it is logged by id, and the run goes on.
        const results = await Promise.allSettled(slice.map((id) => pipeline.advance(id)))
        results.forEach((result, index) => {
          if (result.status !== 'rejected') return
          logger.error({ err: result.reason, messageId: slice[index] }, 'scheduler could not move a message on')
        })
        processed += slice.length
      }
    }
  }

  function runOnce(): Promise<{ processed: number }> {
    if (running) return running
    running = runBatches().finally(() => {
      running = null
    })
    return running
  }

  function tick(): void {
    runOnce().catch((error: unknown) => logger.error({ err: error }, 'scheduler run failed'))
  }

  return {
    async start() {
      await pipeline.failInterrupted()
      await runOnce()
      timer = setInterval(tick, options.intervalMs)
      timer.unref()
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      if (running) await running
    },
    runOnce,
  }
}
