/**
 * Answers of the wrong shape on the compiled mini-program: every request answered with a body the
 * contract does not describe (`{}`, `[]`, `null`, a gateway's HTML page as text, an object with every
 * field of the wrong type), as a proxy, a gateway error page or an older service might. No page throws,
 * nothing reaches `console.error`, no promise is left rejected: each page shows the plain message.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeService } from '../support/fake-service'
import { launchMiniProgram, type MiniProgram, type OpenedPage } from './support/mini-program'

const BAD_RESPONSE = '服务返回的数据不完整，请稍后重试'

const WRONG_BODIES: ReadonlyArray<[string, unknown]> = [
  ['{}', {}],
  ['[]', []],
  ['null', null],
  ['an HTML page', '<html><body>502 Bad Gateway</body></html>'],
  ['fields of the wrong type', { token: 1, openid: [], expiresAt: {}, credits: 'x', message: 7, mutedCategories: 3, quietHours: 'x', dailyLimit: '5' }],
  ['a list of wrong items', [{}, 1, 'x']],
]

/** Each page with what a person does there after it loaded. */
const PAGES: ReadonlyArray<{ route: string; act: (mp: MiniProgram, page: OpenedPage) => Promise<void> }> = [
  {
    route: 'pages/orders/index',
    act: async (mp, page) => {
      await mp.tap(page.find('#place-order'))
      await mp.tap(page.find('.page >>> .order-card__advance'))
    },
  },
  { route: 'pages/subscriptions/index', act: async (mp, page) => mp.tap(page.find('.page >>> #subscribe-order_status')) },
  { route: 'pages/messages/index', act: async (_mp, page) => page.hook('onPullDownRefresh') },
  { route: 'pages/preferences/index', act: async (mp, page) => mp.tap(page.find('#save-preferences')) },
]

describe('answers of the wrong shape, in the compiled mini-program', () => {
  let mp: MiniProgram | undefined
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
  let errors: ReturnType<typeof vi.spyOn>

  beforeEach(() => {
    unhandled.length = 0
    process.on('unhandledRejection', onUnhandled)
    errors = vi.spyOn(console, 'error')
  })
  afterEach(() => {
    mp?.close()
    mp = undefined
    process.off('unhandledRejection', onUnhandled)
    errors.mockRestore()
  })

  async function settled(): Promise<void> {
    // Unhandled rejections are reported after the microtasks of the macrotask that made them.
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
    expect(errors).not.toHaveBeenCalled()
  }

  describe.each(WRONG_BODIES)('every answer %s', (_name, body) => {
    it.each(PAGES.map((page) => page.route))('%s says the sign-in failed, in plain words', async (route) => {
      mp = await launchMiniProgram({ service: new FakeService() })
      mp.wx.reshape = () => ({ statusCode: 200, data: body })
      const page = await mp.open(route)
      expect(page.text()).toContain(`登录失败：${BAD_RESPONSE}`)
      await settled()
    })

    it.each(PAGES)('$route, signed in, loads and acts without throwing', async ({ route, act }) => {
      mp = await launchMiniProgram({ service: new FakeService() })
      mp.wx.reshape = (request, answer) => (request.path === '/api/session' ? answer : { statusCode: 200, data: body })
      const page = await mp.open(route)
      // The orders page loads only the catalogue before its first tap; the others show the failure at
      // once, except where `[]` is a right answer (an empty catalogue, no messages yet).
      const listsOnly = route === 'pages/subscriptions/index' || route === 'pages/messages/index'
      if (route !== 'pages/orders/index' && !(listsOnly && Array.isArray(body) && body.length === 0)) {
        expect(page.text()).toContain(BAD_RESPONSE)
      }
      // What a person does next: with the catalogue missing, some controls are not there to tap.
      mp.wx.reshape = (request, answer) =>
        request.path === '/api/session' || request.path === '/api/templates' ? answer : { statusCode: 200, data: body }
      await page.hook('onShow')
      await act(mp, page)
      // Said on the page, or in the toast after the tap (a consent answered with `[]`).
      const said = `${page.text()} ${mp.wx.toasts.map((toast) => toast.title).join(' ')}`
      if (!(route === 'pages/messages/index' && Array.isArray(body) && body.length === 0)) expect(said).toContain(BAD_RESPONSE)
      await settled()
    })
  })

  it('an error answer whose body is not the error shape is a plain message too (502 with a gateway page)', async () => {
    mp = await launchMiniProgram({ service: new FakeService() })
    mp.wx.reshape = (request, answer) => (request.path === '/api/session' ? answer : { statusCode: 502, data: '<html>Bad Gateway</html>' })
    const page = await mp.open('pages/subscriptions/index')
    expect(page.text()).toContain('服务暂时不可用（HTTP 502），请稍后再试')
    await settled()
  })
})
