/**
 * The tap rule on the compiled mini-program: a tap on a subscribe control calls
 * wx.requestSubscribeMessage with the right template ids inside the tap's own dispatch (not a timer
 * later, which WeChat refuses), and so does the confirm of the orders page's offer to subscribe.
 */
import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeService } from '../support/fake-service'
import { launchMiniProgram, type MiniProgram } from './support/mini-program'

describe('subscribing from the compiled mini-program', () => {
  let mp: MiniProgram
  afterEach(() => mp.close())

  function consentsPosted(): unknown[] {
    return mp.service.requests.filter((request) => request.path === '/api/consents').map((request) => request.body)
  }

  it('订阅中心: a template\'s button asks WeChat for that template inside the tap, then shows the credit', async () => {
    mp = await launchMiniProgram()
    const page = await mp.open('pages/subscriptions/index')
    const id = mp.service.template('order_status').id

    await mp.tap(page.find('.page >>> #subscribe-order_status'))

    expect(mp.wx.subscribeCalls).toEqual([
      { tmplIds: [id], inTap: true, dialogShown: true, outcome: { errMsg: 'requestSubscribeMessage:ok', [id]: 'accept' } },
    ])
    expect(consentsPosted()).toEqual([{ consentId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), results: { [id]: 'accept' } }])
    expect(mp.service.credits(mp.service.openidForCode('wxcode-1'), id)).toBe(1)
    expect(page.text()).toContain('订单状态通知已允许一次性订阅 · 剩余 1 次')
    expect(mp.wx.toasts.at(-1)).toMatchObject({ title: '已订阅「订单状态通知」' })
  })

  it('订阅中心: a 强提醒 accept (acceptWithAlert) is an accept: posted as it came, and it gives a credit', async () => {
    mp = await launchMiniProgram()
    const page = await mp.open('pages/subscriptions/index')
    const id = mp.service.template('order_status').id
    mp.wx.person = { answers: { [id]: 'acceptWithAlert' }, alwaysKeep: false }

    await mp.tap(page.find('.page >>> #subscribe-order_status'))

    expect(consentsPosted()).toEqual([{ consentId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), results: { [id]: 'acceptWithAlert' } }])
    expect(mp.service.credits(mp.service.openidForCode('wxcode-1'), id)).toBe(1)
    expect(page.text()).toContain('订单状态通知已允许一次性订阅 · 剩余 1 次')
    expect(mp.wx.toasts.at(-1)).toMatchObject({ title: '已订阅「订单状态通知」' })
  })

  it('订阅中心: the group button asks for three one-time templates in one call inside the tap', async () => {
    mp = await launchMiniProgram()
    const page = await mp.open('pages/subscriptions/index')
    const ids = ['order_status', 'shipping', 'payment'].map((key) => mp.service.template(key).id)
    mp.wx.person = { answers: { [ids[1] ?? '']: 'reject' }, alwaysKeep: false }

    await mp.tap(page.find('#subscribe-group'))

    expect(mp.wx.subscribeCalls.map(({ tmplIds, inTap }) => ({ tmplIds, inTap }))).toEqual([{ tmplIds: ids, inTap: true }])
    expect(consentsPosted()).toMatchObject([{ results: { [ids[0] ?? '']: 'accept', [ids[1] ?? '']: 'reject', [ids[2] ?? '']: 'accept' } }])
    expect(mp.wx.toasts.at(-1)).toMatchObject({ title: '已订阅「订单状态通知」「支付成功通知」' })
  })

  it('订单: "not subscribed" offers a modal whose confirm asks WeChat inside the confirm tap', async () => {
    mp = await launchMiniProgram()
    const page = await mp.open('pages/orders/index')
    const id = mp.service.template('order_status').id

    await mp.tap(page.find('#place-order'))
    await mp.tap(page.find('.page >>> .order-card__advance'))

    expect(mp.wx.toasts.map((toast) => toast.title)).toEqual(['已下单：手冲咖啡豆 250g', '订单已支付'])
    expect(mp.service.lastOrderEvent).toMatchObject({ type: 'order.status_changed', status: 'paid', goodsName: '手冲咖啡豆 250g' })
    expect(page.text()).toContain('订单通知未订阅')
    expect(mp.wx.openModal).toMatchObject({ title: '订阅订单通知', confirmText: '去订阅', cancelText: '暂不' })
    expect(mp.wx.subscribeCalls).toEqual([])

    mp.wx.tapModal('confirm')
    await flushPromises()

    expect(mp.wx.subscribeCalls.map(({ tmplIds, inTap }) => ({ tmplIds, inTap }))).toEqual([{ tmplIds: [id], inTap: true }])
    expect(consentsPosted()).toMatchObject([{ results: { [id]: 'accept' } }])
    expect(mp.wx.toasts.at(-1)).toMatchObject({ title: '已订阅，下次订单变化会通知你' })

    // The next step is sent with the credit just given.
    await mp.tap(page.find('.page >>> .order-card__advance'))
    expect(page.text()).toContain('订单通知已发送')
  })

  it('订阅中心: main switch off shows the guide; its tap opens settings inside the tap, and the page re-reads them on return', async () => {
    mp = await launchMiniProgram({ service: new FakeService() })
    mp.wx.setting.mainSwitch = false
    const page = await mp.open('pages/subscriptions/index')
    expect(page.text()).toContain('订阅消息已关闭')
    expect(() => page.find('#subscribe-group')).toThrow()

    mp.wx.inSettings = (setting) => {
      setting.mainSwitch = true
    }
    await mp.tap(page.find('.page >>> .settings-guide__open'))
    await page.hook('onShow')

    expect(mp.wx.openSettingCalls).toEqual([{ inTap: true }])
    expect(page.text()).not.toContain('订阅消息已关闭')
    await mp.tap(page.find('#subscribe-group'))
    expect(mp.wx.subscribeCalls).toMatchObject([{ inTap: true, outcome: { errMsg: 'requestSubscribeMessage:ok' } }])
  })
})
