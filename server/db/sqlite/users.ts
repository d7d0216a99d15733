/**
 * Users in SQLite: one row per user, tags and attributes one row per value (an attribute in the
 * column of its type), so filters are indexed SQL (audience-sql.ts). Reads for a page of users are
 * one query per table, whatever the page's size.
 */
import type { AttributeValue } from '../../../src/domain/contract'
import type { UserChangeSet, UserRecord, UserRepository } from '../storage'
import { audienceSql } from './audience-sql'
import type { SqliteDatabase } from './database'

/** Prepared statements of filters seen, by their SQL; a filter's SQL depends on its shape, not its values. */
const STATEMENTS_KEPT = 200

export function createSqliteUserRepository(db: SqliteDatabase): UserRepository {
  const touch = db.prepare(`
    INSERT INTO users (openid, created_at, updated_at, last_active_at) VALUES (@openid, @now, @now, @now)
    ON CONFLICT (openid) DO UPDATE SET last_active_at = excluded.last_active_at
  `)
  const exists = db.prepare<[string], { found: number }>('SELECT 1 AS found FROM users WHERE openid = ?')
  const insert = db.prepare('INSERT INTO users (openid, created_at, updated_at, last_active_at) VALUES (?, ?, ?, NULL)')
  const markUpdated = db.prepare('UPDATE users SET updated_at = ? WHERE openid = ?')
  const clearTags = db.prepare('DELETE FROM user_tags WHERE openid = ?')
  const addTag = db.prepare('INSERT INTO user_tags (openid, tag) VALUES (?, ?)')
  const clearAttributes = db.prepare('DELETE FROM user_attributes WHERE openid = ?')
  const addAttribute = db.prepare('INSERT INTO user_attributes (openid, key, text_value, number_value) VALUES (?, ?, ?, ?)')

  const inList = 'openid IN (SELECT value FROM json_each(?))'
  const users = db.prepare<[string], { openid: string; last_active_at: number | null }>(
    `SELECT openid, last_active_at FROM users WHERE ${inList}`,
  )
  const tags = db.prepare<[string], { openid: string; tag: string }>(`SELECT openid, tag FROM user_tags WHERE ${inList} ORDER BY openid, tag`)
  const attributes = db.prepare<[string], { openid: string; key: string; text_value: string | null; number_value: number | null }>(
    `SELECT openid, key, text_value, number_value FROM user_attributes WHERE ${inList} ORDER BY openid, key`,
  )

  const statements = new Map<string, ReturnType<typeof db.prepare<unknown[], { openid: string }>>>()
  function statement(sql: string) {
    let prepared = statements.get(sql)
    if (prepared === undefined) {
      prepared = db.prepare<unknown[], { openid: string }>(sql)
      if (statements.size >= STATEMENTS_KEPT) statements.delete(statements.keys().next().value!)
      statements.set(sql, prepared)
    }
    return prepared
  }

  const put = db.transaction((entries: readonly (UserChangeSet & { openid: string })[], now: number) => {
    let created = 0
    for (const { openid, tags: newTags, attributes: newAttributes } of entries) {
      if (exists.get(openid)) markUpdated.run(now, openid)
      else {
        insert.run(openid, now, now)
        created += 1
      }
      if (newTags !== undefined) {
        clearTags.run(openid)
        for (const tag of newTags) addTag.run(openid, tag)
      }
      if (newAttributes !== undefined) {
        clearAttributes.run(openid)
        for (const [key, value] of Object.entries(newAttributes)) {
          addAttribute.run(openid, key, typeof value === 'string' ? value : null, typeof value === 'number' ? value : null)
        }
      }
    }
    return { created, updated: entries.length - created }
  })

  return {
    async touch(openid, now) {
      touch.run({ openid, now: now.getTime() })
    },
    async put(entries, now) {
      return put.immediate(entries, now.getTime())
    },
    async details(openids) {
      const list = JSON.stringify(openids)
      const found = new Map<string, UserRecord>()
      for (const row of users.all(list)) {
        found.set(row.openid, {
          openid: row.openid,
          tags: [],
          attributes: {},
          lastActiveAt: row.last_active_at === null ? null : new Date(row.last_active_at),
        })
      }
      for (const row of tags.all(list)) found.get(row.openid)?.tags.push(row.tag)
      for (const row of attributes.all(list)) {
        const user = found.get(row.openid)
        if (user) user.attributes[row.key] = (row.text_value ?? row.number_value) as AttributeValue
      }
      return openids.flatMap((openid) => found.get(openid) ?? [])
    },
    async page(query) {
      const { sql, params } = audienceSql(query)
      const openids = statement(sql)
        .all(...params)
        .map((row) => row.openid)
      if (openids.length <= query.limit) return { openids, next: null }
      openids.length = query.limit
      return { openids, next: openids[query.limit - 1]! }
    },
  }
}
