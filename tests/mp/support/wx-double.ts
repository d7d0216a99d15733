/**
 * A `wx` that behaves like WeChat's for what uni-subscribe uses: callbacks (success/fail/complete, always
 * after the call returns), `errMsg` strings (`requestSubscribeMessage:ok`, `request:fail …`), `errCode` on
 * subscribe failures, `getSetting({ withSubscriptions })` with `subscriptionsSetting`, storage, and
 * `request` answered by the fake send service.
 *
 * The tap-gesture rule is modelled: `requestSubscribeMessage` and `openSetting` only work while a tap
 * (or a modal's confirm) is being dispatched; a call made after an `await` or a timer fails with
 * WeChat's own message. Every call records whether it happened inside the tap.
 */
import type { SubscribeResult } from '../../../src/domain/contract'
import type { FakeService } from '../../support/fake-service'

export interface WxResult {
  errMsg: string
}
export interface WxFail extends WxResult {
  errCode?: number
  errno?: number
}
interface Callbacks<Success> {
  success?: (result: Success) => void
  fail?: (result: WxFail) => void
  complete?: (result: Success | WxFail) => void
}

export type ItemSetting = 'accept' | 'reject' | 'ban'
export interface WxSubscriptionsSetting {
  mainSwitch: boolean
  itemSettings?: Record<string, ItemSetting>
}
export interface WxSettingResult extends WxResult {
  authSetting: Record<string, boolean>
  subscriptionsSetting?: WxSubscriptionsSetting
}

export interface SubscribeCall {
  tmplIds: unknown
  /** Whether the call came while a tap (or modal confirm) was being dispatched. */
  inTap: boolean
  /** Whether WeChat's dialog would have appeared (not for "always keep" answers or failures). */
  dialogShown: boolean
  outcome: WxResult | WxFail
}

export interface ToastRecord {
  title: string
  icon: string
  duration: number
}

export interface ModalRecord {
  title: string
  content: string
  confirmText: string
  cancelText: string
  showCancel: boolean
  answer: 'confirm' | 'cancel' | null
}

interface ModalPending {
  record: ModalRecord
  callbacks: Callbacks<WxResult & { confirm: boolean; cancel: boolean }>
}

export interface RequestOptions extends Callbacks<WxResult & { data: unknown; statusCode: number; header: Record<string, string>; cookies: string[] }> {
  url: string
  method?: string
  data?: unknown
  header?: Record<string, string>
  timeout?: number
  dataType?: string
}

export interface SubscribeOptions extends Callbacks<WxResult & Record<string, string>> {
  tmplIds: unknown
}

/** What the person answers in the subscription dialog the next time it shows. */
export interface PersonAtDialog {
  /** Per template id; templates not listed are accepted. WeChat's other words too (`acceptWithAlert`, 强提醒). */
  answers: Record<string, 'accept' | 'reject' | 'acceptWithAlert' | 'acceptWithForcePush'>
  /** Ticks "总是保持以上选择": later calls return these answers with no dialog. */
  alwaysKeep: boolean
}

const TAP_GESTURE_FAILURE = 'can only be invoked by user TAP gesture.'

const SUBSCRIBE_ERRORS = {
  10001: 'TmplIds can\'t be empty',
  10004: 'Invalid template id',
  20001: 'No template data return, verify the template id exist',
  20002: 'Templates type must be same',
  20003: 'Templates count out of max bounds',
  20004: 'The main switch is switched off',
} as const

export class WxDouble {
  /** What getSetting reports and the dialog obeys. */
  setting: { mainSwitch: boolean; itemSettings: Record<string, ItemSetting> } = { mainSwitch: true, itemSettings: {} }
  person: PersonAtDialog = { answers: {}, alwaysKeep: false }
  /** What the person changes on the settings page that openSetting opens. */
  inSettings: (setting: WxDouble['setting']) => void = () => {}

  readonly subscribeCalls: SubscribeCall[] = []
  readonly openSettingCalls: Array<{ inTap: boolean }> = []
  readonly toasts: ToastRecord[] = []
  readonly modals: ModalRecord[] = []
  readonly navigations: Array<{ api: string; url: string }> = []
  readonly storage = new Map<string, unknown>()
  stopPullDownRefreshCalls = 0
  loginCalls = 0
  /**
   * Changes what the service's answer looks like on its way back (a proxy, a gateway page, an older
   * service): given the request and the service's answer (the service did handle it), what arrives.
   */
  reshape: ((request: { method: string; path: string }, answer: { statusCode: number; data: unknown }) => { statusCode: number; data: unknown }) | null = null

  private gestureDepth = 0
  private readonly pendingModals: ModalPending[] = []

  constructor(private readonly service: FakeService) {}

  get inGesture(): boolean {
    return this.gestureDepth > 0
  }

  /**
   * Opens the gesture window for a tap that is being dispatched right now. It closes once the code that
   * runs synchronously in the dispatch (and the microtasks it queued before this one) has finished.
   */
  openGestureForCurrentTask(): void {
    this.gestureDepth += 1
    queueMicrotask(() => {
      this.gestureDepth -= 1
    })
  }

  /** The person taps a button of the modal that is open (the newest): its callback runs inside that tap. */
  tapModal(button: 'confirm' | 'cancel'): void {
    const pending = this.pendingModals.pop()
    if (!pending) throw new Error('no modal is open')
    pending.record.answer = button
    const result = { errMsg: 'showModal:ok', confirm: button === 'confirm', cancel: button === 'cancel' }
    this.gestureDepth += 1
    try {
      pending.callbacks.success?.(result)
      pending.callbacks.complete?.(result)
    } finally {
      this.gestureDepth -= 1
    }
  }

  get openModal(): ModalRecord | null {
    return this.pendingModals.at(-1)?.record ?? null
  }

  // ─── subscription ────────────────────────────────────────────────────────

  requestSubscribeMessage = (options: SubscribeOptions): void => {
    const call: SubscribeCall = { tmplIds: options.tmplIds, inTap: this.inGesture, dialogShown: false, outcome: { errMsg: '' } }
    this.subscribeCalls.push(call)
    const fail = (errMsg: string, errCode?: number): void => {
      call.outcome = errCode === undefined ? { errMsg } : { errMsg, errCode }
      this.failLater(options, call.outcome)
    }
    if (!call.inTap) return fail(`requestSubscribeMessage:fail ${TAP_GESTURE_FAILURE}`)
    const ids = options.tmplIds
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
      return fail(`requestSubscribeMessage:fail ${SUBSCRIBE_ERRORS[10004]}`, 10004)
    }
    if (ids.length === 0) return fail(`requestSubscribeMessage:fail ${SUBSCRIBE_ERRORS[10001]}`, 10001)
    if (ids.length > 3) return fail(`requestSubscribeMessage:fail ${SUBSCRIBE_ERRORS[20003]}`, 20003)
    const templates = ids.map((id) => this.service.templates.find((template) => template.id === id))
    if (templates.some((template) => template === undefined)) {
      return fail(`requestSubscribeMessage:fail ${SUBSCRIBE_ERRORS[20001]}`, 20001)
    }
    if (new Set(templates.map((template) => template?.kind)).size > 1) {
      return fail(`requestSubscribeMessage:fail ${SUBSCRIBE_ERRORS[20002]}`, 20002)
    }
    if (!this.setting.mainSwitch) return fail(`requestSubscribeMessage:fail ${SUBSCRIBE_ERRORS[20004]}`, 20004)

    const answers: Record<string, SubscribeResult> = {}
    for (const id of ids) {
      const kept = this.setting.itemSettings[id]
      if (kept) {
        answers[id] = kept
        continue
      }
      call.dialogShown = true
      const answer = this.person.answers[id] ?? 'accept'
      answers[id] = answer
      if (this.person.alwaysKeep) this.setting.itemSettings[id] = answer.startsWith('accept') ? 'accept' : 'reject'
    }
    const result = { errMsg: 'requestSubscribeMessage:ok', ...answers }
    call.outcome = result
    this.succeedLater(options, result)
  }

  getSetting = (options: Callbacks<WxSettingResult> & { withSubscriptions?: boolean }): void => {
    this.succeedLater(options, this.settingResult('getSetting:ok', options.withSubscriptions === true))
  }

  openSetting = (options: Callbacks<WxSettingResult> & { withSubscriptions?: boolean }): void => {
    const inTap = this.inGesture
    this.openSettingCalls.push({ inTap })
    if (!inTap) return this.failLater(options, { errMsg: `openSetting:fail ${TAP_GESTURE_FAILURE}` })
    this.inSettings(this.setting)
    this.succeedLater(options, this.settingResult('openSetting:ok', options.withSubscriptions === true))
  }

  private settingResult(errMsg: string, withSubscriptions: boolean): WxSettingResult {
    const result: WxSettingResult = { errMsg, authSetting: {} }
    if (!withSubscriptions) return result
    const itemSettings = { ...this.setting.itemSettings }
    // WeChat leaves itemSettings out until the person has ticked "always keep" for some template.
    result.subscriptionsSetting = Object.keys(itemSettings).length
      ? { mainSwitch: this.setting.mainSwitch, itemSettings }
      : { mainSwitch: this.setting.mainSwitch }
    return result
  }

  // ─── login, network ──────────────────────────────────────────────────────

  login = (options: Callbacks<WxResult & { code: string }>): void => {
    this.loginCalls += 1
    this.succeedLater(options, { errMsg: 'login:ok', code: `wxcode-${this.loginCalls}` })
  }

  request = (options: RequestOptions): { abort(): void; onHeadersReceived(): void; offHeadersReceived(): void } => {
    let aborted = false
    queueMicrotask(() => {
      if (aborted) return this.fail(options, { errMsg: 'request:fail abort', errno: 5 })
      if (this.service.offline) return this.fail(options, { errMsg: 'request:fail timeout', errno: 5 })
      const method = (options.method ?? 'GET').toUpperCase()
      if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') {
        return this.fail(options, { errMsg: `request:fail invalid method ${method}` })
      }
      // WeChat serialises the body as JSON and parses a JSON answer: nothing but JSON crosses.
      const data = options.data === undefined ? undefined : (JSON.parse(JSON.stringify(options.data)) as unknown)
      const handled = this.service.handle({ url: options.url, method, data, ...(options.header ? { header: options.header } : {}) })
      const answer = this.reshape ? this.reshape({ method, path: new URL(options.url, 'http://x').pathname }, handled) : handled
      const result = {
        errMsg: 'request:ok',
        statusCode: answer.statusCode,
        data: JSON.parse(JSON.stringify(answer.data)) as unknown,
        header: { 'Content-Type': 'application/json; charset=utf-8' },
        cookies: [],
      }
      options.success?.(result)
      options.complete?.(result)
    })
    return {
      abort: () => {
        aborted = true
      },
      onHeadersReceived: () => {},
      offHeadersReceived: () => {},
    }
  }

  // ─── storage ─────────────────────────────────────────────────────────────

  getStorageSync = (key: string): unknown => (this.storage.has(key) ? this.storage.get(key) : '')
  setStorageSync = (key: string, value: unknown): void => {
    this.storage.set(key, JSON.parse(JSON.stringify(value)) as unknown)
  }
  removeStorageSync = (key: string): void => {
    this.storage.delete(key)
  }
  clearStorageSync = (): void => {
    this.storage.clear()
  }
  getStorage = (options: Callbacks<WxResult & { data: unknown }> & { key: string }): void => {
    if (!this.storage.has(options.key)) return this.failLater(options, { errMsg: 'getStorage:fail data not found' })
    this.succeedLater(options, { errMsg: 'getStorage:ok', data: this.storage.get(options.key) })
  }
  setStorage = (options: Callbacks<WxResult> & { key: string; data: unknown }): void => {
    this.setStorageSync(options.key, options.data)
    this.succeedLater(options, { errMsg: 'setStorage:ok' })
  }
  removeStorage = (options: Callbacks<WxResult> & { key: string }): void => {
    this.storage.delete(options.key)
    this.succeedLater(options, { errMsg: 'removeStorage:ok' })
  }
  getStorageInfoSync = (): { keys: string[]; currentSize: number; limitSize: number } => ({
    keys: [...this.storage.keys()],
    currentSize: 1,
    limitSize: 10240,
  })

  // ─── interface ───────────────────────────────────────────────────────────

  showToast = (options: Callbacks<WxResult> & { title: string; icon?: string; duration?: number }): void => {
    this.toasts.push({ title: options.title, icon: options.icon ?? 'success', duration: options.duration ?? 1500 })
    this.succeedLater(options, { errMsg: 'showToast:ok' })
  }
  hideToast = (options: Callbacks<WxResult> = {}): void => this.succeedLater(options, { errMsg: 'hideToast:ok' })
  showLoading = (options: Callbacks<WxResult> & { title: string }): void => this.succeedLater(options, { errMsg: 'showLoading:ok' })
  hideLoading = (options: Callbacks<WxResult> = {}): void => this.succeedLater(options, { errMsg: 'hideLoading:ok' })

  showModal = (
    options: ModalPending['callbacks'] & { title?: string; content?: string; confirmText?: string; cancelText?: string; showCancel?: boolean },
  ): void => {
    const record: ModalRecord = {
      title: options.title ?? '',
      content: options.content ?? '',
      confirmText: options.confirmText ?? '确定',
      cancelText: options.cancelText ?? '取消',
      showCancel: options.showCancel ?? true,
      answer: null,
    }
    this.modals.push(record)
    this.pendingModals.push({ record, callbacks: options })
  }

  stopPullDownRefresh = (options: Callbacks<WxResult> = {}): void => {
    this.stopPullDownRefreshCalls += 1
    this.succeedLater(options, { errMsg: 'stopPullDownRefresh:ok' })
  }
  startPullDownRefresh = (options: Callbacks<WxResult> = {}): void => this.succeedLater(options, { errMsg: 'startPullDownRefresh:ok' })

  navigateTo = (options: Callbacks<WxResult> & { url: string }): void => this.navigate('navigateTo', options)
  redirectTo = (options: Callbacks<WxResult> & { url: string }): void => this.navigate('redirectTo', options)
  switchTab = (options: Callbacks<WxResult> & { url: string }): void => this.navigate('switchTab', options)
  reLaunch = (options: Callbacks<WxResult> & { url: string }): void => this.navigate('reLaunch', options)
  navigateBack = (options: Callbacks<WxResult> = {}): void => this.navigate('navigateBack', { ...options, url: '' })
  setNavigationBarTitle = (options: Callbacks<WxResult> & { title: string }): void =>
    this.succeedLater(options, { errMsg: 'setNavigationBarTitle:ok' })

  private navigate(api: string, options: Callbacks<WxResult> & { url: string }): void {
    this.navigations.push({ api, url: options.url })
    this.succeedLater(options, { errMsg: `${api}:ok` })
  }

  // ─── what uni's runtime reads at start ───────────────────────────────────

  getSystemInfoSync = (): Record<string, unknown> => ({
    ...this.getDeviceInfo(),
    ...this.getWindowInfo(),
    ...this.getAppBaseInfo(),
  })
  getWindowInfo = (): Record<string, unknown> => ({
    pixelRatio: 2,
    screenWidth: 375,
    screenHeight: 812,
    windowWidth: 375,
    windowHeight: 724,
    statusBarHeight: 44,
    safeArea: { left: 0, right: 375, top: 44, bottom: 778, width: 375, height: 734 },
    screenTop: 0,
  })
  getDeviceInfo = (): Record<string, unknown> => ({
    brand: 'devtools',
    model: 'iPhone X',
    system: 'iOS 16.0',
    platform: 'devtools',
    benchmarkLevel: 1,
  })
  getAppBaseInfo = (): Record<string, unknown> => ({
    SDKVersion: '3.4.0',
    language: 'zh_CN',
    version: '8.0.50',
    theme: 'light',
    enableDebug: false,
    host: { env: 'WeChat' },
  })
  getAppAuthorizeSetting = (): Record<string, unknown> => ({})
  getSystemSetting = (): Record<string, unknown> => ({})
  canIUse = (): boolean => true
  getLaunchOptionsSync = (): Record<string, unknown> => ({ path: 'pages/orders/index', query: {}, scene: 1001 })
  getEnterOptionsSync = (): Record<string, unknown> => this.getLaunchOptionsSync()
  getAccountInfoSync = (): Record<string, unknown> => ({ miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } })
  onAppShow = (): void => {}
  onAppHide = (): void => {}
  onError = (): void => {}
  offAppShow = (): void => {}
  offAppHide = (): void => {}

  // ─── callbacks, as WeChat calls them: after the call returned ────────────

  private succeedLater<Success>(options: Callbacks<Success>, result: Success): void {
    queueMicrotask(() => {
      options.success?.(result)
      options.complete?.(result)
    })
  }

  private failLater<Success>(options: Callbacks<Success>, result: WxFail): void {
    queueMicrotask(() => this.fail(options, result))
  }

  private fail<Success>(options: Callbacks<Success>, result: WxFail): void {
    options.fail?.(result)
    options.complete?.(result)
  }
}
