/**
 * The README's pictures of the app's pages (docs/images), at 375 px (deviceScaleFactor 2): headless
 * Chromium against the e2e stack (the real service on loopback serving dist/build/h5: build it first
 * with `npx uni build`). One person, alice, subscribes, places an order and moves it once; then each page.
 *   npx tsx scripts/readme-screenshots.ts
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { openSession, closeBrowser } from '../tests/e2e/support/browser'
import { startStack } from '../tests/e2e/support/stack'
const cur = (page: Page) => page.locator('uni-page:visible')
const OUT = join(process.cwd(), 'docs/images')
const stack = await startStack()
const s = await openSession({ viewport: { width: 375, height: 812 } })
const p = s.page
p.on('pageerror', (e) => console.log('pageerror', e.message))
p.on('console', (m) => { if (m.type() === 'error') console.log('console error', m.text()) })
const shotOf = (page: Page) => async (name: string) => { await page.waitForTimeout(400); await page.screenshot({ path: join(OUT, `${name}.png`) }); console.log('shot', name) }
const shot = shotOf(p)
await p.goto(`${stack.url}#/pages/subscriptions/index`)
const i = cur(p).locator('#test-user-name input'); await i.waitFor(); await i.fill('alice'); await cur(p).locator('#sign-in').tap()
await cur(p).locator('.sign-in-card').waitFor({ state: 'detached' })
await cur(p).locator('#subscribe-order_status').tap()
await p.getByTestId('subscribe-dialog').getByTestId('dialog-allow').click()
await p.getByTestId('subscribe-dialog').waitFor({ state: 'detached' })
await p.waitForTimeout(2500)
await shot('subscriptions')
await p.locator('.uni-tabbar__item', { hasText: '订单' }).tap()
await cur(p).locator('#place-order').tap()
const order = cur(p).locator('.order-card').first()
await order.locator('.order-card__advance').tap()
await p.waitForFunction(() => document.querySelector('uni-page:not([style*="display: none"]) .order-card__outcome-text')?.textContent?.includes('已发送'), null, { timeout: 15000 }).catch(() => console.log('the order card never showed 已发送'))
await p.waitForTimeout(2500)
await shot('orders')
await p.locator('.uni-tabbar__item', { hasText: '消息记录' }).tap()
await cur(p).locator('.message-row').first().waitFor()
await shot('messages')
await cur(p).locator('.message-row').first().tap()
await cur(p).locator('.message-page').waitFor()
await p.waitForTimeout(500)
await shot('message-detail')
await p.goto(`${stack.url}#/pages/orders/index?id=261125-999999`)
await cur(p).locator('.not-found').waitFor()
await shot('order-not-found')
await p.goto(`${stack.url}#/pages/nope`)
await cur(p).locator('.not-found-page').waitFor()
await shot('not-found')
await p.goto(`${stack.url}#/pages/preferences/index`)
await cur(p).locator('#quiet-enabled').tap()
await shot('preferences')
await s.close()
// bob, in a browser of his own: WeChat's consent dialog (the H5 stand-in), then 总是保持以上选择 with 取消,
// and 订单 with the guide to settings that follows.
const b = await openSession({ viewport: { width: 375, height: 812 } })
const q = b.page
const bobShot = shotOf(q)
await q.goto(`${stack.url}#/pages/subscriptions/index`)
const bobName = cur(q).locator('#test-user-name input'); await bobName.waitFor(); await bobName.fill('bob'); await cur(q).locator('#sign-in').tap()
await cur(q).locator('.sign-in-card').waitFor({ state: 'detached' })
await cur(q).locator('#subscribe-order_status').tap()
const dialog = q.getByTestId('subscribe-dialog')
await dialog.waitFor()
await bobShot('consent-dialog')
await dialog.getByTestId('always-keep').click()
await dialog.getByTestId('dialog-cancel').click()
await dialog.waitFor({ state: 'detached' })
await q.locator('.uni-tabbar__item', { hasText: '订单' }).tap()
await cur(q).locator('#place-order').tap()
await cur(q).locator('.order-card').first().locator('.order-card__advance').tap()
await cur(q).locator('.settings-guide--always-reject').waitFor()
await q.waitForTimeout(2500)
await bobShot('always-reject-guide')
await b.close(); await closeBrowser(); await stack.close()
