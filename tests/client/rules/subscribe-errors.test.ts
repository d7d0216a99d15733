import { describe, expect, it } from 'vitest'
import {
  NOT_IN_TAP_ERR_MSG,
  SubscribeError,
  isSubscribeError,
  subscribeErrorFromWeChat,
  wechatFailMessage,
  type SubscribeErrCode,
  type SubscribeErrorCode,
} from '@/rules/subscribe-errors'

const EXPECTED: Array<[SubscribeErrCode, SubscribeErrorCode, RegExp]> = [
  [10001, 'EMPTY_TEMPLATE_IDS', /没有选择要订阅的消息/],
  [10002, 'TEMPLATE_LIST_NETWORK', /网络不好.*消息列表/],
  [10003, 'SUBSCRIBE_NETWORK', /网络不好.*订阅没有发出去/],
  [10004, 'INVALID_TEMPLATE_IDS', /模板编号格式不对/],
  [10005, 'DIALOG_UNAVAILABLE', /订阅窗口没能弹出/],
  [20001, 'TEMPLATE_NOT_FOUND', /找不到这个消息模板/],
  [20002, 'KINDS_MIXED', /一次性订阅和长期订阅.*不能一起/],
  [20003, 'TOO_MANY_TEMPLATES', /一次最多只能订阅 3 种/],
  [20004, 'MAIN_SWITCH_OFF', /总开关/],
  [20005, 'APP_BANNED', /本小程序暂时不能发送订阅消息/],
  [20013, 'DEVICE_TEMPLATE_REJECTED', /设备消息模板/],
]

describe('subscribeErrorFromWeChat', () => {
  it.each(EXPECTED)('errCode %i → %s with a Chinese message', (errCode, code, message) => {
    const errMsg = wechatFailMessage(errCode)
    const error = subscribeErrorFromWeChat({ errMsg, errCode })
    expect(error).toBeInstanceOf(SubscribeError)
    expect(error.code).toBe(code)
    expect(error.message).toMatch(message)
    expect(error.errCode).toBe(errCode)
    expect(error.errMsg).toBe(errMsg)
  })

  it('reads the code from the errMsg when errCode is missing', () => {
    expect(subscribeErrorFromWeChat({ errMsg: 'requestSubscribeMessage:fail The main switch is switched off' }).code).toBe('MAIN_SWITCH_OFF')
    expect(subscribeErrorFromWeChat({ errMsg: 'requestSubscribeMessage:fail Templates count out of max bounds' }).code).toBe('TOO_MANY_TEMPLATES')
  })

  it('maps the tap-gesture failure', () => {
    const error = subscribeErrorFromWeChat({ errMsg: NOT_IN_TAP_ERR_MSG })
    expect(NOT_IN_TAP_ERR_MSG).toBe('requestSubscribeMessage:fail can only be invoked by user TAP gesture.')
    expect(error.code).toBe('NOT_IN_TAP')
    expect(error.message).toBe('订阅需要你亲自点按按钮才能发起，请再点一次')
    expect(error.errCode).toBeNull()
  })

  it('maps network failures reported only in errMsg', () => {
    expect(subscribeErrorFromWeChat({ errMsg: 'requestSubscribeMessage:fail network error' }).code).toBe('NETWORK')
    expect(subscribeErrorFromWeChat({ errMsg: 'requestSubscribeMessage:fail timeout' }).code).toBe('NETWORK')
  })

  it('keeps an unknown failure as UNKNOWN with its errCode and errMsg', () => {
    const error = subscribeErrorFromWeChat({ errMsg: 'requestSubscribeMessage:fail something new', errCode: 29999 })
    expect(error.code).toBe('UNKNOWN')
    expect(error.errCode).toBe(29999)
    expect(error.errMsg).toBe('requestSubscribeMessage:fail something new')
  })

  it('maps "not supported" to UNSUPPORTED with a message naming the mini-program', () => {
    const error = subscribeErrorFromWeChat({ errMsg: 'requestSubscribeMessage:fail method not supported' })
    expect(error.code).toBe('UNSUPPORTED')
    expect(error.message).toBe('订阅消息只能在微信小程序里订阅，网页预览不支持')
  })
})

describe('isSubscribeError', () => {
  it('tells a SubscribeError from other errors', () => {
    expect(isSubscribeError(new SubscribeError('APP_BANNED'))).toBe(true)
    expect(isSubscribeError(new Error('x'))).toBe(false)
    expect(isSubscribeError({ code: 'APP_BANNED' })).toBe(false)
  })
})
