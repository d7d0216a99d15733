/**
 * What the service tells about messages: a person's own list, an operator's view of one message
 * (every attempt, every status change) and the counts. Read-only; shaped as the contract says.
 */
import type { MessageDetail, MessageListItem, MessageSearchQuery, MessageSearchResult, MyMessage, Stats } from '../../src/domain/contract'
import type { MessageRecord, MessageRepository, MessageSummary } from '../db/storage'
import type { TemplateDirectory } from './templates'
import { AppError } from '../errors'

export interface MessageQueries {
  /** The person's messages, newest first. */
  mine(openid: string, limit: number): Promise<MyMessage[]>
  /** Throws AppError 404 when there is no such message. */
  detail(id: string): Promise<MessageDetail>
  /** Messages by status, WeChat answers (every attempt) by errcode. */
  stats(): Promise<Stats>
  /** An operator's search, newest first. */
  search(query: MessageSearchQuery): Promise<MessageSearchResult>
}

const DEFAULT_SEARCH_LIMIT = 50

function listItem(message: MessageSummary): MessageListItem {
  const item: MessageListItem = {
    id: message.id,
    touser: message.openid,
    templateId: message.templateId,
    status: message.status,
    createdAt: message.createdAt.toISOString(),
  }
  if (message.reason !== undefined) item.reason = message.reason
  if (message.detail !== undefined) item.detail = message.detail
  if (message.campaignId !== undefined) item.campaignId = message.campaignId
  if (message.sentAt !== undefined) item.sentAt = message.sentAt.toISOString()
  if (message.status === 'deferred' && message.deliverAfter !== undefined) item.deliverAfter = message.deliverAfter.toISOString()
  return item
}

function myMessage(message: MessageSummary): MyMessage {
  const item: MyMessage = {
    id: message.id,
    templateId: message.templateId,
    status: message.status,
    createdAt: message.createdAt.toISOString(),
  }
  if (message.reason !== undefined) item.reason = message.reason
  if (message.sentAt !== undefined) item.sentAt = message.sentAt.toISOString()
  if (message.status === 'deferred' && message.deliverAfter !== undefined) item.deliverAfter = message.deliverAfter.toISOString()
  return item
}

function messageDetail(message: MessageRecord): MessageDetail {
  const detail: MessageDetail = {
    id: message.id,
    touser: message.openid,
    templateId: message.templateId,
    status: message.status,
    data: message.data,
    urgent: message.urgent,
    createdAt: message.createdAt.toISOString(),
    attempts: message.attempts.map((attempt) => ({ ...attempt, at: attempt.at.toISOString() })),
    history: message.history.map((change) => ({
      at: change.at.toISOString(),
      status: change.status,
      ...(change.reason !== undefined && { reason: change.reason }),
    })),
  }
  if (message.reason !== undefined) detail.reason = message.reason
  if (message.detail !== undefined) detail.detail = message.detail
  if (message.campaignId !== undefined) detail.campaignId = message.campaignId
  if (message.page !== undefined) detail.page = message.page
  if (message.msgid !== undefined) detail.msgid = message.msgid
  if (message.sentAt !== undefined) detail.sentAt = message.sentAt.toISOString()
  if (message.deliverAfter !== undefined) detail.deliverAfter = message.deliverAfter.toISOString()
  return detail
}

export function createMessageQueries(repository: MessageRepository, templates: TemplateDirectory): MessageQueries {
  return {
    async mine(openid, limit) {
      return (await repository.listForRecipient(openid, limit)).map(myMessage)
    },
    async detail(id) {
      const message = await repository.get(id)
      if (!message) throw new AppError(404, 'NOT_FOUND', `没有这条消息（${id}）`)
      return messageDetail(message)
    },
    stats: () => repository.stats(),
    async search(query) {
      const since = query.since === undefined ? undefined : new Date(query.since)
      const until = query.until === undefined ? undefined : new Date(query.until)
      for (const [field, time] of [['since', since], ['until', until]] as const) {
        if (time !== undefined && Number.isNaN(time.getTime())) {
          throw new AppError(400, 'VALIDATION_FAILED', `querystring.${field}: 应为 ISO 8601 时间，如 2026-11-25T13:00:00.000Z`, `querystring.${field}`)
        }
      }
      const page = await repository.search({
        ...(query.campaign !== undefined && { campaignId: query.campaign }),
        ...(query.status !== undefined && { status: query.status }),
        ...(query.touser !== undefined && { openid: query.touser }),
        // A catalogue key names its template; anything else is taken as an id (a retired one finds its old messages).
        ...(query.template !== undefined && { templateId: templates.find(query.template)?.id ?? query.template }),
        ...(query.reason !== undefined && { reason: query.reason }),
        ...(since !== undefined && { since }),
        ...(until !== undefined && { until }),
        ...(query.cursor !== undefined && { before: query.cursor }),
        limit: query.limit ?? DEFAULT_SEARCH_LIMIT,
      })
      return { items: page.items.map(listItem), nextCursor: page.next }
    },
  }
}
