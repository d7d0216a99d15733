/**
 * The service's health for the console's 概览 (GET /api/health): the database (one read of the
 * queue's depth, timed), the dispatcher (what waits, what is in flight, the rate), the scheduler's last
 * run, the access token's expiry, WeChat's last push event, and which WeChat this is.
 */
import type { ServiceHealth } from '../../src/domain/console-contract'
import type { Storage } from '../db/storage'
import type { Dispatcher } from '../dispatch/dispatcher'
import type { Scheduler } from '../messages/scheduler'
import type { Clock } from '../wechat/types'

const MINUTE_MS = 60_000

export interface HealthReport {
  health(): Promise<ServiceHealth>
}

export function createHealthReport(options: {
  storage: Pick<Storage, 'messages' | 'outcomes' | 'tokens'>
  dispatcher: Pick<Dispatcher, 'status'>
  scheduler: Pick<Scheduler, 'lastRunAt'>
  schedulerIntervalMs: number
  wechat: ServiceHealth['wechat']
  /** When WeChat's last push event came in; null when none did or push is not set up. */
  lastPushEventAt: () => Promise<Date | null>
  clock: Clock
  /** ms since some fixed point, for the database's latency (default performance.now). */
  elapsed?: () => number
}): HealthReport {
  const { storage, dispatcher, scheduler, clock } = options
  const elapsed = options.elapsed ?? (() => performance.now())
  const iso = (date: Date | null): string | null => date?.toISOString() ?? null

  return {
    async health() {
      const now = clock.now()
      const engine = dispatcher.status()
      const started = elapsed()
      let database: ServiceHealth['database']
      let depth = { queued: 0, due: 0, deferred: 0, sending: 0 }
      let sentLastMinute = 0
      try {
        depth = await storage.messages.depth(now)
        database = { ok: true, latencyMs: Math.max(0, elapsed() - started) }
        const [lastMinute] = await storage.outcomes.overTime({ from: new Date(now.getTime() - MINUTE_MS), to: new Date(now.getTime() + 1), bucketMs: MINUTE_MS + 1 })
        sentLastMinute = lastMinute?.byStatus.sent ?? 0
      } catch (error) {
        database = { ok: false, latencyMs: Math.max(0, elapsed() - started), problem: error instanceof Error ? error.message : String(error) }
      }
      const token = database.ok ? await storage.tokens.read() : null
      return {
        now: now.toISOString(),
        wechat: options.wechat,
        database,
        dispatcher: {
          ...depth,
          inFlight: engine.inFlight,
          concurrency: engine.concurrency,
          rateLimit: engine.rate,
          sentLastMinute,
          slowedForMs: Math.max(0, Math.round(engine.slowedForMs)),
        },
        scheduler: { intervalMs: options.schedulerIntervalMs, lastRunAt: iso(scheduler.lastRunAt()) },
        accessToken: { expiresAt: iso(token?.expiresAt ?? null) },
        push: { lastEventAt: iso(await options.lastPushEventAt()) },
      }
    },
  }
}
