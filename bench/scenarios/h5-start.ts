/**
 * H5 start: how soon 订阅中心 is interactive for a signed-in person, as the median of cold loads in
 * headless Chromium (a new context each time: no HTTP cache, no service worker) against the local
 * service serving dist/build/h5 (the e2e stack: the real service, SQLite, the sandbox WeChat).
 *
 * The person is signed in as a returning one is (their session in uni storage), so the figure is the
 * subscription centre itself, not the sign-in card. "Interactive" is the moment the page shows the
 * person's templates with the subscribe button of 订单状态通知 (its handler is bound when uni renders
 * it), read as `performance.now()` in the page: from the navigation's start.
 */
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../tests/e2e/support/browser'
import { startStack } from '../../tests/e2e/support/stack'

export interface H5StartResult {
  runsMs: number[]
  medianMs: number
}

const RUNS = 5
const WEEK_MS = 7 * 24 * 60 * 60 * 1000

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export async function benchH5Start(runs = RUNS): Promise<H5StartResult> {
  const stack = await startStack()
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  try {
    const user = await stack.signIn('bench-h5-start')
    const session = JSON.stringify({
      v: 1,
      data: { token: user.token, openid: user.openid, expiresAt: new Date(Date.now() + WEEK_MS).toISOString(), testUser: 'bench-h5-start' },
    })
    const runsMs: number[] = []
    // One load first, not counted: Chromium's own start and the service's first requests.
    for (let run = 0; run <= runs; run += 1) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } })
      // Nothing leaves the machine (as in the journeys): a request elsewhere is refused at once.
      await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort())
      await context.addInitScript((value) => localStorage.setItem('uni-subscribe:session', value), session)
      const page = await context.newPage()
      if (process.env.H5_START_DEBUG) {
        page.on('console', (message) => console.log('console', message.text()))
        page.on('requestfailed', (request) => console.log('failed', request.url()))
        page.on('response', (response) => console.log(response.status(), response.url()))
      }
      await page.goto(`${stack.url}#/pages/subscriptions/index`, { waitUntil: 'commit' })
      await page.locator('uni-page:visible .template-card--order_status #subscribe-order_status').waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
        await page.screenshot({ path: 'screenshots/h5-start-failed.png' })
        throw error
      })
      const ms = await page.evaluate(() => performance.now())
      if (run > 0) runsMs.push(Math.round(ms))
      await context.close()
    }
    return { runsMs, medianMs: median(runsMs) }
  } finally {
    await browser.close()
    await stack.close()
  }
}
