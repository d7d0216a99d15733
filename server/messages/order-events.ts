/**
 * POST /api/events: an order changed status, the service builds the order-status message itself
 * (the person's client never chooses the wording or the recipient).
 *
 * Each keyword of the `order_status` template is filled by its type: character_string → order id,
 * phrase → the status label (待支付/已支付/已发货/已送达), thing → the goods name (cut to a valid
 * thing, 17 characters + "..."), time/date → the time of the event in the quiet-hours zone
 * (`2026年11月25日 13:05`), amount → the amount in yuan (`¥12.50`).
 */
import type { OrderStatus, OrderStatusChanged, Template } from '../../src/domain/contract'
import { truncateThing } from '../../src/domain/keywords'

export const ORDER_STATUS_TEMPLATE_KEY = 'order_status'

export const ORDER_STATUS_LABELS: Readonly<Record<OrderStatus, string>> = {
  pending_payment: '待支付',
  paid: '已支付',
  shipped: '已发货',
  delivered: '已送达',
}

/** The page the message opens: the order itself. */
export function orderPage(orderId: string): string {
  return `pages/orders/index?id=${orderId}`
}

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

/** Fen → `¥12.50`. */
export function formatAmount(amountFen: number): string {
  return `¥${(amountFen / 100).toFixed(2)}`
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
  const data: Record<string, string> = {}
  for (const keyword of template.keywords) {
    let value: string | undefined
    switch (keyword.type) {
      case 'character_string':
        value = event.orderId
        break
      case 'phrase':
        value = ORDER_STATUS_LABELS[event.status]
        break
      case 'thing':
        value = truncateThing(event.goodsName?.trim() || `订单 ${event.orderId}`)
        break
      case 'time':
      case 'date':
        value = formatChineseDateTime(at, timeZone)
        break
      case 'amount':
        value = event.amountFen === undefined ? undefined : formatAmount(event.amountFen)
        break
      case 'enum':
        value = keyword.enumValues?.includes(ORDER_STATUS_LABELS[event.status]) ? ORDER_STATUS_LABELS[event.status] : undefined
        break
      default:
        value = undefined
    }
    if (value !== undefined) data[keyword.name] = value
  }
  return data
}
