/**
 * The H5 app as a person meets it, for the journeys: what they see (text in Chinese, the ids and
 * test ids the pages carry) and what they tap. uni-h5 renders `<button id="x">` as
 * `<uni-button id="x">`, a `showToast` as `uni-toast .uni-simple-toast__text`, a `showModal` as
 * `uni-modal`, and the tab bar as `.uni-tabbar__item`.
 */
import type { Locator, Page } from 'playwright-core'
import { expect } from 'vitest'
import { PHONE } from './browser'

export type Tab = '订单' | '订阅中心' | '消息记录' | '通知设置'

const TAB_PATHS: Record<Tab, string> = {
  订单: 'pages/orders/index',
  订阅中心: 'pages/subscriptions/index',
  消息记录: 'pages/messages/index',
  通知设置: 'pages/preferences/index',
}

/** Each page's root element. */
const PAGE_ROOTS: Record<Tab, string> = {
  订单: '.orders-page',
  订阅中心: '.subscriptions-page',
  消息记录: '.messages-page',
  通知设置: '.preferences-page',
}

/** How long a journey waits for something the person would wait for (a page, a toast, a send). */
export const PATIENCE_MS = 15_000

/** Opens the app (hash router) at a tab's page and waits until uni rendered it. */
export async function openApp(page: Page, baseUrl: string, tab: Tab = '订单'): Promise<void> {
  await page.goto(`${baseUrl}#/${TAB_PATHS[tab]}`)
  await currentPage(page).locator(PAGE_ROOTS[tab]).waitFor({ timeout: PATIENCE_MS })
}

/** Taps a tab of the tab bar and waits for its page to be the one showing. */
export async function goToTab(page: Page, tab: Tab): Promise<void> {
  await page.locator('.uni-tabbar__item', { hasText: tab }).tap()
  // A hash route change (no load event to wait for): wait for the tab's page to be the visible one.
  await currentPage(page).locator(PAGE_ROOTS[tab]).waitFor({ timeout: PATIENCE_MS })
}

/** The page currently showing (uni keeps the tab pages it visited in the DOM, hidden). */
export function currentPage(page: Page): Locator {
  return page.locator('uni-page:visible')
}

/** The sandbox sign-in card: types the test user's name and taps 登录. */
export async function signInAs(page: Page, user: string): Promise<void> {
  const visible = currentPage(page)
  const input = visible.locator('#test-user-name input')
  await input.waitFor({ timeout: PATIENCE_MS })
  await input.fill(user)
  await visible.locator('#sign-in').tap()
  await visible.locator('.sign-in-card').waitFor({ state: 'detached', timeout: PATIENCE_MS })
}

/** uni-h5's toast: icon 'none' renders the simple toast; 'success' / 'error' the one with an icon. */
const TOAST = 'uni-toast .uni-simple-toast__text, uni-toast .uni-toast__content'

/** The text of the toast showing now, or null when none shows. */
export async function visibleToast(page: Page): Promise<string | null> {
  const texts = await page.locator(TOAST).filter({ visible: true }).allInnerTexts()
  return texts.length === 0 ? null : texts.map((text) => text.trim()).join(' | ')
}

/**
 * Polls `condition` until it holds, noting every toast that shows meanwhile; on time-out fails with
 * `what` and those toasts (what the app told the person instead).
 */
async function untilWhileWatchingToasts(page: Page, what: string, condition: () => Promise<boolean>): Promise<void> {
  const seen = new Set<string>()
  try {
    await expect
      .poll(
        async () => {
          const text = await visibleToast(page)
          if (text !== null) seen.add(text)
          return condition()
        },
        { timeout: PATIENCE_MS },
      )
      .toBe(true)
  } catch (error) {
    const shown = seen.size === 0 ? 'no toast' : `toasts: ${[...seen].map((text) => `"${text}"`).join(', ')}`
    throw new Error(`${what}; ${shown}`, { cause: error })
  }
}

/** Waits until the toast showing says `expected`; fails naming the toasts that showed instead. */
export async function expectToast(page: Page, expected: string): Promise<void> {
  await untilWhileWatchingToasts(page, `toast "${expected}" never showed`, async () => (await visibleToast(page)) === expected)
}

/** The stand-in for WeChat's subscription dialog, mounted on document.body. */
export function subscribeDialog(page: Page): Locator {
  return page.getByTestId('subscribe-dialog')
}

/** Waits for the stand-in dialog to open; fails with what the app showed instead (its toasts). */
export async function openedDialog(page: Page): Promise<Locator> {
  const dialog = subscribeDialog(page)
  await untilWhileWatchingToasts(page, 'the subscription dialog did not open', () => dialog.isVisible())
  return dialog
}

/** The stand-in for WeChat's settings page (订阅消息 → 接收订阅消息). */
export function settingsSheet(page: Page): Locator {
  return page.getByTestId('settings-sheet')
}

/** A template's card in 订阅中心, by the catalogue's key (order_status, shipping…). */
export function templateCard(page: Page, key: string): Locator {
  return currentPage(page).locator(`.template-card--${key}`)
}

/** Reads a value the app keeps in uni storage (`uni-subscribe:<name>`, `{ v, data }`; uni-h5 keeps strings as they are in localStorage). */
export async function storedSlot(page: Page, name: string): Promise<unknown> {
  return page.evaluate((key) => {
    const text = localStorage.getItem(key)
    if (text === null || text === '') return null
    return (JSON.parse(text) as { data: unknown }).data
  }, `uni-subscribe:${name}`)
}

/**
 * What the person does in WeChat outside the app: switches 「接收订阅消息」 on or off. Written where
 * the H5 stand-in for WeChat keeps the signed-in person's settings (what `getSetting` reads), as
 * WeChat would; the app itself is not told.
 */
export async function setWeChatMainSwitch(page: Page, on: boolean): Promise<void> {
  await page.evaluate((mainSwitch) => {
    const session = JSON.parse(localStorage.getItem('uni-subscribe:session') ?? '{}') as { data?: { openid?: string } }
    const key = `uni-subscribe:h5-wechat-settings@${session.data?.openid ?? ''}`
    const text = localStorage.getItem(key)
    const stored = text === null ? null : (JSON.parse(text) as { data?: { itemSettings?: Record<string, string> } })
    const itemSettings = stored?.data?.itemSettings ?? {}
    localStorage.setItem(key, JSON.stringify({ v: 1, data: { mainSwitch, itemSettings } }))
  }, on)
}

/** uni's modal (showModal); uni keeps it in the DOM, hidden, once shown. */
export function modal(page: Page): Locator {
  return page.locator('uni-modal')
}

/** Nothing on the page is wider than the phone: no sideways scrolling at 390 px. */
export async function expectFitsPhoneWidth(page: Page): Promise<void> {
  const widest = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth))
  expect(widest, 'page width at a 390 px phone (sideways scrolling)').toBeLessThanOrEqual(PHONE.width)
}
