/**
 * What moves campaigns along: starts scheduled ones when their time comes, writes a running
 * campaign's messages a page of recipients at a time (memory stays flat however large the segment),
 * and marks a campaign completed once none of its messages is pending or deferred.
 *
 * Each recipient's data is filled from their own values (placeholders.ts) and checked against the
 * keyword rules before any credit is touched: one that breaks a rule is written `skipped`
 * INVALID_DATA, naming the field. The others are written `queued`; the dispatcher sends them, humane
 * by default (muted categories, quiet hours and daily limits hold unless the campaign is urgent).
 */
import { newMessageId } from '../messages/ids'
import type { SegmentFilter } from '../../src/domain/contract'
import { validateMessageData } from '../../src/domain/keywords'
import type { CampaignMessage, CampaignRecord, Storage } from '../db/storage'
import type { TemplateDirectory } from '../messages/templates'
import type { PipelineLogger } from '../messages/pipeline'
import type { Clock } from '../wechat/types'
import { fillValue, parseValue, type Recipient, type ValuePart } from '../../src/domain/placeholders'

/**
 * Recipients read and written per transaction. A page's messages are built before its transaction and
 * live until it ends: at 1,000 they outlived the young generation's collections and filled the old one
 * (the campaign's peak RSS 276–290 MB in half the runs, 242–251 in the rest); at 250 the peak stayed at
 * ~241 MB, and a page blocks the event loop a quarter as long.
 */
export const EXPANSION_PAGE_SIZE = 250

export interface CampaignAudience {
  /** One page of the users `filter` matches, in openid order after `after`, with their attributes. */
  page(filter: SegmentFilter, after: string | null, limit: number): Promise<{ recipients: Recipient[]; next: string | null }>
}

export interface CampaignRunner {
  /** Starts moving campaigns along, unless it is at it already; resolves when there is nothing left to do now. */
  kick(): Promise<void>
  /** Stops after the page being written; kicks do nothing from then on. */
  stop(): Promise<void>
}

export interface CampaignRunnerOptions {
  storage: Storage
  audience: CampaignAudience
  templates: TemplateDirectory
  clock: Clock
  logger: PipelineLogger
  /** New messages were written: the dispatcher should look. */
  onQueued: () => void
  pageSize?: number
}

/** The keyword values with placeholders parsed, once per campaign. */
function parsedData(campaign: CampaignRecord): Map<string, ValuePart[]> {
  const parts = new Map<string, ValuePart[]>()
  for (const [name, value] of Object.entries(campaign.data)) {
    const parsed = parseValue(value)
    // Checked when the campaign was made; a value that no longer parses goes out as written.
    parts.set(name, parsed.ok ? parsed.parts : [{ text: value }])
  }
  return parts
}

export function createCampaignRunner(options: CampaignRunnerOptions): CampaignRunner {
  const { storage, audience, templates, clock, logger } = options
  const pageSize = options.pageSize ?? EXPANSION_PAGE_SIZE
  let running: Promise<void> | null = null
  let again = false
  let stopped = false

  function messageFor(campaign: CampaignRecord, parts: Map<string, ValuePart[]>, recipient: Recipient, now: Date): CampaignMessage {
    const template = templates.byId(campaign.templateId)
    const base = {
      id: newMessageId(now.getTime()),
      openid: recipient.openid,
      templateId: campaign.templateId,
      category: template?.category ?? '',
      ...(campaign.page !== undefined && { page: campaign.page }),
      urgent: campaign.urgent,
      source: 'campaign' as const,
      campaignId: campaign.id,
      createdAt: now,
    }
    const raw = (): Record<string, { value: string }> =>
      Object.fromEntries([...parts].map(([name, value]) => [name, { value: value.map((part) => ('text' in part ? part.text : `{{${part.placeholder}}}`)).join('') }]))
    if (!template) return { ...base, data: raw(), skipped: { reason: 'UNKNOWN_TEMPLATE', detail: `模板 ${campaign.templateId} 已不在模板目录中` } }
    const filled: Record<string, string> = {}
    for (const [name, value] of parts) {
      const result = fillValue(value, recipient)
      if (!result.ok) {
        return { ...base, data: raw(), skipped: { reason: 'INVALID_DATA', detail: `data.${name}.value: 这个用户没有属性 ${result.missing}，也没有默认值` } }
      }
      filled[name] = result.value
    }
    const checked = validateMessageData(template, filled, { truncate: campaign.truncate })
    if (!checked.ok) {
      const data = Object.fromEntries(Object.entries(filled).map(([name, value]) => [name, { value }]))
      return { ...base, data, skipped: { reason: 'INVALID_DATA', detail: checked.message } }
    }
    return { ...base, data: checked.data }
  }

  /** Writes the campaign's next page; false when it is done or no longer running. */
  async function expandOnce(id: string): Promise<boolean> {
    const campaign = await storage.campaigns.get(id)
    if (!campaign || campaign.status !== 'running' || campaign.expanded) return false
    const { recipients, next } = await audience.page(campaign.segmentFilter, campaign.expansionCursor, pageSize)
    const now = clock.now()
    const parts = parsedData(campaign)
    const messages = recipients.map((recipient) => messageFor(campaign, parts, recipient, now))
    const last = recipients.at(-1)?.openid ?? campaign.expansionCursor
    const done = next === null
    const page = await storage.campaigns.expandPage({ id, fromCursor: campaign.expansionCursor, toCursor: last, done, messages, now })
    if (page === null) return false
    if (page.written > 0) options.onQueued()
    return !done
  }

  async function step(): Promise<boolean> {
    let worked = false
    const now = clock.now()
    for (const id of await storage.campaigns.dueToStart(now)) {
      if (await storage.campaigns.setStatus(id, ['scheduled'], 'running', now, { startedAt: now })) worked = true
    }
    for (const id of await storage.campaigns.expanding()) {
      try {
        // One page each in turn, so one large campaign does not hold up the others.
        if (await expandOnce(id)) worked = true
      } catch (error) {
        logger.error({ err: error, campaignId: id }, 'writing a page of campaign messages failed; tried again on the next run')
      }
    }
    for (const id of await storage.campaigns.finished()) {
      await storage.campaigns.setStatus(id, ['running'], 'completed', clock.now(), { finishedAt: clock.now() })
    }
    return worked
  }

  async function run(): Promise<void> {
    do {
      again = false
      while (!stopped && (await step())) {
        // Let requests and the dispatcher in between pages.
        await new Promise((resolve) => setImmediate(resolve))
      }
    } while (again && !stopped)
  }

  return {
    kick() {
      if (stopped) return Promise.resolve()
      if (running) {
        again = true
        return running
      }
      running = run().finally(() => {
        running = null
      })
      return running
    },
    async stop() {
      stopped = true
      await running
    },
  }
}
