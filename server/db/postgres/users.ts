/**
 * Users in PostgreSQL: one row per user, its tags a jsonb array (kept in byte order) and its
 * attributes a jsonb object, so filters are indexed SQL (audience-sql.ts). A batch of changes is at
 * most two statements whatever its size: the users absent are inserted with what they are given
 * (which counts them), then those that existed get what their entries name.
 */
import { inTransaction, type Sql } from './connection'
import { jsonText, textArray } from './parameters'
import type { AttributeValue } from '../../../src/domain/contract'
import type { UserChangeSet, UserRecord, UserRepository } from '../storage'
import { audienceQuery } from './audience-sql'

interface UserRow {
  openid: string
  tags: string[]
  attributes: Record<string, AttributeValue>
  last_active_at: Date | null
}

/** What a batch leaves of each user: for an openid given twice, the last tags and the last attributes named. */
interface FinalChange {
  openid: string
  tags: string[] | null
  attributes: Readonly<Record<string, AttributeValue>> | null
}

/** Byte order of the UTF-8 text, as SQLite's BINARY collation orders the tags it returns. */
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

function finalChanges(entries: readonly (UserChangeSet & { openid: string })[]): FinalChange[] {
  const byOpenid = new Map<string, FinalChange>()
  for (const { openid, tags, attributes } of entries) {
    if (tags !== undefined) {
      // As SQLite's (openid, tag) primary key: a tag twice in one entry is refused, and the batch with it.
      const seen = new Set<string>()
      for (const tag of tags) {
        if (seen.has(tag)) throw new Error(`user ${openid}: tag ${tag} given twice`)
        seen.add(tag)
      }
    }
    const change = byOpenid.get(openid) ?? { openid, tags: null, attributes: null }
    if (tags !== undefined) change.tags = [...tags].sort(byBytes)
    if (attributes !== undefined) change.attributes = attributes
    byOpenid.set(openid, change)
  }
  return [...byOpenid.values()]
}

export function createPostgresUserRepository(sql: Sql): UserRepository {
  return {
    async touch(openid, now) {
      await sql`
        INSERT INTO users (openid, created_at, updated_at, last_active_at) VALUES (${openid}, ${now}, ${now}, ${now})
        ON CONFLICT (openid) DO UPDATE SET last_active_at = excluded.last_active_at`
    },
    async put(entries, now) {
      const changes = finalChanges(entries)
      if (changes.length === 0) return { created: 0, updated: 0 }
      return inTransaction(sql, async (tx) => {
        const created = await tx<{ openid: string }[]>`
          INSERT INTO users (openid, tags, attributes, created_at, updated_at, last_active_at)
          SELECT e.openid, COALESCE(e.tags, '[]'), COALESCE(e.attributes, '{}'), ${now}, ${now}, NULL
          FROM jsonb_to_recordset(${jsonText(tx, changes)}::jsonb) AS e (openid text, tags jsonb, attributes jsonb)
          ON CONFLICT (openid) DO NOTHING
          RETURNING openid`
        const inserted = new Set(created.map((row) => row.openid))
        const existing = changes.filter((change) => !inserted.has(change.openid))
        if (existing.length > 0) {
          await tx`
            UPDATE users u SET updated_at = ${now}, tags = COALESCE(e.tags, u.tags), attributes = COALESCE(e.attributes, u.attributes)
            FROM jsonb_to_recordset(${jsonText(tx, existing)}::jsonb) AS e (openid text, tags jsonb, attributes jsonb)
            WHERE u.openid = e.openid`
        }
        return { created: created.length, updated: entries.length - created.length }
      })
    },
    async details(openids) {
      if (openids.length === 0) return []
      // Attributes by key in byte order: built as json, which keeps the order it is given.
      const rows = await sql<UserRow[]>`
        SELECT u.openid, u.tags, u.last_active_at,
          (SELECT COALESCE(json_object_agg(a.key, a.value ORDER BY a.key COLLATE "C"), '{}') FROM jsonb_each(u.attributes) AS a) AS attributes
        FROM users u WHERE u.openid = ANY(${textArray(sql, openids)}::text[])`
      const found = new Map<string, UserRecord>(
        rows.map((row) => [row.openid, { openid: row.openid, tags: row.tags, attributes: row.attributes, lastActiveAt: row.last_active_at }]),
      )
      return openids.flatMap((openid) => found.get(openid) ?? [])
    },
    async page(query) {
      const openids = (await audienceQuery(sql, query)).map((row) => row.openid)
      if (openids.length <= query.limit) return { openids, next: null }
      openids.length = query.limit
      return { openids, next: openids[query.limit - 1]! }
    },
  }
}
