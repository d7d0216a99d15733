import { describe, expect, it } from 'vitest'
import { validateMessageData } from '../../../src/domain/keywords'
import { formatAmount } from '../../../src/domain/orders'
import { formatChineseDateTime, orderStatusData } from '../../../server/messages/order-events'
import { ORDER_STATUS, TEMPLATES } from '../support/service'

describe('order-status messages', () => {
  it('formats the time in the quiet-hours zone like 2026年11月25日 13:05', () => {
    expect(formatChineseDateTime(new Date('2026-11-25T05:05:00.000Z'), 'Asia/Shanghai')).toBe('2026年11月25日 13:05')
    expect(formatChineseDateTime(new Date('2026-01-02T16:07:00.000Z'), 'Asia/Shanghai')).toBe('2026年1月3日 00:07')
    expect(formatChineseDateTime(new Date('2026-01-02T16:07:00.000Z'), 'Europe/Berlin')).toBe('2026年1月2日 17:07')
  })

  it('formats fen as yuan', () => {
    expect(formatAmount(1250)).toBe('¥12.50')
    expect(formatAmount(0)).toBe('¥0.00')
    expect(formatAmount(5)).toBe('¥0.05')
  })

  it.each([
    ['pending_payment', '待支付', '请尽快完成支付'],
    ['paid', '已支付', '商家正在备货'],
    ['shipped', '已发货', '包裹正在路上，请留意查收'],
    ['delivered', '已送达', '感谢您的购买'],
  ] as const)('fills every keyword of the shipped order_status template for %s, and WeChat would accept it', (status, label, remark) => {
    const data = orderStatusData(ORDER_STATUS, { type: 'order.status_changed', orderId: 'DD42', status, goodsName: '键盘\n（黑色）' }, new Date('2026-11-25T05:05:00.000Z'), 'Asia/Shanghai')
    expect(data).toEqual({ character_string1: 'DD42', phrase2: label, thing3: '键盘 （黑色）', time4: '2026年11月25日 13:05', thing5: remark })
    expect(validateMessageData(ORDER_STATUS, data).ok).toBe(true)
  })

  it('cuts a long goods name to a valid thing and names the order when there is none', () => {
    const long = orderStatusData(ORDER_STATUS, { type: 'order.status_changed', orderId: 'DD42', status: 'paid', goodsName: '一'.repeat(30) }, new Date(), 'Asia/Shanghai')
    expect(long.thing3).toBe(`${'一'.repeat(17)}...`)
    const none = orderStatusData(ORDER_STATUS, { type: 'order.status_changed', orderId: 'DD42', status: 'paid' }, new Date(), 'Asia/Shanghai')
    expect(none.thing3).toBe('订单 DD42')
  })

  it('fills the payment template’s amount too', () => {
    const payment = TEMPLATES.find((template) => template.key === 'payment')!
    const data = orderStatusData(payment, { type: 'order.status_changed', orderId: 'DD42', status: 'paid', goodsName: '键盘', amountFen: 59900 }, new Date('2026-11-25T05:05:00.000Z'), 'Asia/Shanghai')
    expect(data).toEqual({ character_string1: 'DD42', amount2: '¥599.00', thing3: '键盘', time4: '2026年11月25日 13:05' })
    expect(validateMessageData(payment, data).ok).toBe(true)
  })
})
