/**
 * Browser journeys: headless Chromium (phone size, network fenced to loopback) against the built H5
 * app and the real service, both served from one loopback address as `npm start` serves them.
 * Each journey signs in as its own test user in a fresh browser context, ends with a screenshot in
 * ./screenshots, and fails on any page error or console error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { closeBrowser, openSession, type BrowserSession } from './support/browser'
import { startStack, templateByKey, type Stack } from './support/stack'
import { PATIENCE_MS, currentPage, goToTab, openApp, signInAs, subscribeDialog, templateCard, toastText } from './support/app'

const ORDER_STATUS = templateByKey('order_status')
const SHIPPING = templateByKey('shipping')

let stack: Stack
let session: BrowserSession | null = null

beforeAll(async () => {
  stack = await startStack()
})

afterEach(async () => {
  await session?.close()
  session = null
  if (!stack.running) await stack.start()
  await stack.setClock(null)
})

afterAll(async () => {
  await closeBrowser()
  await stack?.close()
})

async function open(): Promise<BrowserSession> {
  session = await openSession()
  return session
}

describe('browser journeys', () => {
  test('1: sign in, subscribe to two templates, advance an order: toast, 已发送 in 消息记录, the sandbox got exactly that message', async () => {
    const { page, problems, screenshot } = await open()
    await openApp(page, stack.url, '订阅中心')
    await signInAs(page, 'journey1')

    // One dialog for the group; the person leaves two of its templates ticked.
    await currentPage(page).locator('#subscribe-group').tap()
    const dialog = subscribeDialog(page)
    await dialog.waitFor({ timeout: PATIENCE_MS })
    const items = dialog.locator('[data-template-id]')
    const listed = await items.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-template-id')))
    expect(listed).toContain(ORDER_STATUS.id)
    expect(listed).toContain(SHIPPING.id)
    for (const id of listed) {
      if (id !== ORDER_STATUS.id && id !== SHIPPING.id) await dialog.locator(`[data-template-id="${id}"]`).click()
    }
    await dialog.getByTestId('dialog-allow').click()
    await dialog.waitFor({ state: 'detached', timeout: PATIENCE_MS })

    expect(await toastText(page, '已订阅')).toBe(`已订阅「${ORDER_STATUS.title}」「${SHIPPING.title}」`)
    await expect.poll(() => templateCard(page, 'order_status').innerText(), { timeout: PATIENCE_MS }).toContain('剩余 1 次')
    await expect.poll(() => templateCard(page, 'shipping').innerText(), { timeout: PATIENCE_MS }).toContain('剩余 1 次')
    // Unticked in the dialog: WeChat answers reject for it.
    expect(await templateCard(page, 'payment').innerText()).toContain('已拒绝')

    // 订单: place the demo order and move it one step (待支付 → 已支付).
    await goToTab(page, '订单')
    await currentPage(page).locator('#place-order').tap()
    const order = currentPage(page).locator('.order-card').first()
    await order.waitFor({ timeout: PATIENCE_MS })
    const orderId = (await order.locator('.card__note').first().innerText()).replace('订单号', '').trim()
    const goodsName = (await order.locator('.card__title').innerText()).trim()
    await order.locator('.order-card__advance').tap()
    expect(await toastText(page, '订单已支付')).toBe('订单已支付')
    await expect.poll(() => order.locator('.order-card__outcome-text').innerText(), { timeout: PATIENCE_MS }).toBe('已发送')

    await goToTab(page, '消息记录')
    const row = currentPage(page).locator('.message-row').first()
    await row.waitFor({ timeout: PATIENCE_MS })
    expect(await row.innerText()).toContain('已发送')
    expect(await row.innerText()).toContain(ORDER_STATUS.title)

    const user = await stack.signIn('journey1')
    const received = await stack.received()
    const mine = received.filter((message) => message.touser === user.openid)
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatchObject({
      touser: user.openid,
      template_id: ORDER_STATUS.id,
      data: {
        character_string1: { value: orderId },
        phrase2: { value: '已支付' },
        thing3: { value: goodsName },
        thing5: { value: '商家正在备货' },
      },
    })
    expect(mine[0]?.data.time4?.value).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/)
    // The credit was spent; the other consent is still there.
    const credits = Object.fromEntries((await stack.subscriptions(user)).map((entry) => [entry.templateId, entry.credits]))
    expect(credits).toMatchObject({ [ORDER_STATUS.id]: 0, [SHIPPING.id]: 1 })

    await screenshot('journey-1-messages')
    expect(problems).toEqual([])
  })
})
