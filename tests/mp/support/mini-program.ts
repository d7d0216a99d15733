/**
 * Runs the compiled mini-program (dist/build/mp-weixin) under WeChat's own miniprogram-simulate.
 *
 * What WeChat's runtime would provide is set up here, in the order WeChat does it: the globals `App`,
 * `getApp`, `getCurrentPages`, `Page`, `Component` (simulate's) and `wx` (the double) exist before
 * app.js and the vendor chunk are required; app.js registers the App, whose onLaunch/onShow this
 * harness calls; each page is loaded with `simulate.load` (compiled by simulate's own `wcc`), rendered,
 * attached, and given `onLoad(query)` and `onShow()`.
 *
 * Timers are vitest's fake ones while the mini-program runs: nothing the app schedules runs on its own
 * (no sleeps, no races); `tap()` runs what uni deferred to a 0 ms timer, and a test that wants time to
 * pass says so with `vi.advanceTimersByTime`.
 *
 * Each launch is a fresh process state for the mini-program: new `wx`, new service, new storage, the
 * build's modules required anew. Node requires the build as CommonJS, so it is copied next to a
 * `package.json` saying so (the repository's own says `"type": "module"`).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flushPromises } from '@vue/test-utils'
import { vi } from 'vitest'
import { FakeService, type FakeServiceOptions } from '../../support/fake-service'
import { WxDouble } from './wx-double'

// jsdom replaces the global URL, so paths are built from the file path, not with `new URL(…, import.meta.url)`.
export const MP_BUILD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../dist/build/mp-weixin')
const require = createRequire(import.meta.url)

// ─── the parts of miniprogram-simulate / j-component used here ─────────────────

/** A node of the rendered tree (j-component's Component). */
export interface MpNode {
  readonly dom: HTMLElement
  readonly data: Record<string, unknown>
  querySelector(selector: string): MpNode | undefined
  querySelectorAll(selector: string): MpNode[]
  dispatchEvent(eventName: string, options?: { detail?: unknown }): void
}

/** What a page's methods look like to the framework (uni puts its page hooks there). */
interface MpPageInstance {
  route?: string
  __route__?: string
  onLoad(query: Record<string, string>): unknown
  onShow?(): unknown
  onHide?(): unknown
  onPullDownRefresh?(): unknown
  [hook: string]: unknown
}

interface MpRootNode extends MpNode {
  readonly instance: MpPageInstance
  attach(parent: Node): void
  detach(): void
}

interface Simulate {
  load(componentPath: string, options: { rootPath: string; compiler?: 'official' | 'simulate' }): string
  render(id: string): MpRootNode
}

type Constructor = (options: Record<string, unknown>) => unknown

// simulate defines the global Component (and a wx of its own) when it is first required.
const simulate = require('miniprogram-simulate') as Simulate
const simulateComponent = (globalThis as unknown as { Component: Constructor }).Component

interface AppInstance {
  onLaunch?: (options: LaunchOptions) => void
  onShow?: (options: LaunchOptions) => void
  $vm?: unknown
  [key: string]: unknown
}

interface LaunchOptions {
  path: string
  query: Record<string, string>
  scene: number
}

/** Globals a mini-program's code finds in WeChat. */
interface MiniProgramGlobals {
  wx: WxDouble
  App: (options: AppInstance) => void
  getApp: () => AppInstance | undefined
  getCurrentPages: () => MpPageInstance[]
  Page: Constructor
  Component: Constructor
}

export interface OpenedPage {
  route: string
  root: MpRootNode
  instance: MpPageInstance
  /** All text the page shows, whitespace collapsed. */
  text(): string
  /** The first element matching `selector`; throws naming it when there is none. */
  find(selector: string): MpNode
  /** Fires a page hook the framework would fire (`onShow` after returning, `onPullDownRefresh`…). */
  hook(name: string, arg?: unknown): Promise<void>
}

export interface MiniProgram {
  wx: WxDouble
  service: FakeService
  /** Loads a page of app.json and runs it the way WeChat opens it: attached, onLoad(query), onShow. */
  open(route: string, query?: Record<string, string>): Promise<OpenedPage>
  /**
   * The person taps `node`: j-component's `dispatchEvent('tap')`, dispatched in a microtask as simulate
   * does. WeChat's gesture window is open for that dispatch only (see WxDouble). Then the handlers uni
   * deferred to a 0 ms timer run (outside the tap, as on a phone: a subscribe call made there is
   * recorded as not in the tap and fails), and the promises they started settle.
   */
  tap(node: MpNode): Promise<void>
  pages: OpenedPage[]
  close(): void
}

export interface LaunchOptionsInput extends FakeServiceOptions {
  /** Prepares the service (credits, messages…) before the app starts. */
  service?: FakeService
}

let buildCopy: string | null = null

/** The build, copied once per test process to a folder Node treats as CommonJS. */
function commonJsBuild(): string {
  if (buildCopy) return buildCopy
  const dir = mkdtempSync(join(tmpdir(), 'uni-subscribe-mp-'))
  cpSync(MP_BUILD_DIR, dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  buildCopy = dir
  return dir
}

function forgetBuildModules(dir: string): void {
  for (const id of Object.keys(require.cache)) if (id.startsWith(dir)) delete require.cache[id]
}

export async function launchMiniProgram(options: LaunchOptionsInput = {}): Promise<MiniProgram> {
  const dir = commonJsBuild()
  forgetBuildModules(dir)
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
  document.body.innerHTML = ''

  const service = options.service ?? new FakeService(options)
  const wx = new WxDouble(service)
  let app: AppInstance | undefined
  const pages: OpenedPage[] = []

  const globals: MiniProgramGlobals = {
    wx,
    App: (appOptions) => {
      if (app) throw new Error('App() called twice')
      app = appOptions
    },
    getApp: () => app,
    getCurrentPages: () => pages.map((page) => page.instance),
    Page: () => {
      throw new Error('Page() is not expected: uni-app registers its pages with Component()')
    },
    // The vendor chunk wraps whatever Component is when it loads: give it simulate's every time.
    Component: simulateComponent,
  }
  Object.assign(globalThis, globals)

  // WeChat opens a tap's gesture window while the tap is dispatched; simulate dispatches the DOM event
  // first and exparser's (which runs the bindtap handlers) right after it, in the same task.
  const openGesture = (): void => wx.openGestureForCurrentTask()
  document.addEventListener('tap', openGesture, { capture: true })

  require(join(dir, 'app.js'))
  if (!app) throw new Error('app.js did not register an App')
  const launch: LaunchOptions = { path: 'pages/orders/index', query: {}, scene: 1001 }
  app.onLaunch?.call(app, launch)
  app.onShow?.call(app, launch)
  await flushPromises()

  const open = async (route: string, query: Record<string, string> = {}): Promise<OpenedPage> => {
    const id = simulate.load(join(dir, route), { rootPath: dir })
    const root = simulate.render(id)
    const instance = root.instance
    // WeChat gives a page instance its route before `attached`, where uni decides page or component.
    instance.route = route
    instance.__route__ = route
    const page: OpenedPage = {
      route,
      root,
      instance,
      text: () => (root.dom.textContent ?? '').replace(/\s+/g, ' ').trim(),
      find: (selector) => {
        const node = root.querySelector(selector)
        if (!node) throw new Error(`${route}: nothing matches ${selector}`)
        return node
      },
      hook: async (name, arg) => {
        const hook = instance[name]
        if (typeof hook !== 'function') throw new Error(`${route} has no ${name} hook`)
        ;(hook as (value?: unknown) => unknown).call(instance, arg)
        await flushPromises()
      },
    }
    pages.push(page)
    root.attach(document.body)
    instance.onLoad.call(instance, query)
    instance.onShow?.call(instance)
    await flushPromises()
    return page
  }

  return {
    wx,
    service,
    pages,
    open,
    tap: async (node) => {
      node.dispatchEvent('tap')
      await flushPromises()
      vi.advanceTimersByTime(0)
      await flushPromises()
    },
    close: () => {
      document.removeEventListener('tap', openGesture, { capture: true })
      for (const page of pages.splice(0)) page.root.detach()
      vi.useRealTimers()
    },
  }
}
