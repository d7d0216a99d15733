/**
 * Headless Chromium for the browser journeys: Debian's /usr/bin/chromium driven by playwright-core.
 * Every non-loopback request is aborted (uni-h5's CSS points at a CDN; nothing may leave the machine),
 * and any page error or console error is collected so a journey fails on it.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SCREENSHOT_DIR = join(process.cwd(), 'screenshots')

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** How long a tap or a wait for an element may take before the step fails. */
export const ACTION_TIMEOUT_MS = 15_000

/** iPhone 12/13-like viewport: the layout must fit a phone width. */
export const PHONE = { width: 390, height: 844 }

export interface BrowserSession {
  /** The page showing now (see `reopen`). */
  readonly page: Page
  context: BrowserContext
  /** Page errors and console errors, in order: a journey fails if any is left. */
  problems: string[]
  /** Non-loopback requests the fence aborted (uni-h5's CSS asks a CDN for images). */
  blocked: string[]
  screenshot(name: string): Promise<string>
  /** Closes the page (the app is gone, its timers with it) and opens a new one in the same context (same storage). */
  reopen(): Promise<Page>
  close(): Promise<void>
}

export function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url)
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.')
}

let browser: Browser | undefined

export async function launchBrowser(): Promise<Browser> {
  if (browser) return browser
  // Playwright gives each launch a new, empty profile directory of its own.
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  return browser
}

export async function closeBrowser(): Promise<void> {
  await browser?.close()
  browser = undefined
}

/** A laptop's window, for the operator console. */
export const LAPTOP = { width: 1280, height: 860 }

/** A fresh context (own storage) at phone size (or `viewport`: a laptop is not mobile), with the network fenced to loopback. */
export async function openSession(options: { viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  const viewport = options.viewport ?? PHONE
  const phone = viewport.width < 768
  const context = await (await launchBrowser()).newContext({
    viewport,
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  })
  // A step that cannot happen fails in seconds, not after Playwright's 30 s default.
  context.setDefaultTimeout(ACTION_TIMEOUT_MS)
  const problems: string[] = []
  const blocked: string[] = []
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (isLoopback(url)) return route.continue()
    blocked.push(url)
    return route.abort('blockedbyclient')
  })
  function watch(page: Page): Page {
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() !== 'error') return
      // Chromium reports each aborted subresource as a console error; those are the fence working.
      const source = message.location().url
      if (message.text().includes('ERR_BLOCKED_BY_CLIENT') && source && !isLoopback(source)) return
      problems.push(`console error: ${message.text()}${source ? ` (${source})` : ''}`)
    })
    return page
  }
  let page = watch(await context.newPage())
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  return {
    get page() {
      return page
    },
    context,
    problems,
    blocked,
    async screenshot(name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`)
      await page.screenshot({ path, fullPage: false })
      return path
    },
    async reopen() {
      await page.close()
      page = watch(await context.newPage())
      return page
    },
    close: () => context.close(),
  }
}
