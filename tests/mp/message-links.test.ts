/**
 * Messages lead to what they are about, in the compiled mini-program: a row of 消息记录 opens the
 * message (its keywords as the notice showed them), whose 查看订单 opens that order by id, as the
 * notice's own `page` (pages/orders/index?id=…) does; an unknown id says 找不到这个订单 with a way back.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { FakeService } from '../support/fake-service'
import { launchMiniProgram, type MiniProgram } from './support/mini-program'

/** `/pages/x/y?a=1` → the route and query simulate opens. */
function target(url: string): { route: string; query: Record<string, string> } {
  const [path = '', search = ''] = url.replace(/^\//, '').split('?')
  return { route: path, query: Object.fromEntries(new URLSearchParams(search)) }
}

describe('messages that open what they are about, in the compiled mini-program', () => {
  let mp: MiniProgram
  afterEach(() => mp.close())

  it('消息记录 → the message → 查看订单 → that order', async () => {
    const service = new FakeService()
    mp = await launchMiniProgram({ service })
    const orders = await mp.open('pages/orders/index')
    service.setCredits(service.openidForCode('wxcode-1'), service.template('order_status').id, 2)
    await mp.tap(orders.find('#place-order'))
    await mp.tap(orders.find('#place-order'))
    // The second tap came while the first order's toast still showed: one order.
    expect(orders.root.querySelectorAll('.page >>> .order-card')).toHaveLength(1)
    await mp.tap(orders.find('.page >>> .order-card__advance'))
    const orderId = /订单号 (\d{6}-\d{6})/.exec(orders.text())?.[1] ?? ''
    expect(orderId).toMatch(/^\d{6}-\d{6}$/)

    const list = await mp.open('pages/messages/index')
    const row = list.find('.page >>> .message-row')
    expect(list.text()).toContain(`订单状态通知已发送${orderId} · 已支付发送于`)
    await mp.tap(row)
    const opened = mp.wx.navigations.at(-1)
    expect(opened).toEqual({ api: 'navigateTo', url: expect.stringMatching(/^\/pages\/messages\/detail\?id=msg-\d+$/) })

    const { route, query } = target(opened?.url ?? '')
    const detail = await mp.open(route, query)
    const text = detail.text()
    for (const shown of ['订单状态通知', '已发送', `订单号${orderId}`, '订单状态已支付', '商品名称手冲咖啡豆 250g', '备注商家正在备货', '状态记录', '排队发送', '已发送']) {
      expect(text).toContain(shown)
    }
    await mp.tap(detail.find('#open-message-page'))
    const toOrder = mp.wx.navigations.at(-1)
    expect(toOrder).toEqual({ api: 'reLaunch', url: `/pages/orders/index?id=${orderId}` })

    const order = await mp.open(target(toOrder?.url ?? '').route, target(toOrder?.url ?? '').query)
    expect(order.text()).toContain('订单详情')
    expect(order.text()).toContain(`订单号 ${orderId}`)
    expect(order.text()).not.toContain('新建演示订单')
    expect(order.root.querySelectorAll('.page >>> .order-card')).toHaveLength(1)
  })

  it('pages/orders/index?id=<unknown> says 找不到这个订单, with the way to all orders', async () => {
    mp = await launchMiniProgram({ service: new FakeService() })
    const page = await mp.open('pages/orders/index', { id: '991231-235959' })
    expect(page.text()).toContain('找不到这个订单')
    expect(page.text()).toContain('订单号 991231-235959 不在当前用户的订单里。')
    await mp.tap(page.find('#show-all-orders'))
    expect(mp.wx.navigations.at(-1)).toEqual({ api: 'reLaunch', url: '/pages/orders/index' })
  })

  it('a message id the service does not know says 找不到这条消息', async () => {
    mp = await launchMiniProgram({ service: new FakeService() })
    const page = await mp.open('pages/messages/detail', { id: 'msg-404' })
    expect(page.text()).toContain('找不到这条消息')
    await mp.tap(page.find('#back-to-messages'))
    expect(mp.wx.navigations.at(-1)).toEqual({ api: 'reLaunch', url: '/pages/messages/index' })
  })
})
