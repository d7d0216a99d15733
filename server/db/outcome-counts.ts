/**
 * What both engines' outcome counts share (OutcomeRepository, storage.ts): which statuses are counted,
 * and how the rows a range read gives become the charts' buckets.
 */
import type { MessageStatus } from '../../src/domain/contract'
import type { OutcomeBucket } from './storage'

/** The statuses a message ends a step in (sent, failed, skipped, deferred): what the charts count, and what a waiter for a message waits for. */
export const OUTCOME_STATUSES: readonly MessageStatus[] = ['sent', 'failed', 'skipped', 'deferred']

const counted: ReadonlySet<string> = new Set(OUTCOME_STATUSES)

export function isOutcomeStatus(status: string): boolean {
  return counted.has(status)
}

/** A range read's rows (a count of `key` of `kind` in bucket `bucket`) as buckets, in order, the empty ones left out. */
export function bucketsOf(rows: Iterable<{ bucket: number; kind: 'status' | 'errcode'; key: string; count: number }>): OutcomeBucket[] {
  const buckets = new Map<number, OutcomeBucket>()
  for (const row of rows) {
    let bucket = buckets.get(row.bucket)
    if (bucket === undefined) {
      bucket = { index: row.bucket, byStatus: {}, byErrcode: {} }
      buckets.set(row.bucket, bucket)
    }
    if (row.kind === 'status') bucket.byStatus[row.key as MessageStatus] = row.count
    else bucket.byErrcode[row.key] = row.count
  }
  return [...buckets.values()].sort((a, b) => a.index - b.index)
}
