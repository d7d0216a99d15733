/**
 * What the pages show for the service's and the stores' values: labels, reasons and times in plain
 * Chinese. Pure: no uni, no stores.
 *
 * Times are shown in China Standard Time (UTC+8, no daylight saving), the zone the service keeps quiet
 * hours in by default. Computed with a fixed offset rather than `Intl` time zones, which not every
 * mini-program runtime supports.
 */
import type { MessageOutcome, MessageStatus, MyMessage, Reason, TemplateKind } from '@/domain/contract'
import type { SubscriptionStatus, KeptChoice } from '@/rules/prompt-policy'
import { describeReason } from '@/domain/reasons'

const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000

function chinaTime(iso: string): Date | null {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? null : new Date(ms + CHINA_OFFSET_MS)
}

function twoDigits(value: number): string {
  return String(value).padStart(2, '0')
}

/** `08:00` */
export function formatClock(iso: string): string {
  const time = chinaTime(iso)
  return time === null ? iso : `${twoDigits(time.getUTCHours())}:${twoDigits(time.getUTCMinutes())}`
}

/** `11月25日 21:05` */
export function formatDateTime(iso: string): string {
  const time = chinaTime(iso)
  if (time === null) return iso
  return `${time.getUTCMonth() + 1}月${time.getUTCDate()}日 ${formatClock(iso)}`
}

export const SUBSCRIPTION_STATUS_LABELS: Record<SubscriptionStatus, string> = {
  unknown: '未订阅',
  accept: '已允许',
  reject: '已拒绝',
  ban: '已被封禁',
  filter: '与同名消息合并',
}

export const KEPT_CHOICE_LABELS: Record<KeptChoice, string> = {
  accept: '总是允许',
  reject: '总是拒绝',
  ban: '已被封禁',
}

export const TEMPLATE_KIND_LABELS: Record<TemplateKind, string> = {
  'one-time': '一次性订阅',
  'long-term': '长期订阅',
}

/** Category names the service uses, as a person reads them; others are shown as they are. */
const CATEGORY_LABELS: Record<string, string> = {
  order: '订单通知',
  payment: '支付通知',
  marketing: '活动推广',
  service: '服务通知',
  security: '账户安全',
}

export function categoryLabel(category: string): string {
  return CATEGORY_LABELS[category] ?? category
}

/**
 * A template's status badge. A one-time consent whose credits are spent reads 已用完, not 已允许
 * beside 剩余 0 次: there is nothing left to send with until the person subscribes again.
 */
export function subscriptionStatusLabel(kind: TemplateKind, status: SubscriptionStatus, credits: number | null, pendingAccepts = 0): string {
  if (consentUsedUp(kind, status, credits, pendingAccepts)) return '已用完'
  return SUBSCRIPTION_STATUS_LABELS[status]
}

/** Accepted once, each credit spent, and no accept waiting to reach the service. */
export function consentUsedUp(kind: TemplateKind, status: SubscriptionStatus, credits: number | null, pendingAccepts = 0): boolean {
  return kind === 'one-time' && status === 'accept' && credits === 0 && pendingAccepts === 0
}

/** What is left of a consent: `剩余 2 次`, `长期有效`, `剩余次数未知`. */
export function creditsLabel(kind: TemplateKind, status: SubscriptionStatus, credits: number | null): string {
  if (kind === 'long-term') return status === 'accept' ? '长期有效' : '未开启'
  return credits === null ? '剩余次数未知' : `剩余 ${credits} 次`
}

/** Why a message was not sent, as the person reads it (the meanings are in src/domain/reasons.ts). */
export function reasonText(reason: Reason | undefined): string {
  return reason === undefined ? '原因未知' : describeReason(reason).person
}

/** There was no consent to spend (NO_CREDIT, or WeChat's 43101): offer the subscribe dialog. */
export function isNotSubscribed(outcome: Pick<MessageOutcome, 'status' | 'reason'>): boolean {
  return outcome.status === 'failed' && outcome.reason !== undefined && describeReason(outcome.reason).noConsent
}

/** The short outcome of an order's message: `已发送`, `免打扰时段结束后发送（08:00）`, `未订阅`… */
export function outcomeLabel(outcome: Pick<MessageOutcome, 'status' | 'reason' | 'deliverAfter'>): string {
  switch (outcome.status) {
    case 'sent':
      return '已发送'
    case 'queued':
    case 'sending':
      return '发送中'
    case 'deferred':
      return outcome.deliverAfter ? `免打扰时段结束后发送（${formatClock(outcome.deliverAfter)}）` : '免打扰时段结束后发送'
    case 'skipped':
      return `已跳过：${reasonText(outcome.reason)}`
    case 'failed':
      return isNotSubscribed(outcome) ? '未订阅' : `发送失败：${reasonText(outcome.reason)}`
  }
}

const MESSAGE_STATUS_LABELS: Record<MessageStatus, string> = {
  queued: '排队中',
  sending: '发送中',
  sent: '已发送',
  deferred: '待发送（免打扰）',
  failed: '发送失败',
  skipped: '已跳过',
}

export type Tone = 'success' | 'waiting' | 'danger' | 'muted'

const MESSAGE_STATUS_TONES: Record<MessageStatus, Tone> = {
  queued: 'waiting',
  sending: 'waiting',
  sent: 'success',
  deferred: 'waiting',
  failed: 'danger',
  skipped: 'muted',
}

/** A message's status as the person reads it: a sent one WeChat reported on is 已送达 or 未送达. */
export function messageStatusLabel(message: MyMessage): string {
  if (message.status === 'sent' && message.delivery) return message.delivery.status === 'delivered' ? '已送达' : '未送达'
  return MESSAGE_STATUS_LABELS[message.status]
}

export function messageTone(message: MyMessage): Tone {
  return message.status === 'sent' && message.delivery?.status === 'failed' ? 'danger' : MESSAGE_STATUS_TONES[message.status]
}

/** The line under a message's status, with its one time: when it went, when it will go, or why it did not and when. */
export function messageDetail(message: MyMessage): string {
  switch (message.status) {
    case 'sent': {
      const sent = `发送于 ${formatDateTime(message.sentAt ?? message.createdAt)}`
      return message.delivery?.status === 'failed' ? `${sent}，微信没能送达` : sent
    }
    case 'deferred':
      return message.deliverAfter ? `将于 ${formatDateTime(message.deliverAfter)} 发送` : '免打扰时段结束后发送'
    case 'failed':
    case 'skipped':
      return `${reasonText(message.reason)} · ${formatDateTime(message.createdAt)}`
    case 'queued':
    case 'sending':
      return `创建于 ${formatDateTime(message.createdAt)}`
  }
}

/** The first keyword values of a message, as a list row previews them: `261125-130000 · 已支付`. */
export function contentPreview(message: MyMessage, count = 2): string {
  return (message.content ?? [])
    .slice(0, count)
    .map((keyword) => keyword.value)
    .join(' · ')
}
