/**
 * What the operator console (H5 only, src/pages/console) needs of uni: requests, storage for its
 * session token, toasts, a confirm dialog, and moving between its pages. Only src/platform touches
 * `uni.*`; the console's stores and pages get a `ConsolePlatform`, tests a fake one.
 */
import type { PlatformRequest, PlatformResponse, PlatformStorage, ToastOptions } from './types'
import { uniModal, uniRequest, uniStorage, uniToast } from './uni-common'

export interface ConsolePlatform {
  /** Resolves for every HTTP status; rejects with a `PlatformError` only when no answer came. */
  request(options: PlatformRequest): Promise<PlatformResponse>
  storage: PlatformStorage
  toast(options: ToastOptions): void
  /** Whether the operator confirmed (`uni.showModal`). */
  confirm(title: string, content: string): Promise<boolean>
  /** Opens a console page over this one (`/pages/console/…?…`). */
  open(url: string): void
  /** Replaces the page showing. */
  replace(url: string): void
  /** Closes every page and opens `url` (sign-in, sign-out). */
  restart(url: string): void
}

export function createConsolePlatform(): ConsolePlatform {
  return {
    request: uniRequest,
    storage: uniStorage,
    toast: uniToast,
    confirm: (title, content) => uniModal({ title, content }),
    open: (url) => void uni.navigateTo({ url }),
    replace: (url) => void uni.redirectTo({ url }),
    restart: (url) => void uni.reLaunch({ url }),
  }
}
