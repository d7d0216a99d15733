/**
 * Users in PostgreSQL: one row per user, its tags a jsonb array (kept in byte order) and its
 * attributes a jsonb object, so filters are indexed SQL (audience-sql.ts). A batch of changes is two
 * statements whatever its size: the users absent are inserted (which counts them), then every
 * entry's tags and attributes are set.
 */
import type { Sql } from './connection'
import type { AttributeValue } from '../../../src/domain/contract'
import type { UserChangeSet, UserRecord, UserRepository } from '../storage'
import { audienceQuery } from './audience-sql'
import { jsonText, textArray } from './parameters'

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
    if (tags !== undefined) change.tags = [...tags]
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
      return sql.begin(async (tx) => {
        const created = await tx`
          INSERT INTO users (openid, created_at, updated_at, last_active_at)
          SELECT openid, ${now}, ${now}, NULL FROM unnest(${textArray(tx, changes.map((change) => change.openid))}::text[]) AS e (openid)
          ON CONFLICT (openid) DO NOTHING`
        await tx`
          UPDATE users u SET updated_at = ${now},
            tags = CASE WHEN e.tags IS NULL THEN u.tags ELSE COALESCE(
              (SELECT jsonb_agg(t.tag ORDER BY t.tag COLLATE "C") FROM jsonb_array_elements_text(e.tags) AS t (tag)), '[]') END,
            attributes = COALESCE(e.attributes, u.attributes)
          FROM jsonb_to_recordset(${jsonText(tx, changes)}::jsonb) AS e (openid text, tags jsonb, attributes jsonb)
          WHERE u.openid = e.openid`
        return { created: created.count, updated: entries.length - created.count }
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
