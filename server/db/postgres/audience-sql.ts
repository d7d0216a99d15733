/**
 * A segment's filter as one PostgreSQL query over `users`, in openid order (the primary key, byte
 * order, so a page is a range read that stops at `limit` matches), the same conditions as SQLite's
 * (server/db/sqlite/audience-sql.ts) on jsonb: tags with `?&` / `?|` and attribute equality with
 * `@>` (GIN), lists and ranges on the attribute's value. A string attribute never matches a range; a
 * string never equals a number.
 */
import type { PendingQuery, Row } from 'postgres'
import type { Sql } from './connection'
import { textArray } from './parameters'
import type { AttributeCondition } from '../../../src/domain/contract'
import type { AudienceQuery } from '../storage'

const DAY_MS = 86_400_000
/** Greater than every character an openid may hold ([A-Za-z0-9_-]): `prefix || '~'` ends the prefix's range. */
const AFTER_OPENID_CHARACTERS = '~'

type Condition = PendingQuery<Row[]>

function attributeCondition(sql: Sql, key: string, condition: AttributeCondition): Condition[] {
  const value = sql`(u.attributes -> ${key}::text)`
  const tests: Condition[] = []
  if (condition.eq !== undefined) tests.push(sql`u.attributes @> ${sql.json({ [key]: condition.eq })}`)
  if (condition.in !== undefined) {
    tests.push(sql`${value} IN (SELECT v.value FROM jsonb_array_elements(${sql.json(condition.in)}) AS v (value))`)
  }
  const number = sql`CASE WHEN jsonb_typeof(${value}) = 'number' THEN ${value}::float8 END`
  if (condition.gte !== undefined) tests.push(sql`${number} >= ${condition.gte}::float8`)
  if (condition.lte !== undefined) tests.push(sql`${number} <= ${condition.lte}::float8`)
  return tests
}

/** The query of one page of `query` (one row more than its limit, to know whether more follow). */
export function audienceQuery(sql: Sql, query: AudienceQuery): PendingQuery<{ openid: string }[]> {
  const { filter } = query
  const where: Condition[] = []
  if (query.after !== undefined) where.push(sql`u.openid > ${query.after}`)
  if (query.prefix !== undefined) {
    where.push(sql`u.openid >= ${query.prefix} AND u.openid < ${`${query.prefix}${AFTER_OPENID_CHARACTERS}`}`)
  }
  if (filter.tagsAll !== undefined && filter.tagsAll.length > 0) where.push(sql`u.tags ?& ${textArray(sql, filter.tagsAll)}::text[]`)
  if (filter.tagsAny !== undefined) where.push(sql`u.tags ?| ${textArray(sql, filter.tagsAny)}::text[]`)
  if (filter.tagsNone !== undefined && filter.tagsNone.length > 0) {
    where.push(sql`NOT (u.tags ?| ${textArray(sql, filter.tagsNone)}::text[])`)
  }
  if (filter.activeWithinDays !== undefined) {
    where.push(sql`u.last_active_at >= ${new Date(query.now.getTime() - filter.activeWithinDays * DAY_MS)}`)
  }
  for (const [key, condition] of Object.entries(filter.attributes ?? {})) where.push(...attributeCondition(sql, key, condition))
  const conditions = where.reduce<Condition | null>((all, next) => (all === null ? next : sql`${all} AND ${next}`), null)
  return sql<{ openid: string }[]>`
    SELECT u.openid FROM users u ${conditions === null ? sql`` : sql`WHERE ${conditions}`}
    ORDER BY u.openid LIMIT ${query.limit + 1}`
}
