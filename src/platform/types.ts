/**
 * The platform seam: the only code that touches `uni.*` implements this interface.
 * mp-weixin calls uni (→ wx); H5 brings the stand-in subscription dialog; tests use the typed fake.
 * Stores, the api client and pages get a `Platform`, never the global `uni`.
 */
import type { SubscribeResult } from '@/domain/contract'

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
   * answers; rejects with a `SubscribeError` (see src/domain/subscribe-errors.ts) for every failure.
   */
  requestSubscribe(tmplIds: readonly string[]): Promise<Record<string, SubscribeResult>>
  getSubscriptionsSetting(): Promise<SubscriptionsSetting>
  /** Tap-only, like requestSubscribe: call it first thing in a tap handler. Resolves with the settings on return. */
  openSubscriptionsSetting(): Promise<SubscriptionsSetting>
  /** mp-weixin: `uni.login` code. H5: rejects unless signed in through the sandbox (see the session store). */
  login(): Promise<string>
  /** Resolves for every HTTP status; rejects only when no answer came (offline, timeout) with a typed error. */
  request(options: PlatformRequest): Promise<PlatformResponse>
  storage: {
    get(key: string): string | null
    set(key: string, value: string): void
    remove(key: string): void
  }
  toast(options: ToastOptions): void
  modal(options: ModalOptions): Promise<boolean>
}
