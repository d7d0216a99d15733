/**
 * A person's notification preferences: the defaults for who never saved any, the rules a saved set
 * must meet (src/domain/preferences.ts, shared with the app), read and write.
 */
import type { Preferences } from '../../src/domain/contract'
import { DEFAULT_PREFERENCES, preferencesProblem } from '../../src/domain/preferences'
import type { PreferencesRepository } from '../db/storage'
import { AppError } from '../errors'
import type { TemplateDirectory } from '../messages/templates'
import type { Clock } from '../wechat/types'

export interface PreferencesService {
  /** What is saved, else the defaults. */
  get(openid: string): Promise<Preferences>
  /** `get` for each of `openids`, in one read. */
  getMany(openids: readonly string[]): Promise<Map<string, Preferences>>
  /** `getMany` from what the people saved, already read (`PreferencesRepository.getMany`'s answer). */
  ofSaved(openids: readonly string[], saved: ReadonlyMap<string, Preferences>): Map<string, Preferences>
  /** Throws AppError 400 naming the field for a set the rules refuse; returns what was saved. */
  put(openid: string, preferences: Preferences): Promise<Preferences>
}

export function createPreferencesService(options: {
  repository: PreferencesRepository
  templates: TemplateDirectory
  clock: Clock
}): PreferencesService {
  const { repository, templates, clock } = options
  const categories = (): string[] => [...new Set(templates.list().map((template) => template.category))]
  const defaults = (): Preferences => ({ ...DEFAULT_PREFERENCES, mutedCategories: [] })
  const ofSaved = (openids: readonly string[], saved: ReadonlyMap<string, Preferences>): Map<string, Preferences> =>
    new Map(openids.map((openid) => [openid, saved.get(openid) ?? defaults()]))
  return {
    async get(openid) {
      return (await repository.get(openid)) ?? defaults()
    },
    async getMany(openids) {
      return ofSaved(openids, await repository.getMany(openids))
    },
    ofSaved,
    async put(openid, input) {
      const preferences: Preferences = {
        quietHours: input.quietHours === null ? null : { start: input.quietHours.start, end: input.quietHours.end },
        dailyLimit: input.dailyLimit,
        mutedCategories: [...input.mutedCategories],
      }
      const problem = preferencesProblem(preferences, categories())
      if (problem !== null) throw new AppError(400, 'VALIDATION_FAILED', problem.message, problem.field)
      await repository.put(openid, preferences, clock.now())
      return preferences
    },
  }
}
