/** Preferences in SQLite: one row per person who saved any (the service applies the defaults otherwise). */
import type { Preferences } from '../../../src/domain/contract'
import type { PreferencesRepository } from '../storage'
import type { SqliteDatabase } from './database'
import { distinctJson } from './json-list'

interface PreferencesRow {
  openid: string
  quiet_start: string | null
  quiet_end: string | null
  daily_limit: number
  muted_categories: string
}

const preferencesOf = (row: PreferencesRow): Preferences => ({
  quietHours: row.quiet_start !== null && row.quiet_end !== null ? { start: row.quiet_start, end: row.quiet_end } : null,
  dailyLimit: row.daily_limit,
  mutedCategories: JSON.parse(row.muted_categories) as string[],
})

export function createSqlitePreferencesRepository(db: SqliteDatabase): PreferencesRepository {
  const columns = 'openid, quiet_start, quiet_end, daily_limit, muted_categories'
  const read = db.prepare<[string], PreferencesRow>(`SELECT ${columns} FROM preferences WHERE openid = ?`)
  // The list as the outer table of a join (json-list.ts).
  const readMany = db.prepare<[string], PreferencesRow>(`SELECT ${columns} FROM json_each(?) AS list JOIN preferences ON preferences.openid = list.value`)
  const upsert = db.prepare(`
    INSERT INTO preferences (openid, quiet_start, quiet_end, daily_limit, muted_categories, updated_at)
    VALUES (@openid, @quietStart, @quietEnd, @dailyLimit, @muted, @now)
    ON CONFLICT (openid) DO UPDATE SET quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
      daily_limit = excluded.daily_limit, muted_categories = excluded.muted_categories, updated_at = excluded.updated_at
  `)
  return {
    async get(openid) {
      const row = read.get(openid)
      return row ? preferencesOf(row) : null
    },
    async getMany(openids) {
      return new Map(readMany.all(distinctJson(openids)).map((row) => [row.openid, preferencesOf(row)]))
    },
    async put(openid, preferences, now) {
      upsert.run({
        openid,
        quietStart: preferences.quietHours?.start ?? null,
        quietEnd: preferences.quietHours?.end ?? null,
        dailyLimit: preferences.dailyLimit,
        muted: JSON.stringify(preferences.mutedCategories),
        now: now.getTime(),
      })
    },
  }
}
