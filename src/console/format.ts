/** How the console writes statuses, reasons, times and numbers, in Chinese. Pure. */
import type { CampaignStatus, Delivery, KeywordType, MessageStatus, Reason } from '@/domain/contract'
import { describeReason, isReason } from '@/domain/reasons'

export const MESSAGE_STATUS_NAMES: Readonly<Record<MessageStatus, string>> = {
  queued: '排队中',
  deferred: '免打扰延后',
  sending: '发送中',
  sent: '已发送',
  failed: '失败',
  skipped: '已跳过',
}

export const CAMPAIGN_STATUS_NAMES: Readonly<Record<CampaignStatus, string>> = {
  scheduled: '未开始',
  running: '进行中',
  paused: '已暂停',
  completed: '已完成',
  cancelled: '已取消',
}

/** `43101 用户拒绝接受消息…` / `NO_CREDIT 收件人没有可用的订阅次数…`: the reason and what it means for an operator. */
export function reasonText(reason: string): string {
  return isReason(reason) ? `${reason} ${describeReason(reason as Reason).operator}` : reason
}

const pad = (n: number): string => String(n).padStart(2, '0')

/** `12-01 20:05:09` in the browser's zone; '—' for none. */
export function timeText(iso: string | null | undefined, withSeconds = true): string {
  if (iso === null || iso === undefined) return '—'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}${withSeconds ? `:${pad(date.getSeconds())}` : ''}`
  return `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`
}

/** 12,345 */
export function countText(n: number): string {
  return n.toLocaleString('en-US')
}

/** `45%` of a part in a whole (0 of 0 is 0 %). */
export function percent(part: number, whole: number): number {
  return whole <= 0 ? 0 : Math.min(100, Math.round((part / whole) * 100))
}

/** `2026-12-01 20:00` (local) → ISO, or null when it is not such a time. */
export function parseLocalTime(text: string): string | null {
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})$/.exec(text.trim())
  if (!match) return null
  const [, year, month, day, hour, minute] = match.map(Number) as [number, number, number, number, number, number]
  const date = new Date(year, month - 1, day, hour, minute)
  if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day || hour > 23) return null
  return date.toISOString()
}

/** What each keyword type takes, as WeChat's rules (src/domain/keywords.ts) check it: the hint beside a field. */
export const KEYWORD_RULE_HINTS: Readonly<Record<KeywordType, string>> = {
  thing: '事物：20 个字符以内，不能有换行和表情',
  number: '数字：32 位以内，可带小数点',
  letter: '字母：32 个以内的英文字母',
  symbol: '符号：5 个以内',
  character_string: '字符串：32 个以内的数字、字母或符号',
  time: '时间：24 小时制，如 15:01 或 2026年11月25日 15:01',
  date: '日期：如 2026年11月25日 或 2026-11-25，可带时间',
  amount: '金额：币种符号加数字，如 ¥12.50',
  phone_number: '电话：17 位以内的数字和符号',
  car_number: '车牌：8 位以内，如 粤A12345',
  name: '姓名：10 个汉字或 20 个字母以内',
  phrase: '汉字：5 个以内',
  enum: '枚举：只能是模板配置的值之一',
}

/** The hint for a keyword type as WeChat names it in its library (`thing`…); one this project does not know, as it is. */
export function keywordRuleHint(rule: string): string {
  return Object.prototype.hasOwnProperty.call(KEYWORD_RULE_HINTS, rule) ? KEYWORD_RULE_HINTS[rule as KeywordType] : rule
}

/** WeChat's ErrorStatus words in subscribe_msg_sent_event, for an operator. */
const DELIVERY_FAILURES: Readonly<Record<string, string>> = {
  'fail:user refuse': '用户拒收：在服务通知里关掉了这个小程序的消息',
  'fail:system error': '微信系统错误，消息没有送到',
}

/**
 * A sent message's delivery as WeChat pushed it (subscribe_msg_sent_event): `已送达`, or `未送达` with
 * WeChat's ErrorCode and what its ErrorStatus means; null when no report came.
 */
export function deliveryText(delivery: Delivery | undefined): string | null {
  if (delivery === undefined) return null
  if (delivery.status === 'delivered') return '已送达'
  const meaning = DELIVERY_FAILURES[delivery.errorStatus] ?? delivery.errorStatus
  return `未送达（ErrorCode ${delivery.errorCode}）：${meaning}`
}
