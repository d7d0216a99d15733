/**
 * Outcomes over time in SQLite, for the console's charts: status changes (message_history) and WeChat's
 * answers (message_attempts) counted per bucket, each a range read on its time index (migration 7).
 */
import type { MessageStatus } from '../../../src/domain/contract'
import type { OutcomeBucket, OutcomeRepository } from '../storage'
import type { SqliteDatabase } from './database'

/** The statuses a message ends a step in: what the charts count. */
const OUTCOME_STATUSES: readonly MessageStatus[] = ['sent', 'failed', 'skipped', 'deferred']

interface Range {
  from: number
  to: number
  bucket: number
}

export function createSqliteOutcomeRepository(db: SqliteDatabase): OutcomeRepository {
  const byStatus = db.prepare<[Range], { bucket: number; status: MessageStatus; count: number }>(`
    SELECT CAST((at - @from) / @bucket AS INTEGER) AS bucket, status, COUNT(*) AS count FROM message_history
    WHERE at >= @from AND at < @to AND status IN (${OUTCOME_STATUSES.map((status) => `'${status}'`).join(', ')})
    GROUP BY bucket, status
  `)
  const byErrcode = db.prepare<[Range], { bucket: number; errcode: number; count: number }>(`
    SELECT CAST((at - @from) / @bucket AS INTEGER) AS bucket, errcode, COUNT(*) AS count FROM message_attempts
    WHERE at >= @from AND at < @to GROUP BY bucket, errcode
  `)
  return {
    async overTime({ from, to, bucketMs }) {
      const range: Range = { from: from.getTime(), to: to.getTime(), bucket: Math.round(bucketMs) }
      const buckets = new Map<number, OutcomeBucket>()
      const at = (index: number): OutcomeBucket => {
        let bucket = buckets.get(index)
        if (bucket === undefined) {
          bucket = { index, byStatus: {}, byErrcode: {} }
          buckets.set(index, bucket)
        }
        return bucket
      }
      for (const row of byStatus.all(range)) at(row.bucket).byStatus[row.status] = row.count
      for (const row of byErrcode.all(range)) at(row.bucket).byErrcode[String(row.errcode)] = row.count
      return [...buckets.values()].sort((a, b) => a.index - b.index)
    },
  }
}
