/**
 * Orders, as the app and the service both speak of them: the demo order's life 待支付 → 已支付 →
 * 已发货 → 已送达, the catalogue key of the template that tells about it, and the page its message
 * opens. Pure.
 */
import type { OrderStatus } from './contract'

/** The catalogue key of the order-status template (POST /api/events sends with it). */
export const ORDER_STATUS_TEMPLATE_KEY = 'order_status'

/** The page an order-status message opens: the order itself. */
export function orderPage(orderId: string): string {
  return `pages/orders/index?id=${orderId}`
}

export const ORDER_FLOW: readonly OrderStatus[] = ['pending_payment', 'paid', 'shipped', 'delivered']

export const ORDER_STATUS_LABELS: Readonly<Record<OrderStatus, string>> = {
  pending_payment: '待支付',
  paid: '已支付',
  shipped: '已发货',
  delivered: '已送达',
}

/** The status after this one, or null at the end (已送达). */
export function nextOrderStatus(status: OrderStatus): OrderStatus | null {
  const index = ORDER_FLOW.indexOf(status)
  return ORDER_FLOW[index + 1] ?? null
}

/** An amount in fen (分) as it is written for a person and in an amount keyword: `¥12.50`. */
export function formatAmount(amountFen: number): string {
  return `¥${(amountFen / 100).toFixed(2)}`
}
