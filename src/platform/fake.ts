/**
 * A typed test double of the platform that behaves like WeChat's:
 *
 * - `requestSubscribe` answers like `wx.requestSubscribeMessage`: errCode 10001 for no ids, 20003 for
 *   more than 3, 20001 for an id WeChat does not know and 20002 for mixed kinds (when `templates` are
 *   given), 20004 while the main switch is off, each with WeChat's errMsg; templates kept with
 *   "总是保持以上选择" answer their kept choice without a dialog; otherwise a dialog "shows" and the
 *   configured answer (default accept) comes back. `failNextSubscribe(errCode)` makes the next call fail.
 * - It records every call and whether it came synchronously inside a tap (`tap(handler)` runs a handler
 *   as the person's tap; a modal's `onConfirm` counts as one too, as in WeChat). With
 *   `requireTap: true` a call outside a tap fails with WeChat's TAP-gesture errMsg.
 * - `request` goes to the supplied handler (a fake service); `setOffline(true)` makes every request
 *   fail like `uni.request` without network.
 * - Storage is a Map you can hand to the next FakePlatform to "restart the app".
 */
import type { SubscribeResult, TemplateKind } from '@/domain/contract'
import { keptChoiceOf, type KeptChoice } from '@/rules/prompt-policy'
import {
  MAX_TEMPLATES_PER_CALL,
} from '@/rules/consent-batches'
import {
  NOT_IN_TAP_ERR_MSG,
  subscribeErrorFromWeChat,
  wechatFailMessage,
  type SubscribeErrCode,
} from '@/rules/subscribe-errors'
import { PlatformError } from './errors'
import type {
  ModalOptions,
  Platform,
  PlatformRequest,
  PlatformResponse,
  PlatformStorage,
  SubscribeAnswers,
  SubscriptionsSetting,
  ToastOptions,
} from './types'

type FakeRequestHandler = (request: PlatformRequest) => PlatformResponse | Promise<PlatformResponse>

interface FakeTemplate {
  id: string
  kind: TemplateKind
  title?: string
}

export interface FakePlatformOptions {
  name?: Platform['name']
  /** Templates "WeChat" knows; when given, unknown ids answer 20001 and mixed kinds 20002. */
  templates?: readonly FakeTemplate[]
  /** What the person answers in the dialog, per template id. Default: `defaultAnswer`. */
  answers?: Record<string, SubscribeResult>
  defaultAnswer?: SubscribeResult
  /** Whether the person ticks "总是保持以上选择" in each dialog (answers become kept choices). */
  keepChoices?: boolean
  mainSwitch?: boolean
  /** Choices already kept with "always keep". */
  itemSettings?: Record<string, KeptChoice>
  /** When true, calls outside `tap()` fail as in WeChat ≥ 2.8.2. Default false (calls are recorded). */
  requireTap?: boolean
  /** Handles `request`; default answers 404 to everything. */
  request?: FakeRequestHandler
  /** The `login` code; default `code-1`, `code-2`… */
  loginCode?: () => string
  /** Storage contents; pass the previous fake's `storageMap` to simulate a restart. */
  storage?: Map<string, string>
  /** Whether modals are confirmed. Default true. */
  modalConfirms?: boolean
  /** What the person does in the settings page opened by `openSubscriptionsSetting`. */
  onOpenSetting?: (current: SubscriptionsSetting) => SubscriptionsSetting
}

interface FakeSubscribeCall {
  tmplIds: string[]
  /** Called synchronously inside a tap (or a modal's confirm). */
  inTap: boolean
  /** A dialog was shown (false: failed before, or every template kept). */
  dialogShown: boolean
  /** What the call answered: the answers, or the errCode/errMsg. */
  outcome: { answers: SubscribeAnswers } | { errCode: number | null; errMsg: string }
}

interface FakeSettingsCall {
  inTap: boolean
}

export class FakePlatform implements Platform {
  readonly name: Platform['name']
  readonly storageMap: Map<string, string>
  readonly subscribeCalls: FakeSubscribeCall[] = []
  readonly settingsCalls: FakeSettingsCall[] = []
  readonly requests: PlatformRequest[] = []
  readonly toasts: ToastOptions[] = []
  readonly modals: ModalOptions[] = []
  loginCalls = 0
  /** How many times the pull-down-refresh animation was stopped. */
  pullDownRefreshStops = 0

  answers: Record<string, SubscribeResult>
  defaultAnswer: SubscribeResult
  keepChoices: boolean
  mainSwitch: boolean
  itemSettings: Record<string, KeptChoice>
  requireTap: boolean
  modalConfirms: boolean
  /** While true, modals fail to show as `uni.showModal` can (`showModal:fail`). */
  modalFails = false
  offline = false
  requestHandler: FakeRequestHandler
  onOpenSetting: ((current: SubscriptionsSetting) => SubscriptionsSetting) | null

  private readonly templates: Map<string, FakeTemplate> | null
  private readonly loginCode: () => string
  private tapDepth = 0
  private nextFailure: SubscribeErrCode | null = null

  constructor(options: FakePlatformOptions = {}) {
    this.name = options.name ?? 'fake'
    this.templates = options.templates ? new Map(options.templates.map((template) => [template.id, template])) : null
    this.answers = { ...(options.answers ?? {}) }
    this.defaultAnswer = options.defaultAnswer ?? 'accept'
    this.keepChoices = options.keepChoices ?? false
    this.mainSwitch = options.mainSwitch ?? true
    this.itemSettings = { ...(options.itemSettings ?? {}) }
    this.requireTap = options.requireTap ?? false
    this.modalConfirms = options.modalConfirms ?? true
    this.storageMap = options.storage ?? new Map()
    this.requestHandler = options.request ?? (() => ({ statusCode: 404, data: { error: { code: 'NOT_FOUND', message: '没有这个接口' } } }))
    this.onOpenSetting = options.onOpenSetting ?? null
    let codes = 0
    this.loginCode = options.loginCode ?? (() => `code-${++codes}`)
  }

  // ─── test controls ────────────────────────────────────────────────────────

  /** Runs `handler` as the person's tap: platform calls made synchronously inside count as in the tap. */
  tap<T>(handler: () => T): T {
    this.tapDepth++
    try {
      return handler()
    } finally {
      this.tapDepth--
    }
  }

  get inTap(): boolean {
    return this.tapDepth > 0
  }

  /** The next `requestSubscribe` fails with this errCode and WeChat's errMsg for it. */
  failNextSubscribe(errCode: SubscribeErrCode): void {
    this.nextFailure = errCode
  }

  setOffline(offline: boolean): void {
    this.offline = offline
  }

  /** How many dialogs were shown so far. */
  get dialogsShown(): number {
    return this.subscribeCalls.filter((call) => call.dialogShown).length
  }

  // ─── Platform ─────────────────────────────────────────────────────────────

  requestSubscribe(tmplIds: readonly string[]): Promise<SubscribeAnswers> {
    const call: FakeSubscribeCall = {
      tmplIds: [...tmplIds],
      inTap: this.inTap,
      dialogShown: false,
      outcome: { answers: {} },
    }
    this.subscribeCalls.push(call)
    const fail = (errCode: number | null, errMsg: string): Promise<SubscribeAnswers> => {
      call.outcome = { errCode, errMsg }
      const failure = errCode === null ? { errMsg } : { errMsg, errCode }
      return Promise.reject(subscribeErrorFromWeChat(failure))
    }
    if (this.requireTap && !call.inTap) return fail(null, NOT_IN_TAP_ERR_MSG)
    const failure = this.nextFailure
    if (failure !== null) {
      this.nextFailure = null
      return fail(failure, wechatFailMessage(failure))
    }
    const wechatError = this.checkCall(call.tmplIds)
    if (wechatError !== null) return fail(wechatError, wechatFailMessage(wechatError))

    const answers: SubscribeAnswers = {}
    const titles = new Set<string>()
    for (const id of call.tmplIds) {
      const kept = this.itemSettings[id]
      const title = this.templates?.get(id)?.title
      if (title !== undefined && titles.has(title)) {
        answers[id] = 'filter'
        continue
      }
      if (title !== undefined) titles.add(title)
      if (kept !== undefined) {
        answers[id] = kept
        continue
      }
      call.dialogShown = true
      const answer = this.answers[id] ?? this.defaultAnswer
      answers[id] = answer
      const keep = keptChoiceOf(answer)
      if (this.keepChoices && keep !== null) this.itemSettings[id] = keep
    }
    call.outcome = { answers }
    return Promise.resolve({ ...answers })
  }

  private checkCall(tmplIds: string[]): SubscribeErrCode | null {
    if (tmplIds.length === 0) return 10001
    if (tmplIds.some((id) => typeof id !== 'string' || id === '')) return 10004
    if (tmplIds.length > MAX_TEMPLATES_PER_CALL) return 20003
    if (this.templates !== null) {
      const kinds = new Set<TemplateKind>()
      for (const id of tmplIds) {
        const template = this.templates.get(id)
        if (template === undefined) return 20001
        kinds.add(template.kind)
      }
      if (kinds.size > 1) return 20002
    }
    if (!this.mainSwitch) return 20004
    return null
  }

  private currentSetting(): SubscriptionsSetting {
    return { mainSwitch: this.mainSwitch, itemSettings: { ...this.itemSettings } }
  }

  getSubscriptionsSetting(): Promise<SubscriptionsSetting> {
    return Promise.resolve(this.currentSetting())
  }

  openSubscriptionsSetting(): Promise<SubscriptionsSetting> {
    const call: FakeSettingsCall = { inTap: this.inTap }
    this.settingsCalls.push(call)
    if (this.requireTap && !call.inTap) {
      return Promise.reject(subscribeErrorFromWeChat({ errMsg: 'openSetting:fail can only be invoked by user TAP gesture.' }))
    }
    if (this.onOpenSetting !== null) {
      const next = this.onOpenSetting(this.currentSetting())
      this.mainSwitch = next.mainSwitch
      this.itemSettings = { ...next.itemSettings }
    }
    return Promise.resolve(this.currentSetting())
  }

  login(): Promise<string> {
    this.loginCalls++
    if (this.offline) return Promise.reject(new PlatformError('LOGIN_FAILED', 'login:fail network error'))
    return Promise.resolve(this.loginCode())
  }

  async request(options: PlatformRequest): Promise<PlatformResponse> {
    this.requests.push(options)
    if (this.offline) throw new PlatformError('OFFLINE', 'request:fail ')
    return this.requestHandler(options)
  }

  readonly storage: PlatformStorage = {
    get: (key) => this.storageMap.get(key) ?? null,
    set: (key, value) => {
      this.storageMap.set(key, value)
    },
    remove: (key) => {
      this.storageMap.delete(key)
    },
  }

  stopPullDownRefresh(): void {
    this.pullDownRefreshStops++
  }

  /** The pages opened, in order. */
  readonly openedPages: Array<{ url: string; tab: boolean }> = []

  openPage(url: string, options: { tab?: boolean } = {}): void {
    this.openedPages.push({ url, tab: options.tab === true })
  }

  toast(options: ToastOptions): void {
    this.toasts.push(options)
  }

  modal(options: ModalOptions): Promise<boolean> {
    if (this.modalFails) return Promise.reject(new PlatformError('MODAL_FAILED', 'showModal:fail'))
    this.modals.push(options)
    const confirmed = this.modalConfirms
    // WeChat lets a subscribe call made in a modal's confirm callback count as the tap.
    if (confirmed && options.onConfirm) this.tap(options.onConfirm)
    return Promise.resolve(confirmed)
  }
}
