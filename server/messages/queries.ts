/**
 * What the service tells about messages: a person's own list, an operator's view of one message
 * (every attempt, every status change) and the counts. Read-only; shaped as the contract says.
 * A sent message shows its delivery once WeChat's subscribe_msg_sent_event for its msgid came.
 */
import type { Delivery, MessageDetail, MyMessage, Stats } from '../../src/domain/contract'
import type { DeliveryRecord, DeliveryRepository, MessageRecord, MessageRepository, MessageSummary } from '../db/storage'
import { AppError } from '../errors'

export interface MessageQueries {
  /** The person's messages, newest first. */
  mine(openid: string, limit: number): Promise<MyMessage[]>
  /** Throws AppError 404 when there is no such message. */
  detail(id: string): Promise<MessageDetail>
  /** Messages by status, WeChat answers (every attempt) by errcode. */
  stats(): Promise<Stats>
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
  if (message.page !== undefined) detail.page = message.page
  if (message.msgid !== undefined) detail.msgid = message.msgid
  if (message.sentAt !== undefined) detail.sentAt = message.sentAt.toISOString()
  if (message.deliverAfter !== undefined) detail.deliverAfter = message.deliverAfter.toISOString()
  return { ...detail, ...deliveryOf(delivery) }
}

export function createMessageQueries(repository: MessageRepository, deliveries: DeliveryRepository): MessageQueries {
  const deliveriesOf = (messages: readonly MessageSummary[]): Promise<Map<string, DeliveryRecord>> =>
    deliveries.forMsgids(messages.flatMap((message) => (message.msgid === undefined ? [] : [message.msgid])))
  return {
    async mine(openid, limit) {
      const messages = await repository.listForRecipient(openid, limit)
      const delivered = await deliveriesOf(messages)
      return messages.map((message) => myMessage(message, message.msgid === undefined ? undefined : delivered.get(message.msgid)))
    },
    async detail(id) {
      const message = await repository.get(id)
      if (!message) throw new AppError(404, 'NOT_FOUND', `没有这条消息（${id}）`)
      const delivered = await deliveriesOf([message])
      return messageDetail(message, message.msgid === undefined ? undefined : delivered.get(message.msgid))
    },
    async stats() {
      const [counts, byDelivery] = await Promise.all([repository.stats(), deliveries.counts()])
      return { ...counts, byDelivery }
    },
  }
}
