/**
 * Outcomes over time in PostgreSQL, for the console's charts: counts per second (`outcome_seconds`),
 * folded into counts per minute (`outcome_minutes`, each at its minute's first second) by `compact`.
 * A count is (second, kind, key): kind `status` counts the statuses a message ends a step in
 * (OUTCOME_STATUSES), kind `errcode` every WeChat answer by its errcode.
 *
 * The statements that record an event add to its count in the same statement (`countOutcomes`), so a
 * count is exactly the events committed. Several instances add to the same second's counts at once: an
 * upsert (ON CONFLICT DO UPDATE) per distinct count, in key order, so two statements lock the counts
 * they share in one order and never deadlock each other.
 */
import type postgres from 'postgres'
import { bucketsOf, OUTCOME_STATUSES } from '../outcome-counts'
import type { OutcomeRepository } from '../storage'
import type { Queries, Sql } from './connection'
import { textArray } from './parameters'

type Fragment = postgres.PendingQuery<postgres.Row[]>

/** The second (since the epoch) an event at `at` is counted in. */
export function secondOf(at: Date): number {
  return Math.floor(at.getTime() / 1000)
}

/**
 * Rows of `rows` (a CTE with a `status` column) as status events at `now`: those whose status the
 * charts count. For `countOutcomes`.
 */
export function statusEvents(sql: Queries, rows: string, now: Date): Fragment {
  return sql`
    SELECT ${secondOf(now)}::bigint AS second, 'status'::text AS kind, status::text AS key FROM ${sql(rows)}
    WHERE status = ANY(${textArray(sql, OUTCOME_STATUSES)}::text[])`
}

/**
 * A data-modifying statement for a CTE: adds `events` (rows of second bigint, kind text, key text) to
 * the per-second counts, one upsert per distinct count, in key order.
 */
export function countOutcomes(sql: Queries, events: Fragment): Fragment {
  return sql`
    INSERT INTO outcome_seconds (second, kind, key, count)
    SELECT event.second, event.kind, event.key, COUNT(*) FROM (${events}) AS event
    GROUP BY event.second, event.kind, event.key ORDER BY event.second, event.kind, event.key
    ON CONFLICT (second, kind, key) DO UPDATE SET count = outcome_seconds.count + EXCLUDED.count`
}

/** The counts of `kind` in both tables, for stats: every key's sum. */
export async function countsByKey(sql: Queries, kind: 'status' | 'errcode'): Promise<Record<string, number>> {
  const rows = await sql<{ key: string; count: number }[]>`
    SELECT key, SUM(count)::bigint AS count FROM (
      SELECT key, count FROM outcome_seconds WHERE kind = ${kind}
      UNION ALL
      SELECT key, count FROM outcome_minutes WHERE kind = ${kind}
    ) AS counted GROUP BY key`
  return Object.fromEntries(rows.map((row) => [row.key, row.count]))
}

export function createPostgresOutcomeRepository(sql: Sql): OutcomeRepository {
  return {
    async overTime({ from, to, bucketMs }) {
      // A count at second s is at s·1000 ms: in [from, to) when s ≥ ⌈from / 1000⌉ and s < ⌈to / 1000⌉.
      const first = Math.ceil(from.getTime() / 1000)
      const end = Math.ceil(to.getTime() / 1000)
      const rows = await sql<{ bucket: number; kind: 'status' | 'errcode'; key: string; count: number }[]>`
        SELECT ((second * 1000 - ${from.getTime()}::bigint) / ${Math.max(1, Math.round(bucketMs))}::bigint)::integer AS bucket, kind, key,
          SUM(count)::bigint AS count
        FROM (
          SELECT second, kind, key, count FROM outcome_seconds WHERE second >= ${first}::bigint AND second < ${end}::bigint
          UNION ALL
          SELECT second, kind, key, count FROM outcome_minutes WHERE second >= ${first}::bigint AND second < ${end}::bigint
        ) AS counted
        GROUP BY 1, kind, key`
      return bucketsOf(rows)
    },
    async compact(before) {
      // One statement: the per-second counts it deletes are the ones it adds to their minutes. Another
      // instance folding at the same moment waits for these rows' locks and finds them gone.
      const [row] = await sql<{ folded: number }[]>`
        WITH folded AS (
          DELETE FROM outcome_seconds WHERE second < ${Math.ceil(before.getTime() / 1000)}::bigint
          RETURNING second, kind, key, count
        ), minutes AS (
          INSERT INTO outcome_minutes (second, kind, key, count)
          SELECT second - mod(second, 60), kind, key, SUM(count) FROM folded
          GROUP BY 1, kind, key ORDER BY 1, kind, key
          ON CONFLICT (second, kind, key) DO UPDATE SET count = outcome_minutes.count + EXCLUDED.count
        )
        SELECT COUNT(*)::integer AS folded FROM folded`
      return row?.folded ?? 0
    },
  }
}
