/**
 * What the service tells about messages: a person's own list, an operator's view of one message
 * (every attempt, every status change) and the counts. Read-only; shaped as the contract says.
 * A sent message shows its delivery once WeChat's subscribe_msg_sent_event for its msgid came.
 */
import type {
  Delivery,
  MessageDetail,
  MessageKeyword,
  MessageListItem,
  MessageSearchQuery,
  MessageSearchResult,
  MyMessage,
  MyMessageDetail,
  Stats,
  Template,
} from '../../src/domain/contract'
import type { DeliveryRecord, DeliveryRepository, MessageRecord, MessageRepository, MessageSummary } from '../db/storage'
import type { TemplateDirectory } from './templates'
import { AppError } from '../errors'

export interface MessageQueries {
  /** The person's messages, newest first. */
  mine(openid: string, limit: number): Promise<MyMessage[]>
  /** One of the person's own messages; AppError 404 for another's or none (the same answer: nothing is revealed). */
  mineOne(openid: string, id: string): Promise<MyMessageDetail>
  /** Throws AppError 404 when there is no such message. */
  detail(id: string): Promise<MessageDetail>
  /** Messages by status, WeChat answers (every attempt) by errcode. */
  stats(): Promise<Stats>
  /** An operator's search, newest first. */
  search(query: MessageSearchQuery): Promise<MessageSearchResult>
}

const DEFAULT_SEARCH_LIMIT = 50

function listItem(message: MessageSummary, delivery: DeliveryRecord | undefined): MessageListItem {
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
  return { ...item, ...deliveryOf(delivery) }
}

function deliveryOf(record: DeliveryRecord | undefined): { delivery?: Delivery } {
  return record === undefined ? {} : { delivery: { ...record, at: record.at.toISOString() } }
}

function myMessage(message: MessageSummary, delivery: DeliveryRecord | undefined): MyMessage {
  const item: MyMessage = {
    id: message.id,
    templateId: message.templateId,
    status: message.status,
    createdAt: message.createdAt.toISOString(),
  }
  if (message.reason !== undefined) item.reason = message.reason
  if (message.sentAt !== undefined) item.sentAt = message.sentAt.toISOString()
  if (message.status === 'deferred' && message.deliverAfter !== undefined) item.deliverAfter = message.deliverAfter.toISOString()
  return { ...item, ...deliveryOf(delivery) }
}

/** The message's keywords in the template's order, labelled as the notice labels them; keys the template lacks after them. */
function contentOf(data: Record<string, { value: string }>, template: Template | undefined): MessageKeyword[] {
  const known = (template?.keywords ?? []).filter((keyword) => Object.hasOwn(data, keyword.name))
  const names = new Set(known.map((keyword) => keyword.name))
  return [
    ...known.map((keyword) => ({ name: keyword.name, label: keyword.label, value: data[keyword.name]?.value ?? '' })),
    ...Object.entries(data)
      .filter(([name]) => !names.has(name))
      .map(([name, entry]) => ({ name, label: name, value: entry.value })),
  ]
}

function myMessageDetail(message: MessageRecord, delivery: DeliveryRecord | undefined, template: Template | undefined): MyMessageDetail {
  const detail: MyMessageDetail = {
    ...myMessage(message, delivery),
    content: contentOf(message.data, template),
    history: message.history.map((change) => ({
      at: change.at.toISOString(),
      status: change.status,
      ...(change.reason !== undefined && { reason: change.reason }),
    })),
  }
  if (message.page !== undefined) detail.page = message.page
  return detail
}

function messageDetail(message: MessageRecord, delivery: DeliveryRecord | undefined): MessageDetail {
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
  return { ...detail, ...deliveryOf(delivery) }
}

export function createMessageQueries(repository: MessageRepository, templates: TemplateDirectory, deliveries: DeliveryRepository): MessageQueries {
  const deliveriesOf = (messages: readonly MessageSummary[]): Promise<Map<string, DeliveryRecord>> =>
    deliveries.forMsgids(messages.flatMap((message) => (message.msgid === undefined ? [] : [message.msgid])))
  const deliveryFor = (message: MessageSummary, delivered: Map<string, DeliveryRecord>): DeliveryRecord | undefined =>
    message.msgid === undefined ? undefined : delivered.get(message.msgid)
  return {
    async mine(openid, limit) {
      const messages = await repository.listForRecipient(openid, limit)
      const delivered = await deliveriesOf(messages)
      return messages.map((message) => {
        const item = myMessage(message, deliveryFor(message, delivered))
        return message.data === undefined ? item : { ...item, content: contentOf(message.data, templates.byId(message.templateId)) }
      })
    },
    async mineOne(openid, id) {
      const message = await repository.get(id)
      if (!message || message.openid !== openid) throw new AppError(404, 'NOT_FOUND', `没有这条消息（${id}）`)
      const delivered = await deliveriesOf([message])
      return myMessageDetail(message, deliveryFor(message, delivered), templates.byId(message.templateId))
    },
    async detail(id) {
      const message = await repository.get(id)
      if (!message) throw new AppError(404, 'NOT_FOUND', `没有这条消息（${id}）`)
      const delivered = await deliveriesOf([message])
      return messageDetail(message, deliveryFor(message, delivered))
    },
    async stats() {
      const [counts, byDelivery] = await Promise.all([repository.stats(), deliveries.counts()])
      return { ...counts, byDelivery }
    },
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
      const delivered = await deliveriesOf(page.items)
      return { items: page.items.map((message) => listItem(message, deliveryFor(message, delivered))), nextCursor: page.next }
    },
  }
}
