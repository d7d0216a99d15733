/**
 * Outcomes over time in SQLite, for the console's charts and the errcode stats: counts per second
 * (`outcome_seconds`) and, once `compact` has folded them, per minute (`outcome_minutes`), each keyed by
 * (time, kind, key): kind `status` keyed by the status a message ended a step in, kind `errcode` keyed by
 * WeChat's answer to one attempt. No row per event: the transaction that records events adds to these
 * counts through a tally, one upsert per distinct count of the batch (migration 9).
 *
 * A count stands at its second's (minute's) start, so a range or a bucket takes the events of a second
 * whole: exact for every range aligned to a second (a folded minute: aligned to a minute).
 */
import type { MessageStatus } from '../../../src/domain/contract'
import { bucketsOf, isOutcomeStatus } from '../outcome-counts'
import type { OutcomeRepository } from '../storage'
import type { SqliteDatabase } from './database'


const SECOND_MS = 1000
const MINUTE_MS = 60_000

type OutcomeKind = 'status' | 'errcode'

/** The outcomes one transaction records, gathered in memory and written once each at its end. */
export interface OutcomeTally {
  /** A message entered `status` at `at` (epoch ms); counted only when the charts count that status. */
  status(at: number, status: MessageStatus): void
  /** WeChat answered one attempt at `at` (epoch ms) with `errcode`. */
  errcode(at: number, errcode: number): void
  /** Adds the gathered counts to `outcome_seconds`; call it inside the transaction that recorded the events. */
  write(): void
}

export interface OutcomeCounts {
  /** A new, empty tally for one transaction. */
  tally(): OutcomeTally
  /** Every count of kind `errcode`, per errcode, of all time. */
  errcodeTotals(): Record<string, number>
}

export function createSqliteOutcomeCounts(db: SqliteDatabase): OutcomeCounts {
  const add = db.prepare<[number, OutcomeKind, string, number]>(`
    INSERT INTO outcome_seconds (second, kind, key, count) VALUES (?, ?, ?, ?)
    ON CONFLICT (second, kind, key) DO UPDATE SET count = count + excluded.count
  `)
  const errcodes = db.prepare<[], { key: string; count: number }>(`
    SELECT key, SUM(count) AS count FROM (
      SELECT key, count FROM outcome_seconds WHERE kind = 'errcode'
      UNION ALL SELECT key, count FROM outcome_minutes WHERE kind = 'errcode'
    ) GROUP BY key
  `)
  return {
    tally() {
      const counts = new Map<string, { second: number; kind: OutcomeKind; key: string; count: number }>()
      const count = (at: number, kind: OutcomeKind, key: string): void => {
        const second = Math.floor(at / SECOND_MS)
        const id = `${second}\u0000${kind}\u0000${key}`
        const entry = counts.get(id)
        if (entry === undefined) counts.set(id, { second, kind, key, count: 1 })
        else entry.count += 1
      }
      return {
        status(at, status) {
          if (isOutcomeStatus(status)) count(at, 'status', status)
        },
        errcode(at, errcode) {
          count(at, 'errcode', String(errcode))
        },
        write() {
          for (const { second, kind, key, count: n } of counts.values()) add.run(second, kind, key, n)
          counts.clear()
        },
      }
    },
    errcodeTotals() {
      const totals: Record<string, number> = {}
      for (const row of errcodes.all()) totals[row.key] = row.count
      return totals
    },
  }
}

interface Range {
  from: number
  to: number
  bucket: number
  fromSecond: number
  toSecond: number
  fromMinute: number
  toMinute: number
}

export function createSqliteOutcomeRepository(db: SqliteDatabase): OutcomeRepository {
  // A count at second s (minute m) is in [from, to) when s·1000 (m·60000) is: s from ⌈from/1000⌉ to
  // before ⌈to/1000⌉. Its bucket is where that start falls.
  const inRange = db.prepare<[Range], { bucket: number; kind: OutcomeKind; key: string; count: number }>(`
    SELECT bucket, kind, key, SUM(count) AS count FROM (
      SELECT CAST((second * ${SECOND_MS} - @from) / @bucket AS INTEGER) AS bucket, kind, key, count FROM outcome_seconds
        WHERE second >= @fromSecond AND second < @toSecond
      UNION ALL
      SELECT CAST((minute * ${MINUTE_MS} - @from) / @bucket AS INTEGER) AS bucket, kind, key, count FROM outcome_minutes
        WHERE minute >= @fromMinute AND minute < @toMinute
    ) GROUP BY bucket, kind, key
  `)
  const fold = db.prepare<[number]>(`
    INSERT INTO outcome_minutes (minute, kind, key, count)
      SELECT second / 60, kind, key, SUM(count) FROM outcome_seconds WHERE second < ? GROUP BY second / 60, kind, key
    ON CONFLICT (minute, kind, key) DO UPDATE SET count = count + excluded.count
  `)
  const dropFolded = db.prepare<[number]>('DELETE FROM outcome_seconds WHERE second < ?')
  const compact = db.transaction((beforeSecond: number): number => {
    fold.run(beforeSecond)
    return dropFolded.run(beforeSecond).changes
  })

  return {
    async overTime({ from, to, bucketMs }) {
      const range: Range = {
        from: from.getTime(),
        to: to.getTime(),
        bucket: Math.round(bucketMs),
        fromSecond: Math.ceil(from.getTime() / SECOND_MS),
        toSecond: Math.ceil(to.getTime() / SECOND_MS),
        fromMinute: Math.ceil(from.getTime() / MINUTE_MS),
        toMinute: Math.ceil(to.getTime() / MINUTE_MS),
      }
      return bucketsOf(inRange.all(range))
    },
    async compact(before) {
      // A second is folded when it starts before `before`, as `overTime` places it.
      return compact.immediate(Math.ceil(before.getTime() / SECOND_MS))
    },
  }
}
