import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import OrdersPage from '@/pages/orders/index.vue'
import { HOUR_MS } from '@/rules/prompt-policy'
import { setupClient, type TestClient } from '../support/client'
import { EXTRA_TEMPLATES } from '../../support/templates'
import { mountPage, tap, textOf } from './mount-page'

describe('订单', () => {
  let client: TestClient
  let orderTemplateId: string
  let openid: string

  beforeEach(() => {
    client = setupClient({ platform: { requireTap: true } })
    orderTemplateId = client.service.template('order_status').id
    openid = client.service.openidForCode('code-1')
  })

  function toastTitles(): string[] {
    return client.platform.toasts.map((toast) => toast.title)
  }

  it('places a demo order in 待支付', async () => {
    const page = await mountPage(OrdersPage)
    expect(textOf(page)).toContain('还没有订单')
    expect(textOf(page)).toContain('依次推进 待支付 → 已支付 → 已发货 → 已送达。')

    await tap(client, page, '#place-order')

    expect(toastTitles()).toEqual(['已下单：手冲咖啡豆 250g'])
    expect(page.find('.order-card .card__title').text()).toBe('手冲咖啡豆 250g')
    expect(page.find('.order-card__amount').text()).toBe('¥68.00')
    expect(page.find('.order-card__current').text()).toBe('待支付')
    expect(page.find('.order-card__advance').text()).toBe('模拟支付')
  })

  it('each step toasts at once, asks the service to send the order message and shows 已发送', async () => {
    client.service.setCredits(openid, orderTemplateId, 3)
    const page = await mountPage(OrdersPage)
    await tap(client, page, '#place-order')

    const steps: Array<[string, string, string]> = []
    for (const expected of ['已支付', '已发货', '已送达']) {
      client.platform.tap(() => {
        page.find('.order-card__advance').element.dispatchEvent(new Event('tap'))
      })
      // The toast is there before the service has answered.
      const toastBeforeAnswer = toastTitles().at(-1) ?? ''
      await flushPromises()
      steps.push([toastBeforeAnswer, page.find('.order-card__current').text(), page.find('.order-card__outcome-text').text()])
      expect(client.service.lastOrderEvent?.status).toBe({ 已支付: 'paid', 已发货: 'shipped', 已送达: 'delivered' }[expected])
    }

    expect(steps).toEqual([
      ['订单已支付', '已支付', '已发送'],
      ['订单已发货', '已发货', '已发送'],
      ['订单已送达', '已送达', '已发送'],
    ])
    expect(page.find('.order-card__advance').exists()).toBe(false)
    expect(client.service.credits(openid, orderTemplateId)).toBe(0)
    expect(client.platform.modals).toEqual([])
  })

  it('inside quiet hours the message waits, and the page says until when', async () => {
    client.service.setCredits(openid, orderTemplateId, 1)
    // 10:00 in Shanghai now; quiet until 12:00.
    client.service.setPreferences(openid, { quietHours: { start: '09:00', end: '12:00' }, dailyLimit: 20, mutedCategories: [] })
    const page = await mountPage(OrdersPage)
    await tap(client, page, '#place-order')

    await tap(client, page, '.order-card__advance')

    expect(page.find('.order-card__outcome-text').text()).toBe('免打扰时段结束后发送（12:00）')
  })

  it('not subscribed: shows 未订阅 and a modal whose confirm asks for the order template inside the confirm', async () => {
    const page = await mountPage(OrdersPage)
    await tap(client, page, '#place-order')

    await tap(client, page, '.order-card__advance')

    expect(page.find('.order-card__outcome-text').text()).toBe('未订阅')
    expect(client.platform.modals).toMatchObject([
      {
        title: '订阅订单通知',
        content: '你还没有订阅「订单状态通知」，这次的状态变化没能通过微信通知你。订阅后，订单下次变化时会通知你。',
        confirmText: '去订阅',
        cancelText: '暂不',
      },
    ])
    expect(client.platform.subscribeCalls).toEqual([
      { tmplIds: [orderTemplateId], inTap: true, dialogShown: true, outcome: { answers: { [orderTemplateId]: 'accept' } } },
    ])
    expect(client.service.credits(openid, orderTemplateId)).toBe(1)
    expect(toastTitles()).toEqual(['已下单：手冲咖啡豆 250g', '订单已支付', '已订阅，下次订单变化会通知你'])

    await tap(client, page, '.order-card__advance')
    expect(page.find('.order-card__outcome-text').text()).toBe('已发送')
  })

  it('not subscribed: the modal offers the template the outcome names, not a guess', async () => {
    // A service that sends this event with the shipping template.
    client.service.eventTemplateKey = 'shipping'
    const shippingId = client.service.template('shipping').id
    const page = await mountPage(OrdersPage)
    await tap(client, page, '#place-order')

    await tap(client, page, '.order-card__advance')

    expect(page.find('.order-card__outcome-text').text()).toBe('未订阅')
    expect(client.platform.modals).toMatchObject([
      { content: '你还没有订阅「发货通知」，这次的状态变化没能通过微信通知你。订阅后，订单下次变化时会通知你。' },
    ])
    expect(client.platform.subscribeCalls).toMatchObject([{ tmplIds: [shippingId], inTap: true }])
    expect(client.service.credits(openid, shippingId)).toBe(1)
    expect(client.service.credits(openid, orderTemplateId)).toBe(0)
  })

  it('not subscribed with a template added since the catalogue was loaded: reloads it and offers that one', async () => {
    const page = await mountPage(OrdersPage)
    client.service.templates.push(EXTRA_TEMPLATES.delivery)
    client.service.eventTemplateKey = 'delivery'
    await tap(client, page, '#place-order')

    await tap(client, page, '.order-card__advance')

    expect(client.platform.modals).toMatchObject([{ content: expect.stringContaining('「送达通知」') as string }])
    expect(client.platform.subscribeCalls).toMatchObject([{ tmplIds: [EXTRA_TEMPLATES.delivery.id], inTap: true }])
  })

  it('not subscribed and the modal cannot be shown: a toast says so, nothing is left unhandled', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      client.platform.modalFails = true
      const page = await mountPage(OrdersPage)
      await tap(client, page, '#place-order')

      await tap(client, page, '.order-card__advance')
      await new Promise((resolve) => setImmediate(resolve))

      expect(page.find('.order-card__outcome-text').text()).toBe('未订阅')
      expect(toastTitles().at(-1)).toBe('提示框没能打开，请稍后再试')
      expect(client.platform.subscribeCalls).toEqual([])
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('after "暂不" the offer is not made again for 72 hours', async () => {
    client.platform.modalConfirms = false
    const page = await mountPage(OrdersPage)
    await tap(client, page, '#place-order')
    await tap(client, page, '.order-card__advance')
    expect(client.platform.modals).toHaveLength(1)
    expect(client.platform.subscribeCalls).toEqual([])

    await tap(client, page, '.order-card__advance')
    expect(page.find('.order-card__outcome-text').text()).toBe('未订阅')
    expect(client.platform.modals).toHaveLength(1)

    client.time.advance(72 * HOUR_MS + 1)
    await tap(client, page, '#place-order')
    await tap(client, page, '.order-card__advance')
    expect(client.platform.modals).toHaveLength(2)
  })

  it('main switch off: no offer (the dialog cannot show); the guide leads to settings instead', async () => {
    client.platform.mainSwitch = false
    const page = await mountPage(OrdersPage)
    await tap(client, page, '#place-order')
    await tap(client, page, '.order-card__advance')

    expect(client.platform.modals).toEqual([])
    expect(page.find('.settings-guide--main-switch-off').text()).toContain('订阅消息已关闭')

    await tap(client, page, '.settings-guide__open')
    expect(client.platform.settingsCalls).toEqual([{ inTap: true }])
  })

  it('when the service cannot be reached, the step stays taken and the page says the message was not sent', async () => {
    const page = await mountPage(OrdersPage)
    await tap(client, page, '#place-order')
    client.service.offline = true

    await tap(client, page, '.order-card__advance')

    expect(page.find('.order-card__current').text()).toBe('已支付')
    expect(page.find('.order-error').text()).toBe('订单通知没有发出：网络连接失败，请检查网络后重试')
    expect(toastTitles().at(-1)).toBe('订单已支付')
  })
})
