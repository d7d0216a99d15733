/**
 * Every way asking for consent can fail, as one error type with a code union.
 *
 * WeChat answers a failed `requestSubscribeMessage` with `{ errMsg, errCode }`; this module is the one
 * place those numbers and strings become `SubscribeError` codes with a message a person can read.
 * Pure: no uni, no HTTP. The platform seam calls `subscribeErrorFromWeChat`; stores and pages only
 * look at `code`.
 */

export type SubscribeErrorCode =
  /** 10001: no template ids were passed. */
  | 'EMPTY_TEMPLATE_IDS'
  /** 10002: network, fetching the template list failed. */
  | 'TEMPLATE_LIST_NETWORK'
  /** 10003: network, sending the subscription failed. */
  | 'SUBSCRIBE_NETWORK'
  /** 10004: template ids of the wrong type. */
  | 'INVALID_TEMPLATE_IDS'
  /** 10005: the dialog could not be shown (the app went to the background). */
  | 'DIALOG_UNAVAILABLE'
  /** 20001: no such template, another AppID's template, or the wrong kind. */
  | 'TEMPLATE_NOT_FOUND'
  /** 20002: one-time and long-term templates in one call. */
  | 'KINDS_MIXED'
  /** 20003: more template ids than one call allows. */
  | 'TOO_MANY_TEMPLATES'
  /** 20004: the person switched the main switch for subscription messages off. */
  | 'MAIN_SWITCH_OFF'
  /** 20005: this mini-program is banned from subscription messages. */
  | 'APP_BANNED'
  /** 20013: device-message templates cannot be requested here. */
  | 'DEVICE_TEMPLATE_REJECTED'
  /** The call did not run inside the person's tap (base library ≥ 2.8.2). */
  | 'NOT_IN_TAP'
  /** A network failure reported only through errMsg. */
  | 'NETWORK'
  /** This runtime cannot subscribe (H5 outside the sandbox). */
  | 'UNSUPPORTED'
  /** Nobody is signed in: there is no one the consent could be counted for. */
  | 'SIGNED_OUT'
  /** Anything else WeChat answered; `errMsg` keeps the original. */
  | 'UNKNOWN'

/** WeChat's documented errCodes of `requestSubscribeMessage`. */
export const SUBSCRIBE_ERR_CODES = {
  10001: 'EMPTY_TEMPLATE_IDS',
  10002: 'TEMPLATE_LIST_NETWORK',
  10003: 'SUBSCRIBE_NETWORK',
  10004: 'INVALID_TEMPLATE_IDS',
  10005: 'DIALOG_UNAVAILABLE',
  20001: 'TEMPLATE_NOT_FOUND',
  20002: 'KINDS_MIXED',
  20003: 'TOO_MANY_TEMPLATES',
  20004: 'MAIN_SWITCH_OFF',
  20005: 'APP_BANNED',
  20013: 'DEVICE_TEMPLATE_REJECTED',
} as const satisfies Record<number, SubscribeErrorCode>

export type SubscribeErrCode = keyof typeof SUBSCRIBE_ERR_CODES

/** The errMsg WeChat sends with each errCode (after `requestSubscribeMessage:fail `). */
const WECHAT_ERR_MSG: Record<SubscribeErrCode, string> = {
  10001: "TmplIds can't be empty",
  10002: 'Request list fail',
  10003: 'Request subscribe fail',
  10004: 'Invalid template id',
  10005: 'Cannot show subscribe message UI',
  20001: 'No template data return, verify the template id exist',
  20002: 'Templates type must be same',
  20003: 'Templates count out of max bounds',
  20004: 'The main switch is switched off',
  20005: 'This mini program was banned from subscribing messages',
  20013: 'Reject DeviceMsg Template',
}

/** The errMsg of a call made outside a tap. */
export const NOT_IN_TAP_ERR_MSG = 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.'

/** `requestSubscribeMessage:fail <text>` exactly as WeChat writes it for an errCode. */
export function wechatFailMessage(errCode: SubscribeErrCode): string {
  return `requestSubscribeMessage:fail ${WECHAT_ERR_MSG[errCode]}`
}

const MESSAGES: Record<SubscribeErrorCode, string> = {
  EMPTY_TEMPLATE_IDS: '没有选择要订阅的消息',
  TEMPLATE_LIST_NETWORK: '网络不好，没能取到消息列表，请稍后再试',
  SUBSCRIBE_NETWORK: '网络不好，订阅没有发出去，请稍后再试',
  INVALID_TEMPLATE_IDS: '订阅的消息模板编号格式不对',
  DIALOG_UNAVAILABLE: '订阅窗口没能弹出（小程序可能切到了后台），请回到小程序再点一次',
  TEMPLATE_NOT_FOUND: '找不到这个消息模板，请确认模板编号属于本小程序',
  KINDS_MIXED: '一次性订阅和长期订阅的消息不能一起订阅，请分开订阅',
  TOO_MANY_TEMPLATES: '一次最多只能订阅 3 种消息',
  MAIN_SWITCH_OFF: '你已关闭订阅消息的总开关，请在设置里打开“接收订阅消息”',
  APP_BANNED: '本小程序暂时不能发送订阅消息',
  DEVICE_TEMPLATE_REJECTED: '设备消息模板不能在这里订阅',
  NOT_IN_TAP: '订阅需要你亲自点按按钮才能发起，请再点一次',
  NETWORK: '网络连接失败，订阅没有完成，请检查网络后再试',
  UNSUPPORTED: '订阅消息只能在微信小程序里订阅，网页预览不支持',
  SIGNED_OUT: '请先登录，再订阅消息',
  UNKNOWN: '订阅没有完成，请稍后再试',
}

export function isSubscribeErrorCode(value: unknown): value is SubscribeErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(MESSAGES, value)
}

interface SubscribeErrorOptions {
  errCode?: number
  errMsg?: string
  /** Overrides the standard message for this code. */
  message?: string
  /** What caused it on this side (e.g. the service unreachable behind the H5 stand-in). */
  cause?: unknown
}

export class SubscribeError extends Error {
  override readonly name = 'SubscribeError'
  readonly code: SubscribeErrorCode
  /** WeChat's errCode when it gave one. */
  readonly errCode: number | null
  /** WeChat's errMsg, kept for logs. */
  readonly errMsg: string | null

  constructor(code: SubscribeErrorCode, options: SubscribeErrorOptions = {}) {
    super(options.message ?? MESSAGES[code], options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.errCode = options.errCode ?? null
    this.errMsg = options.errMsg ?? null
  }
}

export function isSubscribeError(value: unknown): value is SubscribeError {
  return value instanceof SubscribeError
}

function isKnownErrCode(errCode: number): errCode is SubscribeErrCode {
  return Object.prototype.hasOwnProperty.call(SUBSCRIBE_ERR_CODES, errCode)
}

const NETWORK_ERR_MSG = /fail.*(network|timeout|timed out|offline|ERR_INTERNET|connection)/i

/**
 * What a failed `requestSubscribeMessage` (or `openSetting` / `getSetting`) means, from its
 * `{ errMsg, errCode }`. The errCode wins; without one, the errMsg decides.
 */
export function subscribeErrorFromWeChat(failure: { errMsg?: unknown; errCode?: unknown }): SubscribeError {
  const errMsg = typeof failure.errMsg === 'string' ? failure.errMsg : ''
  const errCode = typeof failure.errCode === 'number' ? failure.errCode : null
  const options: SubscribeErrorOptions = { errMsg }
  if (errCode !== null) options.errCode = errCode
  if (errCode !== null && isKnownErrCode(errCode)) return new SubscribeError(SUBSCRIBE_ERR_CODES[errCode], options)
  if (/TAP gesture/i.test(errMsg)) return new SubscribeError('NOT_IN_TAP', options)
  for (const [code, text] of Object.entries(WECHAT_ERR_MSG)) {
    if (errMsg.includes(text)) return new SubscribeError(SUBSCRIBE_ERR_CODES[Number(code) as SubscribeErrCode], options)
  }
  if (NETWORK_ERR_MSG.test(errMsg)) return new SubscribeError('NETWORK', options)
  if (/not supported|is not a function|unsupported/i.test(errMsg)) return new SubscribeError('UNSUPPORTED', options)
  return new SubscribeError('UNKNOWN', options)
}
