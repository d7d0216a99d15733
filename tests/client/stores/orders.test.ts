import { beforeEach, describe, expect, it } from 'vitest'
import { useOrdersStore } from '@/stores/orders'
import { useSessionStore } from '@/stores/session'
import { setupClient, storeSlot, type TestClient } from '../support/client'
import { templateByKey } from '../../support/templates'

const OPENID = 'o-device-alice'
const ORDER_TEMPLATE = templateByKey('order_status').id
let client: TestClient

beforeEach(async () => {
  client = setupClient()
  await useSessionStore().signIn()
})

describe('orders', () => {
  it('places a demo order in 待支付', () => {
    const order = useOrdersStore().placeOrder()
    expect(order).toMatchObject({ status: 'pending_payment', goodsName: '手冲咖啡豆 250g', amountFen: 6800, lastOutcome: null })
    // Placed at 10:00:00 in Shanghai (START); a second one in the same second gets -2.
    expect(order.id).toBe('260302-100000')
    expect(useOrdersStore().placeOrder().id).toBe('260302-100000-2')
    expect(useOrdersStore().orders[1]).toEqual(order)
  })

  it('moves 待支付 → 已支付 → 已发货 → 已送达, posting each change and returning the outcome', async () => {
    client.service.setCredits(OPENID, ORDER_TEMPLATE, 3)
    const orders = useOrdersStore()
    const { id } = orders.placeOrder()
    const steps = []
    for (let i = 0; i < 3; i++) {
      const result = await orders.advance(id)
      steps.push([result.from, result.to, result.outcome.status])
      expect(client.service.lastOrderEvent).toEqual({ type: 'order.status_changed', orderId: id, status: result.to, goodsName: '手冲咖啡豆 250g', amountFen: 6800 })
    }
    expect(steps).toEqual([
      ['pending_payment', 'paid', 'sent'],
      ['paid', 'shipped', 'sent'],
      ['shipped', 'delivered', 'sent'],
    ])
    expect(orders.ordersById.get(id)?.status).toBe('delivered')
    await expect(orders.advance(id)).rejects.toThrow('订单已送达，没有下一步了')
  })

  it('returns failed NO_CREDIT without a credit: the page decides to offer subscribing', async () => {
    const orders = useOrdersStore()
    const { id } = orders.placeOrder()
    const result = await orders.advance(id)
    expect(result.outcome).toMatchObject({ templateId: ORDER_TEMPLATE, status: 'failed', reason: 'NO_CREDIT' })
    expect(orders.ordersById.get(id)?.lastOutcome).toEqual(result.outcome)
    expect(client.platform.toasts).toEqual([])
    expect(client.platform.modals).toEqual([])
    // The outcome, its template included, survives a restart.
    client = client.restart()
    expect(useOrdersStore().ordersById.get(id)?.lastOutcome).toEqual(result.outcome)
  })

  it('returns deferred with deliverAfter inside quiet hours', async () => {
    client.service.setCredits(OPENID, ORDER_TEMPLATE, 1)
    client.service.setPreferences(OPENID, { quietHours: { start: '09:00', end: '12:00' }, dailyLimit: 20, mutedCategories: [] })
    const orders = useOrdersStore()
    const { id } = orders.placeOrder()
    const result = await orders.advance(id)
    // 10:00 in Asia/Shanghai: waits until 12:00 there.
    expect(result.outcome).toMatchObject({ status: 'deferred', deliverAfter: '2026-03-02T04:00:00.000Z' })
  })

  it('keeps the step taken when the service is unreachable, and keeps orders across a restart', async () => {
    const orders = useOrdersStore()
    const { id } = orders.placeOrder()
    client.service.offline = true
    await expect(orders.advance(id)).rejects.toMatchObject({ name: 'ApiError', code: 'OFFLINE' })
    expect(orders.ordersById.get(id)?.status).toBe('paid')
    client = client.restart()
    expect(useOrdersStore().ordersById.get(id)).toMatchObject({ status: 'paid', lastOutcome: null })
  })

  it('reads back stored orders whose outcome is the contract\'s MessageOutcome, and no other', () => {
    const order = { id: 'D1', goodsName: '帆布托特包', amountFen: 12900, status: 'paid', createdAt: 1, updatedAt: 2 }
    const outcome = { id: 'm1', templateId: ORDER_TEMPLATE, status: 'failed', reason: '43101' }
    storeSlot(client, 'orders', [
      { ...order, lastOutcome: outcome },
      { ...order, id: 'D2', lastOutcome: { ...outcome, status: 'lost' } },
      { ...order, id: 'D3', lastOutcome: { ...outcome, reason: 'WHATEVER' } },
      { ...order, id: 'D4', status: 'refunded', lastOutcome: null },
    ], OPENID)
    client = client.restart()
    expect(useOrdersStore().orders.map((stored) => [stored.id, stored.lastOutcome])).toEqual([
      ['D1', outcome],
      ['D2', null],
      ['D3', null],
    ])
  })
})
