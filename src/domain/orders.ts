/** The demo order's life: 待支付 → 已支付 → 已发货 → 已送达. Pure. */
import type { OrderStatus } from './contract'

export const ORDER_FLOW: readonly OrderStatus[] = ['pending_payment', 'paid', 'shipped', 'delivered']

export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
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
