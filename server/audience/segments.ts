/**
 * Segments: a saved, named filter over users (SegmentFilter in the contract; the engine turns it
 * into SQL), and its reach for a template: how many of its users a send would reach now, and why
 * the others would not be sent to, decided for each by the dispatcher's own rule (deliveryVerdict).
 */
import { randomUUID } from 'node:crypto'
import type { SegmentPreview } from '../../src/domain/console-contract'
import type { Segment, SegmentFilter, SegmentReach, SegmentRequest } from '../../src/domain/contract'
import { localDayKey } from '../../src/domain/quiet-hours'
import type { MessageRepository, SegmentRecord, SegmentRepository } from '../db/storage'
import { AppError } from '../errors'
import type { Ledger } from '../ledger/ledger'
import { deliveryVerdict } from '../messages/eligibility'
import type { TemplateDirectory } from '../messages/templates'
import type { PreferencesService } from '../preferences/preferences'
import type { Clock } from '../wechat/types'
import type { UserService } from './users'

/** Users read at a time when counting reach: three queries per page, whatever the segment's size. */
const REACH_PAGE_SIZE = 1000
/** Users a preview shows. */
const PREVIEW_SAMPLE_SIZE = 5

export interface SegmentService {
  /** Throws AppError 400 naming the field of a filter that cannot work, 409 CONFLICT for a name taken. */
  create(request: SegmentRequest): Promise<Segment>
  list(): Promise<Segment[]>
  /** Throws AppError 404. */
  get(id: string): Promise<Segment>
  /** Throws AppError 404. */
  delete(id: string): Promise<void>
  /** Throws AppError 404 for the segment, 400 UNKNOWN_TEMPLATE for the template (id or key). */
  reach(id: string, template: string): Promise<SegmentReach>
  /** How many users a filter not saved yet matches, and the first few. Throws AppError 400 as `create`. */
  preview(filter: SegmentFilter): Promise<SegmentPreview>
}

export interface SegmentServiceOptions {
  repository: SegmentRepository
  users: Pick<UserService, 'openidPages' | 'sample'>
  ledger: Pick<Ledger, 'creditsOf'>
  preferences: Pick<PreferencesService, 'getMany'>
  messages: Pick<MessageRepository, 'countOnDay'>
  templates: TemplateDirectory
  clock: Clock
  /** The zone of quiet hours and daily limits. */
  timeZone: string
  /** Users read at a time when counting reach (default 1000). */
  pageSize?: number
}

const segmentOf = (record: SegmentRecord): Segment => ({
  id: record.id,
  name: record.name,
  filter: record.filter,
  createdAt: record.createdAt.toISOString(),
})

const invalid = (field: string, rule: string): AppError => new AppError(400, 'VALIDATION_FAILED', `${field}: ${rule}`, field)

/** What the schema cannot say about a filter: conditions no user can meet. */
function filterProblem(filter: SegmentFilter): AppError | null {
  const all = new Set(filter.tagsAll ?? [])
  for (const [index, tag] of (filter.tagsNone ?? []).entries()) {
    if (all.has(tag)) return invalid(`filter.tagsNone.${index}`, `「${tag}」也在 tagsAll 里：没有用户能既有又没有这个标签`)
  }
  for (const [key, condition] of Object.entries(filter.attributes ?? {})) {
    if (condition.gte !== undefined && condition.lte !== undefined && condition.gte > condition.lte) {
      return invalid(`filter.attributes.${key}.lte`, `不能小于 gte（${String(condition.gte)}）：没有数值能同时满足`)
    }
  }
  return null
}

export function createSegmentService(options: SegmentServiceOptions): SegmentService {
  const { repository, users, ledger, preferences, messages, templates, clock, timeZone } = options
  const pageSize = options.pageSize ?? REACH_PAGE_SIZE

  async function found(id: string): Promise<SegmentRecord> {
    const record = await repository.get(id)
    if (!record) throw new AppError(404, 'NOT_FOUND', `没有这个用户分群：${id}`, 'id')
    return record
  }

  return {
    async create({ name, filter }) {
      const problem = filterProblem(filter)
      if (problem) throw problem
      const record: SegmentRecord = { id: randomUUID(), name, filter, createdAt: clock.now() }
      if (!(await repository.create(record))) throw new AppError(409, 'CONFLICT', `name: 已有名为「${name}」的用户分群`, 'name')
      return segmentOf(record)
    },

    async list() {
      return (await repository.list()).map(segmentOf)
    },

    async get(id) {
      return segmentOf(await found(id))
    },

    async delete(id) {
      if (!(await repository.delete(id))) throw new AppError(404, 'NOT_FOUND', `没有这个用户分群：${id}`, 'id')
    },

    async reach(id, templateRef) {
      const segment = await found(id)
      const template = templates.find(templateRef)
      if (!template) {
        throw new AppError(400, 'UNKNOWN_TEMPLATE', `querystring.template: 没有这个模板（ID 或 key）：${templateRef}`, 'querystring.template')
      }
      // One instant for the whole count, so every page is judged at the same moment.
      const now = clock.now()
      const dayKey = localDayKey(now, timeZone)
      const reach: SegmentReach = { users: 0, eligible: 0, deferred: 0, notEligible: { NO_CREDIT: 0, MUTED_CATEGORY: 0, DAILY_LIMIT: 0 } }
      for await (const openids of users.openidPages(segment.filter, { limit: pageSize, now })) {
        const [credits, wishes, sentToday] = await Promise.all([
          ledger.creditsOf(openids, template.id),
          preferences.getMany(openids),
          Promise.all(openids.map((openid) => messages.countOnDay(openid, dayKey))),
        ])
        for (const [index, openid] of openids.entries()) {
          const verdict = deliveryVerdict({
            preferences: wishes.get(openid)!,
            category: template.category,
            urgent: false,
            credits: credits.get(openid) ?? 0,
            sentToday: sentToday[index]!,
            now,
            timeZone,
          })
          reach.users += 1
          if (verdict.verdict === 'send') reach.eligible += 1
          else if (verdict.verdict === 'defer') reach.deferred += 1
          else reach.notEligible[verdict.reason] += 1
        }
      }
      return reach
    },

    async preview(filter) {
      const problem = filterProblem(filter)
      if (problem) throw problem
      let users = 0
      for await (const openids of options.users.openidPages(filter, { limit: pageSize, now: clock.now() })) users += openids.length
      return { users, sample: await options.users.sample(filter, PREVIEW_SAMPLE_SIZE) }
    },
  }
}
