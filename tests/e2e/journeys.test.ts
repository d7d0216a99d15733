/**
 * Browser journeys: headless Chromium (phone size, network fenced to loopback) against the built H5
 * app and the real service, both served from one loopback address as `npm start` serves them.
 * Each journey signs in as its own test user in a fresh browser context, ends with a screenshot in
 * ./screenshots, and fails on any page error or console error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { closeBrowser, openSession, type BrowserSession } from './support/browser'
import { startStack, templateByKey, type Stack } from './support/stack'
import {
  PATIENCE_MS,
  currentPage,
  expectFitsPhoneWidth,
  expectToast,
  goToTab,
  modal,
  openedDialog,
  openApp,
  setWeChatMainSwitch,
  settingsSheet,
  signInAs,
  storedSlot,
  subscribeDialog,
  templateCard,
} from './support/app'

const ORDER_STATUS = templateByKey('order_status')
const SHIPPING = templateByKey('shipping')
const PAYMENT = templateByKey('payment')

const HOUR_MS = 3_600_000
/**
 * The last 23:30 in Asia/Shanghai (UTC+8) before now: inside quiet hours 22:00–08:00. Recent, because
 * the browser checks a session's expiry (7 days after the service's clock) against its own clock.
 */
const LATE_EVENING = (() => {
  const day = new Date(Date.now() + 8 * HOUR_MS)
  const today = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 23, 30) - 8 * HOUR_MS
  return new Date(today <= Date.now() ? today : today - 24 * HOUR_MS)
})()
/** 08:00 the next morning in Asia/Shanghai, when quiet hours end. */
const QUIET_HOURS_END = new Date(LATE_EVENING.getTime() + 8.5 * HOUR_MS)
/** 08:01: quiet hours are over. */
const NEXT_MORNING = new Date(QUIET_HOURS_END.getTime() + 60_000)
/** `11月26日` for the Shanghai date of `instant`. */
const shanghaiDay = (instant: Date): string => {
  const local = new Date(instant.getTime() + 8 * HOUR_MS)
  return `${local.getUTCMonth() + 1}月${local.getUTCDate()}日`
}

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
  test('1: sign in, subscribe to two templates, advance an order: toast, 已送达 in 消息记录, the sandbox got exactly that message', async () => {
    const { page, problems, screenshot } = await open()
    await openApp(page, stack.url, '订阅中心')
    await signInAs(page, 'journey1')

    // One dialog for the group; the person leaves two of its templates ticked.
    await currentPage(page).locator('#subscribe-group').tap()
    const dialog = await openedDialog(page)
    await screenshot('journey-1-dialog')
    const items = dialog.locator('[data-template-id]')
    const listed = await items.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-template-id')))
    expect(listed).toContain(ORDER_STATUS.id)
    expect(listed).toContain(SHIPPING.id)
    for (const id of listed) {
      if (id !== ORDER_STATUS.id && id !== SHIPPING.id) await dialog.locator(`[data-template-id="${id}"]`).click()
    }
    await dialog.getByTestId('dialog-allow').click()
    await dialog.waitFor({ state: 'detached', timeout: PATIENCE_MS })

    await expectToast(page, `已订阅「${ORDER_STATUS.title}」「${SHIPPING.title}」`)
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
    await expectToast(page, '订单已支付')
    await expect.poll(() => order.locator('.order-card__outcome-text').innerText(), { timeout: PATIENCE_MS }).toBe('已发送')
    await screenshot('journey-1-orders')

    // The sandbox WeChat reports the delivery (subscribe_msg_sent_event) once it has the message.
    await stack.settled()
    await goToTab(page, '消息记录')
    const row = currentPage(page).locator('.message-row').first()
    await row.waitFor({ timeout: PATIENCE_MS })
    expect(await row.locator('.message-row__status').innerText()).toBe('已送达')
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

    await expectFitsPhoneWidth(page)
    await screenshot('journey-1-messages')
    expect(problems).toEqual([])
  })
  test('2: "总是保持以上选择" with 取消: no dialog for that template again, and the guide to settings', async () => {
    const { page, problems, screenshot } = await open()
    await openApp(page, stack.url, '订阅中心')
    await signInAs(page, 'journey2')

    await templateCard(page, 'order_status').locator('#subscribe-order_status').tap()
    const dialog = await openedDialog(page)
    await dialog.getByTestId('always-keep').click()
    await dialog.getByTestId('dialog-cancel').click()
    await dialog.waitFor({ state: 'detached', timeout: PATIENCE_MS })
    await expectToast(page, '未订阅：已选择总是拒绝，如需接收请按下方提示到设置中打开')

    // The guide names the template and leads to settings; the template's own button is gone.
    const guide = currentPage(page).locator('.settings-guide--always-reject')
    await expect
      .poll(() => guide.isVisible(), {
        timeout: PATIENCE_MS,
        message: 'the always-reject guide shows once the dialog closed with 总是保持以上选择 + 取消 (getSetting reports the kept reject)',
      })
      .toBe(true)
    expect(await guide.innerText()).toContain(`已设置总是拒绝「${ORDER_STATUS.title}」`)
    expect(await guide.locator('.settings-guide__open').innerText()).toBe('去设置')
    const card = templateCard(page, 'order_status')
    expect(await card.innerText()).toContain('总是拒绝')
    expect(await card.locator('uni-button').count()).toBe(0)

    // A later tap that includes it: WeChat answers it without asking; the dialog lists only the others.
    await currentPage(page).locator('#subscribe-group').tap()
    await openedDialog(page)
    const listed = await dialog.locator('[data-template-id]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-template-id')))
    expect(listed).toEqual([SHIPPING.id, PAYMENT.id])
    await dialog.getByTestId('dialog-cancel').click()
    await dialog.waitFor({ state: 'detached', timeout: PATIENCE_MS })

    // 订单: the order's message cannot go; no offer to subscribe, no dialog; the guide is there.
    await goToTab(page, '订单')
    await currentPage(page).locator('#place-order').tap()
    const order = currentPage(page).locator('.order-card').first()
    await order.locator('.order-card__advance').tap()
    await expectToast(page, '订单已支付')
    await expect.poll(() => order.locator('.order-card__outcome-text').innerText(), { timeout: PATIENCE_MS }).toBe('未订阅')
    const ordersGuide = currentPage(page).locator('.settings-guide--always-reject')
    await ordersGuide.waitFor({ timeout: PATIENCE_MS })
    expect(await modal(page).isVisible()).toBe(false)
    expect(await dialog.count()).toBe(0)
    await expectFitsPhoneWidth(page)
    await screenshot('journey-2-always-reject-guide')

    // The guide's way out: WeChat's settings list the kept choice.
    await ordersGuide.locator('.settings-guide__open').tap()
    const sheet = settingsSheet(page)
    await sheet.waitFor({ timeout: PATIENCE_MS })
    const row = sheet.locator(`[data-template-id="${ORDER_STATUS.id}"]`)
    expect(await row.innerText()).toContain('拒绝')
    await row.click()
    await sheet.getByTestId('settings-back').click()
    await sheet.waitFor({ state: 'detached', timeout: PATIENCE_MS })
    await ordersGuide.waitFor({ state: 'detached', timeout: PATIENCE_MS })

    const user = await stack.signIn('journey2')
    expect((await stack.received()).filter((message) => message.touser === user.openid)).toEqual([])
    expect(problems).toEqual([])
  })

  test('3: main switch off → the 20004 guide; switched on in settings → subscribing works again', async () => {
    const { page, problems, screenshot } = await open()
    await openApp(page, stack.url, '订阅中心')
    await signInAs(page, 'journey3')
    await templateCard(page, 'order_status').locator('#subscribe-order_status').waitFor({ timeout: PATIENCE_MS })

    // Meanwhile, in WeChat, the person switches 「接收订阅消息」 off. The next tap gets errCode 20004.
    await setWeChatMainSwitch(page, false)
    await templateCard(page, 'order_status').locator('#subscribe-order_status').tap()
    await expectToast(page, '你已关闭订阅消息的总开关，请在设置里打开“接收订阅消息”')
    const guide = currentPage(page).locator('.settings-guide--main-switch-off')
    await guide.waitFor({ timeout: PATIENCE_MS })
    expect(await guide.innerText()).toContain('订阅消息已关闭')
    expect(await subscribeDialog(page).count()).toBe(0)
    await expectFitsPhoneWidth(page)
    await screenshot('journey-3-main-switch-off')

    await guide.locator('.settings-guide__open').tap()
    const sheet = settingsSheet(page)
    await sheet.waitFor({ timeout: PATIENCE_MS })
    const mainSwitch = sheet.getByTestId('main-switch')
    expect(await mainSwitch.getAttribute('aria-checked')).toBe('false')
    await mainSwitch.click()
    expect(await mainSwitch.getAttribute('aria-checked')).toBe('true')
    await sheet.getByTestId('settings-back').click()
    await guide.waitFor({ state: 'detached', timeout: PATIENCE_MS })

    await templateCard(page, 'order_status').locator('#subscribe-order_status').tap()
    const dialog = await openedDialog(page)
    await dialog.getByTestId('dialog-allow').click()
    await expectToast(page, `已订阅「${ORDER_STATUS.title}」`)
    await expect.poll(() => templateCard(page, 'order_status').innerText(), { timeout: PATIENCE_MS }).toContain('剩余 1 次')

    const user = await stack.signIn('journey3')
    const credits = (await stack.subscriptions(user)).find((entry) => entry.templateId === ORDER_STATUS.id)?.credits
    expect(credits).toBe(1)
    expect(problems).toEqual([])
  })

  test('4: quiet hours covering now: the order message is deferred with its time, and sent when they end', async () => {
    await stack.setClock(LATE_EVENING)
    const { page, problems, screenshot } = await open()
    await openApp(page, stack.url, '订阅中心')
    await signInAs(page, 'journey4')
    await templateCard(page, 'order_status').locator('#subscribe-order_status').tap()
    await (await openedDialog(page)).getByTestId('dialog-allow').click()
    await expect.poll(() => templateCard(page, 'order_status').innerText(), { timeout: PATIENCE_MS }).toContain('剩余 1 次')

    // 通知设置: quiet hours on (22:00 – 08:00 by default), the start moved to 21:30 in the browser's own
    // time field (H5), saved to the service.
    await goToTab(page, '通知设置')
    await currentPage(page).locator('#quiet-enabled').tap()
    await expect.poll(() => currentPage(page).locator('.quiet-summary').innerText(), { timeout: PATIENCE_MS }).toBe(
      '22:00 – 08:00（跨夜），期间的消息在结束后送达',
    )
    await currentPage(page).locator('#quiet-start input[type="time"]').fill('21:30')
    await expect.poll(() => currentPage(page).locator('.quiet-summary').innerText(), { timeout: PATIENCE_MS }).toBe(
      '21:30 – 08:00（跨夜），期间的消息在结束后送达',
    )
    expect(await currentPage(page).locator('#quiet-start').innerText()).toBe('开始\n21:30')
    await currentPage(page).locator('#save-preferences').tap()
    await expectToast(page, '已保存')
    await screenshot('journey-4-preferences')
    const user = await stack.signIn('journey4')
    expect((await stack.preferences(user)).quietHours).toEqual({ start: '21:30', end: '08:00' })

    await goToTab(page, '订单')
    await currentPage(page).locator('#place-order').tap()
    const order = currentPage(page).locator('.order-card').first()
    await order.locator('.order-card__advance').tap()
    await expectToast(page, '订单已支付')
    await expect.poll(() => order.locator('.order-card__outcome-text').innerText(), { timeout: PATIENCE_MS }).toBe(
      '免打扰时段结束后发送（08:00）',
    )

    await goToTab(page, '消息记录')
    const row = currentPage(page).locator('.message-row').first()
    await row.waitFor({ timeout: PATIENCE_MS })
    expect(await row.locator('.message-row__status').innerText()).toBe('待发送（免打扰）')
    expect(await row.locator('.message-row__detail').innerText()).toBe(`将于 ${shanghaiDay(QUIET_HOURS_END)} 08:00 发送`)
    await expectFitsPhoneWidth(page)
    await screenshot('journey-4-deferred')
    const [deferred] = await stack.messages(user)
    expect(deferred).toMatchObject({ templateId: ORDER_STATUS.id, status: 'deferred', deliverAfter: QUIET_HOURS_END.toISOString() })
    expect((await stack.received()).filter((message) => message.touser === user.openid)).toEqual([])

    // The night passes: the scheduler sends it.
    await stack.setClock(NEXT_MORNING)
    expect(await stack.runScheduler()).toBeGreaterThanOrEqual(1)
    const received = (await stack.received()).filter((message) => message.touser === user.openid)
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({ template_id: ORDER_STATUS.id, data: { phrase2: { value: '已支付' } } })

    // Back on 消息记录 (the page reloads on show), once WeChat reported the delivery: 已送达.
    await stack.settled()
    await goToTab(page, '订单')
    await goToTab(page, '消息记录')
    await expect.poll(() => row.locator('.message-row__status').innerText(), { timeout: PATIENCE_MS }).toBe('已送达')
    expect(await row.locator('.message-row__detail').innerText()).toBe(`发送于 ${shanghaiDay(NEXT_MORNING)} 08:01`)
    await expectFitsPhoneWidth(page)
    await screenshot('journey-4-sent')
    expect(problems).toEqual([])
  })

  test('5: the service unreachable while accepting: the consent waits in the outbox, is delivered when the service is back, counted once', async () => {
    const app = await open()
    await openApp(app.page, stack.url, '订阅中心')
    await signInAs(app.page, 'journey5')
    const user = await stack.signIn('journey5')
    const credits = async (): Promise<number | undefined> =>
      (await stack.subscriptions(user)).find((entry) => entry.templateId === ORDER_STATUS.id)?.credits
    const posted: string[] = []
    app.context.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/api/consents')) {
        posted.push((request.postDataJSON() as { consentId: string }).consentId)
      }
    })
    const outboxEntries = async (): Promise<{ consentId: string; results: Record<string, string> }[]> =>
      ((await storedSlot(app.page, 'consent-outbox')) as { entries: { consentId: string; results: Record<string, string> }[] } | null)
        ?.entries ?? []

    // The service goes down just as the accept is reported (WeChat itself has taken the answer).
    await app.page.route('**/api/consents', async (route) => {
      await stack.stop()
      await route.continue()
    })
    await templateCard(app.page, 'order_status').locator('#subscribe-order_status').tap()
    await (await openedDialog(app.page)).getByTestId('dialog-allow').click()
    await expectToast(app.page, `已订阅「${ORDER_STATUS.title}」，网络恢复后同步到服务`)
    await app.page.unroute('**/api/consents')
    const [waiting] = await outboxEntries()
    expect(waiting?.results).toEqual({ [ORDER_STATUS.id]: 'accept' })
    await expectFitsPhoneWidth(app.page)
    await app.screenshot('journey-5-outbox-waiting')

    // The app is closed while the service is down (its retry timer goes with it), the service comes
    // back, the app opens again: the persisted outbox delivers the consent.
    await app.reopen()
    await stack.start()
    await openApp(app.page, stack.url, '订阅中心')
    await expect.poll(() => templateCard(app.page, 'order_status').innerText(), { timeout: PATIENCE_MS }).toContain('剩余 1 次')
    expect(await outboxEntries()).toEqual([])
    expect(posted.filter((id) => id === waiting?.consentId)).toHaveLength(2)
    expect(await credits()).toBe(1)

    // Once more, and this time the service's answer is lost on the way back: the service counted
    // it, the app sends the same consent again, and the service does not count it twice.
    let answerLost = false
    await app.page.route('**/api/consents', async (route) => {
      if (answerLost) return route.continue()
      answerLost = true
      await route.fetch()
      await route.abort('connectionreset')
    })
    await templateCard(app.page, 'order_status').locator('#subscribe-order_status').tap()
    await (await openedDialog(app.page)).getByTestId('dialog-allow').click()
    await expect.poll(() => templateCard(app.page, 'order_status').innerText(), { timeout: 30_000 }).toContain('剩余 2 次')
    expect(await credits()).toBe(2)
    const replayed = posted.at(-1)
    expect(posted.filter((id) => id === replayed)).toHaveLength(2)
    expect(await outboxEntries()).toEqual([])
    await expectFitsPhoneWidth(app.page)
    await app.screenshot('journey-5-delivered')

    // The only errors: the two reports that got no answer.
    const unexpected = app.problems.filter((problem) => !/net::ERR_CONNECTION_(REFUSED|RESET) \(.*\/api\/consents\)$/.test(problem))
    expect(unexpected).toEqual([])
  })

  test('6: the credit arrives through WeChat\'s popup event while the device\'s report cannot; counted once when it does; the message shows 已送达', async () => {
    const app = await open()
    await openApp(app.page, stack.url, '订阅中心')
    await signInAs(app.page, 'journey6')
    const user = await stack.signIn('journey6')
    const credits = async (): Promise<number | undefined> =>
      (await stack.subscriptions(user)).find((entry) => entry.templateId === ORDER_STATUS.id)?.credits

    // The device's report never leaves the phone; WeChat's own push (the sandbox's, signed and
    // encrypted, to /wechat/push) is all the service hears of the accept.
    await app.page.route('**/api/consents', (route) => route.abort('connectionrefused'))
    await templateCard(app.page, 'order_status').locator('#subscribe-order_status').tap()
    await (await openedDialog(app.page)).getByTestId('dialog-allow').click()
    await expectToast(app.page, `已订阅「${ORDER_STATUS.title}」，网络恢复后同步到服务`)
    await stack.settled()
    expect(await credits()).toBe(1)
    const outbox = (await storedSlot(app.page, 'consent-outbox')) as { entries: unknown[] } | null
    expect(outbox?.entries).toHaveLength(1)
    await app.screenshot('journey-6-credit-from-wechat')

    // The report gets through at last: the same accept, counted once.
    await app.page.unroute('**/api/consents')
    await app.reopen()
    await openApp(app.page, stack.url, '订阅中心')
    await expect.poll(() => templateCard(app.page, 'order_status').innerText(), { timeout: PATIENCE_MS }).toContain('剩余 1 次')
    expect(await credits()).toBe(1)

    // 订单: the message goes; WeChat reports it delivered; 消息记录 says so.
    await goToTab(app.page, '订单')
    await currentPage(app.page).locator('#place-order').tap()
    const order = currentPage(app.page).locator('.order-card').first()
    await order.locator('.order-card__advance').tap()
    await expect.poll(() => order.locator('.order-card__outcome-text').innerText(), { timeout: PATIENCE_MS }).toBe('已发送')
    await stack.settled()
    await goToTab(app.page, '消息记录')
    const row = currentPage(app.page).locator('.message-row').first()
    await expect.poll(() => row.locator('.message-row__status').innerText(), { timeout: PATIENCE_MS }).toBe('已送达')
    expect(await row.innerText()).toContain(ORDER_STATUS.title)
    const [message] = await stack.messages(user)
    expect(message).toMatchObject({ templateId: ORDER_STATUS.id, status: 'sent', delivery: { status: 'delivered', errorCode: 0, errorStatus: 'success' } })
    await expectFitsPhoneWidth(app.page)
    await app.screenshot('journey-6-delivered')

    // The only errors: the reports the phone could not send.
    const unexpected = app.problems.filter((problem) => !/net::ERR_CONNECTION_REFUSED \(.*\/api\/consents\)$/.test(problem))
    expect(unexpected).toEqual([])
  })
  test('7: alice subscribes and orders; carol, signed in after her in the same browser, finds nothing of hers; alice finds it all again', async () => {
    const { page, problems, screenshot } = await open()
    await openApp(page, stack.url, '订阅中心')
    await signInAs(page, 'alice7')
    const bar = () => currentPage(page).getByTestId('session-bar')
    await expect.poll(() => bar().innerText(), { timeout: PATIENCE_MS }).toContain('当前用户：alice7')

    // alice: accepts 订单状态通知 and keeps that choice ("总是保持以上选择"), rejects 发货通知.
    await templateCard(page, 'order_status').locator('#subscribe-order_status').tap()
    const dialog = await openedDialog(page)
    await dialog.getByTestId('always-keep').click()
    await dialog.getByTestId('dialog-allow').click()
    await dialog.waitFor({ state: 'detached', timeout: PATIENCE_MS })
    await expectToast(page, `已订阅「${ORDER_STATUS.title}」`)
    await templateCard(page, 'shipping').locator('#subscribe-shipping').tap()
    await (await openedDialog(page)).getByTestId('dialog-cancel').click()
    await expect.poll(() => templateCard(page, 'shipping').innerText(), { timeout: PATIENCE_MS }).toContain('已拒绝')
    const aliceOrderCard = await templateCard(page, 'order_status').innerText()
    expect(aliceOrderCard).toContain('总是允许')
    await goToTab(page, '订单')
    await currentPage(page).locator('#place-order').tap()
    const order = currentPage(page).locator('.order-card').first()
    await order.locator('.order-card__advance').tap()
    await expect.poll(() => order.locator('.order-card__outcome-text').innerText(), { timeout: PATIENCE_MS }).toBe('已发送')
    const aliceOrders = await currentPage(page).locator('.order-card').allInnerTexts()
    expect(aliceOrders).toHaveLength(1)
    await screenshot('journey-7-alice-orders')

    // 切换用户 → carol: no orders, no badges, no kept choice, her own sign-in shown.
    await bar().locator('#switch-user').tap()
    await signInAs(page, 'carol7')
    await expect.poll(() => bar().innerText(), { timeout: PATIENCE_MS }).toContain('当前用户：carol7')
    await expect.poll(() => currentPage(page).locator('.order-card').count(), { timeout: PATIENCE_MS }).toBe(0)
    expect(await currentPage(page).innerText()).toContain('还没有订单')
    await goToTab(page, '订阅中心')
    await expect.poll(() => templateCard(page, 'order_status').innerText(), { timeout: PATIENCE_MS }).toContain('未订阅')
    const carolCards = await currentPage(page).locator('.template-card').allInnerTexts()
    for (const text of carolCards) {
      expect(text).not.toContain('已允许')
      expect(text).not.toContain('已拒绝')
      expect(text).not.toContain('总是')
    }
    await goToTab(page, '消息记录')
    await expect.poll(() => currentPage(page).locator('.message-row').count(), { timeout: PATIENCE_MS }).toBe(0)
    await expectFitsPhoneWidth(page)
    await screenshot('journey-7-carol-nothing-of-alice')

    // 退出登录, then alice again: her order, her statuses and her kept choice are back.
    await bar().locator('#sign-out').tap()
    await expectToast(page, 'carol7 已退出登录')
    await signInAs(page, 'alice7')
    await goToTab(page, '订阅中心')
    await expect.poll(() => templateCard(page, 'order_status').innerText(), { timeout: PATIENCE_MS }).toContain('总是允许')
    expect(await templateCard(page, 'shipping').innerText()).toContain('已拒绝')
    await goToTab(page, '订单')
    await expect.poll(() => currentPage(page).locator('.order-card').allInnerTexts(), { timeout: PATIENCE_MS }).toEqual(aliceOrders)

    // The service agrees: carol has no credit, alice still has her long-kept accept's credit spent by the send.
    const carol = await stack.signIn('carol7')
    expect(await stack.subscriptions(carol)).toEqual([])
    expect(problems).toEqual([])
  })
})

describe('an address the app has no page for (H5)', () => {
  test('8: #/pages/nope opens 页面不存在 naming it, and 回到订阅中心 leads back; an unknown address reached later, or one written without the hash, does the same', async () => {
    const { page, problems, screenshot } = await open()
    await page.goto(`${stack.url}#/pages/nope?from=mail`)
    const notFound = currentPage(page).locator('.not-found-page')
    await notFound.waitFor({ timeout: PATIENCE_MS })
    expect(await notFound.innerText()).toBe('页面不存在\n这个应用里没有 /pages/nope 这个页面，可能是链接写错了或已经失效。\n回到订阅中心')
    expect(page.url()).toContain('#/pages/not-found/index?')
    await expectFitsPhoneWidth(page)
    await screenshot('journey-8-not-found')

    await notFound.locator('#back-to-subscriptions').tap()
    await currentPage(page).locator('.subscriptions-page').waitFor({ timeout: PATIENCE_MS })
    expect(page.url()).toContain('#/pages/subscriptions/index')

    // The app is running: the address bar's hash changes to another unknown page.
    await page.evaluate(() => {
      location.hash = '#/pages/orders/nope'
    })
    await expect.poll(() => currentPage(page).locator('.not-found-page').innerText(), { timeout: PATIENCE_MS }).toContain('这个应用里没有 /pages/orders/nope 这个页面')

    // An address written without the hash: the service sends it to the app, which opens the page or says it has none.
    await page.goto(`${stack.url}pages/subscriptions/index`)
    await currentPage(page).locator('.subscriptions-page').waitFor({ timeout: PATIENCE_MS })
    expect(page.url()).toBe(`${stack.url}#/pages/subscriptions/index`)
    await page.goto(`${stack.url}pages/nope?from=mail`)
    await expect.poll(() => currentPage(page).locator('.not-found-page').innerText(), { timeout: PATIENCE_MS }).toContain('这个应用里没有 /pages/nope 这个页面')
    expect(problems).toEqual([])
  })
})
