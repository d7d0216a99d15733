/**
 * The audience services over one storage: users (and their activity) and segments with reach. One
 * place wires them, for the app, the benchmarks and the tests alike.
 */
import type { Storage } from '../db/storage'
import type { Ledger } from '../ledger/ledger'
import type { TemplateDirectory } from '../messages/templates'
import type { PreferencesService } from '../preferences/preferences'
import type { Clock } from '../wechat/types'
import { createSegmentService, type SegmentService } from './segments'
import { createUserService, type UserService } from './users'

export interface Audience {
  users: UserService
  segments: SegmentService
}

export function createAudience(options: {
  storage: Pick<Storage, 'users' | 'segments' | 'messages'>
  ledger: Ledger
  preferences: PreferencesService
  templates: TemplateDirectory
  clock: Clock
  /** The zone of quiet hours and daily limits. */
  timeZone: string
  /** Users read at a time when counting reach (default 1000). */
  reachPageSize?: number
}): Audience {
  const { storage, ledger, preferences, templates, clock, timeZone } = options
  const users = createUserService({ repository: storage.users, ledger, preferences, clock })
  const segments = createSegmentService({
    repository: storage.segments,
    users,
    ledger,
    preferences,
    messages: storage.messages,
    templates,
    clock,
    timeZone,
    ...(options.reachPageSize !== undefined && { pageSize: options.reachPageSize }),
  })
  return { users, segments }
}
