/** Preferences in PostgreSQL: one row per person who saved any (the service applies the defaults otherwise). */
import type { Sql } from './connection'
import { textArray } from './parameters'
import type { Preferences } from '../../../src/domain/contract'
import type { PreferencesRepository } from '../storage'

export interface PreferencesRow {
  openid: string
  quiet_start: string | null
  quiet_end: string | null
  daily_limit: number
  muted_categories: string[]
}

export const preferencesOf = (row: PreferencesRow): Preferences => ({
  quietHours: row.quiet_start !== null && row.quiet_end !== null ? { start: row.quiet_start, end: row.quiet_end } : null,
  dailyLimit: row.daily_limit,
  mutedCategories: row.muted_categories,
})

export function createPostgresPreferencesRepository(sql: Sql): PreferencesRepository {
  return {
    async get(openid) {
      const [row] = await sql<PreferencesRow[]>`
        SELECT openid, quiet_start, quiet_end, daily_limit, muted_categories FROM preferences WHERE openid = ${openid}`
      return row ? preferencesOf(row) : null
    },
    async getMany(openids) {
      if (openids.length === 0) return new Map()
      const rows = await sql<PreferencesRow[]>`
        SELECT openid, quiet_start, quiet_end, daily_limit, muted_categories FROM preferences
        WHERE openid = ANY(${textArray(sql, openids)}::text[])`
      return new Map(rows.map((row) => [row.openid, preferencesOf(row)]))
    },
    async put(openid, preferences, now) {
      await sql`
        INSERT INTO preferences (openid, quiet_start, quiet_end, daily_limit, muted_categories, updated_at)
        VALUES (${openid}, ${preferences.quietHours?.start ?? null}, ${preferences.quietHours?.end ?? null},
          ${preferences.dailyLimit}, ${sql.json(preferences.mutedCategories)}, ${now})
        ON CONFLICT (openid) DO UPDATE SET quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
          daily_limit = excluded.daily_limit, muted_categories = excluded.muted_categories, updated_at = excluded.updated_at`
    },
  }
}
