import { beforeEach, describe, expect, it } from 'vitest'
import PreferencesPage from '@/pages/preferences/index.vue'
import { setupClient, type TestClient } from '../support/client'
import { mountPage, sendValue, tap, textOf } from './mount-page'

describe('通知设置', () => {
  let client: TestClient
  let openid: string

  beforeEach(() => {
    client = setupClient()
    openid = client.service.openidForCode('code-1')
    client.service.setPreferences(openid, { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: ['marketing'] })
  })

  function preferencesPut(): unknown[] {
    return client.service.requests
      .filter((request) => request.method === 'PUT' && request.path === '/api/me/preferences')
      .map((request) => request.body)
  }

  it('shows what the service holds: quiet hours, daily limit, and which kinds are received', async () => {
    const page = await mountPage(PreferencesPage)

    expect(page.find('#quiet-enabled').attributes('checked')).toBe('true')
    expect(page.find('#quiet-start').text()).toBe('开始22:00')
    expect(page.find('#quiet-end').text()).toBe('结束08:00')
    expect(page.find('.quiet-summary').text()).toBe('22:00 – 08:00（跨夜），期间的消息在结束后送达')
    expect(page.find('.daily-limit').text()).toBe('5')
    const categories = page.findAll('.category-row').map((row) => [row.find('.category-row__label').text(), row.find('switch').attributes('checked')])
    expect(categories).toEqual([
      ['订单通知', 'true'],
      ['支付通知', 'true'],
      ['活动推广', 'false'],
      ['账户安全', 'true'],
    ])
  })

  it('saves the changed settings to the service and says so', async () => {
    const page = await mountPage(PreferencesPage)

    await sendValue(page, '#quiet-start', 'change', '23:30')
    await sendValue(page, '#quiet-end', 'change', '07:00')
    await tap(client, page, '#daily-limit-plus')
    await tap(client, page, '#daily-limit-plus')
    await sendValue(page, '#category-payment', 'change', false)
    await sendValue(page, '#category-marketing', 'change', true)
    await tap(client, page, '#save-preferences')

    const saved = { quietHours: { start: '23:30', end: '07:00' }, dailyLimit: 7, mutedCategories: ['payment'] }
    expect(preferencesPut()).toEqual([saved])
    expect(client.service.preferences(openid)).toEqual(saved)
    expect(client.platform.toasts).toEqual([{ title: '已保存', icon: 'success' }])
    expect(page.find('.save-error').exists()).toBe(false)
  })

  it('turning quiet hours off saves null', async () => {
    const page = await mountPage(PreferencesPage)

    await sendValue(page, '#quiet-enabled', 'change', false)
    expect(page.find('#quiet-start').exists()).toBe(false)
    expect(page.find('.quiet-summary').text()).toBe('关闭：消息随时送达')
    await tap(client, page, '#save-preferences')

    expect(preferencesPut()).toEqual([{ quietHours: null, dailyLimit: 5, mutedCategories: ['marketing'] }])
  })

  it.each([
    [1, '#daily-limit-minus', '0', '#daily-limit-plus', '设为 0 时不接收任何通知'],
    [99, '#daily-limit-plus', '100', '#daily-limit-minus', '超过 100 条的消息当天不再发送'],
  ])('the daily limit stays within 0–100 (from %i), and says what it means', async (saved, button, edge, other, note) => {
    client.service.setPreferences(openid, { quietHours: null, dailyLimit: saved, mutedCategories: [] })
    const page = await mountPage(PreferencesPage)

    await tap(client, page, button)
    expect(page.find('.daily-limit').text()).toBe(edge)
    expect(page.find(button).attributes()).toHaveProperty('disabled')
    expect(page.find(other).attributes()).not.toHaveProperty('disabled')
    expect(textOf(page)).toContain(note)
    await tap(client, page, button)
    expect(page.find('.daily-limit').text()).toBe(edge)
  })

  it('refuses equal start and end before asking the service', async () => {
    const page = await mountPage(PreferencesPage)

    await sendValue(page, '#quiet-start', 'change', '08:00')
    await tap(client, page, '#save-preferences')

    expect(page.find('.save-error').text()).toBe('免打扰的开始和结束时间不能相同')
    expect(preferencesPut()).toEqual([])
  })

  it('refuses a muted category the catalogue no longer has before asking the service, in the service\'s words', async () => {
    client.service.templates.splice(client.service.templates.findIndex((template) => template.category === 'marketing'), 1)
    const page = await mountPage(PreferencesPage)
    // Still listed, switched off, so the person can see it and turn it back on.
    expect(page.find('#category-marketing').attributes('checked')).toBe('false')

    await tap(client, page, '#save-preferences')
    expect(page.find('.save-error').text()).toBe('mutedCategories.0: 没有这类通知（marketing）')
    expect(preferencesPut()).toEqual([])

    await sendValue(page, '#category-marketing', 'change', true)
    await tap(client, page, '#save-preferences')
    expect(preferencesPut()).toEqual([{ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: [] }])
    expect(page.find('.save-error').exists()).toBe(false)
  })

  it('names the setting the service refused', async () => {
    const page = await mountPage(PreferencesPage)
    client.service.failNext('/api/me/preferences', 400, {
      code: 'VALIDATION_FAILED',
      message: '格式应为 HH:MM',
      field: 'quietHours.start',
    })

    await tap(client, page, '#save-preferences')

    expect(page.find('.save-error').text()).toBe('保存失败（免打扰开始时间）：格式应为 HH:MM')
    expect(client.platform.toasts).toEqual([])
  })

  it('says when the service cannot be reached, keeping what was typed', async () => {
    const page = await mountPage(PreferencesPage)
    await sendValue(page, '#quiet-start', 'change', '21:00')
    client.service.offline = true

    await tap(client, page, '#save-preferences')

    expect(page.find('.save-error').text()).toBe('保存失败：网络连接失败，请检查网络后重试')
    expect(page.find('#quiet-start').text()).toBe('开始21:00')
  })
})
