/**
 * Failures of the platform's non-subscription calls (login, HTTP transport, modal). Subscription failures
 * are `SubscribeError`s (src/rules/subscribe-errors.ts); HTTP answers become `ApiError`s in src/api.
 */

export type PlatformErrorCode =
  /** No answer: no network, DNS, connection refused. */
  | 'OFFLINE'
  /** No answer in time. */
  | 'TIMEOUT'
  /** `uni.login` failed. */
  | 'LOGIN_FAILED'
  /** This runtime has no WeChat login (H5). */
  | 'LOGIN_UNSUPPORTED'
  /** `uni.showModal` failed: no dialog was shown. */
  | 'MODAL_FAILED'

const MESSAGES: Record<PlatformErrorCode, string> = {
  OFFLINE: '网络连接失败，请检查网络后重试',
  TIMEOUT: '服务响应超时，请稍后重试',
  LOGIN_FAILED: '微信登录失败，请稍后重试',
  LOGIN_UNSUPPORTED: '网页预览不能用微信登录，请以测试用户身份登录',
  MODAL_FAILED: '提示框没能打开，请稍后再试',
}

export class PlatformError extends Error {
  override readonly name = 'PlatformError'
  readonly code: PlatformErrorCode
  /** uni's errMsg when there was one (`request:fail timeout`). */
  readonly errMsg: string | null

  constructor(code: PlatformErrorCode, errMsg: string | null = null) {
    super(MESSAGES[code])
    this.code = code
    this.errMsg = errMsg
  }
}

export function isPlatformError(value: unknown): value is PlatformError {
  return value instanceof PlatformError
}

/** uni.request's fail errMsg → OFFLINE or TIMEOUT. */
export function requestFailure(errMsg: string): PlatformError {
  return new PlatformError(/timeout|timed out/i.test(errMsg) ? 'TIMEOUT' : 'OFFLINE', errMsg)
}
