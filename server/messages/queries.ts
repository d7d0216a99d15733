/**
 * What the service tells about messages: a person's own list, an operator's view of one message
 * (every attempt, every status change) and the counts. Read-only; shaped as the contract says.
 */
import type { MessageDetail, MyMessage, Stats } from '../../src/domain/contract'
import type { MessageRecord, MessageRepository, MessageSummary } from '../db/storage'
import { AppError } from '../errors'

export interface MessageQueries {
  /** The person's messages, newest first. */
  mine(openid: string, limit: number): Promise<MyMessage[]>
  /** Throws AppError 404 when there is no such message. */
  detail(id: string): Promise<MessageDetail>
  /** Messages by status, WeChat answers (every attempt) by errcode. */
  stats(): Promise<Stats>
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
  if (message.page !== undefined) detail.page = message.page
  if (message.msgid !== undefined) detail.msgid = message.msgid
  if (message.sentAt !== undefined) detail.sentAt = message.sentAt.toISOString()
  if (message.deliverAfter !== undefined) detail.deliverAfter = message.deliverAfter.toISOString()
  return detail
}

export function createMessageQueries(repository: MessageRepository): MessageQueries {
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
  }
}
