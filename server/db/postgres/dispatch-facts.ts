/**
 * `Storage.dispatchFacts` in PostgreSQL: what the dispatcher reads before it decides a batch (saved
 * preferences, sends on the day, credits), as one statement of three `UNION ALL` branches, each the
 * statement its repository runs alone (./preferences.ts `getMany`, ./messages.ts `countsOnDay`,
 * ./ledger.ts `creditsOf`): one round trip and one statement for each batch rather than three (in the
 * cluster bench, with batches of ~16 messages, ~10 µs of the instance's CPU and ~10 µs of PostgreSQL's
 * a message for the three).
 */
import { creditKey, type DispatchFacts, type Storage } from '../storage'
import type { Sql } from './connection'
import { COUNTED } from './messages'
import { textArray } from './parameters'
import { preferencesOf } from './preferences'

type FactRow =
  | { kind: 'preferences'; openid: string; template_id: null; quiet_start: string | null; quiet_end: string | null; daily_limit: number; muted_categories: string[]; n: null }
  | { kind: 'sent' | 'credits'; openid: string; template_id: string | null; quiet_start: null; quiet_end: null; daily_limit: null; muted_categories: null; n: number }

export function createPostgresDispatchFacts(sql: Sql): NonNullable<Storage['dispatchFacts']> {
  return async ({ openids, dayKey, pairs }) => {
    const facts: DispatchFacts = { savedPreferences: new Map(), sentToday: new Map(), credits: new Map() }
    if (openids.length === 0 && pairs.length === 0) return facts
    const people = textArray(sql, openids)
    const rows = await sql<FactRow[]>`
      SELECT 'preferences' AS kind, openid, NULL::text AS template_id, quiet_start, quiet_end, daily_limit, muted_categories, NULL::integer AS n
      FROM preferences WHERE openid = ANY(${people}::text[])
      UNION ALL
      SELECT 'sent', openid, NULL, NULL, NULL, NULL, NULL, COUNT(*)::integer FROM messages
      WHERE openid = ANY(${people}::text[]) AND day_key = ${dayKey} AND ${sql.unsafe(COUNTED)}
      GROUP BY openid
      UNION ALL
      SELECT 'credits', subscriptions.openid, subscriptions.template_id, NULL, NULL, NULL, NULL, subscriptions.credits
      FROM unnest(${textArray(sql, pairs.map((pair) => pair.openid))}::text[], ${textArray(sql, pairs.map((pair) => pair.templateId))}::text[]) AS pair (openid, template_id)
      JOIN subscriptions ON subscriptions.openid = pair.openid AND subscriptions.template_id = pair.template_id
    `
    for (const row of rows) {
      if (row.kind === 'preferences') facts.savedPreferences.set(row.openid, preferencesOf(row))
      else if (row.kind === 'sent') facts.sentToday.set(row.openid, row.n)
      else facts.credits.set(creditKey(row.openid, row.template_id!), row.n)
    }
    return facts
  }
}
