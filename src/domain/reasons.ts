/**
 * Why a message was not sent (or not yet): the one vocabulary of `reason`, for the service, the
 * operator and the person's app.
 *
 * A reason is either the service's own word (NO_CREDIT, DAILY_LIMIT…) or the errcode WeChat ended
 * the send with, as a decimal string (`43101`, `-1`); an errcode's meaning is read from the send
 * table in wechat-errcodes.ts. For each reason: what it means for an operator, what the person
 * reads, whether sending it again can work, and whether it means the person has no consent left.
 */
import { creditAfterFailure, knownSendErrcodes, sendErrcodeAction, sendErrcodeMessage, sendErrcodePersonMessage } from './wechat-errcodes'

export interface ReasonInfo {
  /** For operators, in Chinese: what happened and what to do about it. */
  operator: string
  /** For the person the message was meant for (消息记录), in plain Chinese. */
  person: string
  /** Whether sending the message again can succeed without anything else changing. */
  retryable: boolean
  /** The person has no consent to spend (offer the subscribe dialog). */
  noConsent: boolean
}

/** The service's own reasons, in the order an operator meets them. */
export const SERVICE_REASONS = [
  'INVALID_DATA',
  'UNKNOWN_TEMPLATE',
  'MUTED_CATEGORY',
  'DAILY_LIMIT',
  'NO_CREDIT',
  'INTERRUPTED',
  'INTERNAL',
  'CANCELLED',
] as const
export type ServiceReason = (typeof SERVICE_REASONS)[number]

/** The errcode WeChat ended a send with, written in decimal: `43101`, `-1`. */
export type ErrcodeReason = `${number}`

export type Reason = ServiceReason | ErrcodeReason

const SERVICE_REASON_INFO: Readonly<Record<ServiceReason, ReasonInfo>> = {
  INVALID_DATA: {
    operator: '消息内容不符合模板关键词的规则，没有发送，也没有使用订阅次数',
    person: '消息内容不符合模板的要求',
    retryable: false,
    noConsent: false,
  },
  UNKNOWN_TEMPLATE: {
    operator: '消息的模板已不在模板目录中（目录在消息创建后改过）',
    person: '消息模板不存在',
    retryable: false,
    noConsent: false,
  },
  MUTED_CATEGORY: {
    operator: '收件人在通知设置里关闭了这类通知，按其意愿跳过',
    person: '你在通知设置里关闭了这类通知',
    retryable: false,
    noConsent: false,
  },
  DAILY_LIMIT: {
    operator: '收件人今天收到的消息已达其每日上限，按其意愿跳过',
    person: '已达到你设置的每日消息上限',
    retryable: false,
    noConsent: false,
  },
  NO_CREDIT: {
    operator: '收件人没有可用的订阅次数（从未同意，或次数已用完），没有调用微信',
    person: '你还没有订阅这类消息，或订阅次数已用完',
    retryable: false,
    noConsent: true,
  },
  INTERRUPTED: {
    operator: '发送途中服务中断，微信可能已收到也可能没有：为避免重复不再发送，订阅次数已退回',
    person: '发送途中服务中断，为避免重复没有重发',
    retryable: false,
    noConsent: false,
  },
  INTERNAL: {
    operator: '服务内部出错（见日志中的消息 ID），微信是否收到未知：不再发送，订阅次数已退回',
    person: '服务内部出错，消息没有发出',
    retryable: false,
    noConsent: false,
  },
  CANCELLED: {
    operator: '所属群发已取消，这条消息没有发送',
    person: '这次推送已取消',
    retryable: false,
    noConsent: false,
  },
}

const ERRCODE_REASON = /^-?(?:0|[1-9][0-9]*)$/

function isServiceReason(reason: string): reason is ServiceReason {
  return Object.hasOwn(SERVICE_REASON_INFO, reason)
}

function isErrcodeReason(reason: string): reason is ErrcodeReason {
  return ERRCODE_REASON.test(reason)
}

export function isReason(reason: string): reason is Reason {
  return isServiceReason(reason) || isErrcodeReason(reason)
}

/** The reason a send that WeChat ended with `errcode` is recorded under. */
export function errcodeReason(errcode: number): ErrcodeReason {
  return String(Math.trunc(errcode)) as ErrcodeReason
}

/** WeChat's errcode behind a reason, or null for the service's own reasons. */
export function reasonErrcode(reason: Reason): number | null {
  return isErrcodeReason(reason) ? Number(reason) : null
}

/** What `reason` means; an errcode reason is explained by WeChat's send table. */
export function describeReason(reason: Reason): ReasonInfo {
  if (isServiceReason(reason)) return SERVICE_REASON_INFO[reason]
  const errcode = Number(reason)
  return {
    operator: sendErrcodeMessage(errcode),
    person: sendErrcodePersonMessage(errcode),
    retryable: sendErrcodeAction(errcode) === 'retry' || sendErrcodeAction(errcode) === 'requeue',
    noConsent: creditAfterFailure(errcode) === 'zero',
  }
}

/** Every reason a failed message can be sent again for (WeChat busy or asking to wait, the network). */
export function retryableReasons(): Reason[] {
  const reasons: Reason[] = [...SERVICE_REASONS, ...knownSendErrcodes().map(errcodeReason)]
  return reasons.filter((reason) => describeReason(reason).retryable)
}
