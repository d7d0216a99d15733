/**
 * A person's notification preferences: the defaults, and the rules a saved set must meet beyond its
 * schema. The service refuses what breaks them (400 naming the field) and the app checks the same
 * before it saves, so both sides say the same thing.
 */
import type { Preferences } from './contract'

/** What a person who never saved preferences gets: no quiet hours, 20 messages a day, nothing muted. */
export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze({ quietHours: null, dailyLimit: 20, mutedCategories: [] })

export interface PreferencesProblem {
  /** `quietHours.end`, `mutedCategories.1` */
  field: string
  /** For the person, in Chinese. */
  message: string
}

/**
 * The first rule `preferences` breaks, or null:
 * - quiet hours that start when they end are no window at all, so they are refused rather than kept;
 * - each muted category must be a category of the template catalogue (`categories`).
 */
export function preferencesProblem(preferences: Preferences, categories: readonly string[]): PreferencesProblem | null {
  const { quietHours } = preferences
  if (quietHours !== null && quietHours.start === quietHours.end) {
    return { field: 'quietHours.end', message: '免打扰的开始和结束时间不能相同' }
  }
  const known = new Set(categories)
  const unknown = preferences.mutedCategories.findIndex((category) => !known.has(category))
  if (unknown >= 0) {
    const category = preferences.mutedCategories[unknown]!
    return { field: `mutedCategories.${unknown}`, message: `mutedCategories.${unknown}: 没有这类通知（${category}）` }
  }
  return null
}
