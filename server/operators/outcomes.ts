/**
 * Outcomes over time for the console's chart (GET /api/stats/timeline): per hour over the last 24
 * hours, or per day (in TZ_QUIET_HOURS) over the last 7 days, every bucket present; and today's
 * sent, failed, skipped and delivered.
 */
import type { Timeline, TimelineRange } from '../../src/domain/console-contract'
import { startOfLocalDay } from '../../src/domain/quiet-hours'
import type { OutcomeRepository } from '../db/storage'
import type { Clock } from '../wechat/types'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

export interface OutcomeTimeline {
  timeline(range: TimelineRange): Promise<Timeline>
}

/** The range's buckets: [from, to) cut into `count` of `bucketMs`, the last one holding now. */
export function timelineWindow(range: TimelineRange, now: Date, timeZone: string): { from: Date; bucketMs: number; count: number } {
  if (range === '24h') {
    const nextHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS
    return { from: new Date(nextHour - 24 * HOUR_MS), bucketMs: HOUR_MS, count: 24 }
  }
  const today = startOfLocalDay(now, timeZone).getTime()
  return { from: new Date(today - 6 * DAY_MS), bucketMs: DAY_MS, count: 7 }
}

export function createOutcomeTimeline(options: {
  outcomes: OutcomeRepository
  clock: Clock
  timeZone: string
  /** Delivery reports (WeChat's message push) since `from`; null when the service gets none. */
  deliveredSince: (from: Date) => Promise<number | null>
}): OutcomeTimeline {
  const { outcomes, clock, timeZone } = options
  return {
    async timeline(range) {
      const now = clock.now()
      const { from, bucketMs, count } = timelineWindow(range, now, timeZone)
      const to = new Date(from.getTime() + count * bucketMs)
      const found = new Map((await outcomes.overTime({ from, to, bucketMs })).map((bucket) => [bucket.index, bucket]))
      const buckets = Array.from({ length: count }, (_, index) => ({
        at: new Date(from.getTime() + index * bucketMs).toISOString(),
        byStatus: { ...found.get(index)?.byStatus },
        byErrcode: { ...found.get(index)?.byErrcode },
      }))
      const dayStart = startOfLocalDay(now, timeZone)
      const [today] = await outcomes.overTime({ from: dayStart, to: new Date(dayStart.getTime() + DAY_MS), bucketMs: DAY_MS })
      return {
        range,
        bucketMs,
        buckets,
        today: {
          from: dayStart.toISOString(),
          sent: today?.byStatus.sent ?? 0,
          failed: today?.byStatus.failed ?? 0,
          skipped: today?.byStatus.skipped ?? 0,
          delivered: await options.deliveredSince(dayStart),
        },
      }
    },
  }
}
