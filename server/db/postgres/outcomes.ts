/**
 * Outcomes over time in PostgreSQL, for the console's charts: status changes (message_history) and
 * WeChat's answers (message_attempts) counted per bucket, each a range read on its time index.
 * A bucket's index is computed in exact milliseconds (epoch as numeric), as SQLite's integer division.
 */
import type { MessageStatus } from '../../../src/domain/contract'
import type { OutcomeBucket, OutcomeRepository } from '../storage'
import type { Sql } from './connection'
import { textArray } from './parameters'

/** The statuses a message ends a step in: what the charts count. */
const OUTCOME_STATUSES: readonly MessageStatus[] = ['sent', 'failed', 'skipped', 'deferred']

export function createPostgresOutcomeRepository(sql: Sql): OutcomeRepository {
  return {
    async overTime({ from, to, bucketMs }) {
      const bucketOf = (column: string) =>
        sql`floor((extract(epoch FROM ${sql(column)}) * 1000 - ${from.getTime()}::numeric) / ${Math.round(bucketMs)}::numeric)::integer`
      const [byStatus, byErrcode] = await Promise.all([
        sql<{ bucket: number; status: MessageStatus; count: number }[]>`
          SELECT ${bucketOf('at')} AS bucket, status, COUNT(*)::integer AS count FROM message_history
          WHERE at >= ${from} AND at < ${to} AND status = ANY(${textArray(sql, OUTCOME_STATUSES)}::text[])
          GROUP BY 1, status`,
        sql<{ bucket: number; errcode: number; count: number }[]>`
          SELECT ${bucketOf('at')} AS bucket, errcode, COUNT(*)::integer AS count FROM message_attempts
          WHERE at >= ${from} AND at < ${to} GROUP BY 1, errcode`,
      ])
      const buckets = new Map<number, OutcomeBucket>()
      const at = (index: number): OutcomeBucket => {
        let bucket = buckets.get(index)
        if (bucket === undefined) {
          bucket = { index, byStatus: {}, byErrcode: {} }
          buckets.set(index, bucket)
        }
        return bucket
      }
      for (const row of byStatus) at(row.bucket).byStatus[row.status] = row.count
      for (const row of byErrcode) at(row.bucket).byErrcode[String(row.errcode)] = row.count
      return [...buckets.values()].sort((a, b) => a.index - b.index)
    },
  }
}
