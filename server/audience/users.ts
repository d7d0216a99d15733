/**
 * Users: every openid that signed in, and those an operator adds, with the tags and attributes the
 * operator's own systems give them (nickname, city, level, orderCount…) and when they were last
 * active. Operators read one with its credits (the ledger's) and preferences (the preferences
 * service's); campaigns walk a filter's users a page at a time (`page`).
 */
import type {
  AttributeValue,
  SegmentFilter,
  User,
  UserChanges,
  UserDetail,
  UserImportRequest,
  UserImportResponse,
  UserList,
  UserListQuery,
} from '../../src/domain/contract'
import { unpairedSurrogateProblem } from '../../src/domain/keywords'
import type { UserChangeSet, UserRecord, UserRepository } from '../db/storage'
import { AppError } from '../errors'
import type { Ledger } from '../ledger/ledger'
import type { PreferencesService } from '../preferences/preferences'
import type { Clock } from '../wechat/types'
import { createActivity, type Activity } from './activity'

const DEFAULT_LIST_LIMIT = 50

/** One of a filter's users, as a campaign needs them: whom to send to, and the values of its placeholders. */
export interface AudienceMember {
  openid: string
  attributes: Record<string, AttributeValue>
}

export interface AudiencePage {
  users: AudienceMember[]
  /** The cursor of the next page (`after`), or null after the last. */
  next: string | null
}

export interface UserService extends Activity {
  /** Creates the user if absent; replaces the tags and/or attributes named. Throws AppError 400 naming the field. */
  put(openid: string, changes: UserChanges): Promise<User>
  /** Every entry as a `put`, in one transaction: all or none. Throws AppError 400 naming `users.N…`. */
  import(request: UserImportRequest): Promise<UserImportResponse>
  list(query: UserListQuery): Promise<UserList>
  /** Throws AppError 404 when there is no such user. */
  detail(openid: string): Promise<UserDetail>
  /**
   * One page of the users `filter` matches, in openid order, with their attributes: at most `limit`
   * users are held at a time, however many match. Start without `after`; pass `next` back until null.
   */
  page(filter: SegmentFilter, options: { after?: string; limit: number }): Promise<AudiencePage>
  /** The first `limit` users `filter` matches, in openid order (a filter's preview). */
  sample(filter: SegmentFilter, limit: number): Promise<User[]>
  /**
   * The openids `filter` matches, a page at a time, as of one `now` (what `activeWithinDays`
   * counts back from): for counting through a segment without loading it.
   */
  openidPages(filter: SegmentFilter, options: { limit: number; now: Date }): AsyncGenerator<string[]>
}

export interface UserServiceOptions {
  repository: UserRepository
  ledger: Pick<Ledger, 'subscriptions'>
  preferences: Pick<PreferencesService, 'get'>
  clock: Clock
}

const userOf = (record: UserRecord): User => ({
  openid: record.openid,
  tags: record.tags,
  attributes: record.attributes,
  lastActiveAt: record.lastActiveAt?.toISOString() ?? null,
})

/** What the schema cannot say about a change: string attributes made of whole characters. */
function changeProblem(changes: UserChangeSet, prefix: string): AppError | null {
  for (const [key, value] of Object.entries(changes.attributes ?? {})) {
    const problem = typeof value === 'string' ? unpairedSurrogateProblem(value) : null
    if (problem !== null) return new AppError(400, 'VALIDATION_FAILED', `${prefix}attributes.${key}: ${problem}`, `${prefix}attributes.${key}`)
  }
  return null
}

export function createUserService(options: UserServiceOptions): UserService {
  const { repository, ledger, preferences, clock } = options

  async function found(openid: string): Promise<UserRecord> {
    const [record] = await repository.details([openid])
    if (!record) throw new AppError(404, 'NOT_FOUND', `没有这个用户：${openid}`, 'openid')
    return record
  }

  return {
    ...createActivity({ repository, clock }),

    async put(openid, changes) {
      const problem = changeProblem(changes, '')
      if (problem) throw problem
      await repository.put([{ openid, ...changes }], clock.now())
      return userOf(await found(openid))
    },

    async import({ users }) {
      const firstAt = new Map<string, number>()
      for (const [index, entry] of users.entries()) {
        const earlier = firstAt.get(entry.openid)
        if (earlier !== undefined) {
          throw new AppError(400, 'VALIDATION_FAILED', `users.${index}.openid: 与 users.${earlier} 重复（${entry.openid}）`, `users.${index}.openid`)
        }
        firstAt.set(entry.openid, index)
        const problem = changeProblem(entry, `users.${index}.`)
        if (problem) throw problem
      }
      return repository.put(users, clock.now())
    },

    async list(query) {
      const { openids, next } = await repository.page({
        filter: query.tag === undefined ? {} : { tagsAll: [query.tag] },
        ...(query.q !== undefined && { prefix: query.q }),
        ...(query.cursor !== undefined && { after: query.cursor }),
        limit: query.limit ?? DEFAULT_LIST_LIMIT,
        now: clock.now(),
      })
      return { items: (await repository.details(openids)).map(userOf), nextCursor: next }
    },

    async detail(openid) {
      const record = await found(openid)
      const [subscriptions, saved] = await Promise.all([ledger.subscriptions(openid), preferences.get(openid)])
      return {
        ...userOf(record),
        credits: Object.fromEntries(subscriptions.map((subscription) => [subscription.templateId, subscription.credits])),
        preferences: saved,
      }
    },

    async page(filter, { after, limit }) {
      const { openids, next } = await repository.page({ filter, ...(after !== undefined && { after }), limit, now: clock.now() })
      const records = await repository.details(openids)
      return { users: records.map((record) => ({ openid: record.openid, attributes: record.attributes })), next }
    },

    async sample(filter, limit) {
      const { openids } = await repository.page({ filter, limit, now: clock.now() })
      return (await repository.details(openids)).map(userOf)
    },

    async *openidPages(filter, { limit, now }) {
      let after: string | undefined
      do {
        const page = await repository.page({ filter, ...(after !== undefined && { after }), limit, now })
        if (page.openids.length > 0) yield page.openids
        after = page.next ?? undefined
      } while (after !== undefined)
    },
  }
}
