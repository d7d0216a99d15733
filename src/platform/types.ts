/**
 * The platform seam: the only code that touches `uni.*` implements this interface.
 * mp-weixin calls uni (→ wx); H5 brings the stand-in subscription dialog; tests use the typed fake.
 * Stores, the api client and pages get a `Platform`, never the global `uni`.
 */
import type { ServiceInfo, SubscribeResult, Template } from '@/domain/contract'

export type { PlatformError, PlatformErrorCode } from './errors'

/** What one `requestSubscribeMessage` call answered, per template id (errMsg removed). */
export type SubscribeAnswers = Record<string, SubscribeResult>

/** What `getSetting({ withSubscriptions: true })` reports. `itemSettings` lists only "always keep" choices. */
export interface SubscriptionsSetting {
  mainSwitch: boolean
  itemSettings: Record<string, 'accept' | 'reject' | 'ban'>
}

export interface PlatformRequest {
  url: string
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  data?: unknown
  header?: Record<string, string>
  /** ms */
  timeout?: number
}

export interface PlatformResponse {
  statusCode: number
  data: unknown
}

export interface ToastOptions {
  title: string
  icon?: 'success' | 'error' | 'none'
  duration?: number
}

export interface ModalOptions {
  title: string
  content: string
  confirmText?: string
  cancelText?: string
  showCancel?: boolean
  /**
   * Runs synchronously inside the modal's confirm callback, so a `requestSubscribeMessage` made there
   * still counts as the person's tap (a Promise continuation would not be guaranteed to).
   */
  onConfirm?: () => void
}

export interface Platform {
  readonly name: 'mp-weixin' | 'h5' | 'fake'
  /**
   * Calls `requestSubscribeMessage` synchronously, before returning. Resolves with the per-template
   * answers; rejects with a `SubscribeError` (see src/rules/subscribe-errors.ts) for every failure.
   */
  requestSubscribe(tmplIds: readonly string[]): Promise<SubscribeAnswers>
  /** `getSetting({ withSubscriptions: true })`; rejects with a `SubscribeError`. */
  getSubscriptionsSetting(): Promise<SubscriptionsSetting>
  /**
   * Tap-only, like requestSubscribe: call it first thing in a tap handler (it calls `openSetting`
   * synchronously). Resolves with the settings read again when the person comes back.
   */
  openSubscriptionsSetting(): Promise<SubscriptionsSetting>
  /**
   * mp-weixin: a `uni.login` code. H5 has no WeChat login: rejects with `PlatformError`
   * `LOGIN_UNSUPPORTED` (sign in as a sandbox test user instead, see the session store).
   */
  login(): Promise<string>
  /**
   * Resolves for every HTTP status; rejects only when no answer came, with a `PlatformError`
   * (`OFFLINE`, `TIMEOUT`). src/api turns both into `ApiError`s.
   */
  request(options: PlatformRequest): Promise<PlatformResponse>
  storage: PlatformStorage
  toast(options: ToastOptions): void
  /** Resolves with whether the person confirmed; rejects with `PlatformError` MODAL_FAILED when none could be shown. */
  modal(options: ModalOptions): Promise<boolean>
  /** Ends the page's pull-down-refresh animation (`uni.stopPullDownRefresh`). */
  stopPullDownRefresh(): void
  /**
   * Opens a page of the app (`/pages/messages/detail?id=…`). A tab page starts the page stack afresh
   * (`reLaunch`: the only way a tab page gets a query); any other is pushed (`navigateTo`).
   */
  openPage(url: string, options?: { tab?: boolean }): void
}

/** Synchronous string storage (uni's `getStorageSync` family, localStorage, a Map in tests). */
export interface PlatformStorage {
  get(key: string): string | null
  set(key: string, value: string): void
  remove(key: string): void
}

/**
 * What the H5 stand-in dialog needs from the service, playing WeChat's part: whether the service runs
 * its sandbox WeChat, the template titles and kinds (WeChat knows them; the stand-in asks the
 * service), and where to report what the person accepted (`POST /sandbox/subscriptions`).
 * main.ts builds it from the api client.
 */
export interface SandboxLink {
  info(): Promise<ServiceInfo>
  templates(): Promise<Template[]>
  grant(results: SubscribeAnswers): Promise<void>
}
