/**
 * POST /api/events: an order changed status, the service builds the order-status message itself
 * (the person's client never chooses the wording or the recipient) and sends it to that person.
 *
 * Each keyword of the `order_status` template is filled by what its label says, else by its type:
 * 订单号 (character_string) → the order id; 订单状态 (phrase) → 待支付/已支付/已发货/已送达;
 * 商品名称 (thing) → the goods name cut to a valid thing (17 characters + "..."); 更新时间
 * (time/date) → the time of the event in the quiet-hours zone (`2026年11月25日 13:05`); 金额
 * (amount) → `¥12.50`; 备注 → a line about the status (`包裹正在路上，请留意查收`).
 */
import type { Keyword, MessageOutcome, OrderStatus, OrderStatusChanged, Template } from '../../src/domain/contract'
import { truncateThing, validateMessageData } from '../../src/domain/keywords'
import { formatAmount, ORDER_STATUS_LABELS, ORDER_STATUS_TEMPLATE_KEY, orderPage } from '../../src/domain/orders'
import { AppError } from '../errors'
import type { Clock } from '../wechat/types'
import type { Dispatcher } from '../dispatch/dispatcher'
import type { Pipeline } from './pipeline'
import type { TemplateDirectory } from './templates'

/** `2026年11月25日 13:05` in `timeZone`. */
export function formatChineseDateTime(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant)
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('year')}年${Number(part('month'))}月${Number(part('day'))}日 ${part('hour')}:${part('minute')}`
}

/** A line for a remark keyword (备注), per status. */
const ORDER_STATUS_REMARKS: Readonly<Record<OrderStatus, string>> = {
  pending_payment: '请尽快完成支付',
  paid: '商家正在备货',
  shipped: '包裹正在路上，请留意查收',
  delivered: '感谢您的购买',
}

type OrderField = 'orderId' | 'status' | 'goods' | 'time' | 'amount' | 'remark'

/** What a keyword shows, from its label first (订单号, 订单状态, 商品名称…), else from its type. */
function fieldOf(keyword: Keyword): OrderField | undefined {
  const { label, type } = keyword
  if (/单号|编号/.test(label)) return 'orderId'
  if (/状态/.test(label)) return 'status'
  if (/商品|物品|名称/.test(label)) return 'goods'
  if (/时间|日期/.test(label)) return 'time'
  if (/金额|价格|费用/.test(label)) return 'amount'
  if (/备注|说明|提示/.test(label)) return 'remark'
  const byType: Partial<Record<Keyword['type'], OrderField>> = {
    character_string: 'orderId',
    phrase: 'status',
    enum: 'status',
    thing: 'goods',
    time: 'time',
    date: 'time',
    amount: 'amount',
  }
  return byType[type]
}

/**
 * The `data` of the order-status message. Keywords this mapping cannot fill are left out, so the
 * pipeline records the message as failed INVALID_DATA, naming the keyword.
 */
export function orderStatusData(
  template: Template,
  event: OrderStatusChanged,
  at: Date,
  timeZone: string,
): Record<string, string> {
  const values: Record<OrderField, string | undefined> = {
    orderId: event.orderId,
    status: ORDER_STATUS_LABELS[event.status],
    // A thing allows no line breaks: collapse white space, then cut as WxJava does.
    goods: truncateThing(event.goodsName?.replace(/\s+/g, ' ').trim() || `订单 ${event.orderId}`),
    time: formatChineseDateTime(at, timeZone),
    amount: event.amountFen === undefined ? undefined : formatAmount(event.amountFen),
    remark: ORDER_STATUS_REMARKS[event.status],
  }
  const data: Record<string, string> = {}
  for (const keyword of template.keywords) {
    const field = fieldOf(keyword)
    const value = field === undefined ? undefined : values[field]
    if (value !== undefined) data[keyword.name] = value
  }
  return data
}

export interface OrderEvents {
  /**
   * Sends the order-status message for `event` to `openid` and answers what became of it (or that it
   * is still queued, after EVENT_WAIT_MS). A goods name that no keyword rule accepts is the caller's
   * mistake: AppError 400 INVALID_DATA naming `goodsName`, nothing written.
   */
  statusChanged(openid: string, event: OrderStatusChanged): Promise<MessageOutcome>
}

/** How long POST /api/events waits for WeChat's answer before it tells the app the message is on its way. */
const EVENT_WAIT_MS = 10_000

export function createOrderEvents(options: {
  pipeline: Pipeline
  dispatcher: Pick<Dispatcher, 'waitFor'>
  templates: TemplateDirectory
  clock: Clock
  timeZone: string
}): OrderEvents {
  const { pipeline, dispatcher, templates, clock, timeZone } = options
  return {
    async statusChanged(openid, event) {
      const template = templates.find(ORDER_STATUS_TEMPLATE_KEY)
      if (!template) throw new Error(`the template catalogue has no "${ORDER_STATUS_TEMPLATE_KEY}" template`)
      const data = orderStatusData(template, event, clock.now(), timeZone)
      const checked = validateMessageData(template, data)
      if (!checked.ok && event.goodsName !== undefined) {
        const keyword = template.keywords.find((candidate) => checked.field === `data.${candidate.name}.value`)
        if (keyword !== undefined && fieldOf(keyword) === 'goods') {
          throw new AppError(400, 'INVALID_DATA', `goodsName: 作为「${keyword.label}」${checked.rule}`, 'goodsName')
        }
      }
      // What is left to break is the service's own doing: written and failed INVALID_DATA, logged.
      const queued = await pipeline.submit({
        touser: openid,
        templateId: template.id,
        data,
        page: orderPage(event.orderId),
        source: 'event',
        recordInvalidData: true,
      })
      // The app shows what became of it (已发送, 未订阅 → offer the dialog): wait for the dispatcher.
      if (queued.status !== 'queued') return queued
      return (await dispatcher.waitFor(queued.id, EVENT_WAIT_MS)) ?? queued
    },
  }
}
