/**
 * Every page of the compiled mini-program's app.json renders under miniprogram-simulate, signed in
 * through wx.login → POST /api/session, with what the service holds.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeService } from '../support/fake-service'
import { launchMiniProgram, MP_BUILD_DIR, type MiniProgram } from './support/mini-program'

const appJson = JSON.parse(readFileSync(join(MP_BUILD_DIR, 'app.json'), 'utf8')) as { pages: string[] }
const NOW = new Date('2026-11-25T05:00:00.000Z') // 13:00 in Shanghai

/** What each page shows with the service prepared below. */
const EXPECTED: Record<string, string[]> = {
  'pages/orders/index': ['演示订单', '新建演示订单', '还没有订单'],
  'pages/subscriptions/index': ['全部订阅', '订单状态通知', '剩余 2 次', '发货通知', '剩余 0 次', '账户安全提醒', '长期订阅'],
  'pages/messages/index': ['订单状态通知', '已发送', '发送于 11月25日 12:30', '发货通知', '发送失败', '你还没有订阅这类消息，或订阅次数已用完'],
  // Opened with no id (as simulate opens it here): says so, with the way back.
  'pages/messages/detail': ['找不到这条消息', '返回消息记录'],
  'pages/preferences/index': ['免打扰时段', '22:00', '08:00', '每天最多收到', '5', '订单通知', '活动推广', '保存'],
}

function preparedService(): FakeService {
  const service = new FakeService({ now: () => NOW })
  const openid = service.openidForCode('wxcode-1')
  service.setCredits(openid, service.template('order_status').id, 2)
  service.setPreferences(openid, { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: ['marketing'] })
  service.addMessage(openid, {
    id: 'm1',
    templateId: service.template('order_status').id,
    status: 'sent',
    createdAt: '2026-11-25T04:30:00.000Z',
    sentAt: '2026-11-25T04:30:00.000Z',
  })
  service.addMessage(openid, {
    id: 'm2',
    templateId: service.template('shipping').id,
    status: 'failed',
    reason: 'NO_CREDIT',
    createdAt: '2026-11-25T04:40:00.000Z',
  })
  return service
}

describe('the compiled mini-program under miniprogram-simulate', () => {
  let mp: MiniProgram | undefined
  // The app reads the same clock as the service: its session (7 days from NOW) is not expired by the real date.
  beforeEach(() => void vi.useFakeTimers({ toFake: ['Date'], now: NOW }))
  afterEach(() => {
    mp?.close()
    vi.useRealTimers()
  })

  it('has the four tab pages and the message page', () => {
    expect(appJson.pages).toEqual(['pages/orders/index', 'pages/subscriptions/index', 'pages/messages/index', 'pages/preferences/index', 'pages/messages/detail'])
  })

  it.each(appJson.pages)('renders %s', async (route) => {
    mp = await launchMiniProgram({ service: preparedService() })
    const page = await mp.open(route)
    const text = page.text()
    for (const expected of EXPECTED[route] ?? ['(no expectation for this page)']) expect(text).toContain(expected)
    expect(mp.service.requests[0]).toMatchObject({ method: 'POST', path: '/api/session', body: { code: 'wxcode-1' } })
  })

  it('pull-to-refresh on 消息记录 reloads the list and stops the refresh animation', async () => {
    const service = preparedService()
    mp = await launchMiniProgram({ service })
    const page = await mp.open('pages/messages/index')
    service.addMessage(service.openidForCode('wxcode-1'), {
      id: 'm3',
      templateId: service.template('payment').id,
      status: 'deferred',
      createdAt: '2026-11-25T14:30:00.000Z',
      deliverAfter: '2026-11-26T00:00:00.000Z',
    })
    await page.hook('onPullDownRefresh')
    expect(page.text()).toContain('待发送（免打扰）')
    expect(page.text()).toContain('将于 11月26日 08:00 发送')
    expect(mp.wx.stopPullDownRefreshCalls).toBe(1)
  })
})
