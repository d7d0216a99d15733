import { triggerPageHook } from '../../support/uni-app'
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import MessagesPage from '@/pages/messages/index.vue'
import { setupClient, type TestClient } from '../support/client'
import { RETIRED_TEMPLATE_ID } from '../../support/templates'
import { mountPage, textOf } from './mount-page'

describe('消息记录', () => {
  let client: TestClient
  let openid: string

  beforeEach(() => {
    client = setupClient()
    const { service } = client
    openid = service.openidForCode('code-1')
    // Added oldest first: the service lists newest first.
    service.addMessage(openid, {
      id: 'm1',
      templateId: RETIRED_TEMPLATE_ID,
      status: 'failed',
      reason: 'NO_CREDIT',
      createdAt: '2026-03-01T10:00:00.000Z',
    })
    service.addMessage(openid, {
      id: 'm2',
      templateId: service.template('activity_reminder').id,
      status: 'skipped',
      reason: 'MUTED_CATEGORY',
      createdAt: '2026-03-01T11:00:00.000Z',
    })
    service.addMessage(openid, {
      id: 'm3',
      templateId: service.template('payment').id,
      status: 'failed',
      reason: '47003',
      createdAt: '2026-03-01T12:00:00.000Z',
    })
    service.addMessage(openid, {
      id: 'm4',
      templateId: service.template('shipping').id,
      status: 'deferred',
      createdAt: '2026-03-01T15:00:00.000Z',
      deliverAfter: '2026-03-02T00:00:00.000Z',
    })
    service.addMessage(openid, {
      id: 'm5',
      templateId: service.template('order_status').id,
      status: 'sent',
      createdAt: '2026-03-02T01:30:00.000Z',
      sentAt: '2026-03-02T01:30:02.000Z',
    })
  })

  function rows(page: Awaited<ReturnType<typeof mountPage>>): string[][] {
    return page
      .findAll('.message-row')
      .map((row) => [
        row.find('.card__title').text(),
        row.find('.message-row__status').text(),
        row.find('.message-row__detail').text(),
      ])
  }

  it('lists what was sent to me, newest first, with status, reason and one time each (China time)', async () => {
    const page = await mountPage(MessagesPage)

    expect(rows(page)).toEqual([
      ['订单状态通知', '已发送', '发送于 3月2日 09:30'],
      ['发货通知', '待发送（免打扰）', '将于 3月2日 08:00 发送'],
      ['支付成功通知', '发送失败', '消息内容不符合模板的要求 · 3月1日 20:00'],
      ['活动提醒', '已跳过', '你在通知设置里关闭了这类通知 · 3月1日 19:00'],
      ['订阅消息', '发送失败', '你还没有订阅这类消息，或订阅次数已用完 · 3月1日 18:00'],
    ])
    expect(page.find('.message-row--sent .message-row__status').classes()).toContain('tag--success')
    expect(page.find('.message-row--failed .message-row__status').classes()).toContain('tag--danger')
  })

  it('pull-to-refresh loads the list again and stops the refresh animation', async () => {
    const page = await mountPage(MessagesPage)
    client.service.addMessage(openid, {
      id: 'm6',
      templateId: client.service.template('order_status').id,
      status: 'skipped',
      reason: 'DAILY_LIMIT',
      createdAt: '2026-03-02T02:00:00.000Z',
    })

    await triggerPageHook(page.vm, 'onPullDownRefresh')
    await flushPromises()

    expect(rows(page)[0]).toEqual(['订单状态通知', '已跳过', '已达到你设置的每日消息上限 · 3月2日 10:00'])
    expect(client.platform.pullDownRefreshStops).toBe(1)
  })

  it('a refresh without network keeps the list, says why, and still stops the animation', async () => {
    const page = await mountPage(MessagesPage)
    client.service.offline = true

    await triggerPageHook(page.vm, 'onPullDownRefresh')
    await flushPromises()

    expect(page.find('.page-error').text()).toBe('刷新失败：网络连接失败，请检查网络后重试')
    expect(page.findAll('.message-row')).toHaveLength(5)
    expect(client.platform.pullDownRefreshStops).toBe(1)
  })

  it('with nothing sent yet, says so', async () => {
    client = setupClient()
    const page = await mountPage(MessagesPage)
    expect(textOf(page)).toContain('还没有消息。下拉可以刷新。')
  })
})
