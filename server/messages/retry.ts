/**
 * Sending a failed message again, where that can work: WeChat was busy or asked to wait, or the
 * network failed (reasons.ts says which). Any other failure answers why not: 43101 means the person
 * has no consent left, 47003 names the field WeChat refused, INVALID_DATA the rule the data broke.
 */
import type { MessageOutcome, MessageStatus } from '../../src/domain/contract'
import { describeReason, retryableReasons } from '../../src/domain/reasons'
import type { MessageRecord, MessageRepository } from '../db/storage'
import { AppError } from '../errors'
import type { Clock } from '../wechat/types'
import { outcomeOf } from './outcome'

const STATUS_NAMES: Record<MessageStatus, string> = {
  queued: '排队中',
  deferred: '待发送（免打扰）',
  sending: '发送中',
  sent: '已发送',
  failed: '发送失败',
  skipped: '已跳过',
}

/** The field WeChat names in a 47003 (`argument invalid! data.thing18.value invalid`), if it does. */
function refusedField(message: MessageRecord): string | null {
  const last = message.attempts.at(-1)
  return last === undefined ? null : (/(data\.[a-z_]+[0-9]+\.value)/.exec(last.errmsg)?.[1] ?? null)
}

/** Why `message` cannot be sent again, for an operator. */
function whyNot(message: MessageRecord): string {
  if (message.status !== 'failed') return `只有发送失败的消息可以重试，这条消息${STATUS_NAMES[message.status]}`
  if (message.reason === undefined) return '这条消息失败的原因不明，不能重试'
  const explained = describeReason(message.reason).operator
  if (message.reason === '47003') {
    const field = refusedField(message)
    return field === null ? `47003 ${explained}` : `47003 ${explained}：微信不接受 ${field}`
  }
  if (message.detail !== undefined) return `${message.reason} ${explained}：${message.detail}`
  return `${message.reason} ${explained}`
}

export function createMessageRetry(options: { messages: MessageRepository; clock: Clock; onQueued: () => void }) {
  const { messages, clock } = options
  return {
    /** Throws AppError 404 for no such message, 409 NOT_RETRYABLE with the reason explained. */
    async retry(id: string): Promise<MessageOutcome> {
      const message = await messages.get(id)
      if (!message) throw new AppError(404, 'NOT_FOUND', `没有这条消息（${id}）`)
      if (!(await messages.retry(id, retryableReasons(), clock.now()))) throw new AppError(409, 'NOT_RETRYABLE', whyNot(message))
      options.onQueued()
      return outcomeOf((await messages.get(id)) ?? message)
    },
  }
}

export type MessageRetry = ReturnType<typeof createMessageRetry>
