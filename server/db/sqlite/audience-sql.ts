/**
 * A segment's filter as one SQL query over `users`, in openid order (the primary key, so a page is
 * a range read that stops at `limit` matches). Each condition is an EXISTS on the tag or attribute
 * tables' primary key (openid, tag) / (openid, key); lists travel as one JSON array parameter
 * (json_each), so a long list is one bound value. The same shape is plain SQL for PostgreSQL
 * (`= ANY($n)` for the lists).
 */
import type { AttributeCondition, AttributeValue } from '../../../src/domain/contract'
import type { AudienceQuery } from '../storage'

const DAY_MS = 86_400_000
/** Greater than every character an openid may hold ([A-Za-z0-9_-]): `prefix || '~'` ends the prefix's range. */
const AFTER_OPENID_CHARACTERS = '~'

export interface AudienceSql {
  sql: string
  params: (string | number)[]
}

const hasTag = (list: boolean): string =>
  `EXISTS (SELECT 1 FROM user_tags t WHERE t.openid = u.openid AND t.tag ${list ? 'IN (SELECT value FROM json_each(?))' : '= ?'})`

function attributeSql(key: string, condition: AttributeCondition): AudienceSql {
  const tests: string[] = []
  const params: (string | number)[] = [key]
  const equals = (value: AttributeValue): void => {
    tests.push(typeof value === 'number' ? 'a.number_value = ?' : 'a.text_value = ?')
    params.push(value)
  }
  if (condition.eq !== undefined) equals(condition.eq)
  if (condition.in !== undefined) {
    const texts = condition.in.filter((value): value is string => typeof value === 'string')
    const numbers = condition.in.filter((value): value is number => typeof value === 'number')
    tests.push('(a.text_value IN (SELECT value FROM json_each(?)) OR a.number_value IN (SELECT value FROM json_each(?)))')
    params.push(JSON.stringify(texts), JSON.stringify(numbers))
  }
  // A string attribute has no number_value: it never matches a range.
  if (condition.gte !== undefined) {
    tests.push('a.number_value >= ?')
    params.push(condition.gte)
  }
  if (condition.lte !== undefined) {
    tests.push('a.number_value <= ?')
    params.push(condition.lte)
  }
  return {
    sql: `EXISTS (SELECT 1 FROM user_attributes a WHERE a.openid = u.openid AND a.key = ? AND ${tests.join(' AND ')})`,
    params,
  }
}

/** `SELECT openid FROM users u WHERE … ORDER BY openid LIMIT ?` for `query`; asks one row more than the limit, to know whether more follow. */
export function audienceSql(query: AudienceQuery): AudienceSql {
  const { filter } = query
  const where: string[] = []
  const params: (string | number)[] = []
  const add = (sql: string, ...values: (string | number)[]): void => {
    where.push(sql)
    params.push(...values)
  }
  if (query.after !== undefined) add('u.openid > ?', query.after)
  if (query.prefix !== undefined) add('u.openid >= ? AND u.openid < ?', query.prefix, `${query.prefix}${AFTER_OPENID_CHARACTERS}`)
  for (const tag of filter.tagsAll ?? []) add(hasTag(false), tag)
  if (filter.tagsAny !== undefined) add(hasTag(true), JSON.stringify(filter.tagsAny))
  if (filter.tagsNone !== undefined && filter.tagsNone.length > 0) add(`NOT ${hasTag(true)}`, JSON.stringify(filter.tagsNone))
  if (filter.activeWithinDays !== undefined) add('u.last_active_at >= ?', query.now.getTime() - filter.activeWithinDays * DAY_MS)
  for (const [key, condition] of Object.entries(filter.attributes ?? {})) {
    const attribute = attributeSql(key, condition)
    add(attribute.sql, ...attribute.params)
  }
  const sql = `SELECT u.openid FROM users u${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY u.openid LIMIT ?`
  return { sql, params: [...params, query.limit + 1] }
}
