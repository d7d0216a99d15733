/**
 * Campaigns: a template with data (placeholders allowed) sent to a segment, with a start time, a rate
 * and live counts; paused, resumed, cancelled, and its retryable failures retried. Everything that
 * cannot work is refused when the campaign is made (400 naming the field): an unknown segment or
 * template, keyword names other than the template's, a placeholder's syntax, a fixed value a keyword
 * rule refuses, a page outside pages.json.
 */
import { randomUUID } from 'node:crypto'
import type { Campaign, CampaignRequest, CampaignStatus, MessageStatus, SegmentFilter } from '../../src/domain/contract'
import { campaignDataProblems } from '../../src/domain/campaign-data'
import { retryableReasons } from '../../src/domain/reasons'
import type { CampaignRecord, Storage } from '../db/storage'
import { AppError } from '../errors'
import { isMiniProgramPage } from '../messages/pages'
import type { TemplateDirectory } from '../messages/templates'
import type { Clock } from '../wechat/types'
import type { CampaignRunner } from './runner'

export interface CampaignService {
  /** Throws AppError 400 naming the field for a campaign that cannot work. */
  create(request: CampaignRequest): Promise<Campaign>
  /** Throws AppError 404. */
  get(id: string): Promise<Campaign>
  list(): Promise<Campaign[]>
  pause(id: string): Promise<Campaign>
  resume(id: string): Promise<Campaign>
  /** What is pending or deferred is skipped CANCELLED; what is being sent finishes. */
  cancel(id: string): Promise<Campaign>
  /** Its failed messages whose reason can be retried go back in the queue. */
  retry(id: string): Promise<{ retried: number }>
}

export interface CampaignServiceOptions {
  storage: Storage
  templates: TemplateDirectory
  /** The mini-program's pages, without a leading slash. */
  pages: ReadonlySet<string>
  clock: Clock
  runner: CampaignRunner
  /** The segment's filter, or null when there is no such segment. */
  segmentFilter: (id: string) => Promise<SegmentFilter | null>
  /** Messages went back in the queue: the dispatcher should look. */
  onQueued: () => void
}

const STATUS_NAMES: Record<CampaignStatus, string> = {
  scheduled: '未开始',
  running: '进行中',
  paused: '已暂停',
  completed: '已完成',
  cancelled: '已取消',
}

function conflict(campaign: CampaignRecord, action: string): AppError {
  return new AppError(409, 'CONFLICT', `群发「${campaign.name}」${STATUS_NAMES[campaign.status]}，不能${action}`)
}

export function createCampaignService(options: CampaignServiceOptions): CampaignService {
  const { storage, templates, pages, clock, runner } = options

  async function recordOf(id: string): Promise<CampaignRecord> {
    const campaign = await storage.campaigns.get(id)
    if (!campaign) throw new AppError(404, 'NOT_FOUND', `没有这个群发（${id}）`)
    return campaign
  }

  async function view(campaign: CampaignRecord): Promise<Campaign> {
    const { byStatus, byReason } = await storage.campaigns.counts(campaign.id)
    const count = (...statuses: MessageStatus[]): number => statuses.reduce((sum, status) => sum + (byStatus[status] ?? 0), 0)
    const answer: Campaign = {
      id: campaign.id,
      name: campaign.name,
      status: campaign.status,
      segmentId: campaign.segmentId,
      templateId: campaign.templateId,
      data: campaign.data,
      urgent: campaign.urgent,
      truncate: campaign.truncate,
      total: campaign.total,
      expanded: campaign.expanded,
      counts: {
        pending: count('queued', 'sending'),
        sent: count('sent'),
        deferred: count('deferred'),
        skipped: count('skipped'),
        failed: count('failed'),
      },
      reasons: byReason,
      createdAt: campaign.createdAt.toISOString(),
    }
    if (campaign.page !== undefined) answer.page = campaign.page
    if (campaign.ratePerSecond !== undefined) answer.ratePerSecond = campaign.ratePerSecond
    if (campaign.startAt !== undefined) answer.startAt = campaign.startAt.toISOString()
    if (campaign.startedAt !== undefined) answer.startedAt = campaign.startedAt.toISOString()
    if (campaign.finishedAt !== undefined) answer.finishedAt = campaign.finishedAt.toISOString()
    return answer
  }

  /** The data checked against the template (src/domain/campaign-data.ts, as the console shows it): the first problem refuses it. */
  function checkData(request: CampaignRequest, templateId: string): void {
    const [problem] = campaignDataProblems(templates.byId(templateId)!, request.data, { truncate: request.truncate === true })
    if (problem) throw new AppError(400, 'INVALID_DATA', problem.message, problem.field)
  }

  return {
    async create(request) {
      const template = templates.find(request.template)
      if (!template) throw new AppError(400, 'UNKNOWN_TEMPLATE', `template: 没有这个模板（${request.template}）`, 'template')
      const segmentFilter = await options.segmentFilter(request.segmentId)
      if (segmentFilter === null) throw new AppError(400, 'UNKNOWN_SEGMENT', `segmentId: 没有这个分群（${request.segmentId}）`, 'segmentId')
      checkData(request, template.id)
      if (request.page !== undefined && !isMiniProgramPage(request.page, pages)) {
        throw new AppError(400, 'INVALID_PAGE', `page: 不是小程序的页面（${request.page}），见 pages.json`, 'page')
      }
      const now = clock.now()
      let startAt: Date | undefined
      if (request.startAt !== undefined) {
        startAt = new Date(request.startAt)
        if (Number.isNaN(startAt.getTime())) {
          throw new AppError(400, 'VALIDATION_FAILED', 'startAt: 应为 ISO 8601 时间，如 2026-11-25T13:00:00.000Z', 'startAt')
        }
      }
      const later = startAt !== undefined && startAt.getTime() > now.getTime()
      const campaign: CampaignRecord = {
        id: randomUUID(),
        name: request.name,
        segmentId: request.segmentId,
        segmentFilter,
        templateId: template.id,
        data: { ...request.data },
        ...(request.page !== undefined && { page: request.page }),
        urgent: request.urgent === true,
        truncate: request.truncate === true,
        ...(request.ratePerSecond !== undefined && { ratePerSecond: request.ratePerSecond }),
        status: later ? 'scheduled' : 'running',
        ...(startAt !== undefined && { startAt }),
        expansionCursor: null,
        expanded: false,
        total: 0,
        createdAt: now,
        ...(!later && { startedAt: now }),
      }
      await storage.campaigns.create(campaign)
      void runner.kick()
      return view(campaign)
    },

    async get(id) {
      return view(await recordOf(id))
    },

    async list() {
      return Promise.all((await storage.campaigns.list()).map(view))
    },

    async pause(id) {
      const campaign = await recordOf(id)
      if (!(await storage.campaigns.setStatus(id, ['scheduled', 'running'], 'paused', clock.now()))) throw conflict(campaign, '暂停')
      return view(await recordOf(id))
    },

    async resume(id) {
      const campaign = await recordOf(id)
      const now = clock.now()
      const later = campaign.startedAt === undefined && campaign.startAt !== undefined && campaign.startAt.getTime() > now.getTime()
      const to = later ? 'scheduled' : 'running'
      const times = later || campaign.startedAt !== undefined ? {} : { startedAt: now }
      if (!(await storage.campaigns.setStatus(id, ['paused'], to, now, times))) throw conflict(campaign, '继续')
      void runner.kick()
      options.onQueued()
      return view(await recordOf(id))
    },

    async cancel(id) {
      const campaign = await recordOf(id)
      const now = clock.now()
      if (!(await storage.campaigns.setStatus(id, ['scheduled', 'running', 'paused'], 'cancelled', now, { finishedAt: now }))) {
        throw conflict(campaign, '取消')
      }
      await storage.campaigns.skipPending(id, 'CANCELLED', now)
      return view(await recordOf(id))
    },

    async retry(id) {
      const campaign = await recordOf(id)
      if (campaign.status === 'cancelled') throw conflict(campaign, '重试')
      const now = clock.now()
      const retried = await storage.campaigns.retryFailed(id, retryableReasons(), now)
      if (retried > 0) {
        // A finished campaign runs again until its retried messages are done.
        await storage.campaigns.setStatus(id, ['completed'], 'running', now, { finishedAt: null })
        options.onQueued()
      }
      return { retried }
    },
  }
}
