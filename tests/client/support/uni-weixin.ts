/**
 * A `uni` that behaves like uni-app's runtime on WeChat for the calls src/platform/mp-weixin.ts makes:
 * options objects with success / fail / complete callbacks, called after the call returns (as wx
 * does), `errMsg` strings, `errCode` on subscription failures, '' from getStorageSync for a missing
 * key. Each test scripts what WeChat answers next. Install with `vi.stubGlobal('uni', double)`.
 */
import type { SubscribeErrCode } from '@/rules/subscribe-errors'
import { wechatFailMessage } from '@/rules/subscribe-errors'

interface Callbacks<Success> {
  success?: (result: Success) => void
  fail?: (result: { errMsg: string; errCode?: number }) => void
  complete?: (result: unknown) => void
}

export type WeChatFailure = { errMsg: string; errCode?: number }

export class UniWeixinDouble {
  /** Every uni call, in order, with its options. */
  readonly calls: Array<{ api: string; options: Record<string, unknown> }> = []
  readonly storage = new Map<string, unknown>()

  /** What the next requestSubscribeMessage answers: per-id results, or a failure. */
  subscribeAnswer: Record<string, unknown> | WeChatFailure = {}
  subscriptionsSetting: { mainSwitch: boolean; itemSettings?: Record<string, string> } | undefined = { mainSwitch: true }
  /** Applied to `subscriptionsSetting` when the person is on the settings page. */
  inSettings: (() => void) | null = null
  loginAnswer: { code: string } | WeChatFailure = { code: 'wx-code-1' }
  requestAnswer: { statusCode: number; data: unknown } | WeChatFailure = { statusCode: 200, data: {} }
  /** 'fail': no modal could be shown (`showModal:fail`). */
  modalAnswer: 'confirm' | 'cancel' | 'fail' = 'confirm'

  private later(callback: () => void): void {
    queueMicrotask(callback)
  }

  private settle<Success>(options: Callbacks<Success>, outcome: Success | WeChatFailure, isFailure: boolean): void {
    this.later(() => {
      if (isFailure) options.fail?.(outcome as WeChatFailure)
      else options.success?.(outcome as Success)
      options.complete?.(outcome)
    })
  }

  failSubscribeWith(errCode: SubscribeErrCode): void {
    this.subscribeAnswer = { errMsg: wechatFailMessage(errCode), errCode }
  }

  requestSubscribeMessage = (options: Callbacks<Record<string, unknown>> & { tmplIds: string[] }): void => {
    this.calls.push({ api: 'requestSubscribeMessage', options: { ...options } })
    const answer = this.subscribeAnswer
    if ('errMsg' in answer && typeof answer.errMsg === 'string' && answer.errMsg.includes(':fail')) {
      this.settle(options, answer, true)
      return
    }
    this.settle(options, { errMsg: 'requestSubscribeMessage:ok', ...(answer as Record<string, unknown>) }, false)
  }

  getSetting = (options: Callbacks<unknown> & { withSubscriptions?: boolean }): void => {
    this.calls.push({ api: 'getSetting', options: { ...options } })
    const result: Record<string, unknown> = { errMsg: 'getSetting:ok', authSetting: {} }
    if (options.withSubscriptions && this.subscriptionsSetting) result.subscriptionsSetting = structuredClone(this.subscriptionsSetting)
    this.settle(options, result, false)
  }

  openSetting = (options: Callbacks<unknown> & { withSubscriptions?: boolean }): void => {
    this.calls.push({ api: 'openSetting', options: { ...options } })
    this.inSettings?.()
    const result: Record<string, unknown> = { errMsg: 'openSetting:ok', authSetting: {} }
    if (options.withSubscriptions && this.subscriptionsSetting) result.subscriptionsSetting = structuredClone(this.subscriptionsSetting)
    this.settle(options, result, false)
  }

  login = (options: Callbacks<unknown> & { provider?: string }): void => {
    this.calls.push({ api: 'login', options: { ...options } })
    const answer = this.loginAnswer
    if ('errMsg' in answer) this.settle(options, answer, true)
    else this.settle(options, { errMsg: 'login:ok', code: answer.code }, false)
  }

  request = (options: Callbacks<unknown> & { url: string }): void => {
    this.calls.push({ api: 'request', options: { ...options } })
    const answer = this.requestAnswer
    if ('errMsg' in answer) this.settle(options, answer, true)
    else this.settle(options, { errMsg: 'request:ok', statusCode: answer.statusCode, data: answer.data, header: {}, cookies: [] }, false)
  }

  getStorageSync = (key: string): unknown => (this.storage.has(key) ? this.storage.get(key) : '')
  setStorageSync = (key: string, value: unknown): void => {
    this.calls.push({ api: 'setStorageSync', options: { key } })
    this.storage.set(key, value)
  }
  removeStorageSync = (key: string): void => {
    this.storage.delete(key)
  }

  showToast = (options: Callbacks<unknown> & { title: string }): void => {
    this.calls.push({ api: 'showToast', options: { ...options } })
    this.settle(options, { errMsg: 'showToast:ok' }, false)
  }

  showModal = (options: Callbacks<{ errMsg: string; confirm: boolean; cancel: boolean }> & { title: string }): void => {
    this.calls.push({ api: 'showModal', options: { ...options } })
    if (this.modalAnswer === 'fail') {
      this.settle(options, { errMsg: 'showModal:fail system error' }, true)
      return
    }
    const confirm = this.modalAnswer === 'confirm'
    this.settle(options, { errMsg: 'showModal:ok', confirm, cancel: !confirm }, false)
  }

  stopPullDownRefresh = (options: Callbacks<unknown> = {}): void => {
    this.calls.push({ api: 'stopPullDownRefresh', options: { ...options } })
    this.settle(options, { errMsg: 'stopPullDownRefresh:ok' }, false)
  }

  callsOf(api: string): Array<Record<string, unknown>> {
    return this.calls.filter((call) => call.api === api).map((call) => call.options)
  }
}
