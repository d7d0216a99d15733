import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { triggerPageHook } from '../../support/uni-app'
import SubscriptionsPage from '@/pages/subscriptions/index.vue'
import { setupClient, type TestClient } from '../support/client'
import { mountPage, sendValue, tap, textOf } from './mount-page'

describe('订阅中心', () => {
  let client: TestClient
  let ids: Record<'order' | 'shipping' | 'payment' | 'activity' | 'service', string>

  beforeEach(() => {
    client = setupClient({ platform: { requireTap: true } })
    const { service } = client
    ids = {
      order: service.template('order_status').id,
      shipping: service.template('shipping').id,
      payment: service.template('payment').id,
      activity: service.template('activity_reminder').id,
      service: service.template('account_security').id,
    }
  })

  function consentsPosted(): unknown[] {
    return client.service.requests.filter((request) => request.path === '/api/consents').map((request) => request.body)
  }

  it('shows every template with its status and the credits the service reports', async () => {
    client.service.setCredits(client.service.openidForCode('code-1'), ids.order, 2)
    const page = await mountPage(SubscriptionsPage)

    const cards = page.findAll('.template-card')
    expect(cards.map((card) => card.find('.card__title').text())).toEqual([
      '订单状态通知',
      '发货通知',
      '支付成功通知',
      '活动提醒',
      '账户安全提醒',
    ])
    expect(page.find('.template-card--order_status .template-card__status').text()).toBe('已允许')
    expect(page.find('.template-card--order_status .template-card__details').text()).toBe('一次性订阅 · 剩余 2 次')
    expect(page.find('.template-card--shipping .template-card__status').text()).toBe('未订阅')
    expect(page.find('.template-card--shipping .template-card__details').text()).toBe('一次性订阅 · 剩余 0 次')
    expect(page.find('.template-card--account_security .template-card__details').text()).toBe('长期订阅 · 未开启')
    expect(page.find('#subscribe-order_status').text()).toBe('再订阅一次（多收 1 条）')
    expect(page.find('#subscribe-shipping').text()).toBe('订阅')
    expect(page.find('.group-card').text()).toContain('「订单状态通知」「发货通知」「支付成功通知」')
  })

  it('asks for the catalogue and the credits at once; the credits show once the catalogue is in', async () => {
    client.service.setCredits(client.service.openidForCode('code-1'), ids.order, 2)
    const answer = client.platform.requestHandler
    let releaseCatalogue = (): void => {}
    const catalogueHeld = new Promise<void>((resolve) => (releaseCatalogue = resolve))
    client.platform.requestHandler = async (request) => {
      if (request.url.endsWith('/api/templates')) await catalogueHeld
      return answer(request)
    }
    const page = await mountPage(SubscriptionsPage)
    const asked = client.platform.requests.map((request) => request.url.replace(/^https?:\/\/[^/]+/, ''))
    expect(asked).toContain('/api/templates')
    expect(asked).toContain('/api/me/subscriptions')
    expect(page.findAll('.template-card')).toHaveLength(0)

    releaseCatalogue()
    await flushPromises()
    expect(page.findAll('.template-card')).toHaveLength(5)
    expect(page.find('.template-card--order_status .template-card__details').text()).toBe('一次性订阅 · 剩余 2 次')
    expect(page.find('.template-card--shipping .template-card__details').text()).toBe('一次性订阅 · 剩余 0 次')
  })

  it('a one-time consent whose credits are spent reads 已用完, not 已允许 beside 剩余 0 次, and offers 订阅 again', async () => {
    const first = await mountPage(SubscriptionsPage)
    await tap(client, first, '#subscribe-shipping')
    expect(first.find('.template-card--shipping .template-card__status').text()).toBe('已允许')
    first.unmount()
    // The send that used the consent happened on the service.
    client.service.setCredits(client.service.openidForCode('code-1'), ids.shipping, 0)
    const page = await mountPage(SubscriptionsPage)
    expect(page.find('.template-card--shipping .template-card__status').text()).toBe('已用完')
    expect(page.find('.template-card--shipping .template-card__details').text()).toBe('一次性订阅 · 剩余 0 次')
    expect(page.find('#subscribe-shipping').text()).toBe('订阅')
  })

  it('a template\'s button asks for that template inside the tap, reports the consent and shows the new credit', async () => {
    const page = await mountPage(SubscriptionsPage)

    await tap(client, page, '#subscribe-shipping')

    expect(client.platform.subscribeCalls).toEqual([
      { tmplIds: [ids.shipping], inTap: true, dialogShown: true, outcome: { answers: { [ids.shipping]: 'accept' } } },
    ])
    expect(consentsPosted()).toEqual([{ consentId: 'consent-0001-device', results: { [ids.shipping]: 'accept' } }])
    expect(page.find('.template-card--shipping .template-card__status').text()).toBe('已允许')
    expect(page.find('.template-card--shipping .template-card__details').text()).toBe('一次性订阅 · 剩余 1 次')
    expect(client.platform.toasts.at(-1)).toEqual({ title: '已订阅「发货通知」', icon: 'none' })
  })

  it('the group button asks for the first three one-time templates in one call', async () => {
    client.platform.answers = { [ids.payment]: 'reject' }
    const page = await mountPage(SubscriptionsPage)

    await tap(client, page, '#subscribe-group')

    expect(client.platform.subscribeCalls.map(({ tmplIds, inTap }) => ({ tmplIds, inTap }))).toEqual([
      { tmplIds: [ids.order, ids.shipping, ids.payment], inTap: true },
    ])
    expect(consentsPosted()).toEqual([
      { consentId: 'consent-0001-device', results: { [ids.order]: 'accept', [ids.shipping]: 'accept', [ids.payment]: 'reject' } },
    ])
    expect(page.find('.template-card--payment .template-card__status').text()).toBe('已拒绝')
    expect(client.platform.toasts.at(-1)).toEqual({ title: '已订阅「订单状态通知」「发货通知」', icon: 'none' })
  })

  it('says so when the consent could not be reported yet (offline): it waits in the outbox', async () => {
    const page = await mountPage(SubscriptionsPage)
    client.service.offline = true

    await tap(client, page, '#subscribe-order_status')

    expect(client.platform.toasts.at(-1)).toEqual({ title: '已订阅「订单状态通知」，网络恢复后同步到服务', icon: 'none' })
    expect(page.find('.template-card--order_status .template-card__status').text()).toBe('已允许')
    expect(page.find('.template-card--order_status .template-card__details').text()).toBe('一次性订阅 · 剩余 0 次 · 1 次待同步')
  })

  it('shows WeChat\'s refusal in plain Chinese', async () => {
    const page = await mountPage(SubscriptionsPage)
    client.platform.failNextSubscribe(20005)

    await tap(client, page, '#subscribe-activity_reminder')

    expect(client.platform.toasts.at(-1)).toEqual({ title: '本小程序暂时不能发送订阅消息', icon: 'none', duration: 3000 })
  })

  it('main switch off: the guide replaces every subscribe button; its tap opens settings inside the tap and the page follows', async () => {
    client.platform.mainSwitch = false
    client.platform.onOpenSetting = (current) => ({ ...current, mainSwitch: true })
    const page = await mountPage(SubscriptionsPage)

    expect(page.find('.settings-guide--main-switch-off').text()).toContain('订阅消息已关闭')
    expect(page.find('#subscribe-group').exists()).toBe(false)
    expect(page.find('#subscribe-order_status').exists()).toBe(false)

    await tap(client, page, '.settings-guide--main-switch-off .settings-guide__open')

    expect(client.platform.settingsCalls).toEqual([{ inTap: true }])
    expect(page.find('.settings-guide--main-switch-off').exists()).toBe(false)
    expect(page.find('#subscribe-order_status').exists()).toBe(true)
  })

  it('a 20004 answer (switched off since the last read) brings up the guide', async () => {
    const page = await mountPage(SubscriptionsPage)
    client.platform.mainSwitch = false

    await tap(client, page, '#subscribe-order_status')

    expect(client.platform.toasts.at(-1)?.title).toBe('你已关闭订阅消息的总开关，请在设置里打开“接收订阅消息”')
    expect(page.find('.settings-guide--main-switch-off').exists()).toBe(true)
  })

  it('"always reject" and banned templates get their guides instead of buttons; settings are read again on show', async () => {
    client.platform.itemSettings = { [ids.shipping]: 'reject', [ids.payment]: 'ban' }
    const page = await mountPage(SubscriptionsPage)

    expect(textOf(page)).toContain('已设置总是拒绝「发货通知」')
    expect(textOf(page)).toContain('「支付成功通知」暂时无法订阅')
    expect(page.find('.settings-guide--ban .settings-guide__open').exists()).toBe(false)
    expect(page.find('#subscribe-shipping').exists()).toBe(false)
    expect(page.find('#subscribe-payment').exists()).toBe(false)
    expect(page.find('#subscribe-order_status').exists()).toBe(true)
    expect(page.find('.template-card--shipping .template-card__details').text()).toBe('一次性订阅 · 剩余 0 次 · 总是拒绝')

    // Changed in WeChat's settings while the page was hidden: the next show reads them again.
    client.platform.itemSettings = { [ids.payment]: 'ban' }
    await triggerPageHook(page.vm, 'onShow')
    await flushPromises()

    expect(textOf(page)).not.toContain('已设置总是拒绝')
    expect(page.find('#subscribe-shipping').exists()).toBe(true)
  })

  it('H5 in sandbox mode asks for a test user first, then loads as that user', async () => {
    client = setupClient({ platform: { name: 'h5' }, service: { sandbox: true } })
    const page = await mountPage(SubscriptionsPage)
    expect(page.find('.sign-in-card').text()).toContain('以测试用户身份登录')
    expect(page.find('.template-card').exists()).toBe(false)

    await sendValue(page, '#test-user-name', 'input', 'bob')
    await tap(client, page, '#sign-in')

    expect(client.service.requests.slice(1, 3)).toMatchObject([
      { method: 'POST', path: '/sandbox/code', body: { user: 'bob' } },
      { method: 'POST', path: '/api/session', body: { code: 'sandbox-bob' } },
    ])
    expect(page.find('.sign-in-card').exists()).toBe(false)
    expect(page.findAll('.template-card')).toHaveLength(5)
  })

  it('refuses a test user name the sandbox would not take, in Chinese', async () => {
    client = setupClient({ platform: { name: 'h5' }, service: { sandbox: true } })
    const page = await mountPage(SubscriptionsPage)

    await sendValue(page, '#test-user-name', 'input', '张三')
    await tap(client, page, '#sign-in')

    expect(page.find('.sign-in-card .error-text').text()).toBe('用户名只能用英文字母、数字、下划线或短横线，最多 32 个字符')
    expect(client.service.requests.map((request) => request.path)).toEqual(['/api/info'])
  })

  it('H5 without the sandbox says plainly that subscribing happens in the mini-program', async () => {
    client = setupClient({ platform: { name: 'h5' }, service: { sandbox: false } })
    const page = await mountPage(SubscriptionsPage)

    expect(textOf(page)).toContain('请在微信小程序中订阅')
    expect(page.find('.sign-in-card').exists()).toBe(false)
  })
})
