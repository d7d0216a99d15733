/**
 * The demo orders (persisted on the device). `placeOrder()` makes one 待支付; `advance(id)` moves it
 * one step (待支付 → 已支付 → 已发货 → 已送达), saves that at once, then asks the service to send the
 * order-status message (POST /api/events) and returns the service's outcome: `sent`, `deferred`
 * (quiet hours, with `deliverAfter`), `failed` with a reason such as NO_CREDIT, `skipped`… The page
 * decides what to show (toast, modal offering to subscribe); the store never does.
 */
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { MessageOutcome, OrderStatus } from '@/domain/contract'
import { nextOrderStatus } from '@/domain/orders'
import { useClientContext } from '@/context'
import { dropOwnerless, isFiniteNumber, isRecord, isString, personalSlot, type PersistedSlot } from '@/platform/persisted'
import { hasShape } from '@/rules/shape'

export interface DemoOrder {
  /** `261125-130512`: when it was placed (China time); `^[A-Za-z0-9_-]{1,32}$` as the contract asks. */
  id: string
  goodsName: string
  amountFen: number
  status: OrderStatus
  createdAt: number
  updatedAt: number
  /** The service's answer to the last status change; null before one came. */
  lastOutcome: MessageOutcome | null
}

interface AdvanceResult {
  order: DemoOrder
  from: OrderStatus
  to: OrderStatus
  outcome: MessageOutcome
}

interface PlaceOrderInput {
  goodsName?: string
  amountFen?: number
}

const DEMO_GOODS: readonly { goodsName: string; amountFen: number }[] = [
  { goodsName: '手冲咖啡豆 250g', amountFen: 6800 },
  { goodsName: '帆布托特包', amountFen: 12900 },
  { goodsName: '无线蓝牙耳机', amountFen: 29900 },
]

const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000

/**
 * A demo order's number as a person reads it: the time it was placed in China, `261125-130512`; a
 * second order in the same second gets `-2`, `-3`… (within the contract's `^[A-Za-z0-9_-]{1,32}$`).
 */
function orderNumber(now: number, taken: ReadonlySet<string>): string {
  const time = new Date(now + CHINA_OFFSET_MS).toISOString() // 2026-11-25T13:05:12.000Z, in China
  const base = `${time.slice(2, 4)}${time.slice(5, 7)}${time.slice(8, 10)}-${time.slice(11, 13)}${time.slice(14, 16)}${time.slice(17, 19)}`
  let number = base
  for (let n = 2; taken.has(number); n += 1) number = `${base}-${n}`
  return number
}

function parseOrder(value: unknown): DemoOrder | null {
  if (!isRecord(value)) return null
  const { id, goodsName, amountFen, status, createdAt, updatedAt, lastOutcome } = value
  if (!isString(id) || !isString(goodsName) || !isFiniteNumber(amountFen) || !hasShape(OrderStatus, status)) return null
  if (!isFiniteNumber(createdAt) || !isFiniteNumber(updatedAt)) return null
  return { id, goodsName, amountFen, status, createdAt, updatedAt, lastOutcome: hasShape(MessageOutcome, lastOutcome) ? lastOutcome : null }
}

function parseOrders(data: unknown): DemoOrder[] | null {
  if (!Array.isArray(data)) return null
  return data.map(parseOrder).filter((order) => order !== null)
}

export const useOrdersStore = defineStore('orders', () => {
  const context = useClientContext()
  dropOwnerless(context.platform.storage, 'orders')
  let slot: PersistedSlot<DemoOrder[]> | null = null

  // state: the signed-in person's orders, newest first
  const orders = ref<DemoOrder[]>([])

  function openFor(openid: string | null): void {
    slot = openid === null ? null : personalSlot(context.platform.storage, 'orders', openid, { version: 1, parse: parseOrders })
    orders.value = slot?.load() ?? []
  }
  watch(() => context.currentOpenid(), openFor, { immediate: true, flush: 'sync' })

  // getters
  const ordersById = computed(() => new Map(orders.value.map((order) => [order.id, order])))

  function persist(): void {
    slot?.save(orders.value)
  }

  function replace(order: DemoOrder): void {
    orders.value = orders.value.map((candidate) => (candidate.id === order.id ? order : candidate))
    persist()
  }

  /** A new demo order in 待支付 (local only: no message for placing it). */
  function placeOrder(input: PlaceOrderInput = {}): DemoOrder {
    const now = context.clock.now()
    const goods = DEMO_GOODS[orders.value.length % DEMO_GOODS.length] ?? { goodsName: '演示商品', amountFen: 100 }
    const order: DemoOrder = {
      id: orderNumber(now, new Set(orders.value.map((candidate) => candidate.id))),
      goodsName: input.goodsName ?? goods.goodsName,
      amountFen: input.amountFen ?? goods.amountFen,
      status: 'pending_payment',
      createdAt: now,
      updatedAt: now,
      lastOutcome: null,
    }
    orders.value = [order, ...orders.value]
    persist()
    return order
  }

  /**
   * Moves the order one step (saved before the network call), then POST /api/events. Throws
   * `ApiError` when the service could not be asked (the step stays taken), and a `RangeError` for an
   * unknown order or one already 已送达 (the page offers no next step there).
   */
  async function advance(orderId: string): Promise<AdvanceResult> {
    const order = ordersById.value.get(orderId)
    if (order === undefined) throw new RangeError(`没有这个订单：${orderId}`)
    const to = nextOrderStatus(order.status)
    if (to === null) throw new RangeError('订单已送达，没有下一步了')
    const from = order.status
    const moved: DemoOrder = { ...order, status: to, updatedAt: context.clock.now() }
    replace(moved)
    const { message } = await context.api.postEvent({
      type: 'order.status_changed',
      orderId: order.id,
      status: to,
      goodsName: order.goodsName,
      amountFen: order.amountFen,
    })
    const done: DemoOrder = { ...(ordersById.value.get(orderId) ?? moved), lastOutcome: message }
    replace(done)
    return { order: done, from, to, outcome: message }
  }

  function removeAll(): void {
    orders.value = []
    persist()
  }

  return { orders, ordersById, placeOrder, advance, removeAll }
})
