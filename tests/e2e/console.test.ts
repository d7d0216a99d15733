/**
 * The operator console in headless Chromium against the built H5 app and the real service (sandbox
 * WeChat), served from one loopback address: sign-in (a wrong key, an expired session, 退出), a
 * campaign to a seeded segment of 2,000 watched to 100 %, a failed message read and retried, a user's
 * tag edited, a public template added with chosen keywords and removed, delivery reports in 概览 and
 * on a message's page, every console page on a fresh database, and the end user's first page loading no
 * console code. Screenshots at 1280 and 375 px go to ./screenshots.
 */
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { PATIENCE_MS, visibleToast } from './support/app'
import { LAPTOP, closeBrowser, openSession, type BrowserSession } from './support/browser'
import { startStack, templateByKey, type Stack } from './support/stack'

const ACTIVITY = templateByKey('activity_reminder')
const ORDER_STATUS = templateByKey('order_status')
const SMALL_PHONE = { width: 375, height: 812 }
const SEEDED = 2000
const HOUR_MS = 3_600_000

let stack: Stack
let session: BrowserSession | null = null

beforeAll(async () => {
  stack = await startStack({ seedUsers: SEEDED })
}, 180_000)

afterEach(async () => {
  await session?.close()
  session = null
  await stack.setClock(null)
})

afterAll(async () => {
  await closeBrowser()
  await stack?.close()
})

async function open(viewport: { width: number; height: number } = LAPTOP): Promise<BrowserSession> {
  session = await openSession({ viewport })
  return session
}

const consoleUrl = (path = 'index'): string => `${stack.url}#/pages/console/${path}`

/** The title of the console page showing (uni keeps pages it left in the DOM, hidden). */
function title(page: Page) {
  return page.locator('uni-page:visible .console-title')
}

async function signIn(page: Page, key = stack.adminKey): Promise<void> {
  await page.goto(consoleUrl('sign-in'))
  const input = page.locator('#console-admin-key input')
  await input.waitFor({ timeout: PATIENCE_MS })
  await input.fill(key)
  await page.locator('#console-sign-in').click()
}

async function signedIn(page: Page): Promise<void> {
  await signIn(page)
  await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe('概览')
}

/** Fills a uni <input> found by its id. */
async function fill(page: Page, id: string, value: string): Promise<void> {
  await page.locator(`uni-page:visible #${id} input`).fill(value)
}

async function nav(page: Page, section: string, expectedTitle: string): Promise<void> {
  await page.locator(`uni-page:visible .console-nav__item[data-section="${section}"]`).click()
  await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe(expectedTitle)
}

async function api<T>(method: string, path: string, body?: unknown, token = stack.adminKey): Promise<T> {
  const response = await fetch(new URL(path, stack.url), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path} → ${String(response.status)}: ${text}`)
  return (text === '' ? null : JSON.parse(text)) as T
}

function expectNoProblems(current: BrowserSession): void {
  expect(current.problems, 'page or console errors').toEqual([])
}

describe('the operator console', () => {
  test('a wrong key is refused; the key signs in; a campaign to a seeded segment of 2,000 reaches 100 % and the chart changes', async () => {
    const current = await open()
    const { page } = current
    await signIn(page, 'this-is-not-the-key')
    await expect.poll(() => page.locator('#console-sign-in-problem').textContent(), { timeout: PATIENCE_MS }).toBe('管理密钥不正确，请检查后重试')
    await current.screenshot('console-sign-in-wrong-key-1280')
    // The browser reports the service's 403 as a console error: here it is the point.
    current.problems.splice(0, current.problems.length, ...current.problems.filter((problem) => !problem.includes('status of 403')))
    await signIn(page)
    await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe('概览')
    // Only the session token is kept, never the key.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }))
    expect(stored).not.toContain(stack.adminKey)
    expect(stored).toContain('uni-subscribe:console-session')
    const totals = page.locator('#console-chart-totals')
    await expect.poll(() => totals.textContent(), { timeout: PATIENCE_MS }).toBe('已发送 0 · 失败 0 · 已跳过 0 · 免打扰延后 0')
    const delivered = page.locator('uni-page:visible [data-today="delivered"]')
    expect(await delivered.textContent()).toBe('0')
    // Seeding consented through the sandbox WeChat's dialog: its popup events were pushed to the service.
    expect(await page.locator('uni-page:visible #console-last-push').textContent()).toMatch(/^\d\d-\d\d \d\d:\d\d:\d\d$/)

    await nav(page, 'segments', '分群')
    await fill(page, 'console-filter-tags-all', 'demo')
    await expect.poll(() => page.locator('#console-filter-count').textContent(), { timeout: PATIENCE_MS }).toBe('符合条件：2,000 人')
    await fill(page, 'console-segment-name', '全部演示用户')
    await page.locator('#console-segment-save').click()
    await expect.poll(() => page.locator('.console-segment__name').allTextContents(), { timeout: PATIENCE_MS }).toEqual(['全部演示用户'])

    await nav(page, 'campaigns', '群发')
    await page.locator('#console-new-campaign').click()
    await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe('新建群发')
    await fill(page, 'console-campaign-name', '会员日提醒')
    await page.locator('uni-page:visible #console-campaign-template').selectOption(ACTIVITY.id)
    await fill(page, 'console-field-thing1', '{{nickname}}的会员日')
    await fill(page, 'console-field-date2', '12月12日')
    await fill(page, 'console-field-thing3', '{{city|全国}}门店')
    // Live validation, as the service judges it: a thing of 21 characters.
    await fill(page, 'console-field-thing4', '本次活动名额有限先到先得欢迎各位朋友参加吧')
    await expect.poll(() => page.locator('uni-page:visible .console-field-problem[data-field="thing4"]').textContent()).toBe('最多 20 个字符')
    await fill(page, 'console-field-thing4', '名额有限，先到先得')
    await expect.poll(() => page.locator('uni-page:visible .console-field-problem').count()).toBe(0)
    await page.locator('uni-page:visible #console-campaign-segment').selectOption({ label: '全部演示用户' })
    const reach = page.locator('uni-page:visible #console-reach')
    await expect.poll(() => reach.locator('[data-reach="users"]').textContent(), { timeout: PATIENCE_MS }).toBe('2,000')
    const eligible = Number((await reach.locator('[data-reach="eligible"]').textContent())!.replace(/,/g, ''))
    const deferred = Number((await reach.locator('[data-reach="deferred"]').textContent())!.replace(/,/g, ''))
    expect(eligible + deferred).toBeGreaterThan(0)
    await expect.poll(() => page.locator('uni-page:visible #console-sample').textContent()).toMatch(/^示例收件人：\S+ /)
    await page.locator('uni-page:visible #console-campaign-urgent').click()
    await current.screenshot('console-campaign-new-1280')
    await page.locator('uni-page:visible #console-campaign-start').click()

    await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe('群发：会员日提醒')
    const progress = page.locator('uni-page:visible #console-campaign-progress')
    await expect.poll(() => progress.textContent(), { timeout: 60_000, interval: 200 }).toBe('100%')
    // The scheduler (every 5 s in a real service; the journeys run it) marks a campaign with nothing left completed.
    await stack.runScheduler()
    await expect.poll(() => page.locator('uni-page:visible #console-campaign-status').textContent(), { timeout: PATIENCE_MS }).toBe('已完成')
    // Urgent: the people in their quiet hours are sent to now, so everyone reach counted is sent.
    expect(await page.locator('uni-page:visible [data-count="sent"]').textContent()).toBe((eligible + deferred).toLocaleString('en-US'))
    await current.screenshot('console-campaign-detail-1280')

    // The sandbox WeChat reports each accepted send delivered (subscribe_msg_sent_event), pushed to the service.
    await stack.settled()
    const pushedBefore = await api<{ push: { lastEventAt: string } }>('GET', '/api/health')
    await nav(page, 'overview', '概览')
    await expect.poll(() => totals.textContent(), { timeout: PATIENCE_MS }).toMatch(new RegExp(`^已发送 ${(eligible + deferred).toLocaleString('en-US')} · `))
    await expect.poll(() => delivered.textContent(), { timeout: PATIENCE_MS }).toBe((eligible + deferred).toLocaleString('en-US'))
    expect(await page.locator('uni-page:visible [data-today="sent"]').textContent()).toBe((eligible + deferred).toLocaleString('en-US'))
    const lastPush = new Date(pushedBefore.push.lastEventAt)
    const pad = (n: number): string => String(n).padStart(2, '0')
    // The browser runs in Asia/Shanghai: the time as the console writes it there.
    const shanghai = new Date(lastPush.getTime() + 8 * HOUR_MS)
    const written = `${pad(shanghai.getUTCMonth() + 1)}-${pad(shanghai.getUTCDate())} ${pad(shanghai.getUTCHours())}:${pad(shanghai.getUTCMinutes())}:${pad(shanghai.getUTCSeconds())}`
    expect(await page.locator('uni-page:visible #console-last-push').textContent()).toBe(written)
    await current.screenshot('console-overview-1280')
    expectNoProblems(current)
  }, 240_000)

  test('a failed message: its reason read (43101, no retry), a retryable one (-1) retried and sent', async () => {
    const person = await stack.signIn('console-failures')
    const results = { [ORDER_STATUS.id]: 'accept' }
    for (let i = 0; i < 3; i += 1) {
      await api('POST', '/sandbox/subscriptions', { results }, person.token)
      await api('POST', '/api/consents', { consentId: `console-e2e-${i}`, results }, person.token)
    }
    const data = { character_string1: 'DD20261201001', phrase2: '已发货', thing3: '机械键盘', time4: '2026年12月1日 10:00', thing5: '请注意查收' }
    const send = () => api<{ id: string; status: string }>('POST', '/api/messages?wait=true', { touser: person.openid, templateId: ORDER_STATUS.id, data })
    await api('PUT', '/sandbox/faults', { failNext: { errcode: 43101, count: 1 } })
    const refused = await send()
    await api('PUT', '/sandbox/faults', { failNext: { errcode: 45009, count: 0 } })
    await api('POST', '/api/consents', { consentId: 'console-e2e-again', results }, person.token)
    await api('POST', '/sandbox/subscriptions', { results }, person.token)
    await api('PUT', '/sandbox/faults', { failNext: { errcode: -1, count: 20 } })
    const busy = await send()
    await api('PUT', '/sandbox/faults', { failNext: { errcode: -1, count: 0 } })
    expect([refused.status, busy.status]).toEqual(['failed', 'failed'])

    const current = await open()
    const { page } = current
    await signedIn(page)
    await nav(page, 'messages', '消息')
    await fill(page, 'console-message-touser', person.openid)
    await page.locator('uni-page:visible #console-message-status').selectOption('failed')
    await page.locator('uni-page:visible #console-message-search').click()
    await expect.poll(() => page.locator('uni-page:visible .console-message-row').count(), { timeout: PATIENCE_MS }).toBe(2)

    await page.goto(consoleUrl(`messages/detail?id=${refused.id}`))
    const reason = page.locator('uni-page:visible #console-message-reason')
    await expect.poll(() => reason.textContent(), { timeout: PATIENCE_MS }).toContain('43101')
    expect(await reason.textContent()).toContain('这位用户没有剩余的订阅次数')
    expect(await page.locator('uni-page:visible #console-message-retry').count()).toBe(0)
    await current.screenshot('console-message-43101-1280')

    await page.goto(consoleUrl(`messages/detail?id=${busy.id}`))
    await page.reload()
    await expect.poll(() => reason.textContent(), { timeout: PATIENCE_MS }).toContain('-1')
    expect(await page.locator('uni-page:visible .console-attempt').count()).toBeGreaterThan(1)
    await page.locator('uni-page:visible #console-message-retry').click()
    await expect.poll(() => visibleToast(page), { timeout: PATIENCE_MS }).toBe('已重新排队')
    await expect.poll(() => page.locator('uni-page:visible #console-message-status').textContent(), { timeout: PATIENCE_MS }).toBe('已发送')
    // WeChat's delivery report comes after the send: the page keeps reading until it shows.
    await stack.settled()
    const delivery = page.locator('uni-page:visible #console-message-delivery-status')
    await expect.poll(() => delivery.textContent(), { timeout: PATIENCE_MS }).toBe('已送达')

    // One WeChat reports undelivered (the person refused it in 服务通知): the page says so, with WeChat's words.
    await api('POST', '/sandbox/subscriptions', { results }, person.token)
    await api('POST', '/api/consents', { consentId: 'console-e2e-refused-delivery', results }, person.token)
    await api('PUT', '/sandbox/faults', { failDeliveries: { errorCode: 10005, errorStatus: 'fail:user refuse', count: 1 } })
    const undelivered = await send()
    expect(undelivered.status).toBe('sent')
    await stack.settled()
    await page.goto(consoleUrl(`messages/detail?id=${undelivered.id}`))
    await page.reload()
    await expect.poll(() => delivery.textContent(), { timeout: PATIENCE_MS }).toBe('未送达（ErrorCode 10005）：用户拒收：在服务通知里关掉了这个小程序的消息')
    expect(await page.locator('uni-page:visible #console-message-delivery').textContent()).toContain('ErrorStatus fail:user refuse')
    await current.screenshot('console-message-undelivered-1280')
    expectNoProblems(current)
  }, 90_000)

  test('模板: the public library browsed by category and searched, a template added with chosen keywords, seen in the catalogue, removed', async () => {
    const current = await open()
    const { page } = current
    await signedIn(page)
    await nav(page, 'templates', '模板')
    const rows = page.locator('uni-page:visible .console-template-row')
    await expect.poll(() => rows.count(), { timeout: PATIENCE_MS }).toBe(5)
    const pageText = page.locator('uni-page:visible #console-library-page')
    await expect.poll(() => pageText.textContent(), { timeout: PATIENCE_MS }).toBe('第 1–11 个，共 11 个')

    await page.locator('uni-page:visible #console-library-category').selectOption({ label: '电商平台' })
    await expect.poll(() => pageText.textContent(), { timeout: PATIENCE_MS }).toBe('第 1–4 个，共 4 个')
    const titles = page.locator('uni-page:visible .console-library-title')
    expect(await titles.locator('td:first-child').allTextContents()).toEqual(['订单状态通知', '订单发货提醒', '支付成功通知', '退款成功通知'])
    await fill(page, 'console-library-words', '退款')
    await page.locator('uni-page:visible #console-library-search').click()
    await expect.poll(() => pageText.textContent(), { timeout: PATIENCE_MS }).toBe('第 1–1 个，共 1 个')
    await titles.first().locator('.console-library-choose').click()

    const adding = page.locator('uni-page:visible #console-add-template')
    await expect.poll(() => adding.locator('.console-keyword').count(), { timeout: PATIENCE_MS }).toBe(4)
    // Picked in the order the message shows them: the amount first.
    for (const kid of [2, 1, 4]) await adding.locator(`.console-keyword[data-kid="${kid}"]`).click()
    expect(await adding.locator('.console-keyword--picked .console-keyword__order').allTextContents()).toEqual(['2', '1', '3'])
    expect(await adding.locator('.notice-card__label').allTextContents()).toEqual(['退款金额', '订单号', '到账时间'])
    await page.locator('uni-page:visible #console-template-add').click()
    await expect.poll(() => page.locator('uni-page:visible #console-template-problem').textContent()).toBe('key 以小写字母开头，只用小写字母、数字和下划线，最多 64 个字符')
    await fill(page, 'console-template-key', 'refund_done')
    await fill(page, 'console-template-category', 'payment')
    await fill(page, 'console-template-scene', '退款到账提醒')
    await current.screenshot('console-templates-add-1280')
    // At 375 px the form is usable and the page never scrolls sideways (the catalogue's table scrolls in its box).
    await page.setViewportSize(SMALL_PHONE)
    await adding.scrollIntoViewIfNeeded()
    await current.screenshot('console-templates-add-375')
    const widest = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth))
    expect(widest, 'the page itself never scrolls sideways').toBeLessThanOrEqual(SMALL_PHONE.width)
    await page.locator('uni-page:visible #console-template-add').click()
    await expect.poll(() => visibleToast(page), { timeout: PATIENCE_MS }).toBe('已添加到模板目录')
    await page.setViewportSize(LAPTOP)

    const added = page.locator('uni-page:visible .console-template-row[data-key="refund_done"]')
    await expect.poll(() => added.count(), { timeout: PATIENCE_MS }).toBe(1)
    expect(await rows.count()).toBe(6)
    expect(await added.locator('.console-template-keyword__label').allTextContents()).toEqual(['退款金额', '订单号', '到账时间'])
    const catalogue = await api<Array<{ key: string; id: string; category: string; keywords: Array<{ name: string; label: string }> }>>('GET', '/api/templates')
    const entry = catalogue.find((template) => template.key === 'refund_done')
    expect(entry).toMatchObject({ category: 'payment', keywords: [{ name: 'amount2', label: '退款金额' }, { name: 'character_string1', label: '订单号' }, { name: 'time4', label: '到账时间' }] })
    await expect.poll(() => visibleToast(page), { timeout: PATIENCE_MS }).toBeNull()
    await page.evaluate(() => window.scrollTo(0, 0))
    await current.screenshot('console-templates-1280')

    await added.locator('.console-template-remove').click()
    await page.locator('uni-modal .uni-modal__btn_primary').filter({ visible: true }).click()
    await expect.poll(() => visibleToast(page), { timeout: PATIENCE_MS }).toBe('已删除')
    await expect.poll(() => rows.count(), { timeout: PATIENCE_MS }).toBe(5)
    expect((await api<Array<{ key: string }>>('GET', '/api/templates')).map((template) => template.key)).not.toContain('refund_done')
    // Gone from WeChat too: the sandbox's template list no longer has it.
    const report = await api<{ removed: string[]; added: string[] }>('POST', '/api/templates/sync', {})
    expect(report).toMatchObject({ added: [], removed: [] })
    expectNoProblems(current)
  }, 60_000)

  test('at 375 px: a user found by tag, a tag added and kept; wide tables scroll in their own box', async () => {
    const current = await open(SMALL_PHONE)
    const { page } = current
    await signedIn(page)
    await current.screenshot('console-overview-375')
    await nav(page, 'users', '用户')
    await fill(page, 'console-user-tag', 'vip')
    await page.locator('uni-page:visible #console-user-search').click()
    const rows = page.locator('uni-page:visible .console-user-row')
    await expect.poll(() => rows.count(), { timeout: PATIENCE_MS }).toBeGreaterThan(0)
    await current.screenshot('console-users-375')
    const widest = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth))
    expect(widest, 'the page itself never scrolls sideways').toBeLessThanOrEqual(SMALL_PHONE.width)
    const openid = ((await rows.first().locator('td').first().textContent()) ?? '').trim()
    await rows.first().click()
    await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe(`用户 ${openid}`)
    await fill(page, 'console-new-tag', '回访')
    await page.locator('uni-page:visible #console-add-tag').click()
    await expect.poll(() => page.locator('uni-page:visible .console-tag[data-tag="回访"]').count(), { timeout: PATIENCE_MS }).toBe(1)
    const saved = await api<{ tags: string[] }>('GET', `/api/users/${openid}`)
    expect(saved.tags).toContain('回访')
    expect(saved.tags).toContain('vip')
    await current.screenshot('console-user-375')
    expectNoProblems(current)
  }, 60_000)

  test('an expired session returns to sign-in saying so; 退出 signs out', async () => {
    const current = await open(SMALL_PHONE)
    const { page } = current
    await signedIn(page)
    await stack.setClock(new Date(Date.now() + 13 * HOUR_MS))
    await page.reload()
    const ended = page.locator('#console-session-ended')
    await ended.waitFor({ timeout: PATIENCE_MS })
    expect(await ended.textContent()).toBe('登录已过期，请重新输入管理密钥登录')
    await current.screenshot('console-session-expired-375')
    // The browser reports the service's 401s as console errors: here they are the point.
    current.problems.splice(0, current.problems.length, ...current.problems.filter((problem) => !problem.includes('status of 401')))
    await stack.setClock(null)
    await signIn(page)
    await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe('概览')
    await page.locator('uni-page:visible #console-sign-out').click()
    await page.locator('#console-admin-key input').waitFor({ timeout: PATIENCE_MS })
    expect(await page.locator('#console-session-ended').count()).toBe(0)
    expect(await page.evaluate(() => localStorage.getItem('uni-subscribe:console-session'))).toBeNull()
    expectNoProblems(current)
  }, 60_000)
})

describe('the console on a fresh database, and the end user’s first page', () => {
  let fresh: Stack

  beforeAll(async () => {
    fresh = await startStack()
  })
  afterAll(async () => fresh?.close())

  test('every console page renders with no error; the first page of the app loads none of the console’s code', async () => {
    const current = await open(SMALL_PHONE)
    const { page } = current
    const scripts = new Map<string, string>()
    page.on('response', (response) => {
      const url = response.url()
      if (url.endsWith('.js')) void response.text().then((text) => scripts.set(url, text))
    })
    await page.goto(`${fresh.url}#/pages/orders/index`)
    await page.locator('uni-page:visible .orders-page').waitFor({ timeout: PATIENCE_MS })
    await page.waitForLoadState('networkidle')
    const firstLoad = new Set(scripts.keys())
    expect(firstLoad.size).toBeGreaterThan(0)
    for (const [url, text] of scripts) {
      expect(text.includes('/api/admin/session'), `${url} holds the console's api client`).toBe(false)
      expect(text.includes('Canvas is already in use'), `${url} holds the chart library`).toBe(false)
    }

    await page.goto(`${fresh.url}#/pages/console/sign-in`)
    const input = page.locator('#console-admin-key input')
    await input.waitFor({ timeout: PATIENCE_MS })
    await input.fill(fresh.adminKey)
    await page.locator('#console-sign-in').click()
    const pages: Array<[string, string]> = [
      ['index', '概览'],
      ['campaigns/index', '群发'],
      ['campaigns/new', '新建群发'],
      ['segments/index', '分群'],
      ['users/index', '用户'],
      ['messages/index', '消息'],
      ['templates/index', '模板'],
      ['sandbox/index', '沙盒'],
      // Opened without an id (a bookmark, a typed address): they say so and ask the service nothing.
      ['campaigns/detail', '群发详情'],
      ['messages/detail', '消息详情'],
      ['users/detail', '用户详情'],
    ]
    for (const [path, name] of pages) {
      await page.goto(`${fresh.url}#/pages/console/${path}`)
      await expect.poll(() => title(page).textContent(), { timeout: PATIENCE_MS }).toBe(name)
      await page.waitForLoadState('networkidle')
      expect(await page.locator('uni-page:visible .c-error').count(), `${name}: an error shows`).toBe(0)
      if (path.endsWith('/detail')) expect(await page.locator('uni-page:visible #console-no-id').count(), `${name}: says nothing was named`).toBe(1)
      const widest = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth))
      expect(widest, `${name}: the page itself never scrolls sideways at 375 px`).toBeLessThanOrEqual(SMALL_PHONE.width)
      await current.screenshot(`console-fresh-${path.replace('/', '-')}-375`)
    }
    await current.screenshot('console-sandbox-fresh-375')
    const consoleOnly = [...scripts.keys()].filter((url) => !firstLoad.has(url))
    expect(consoleOnly.length, 'the console comes in chunks of its own').toBeGreaterThan(0)
    expect([...scripts].some(([url, text]) => consoleOnly.includes(url) && text.includes('Canvas is already in use'))).toBe(true)
    expectNoProblems(current)
  }, 90_000)
})
