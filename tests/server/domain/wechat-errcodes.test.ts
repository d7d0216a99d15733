import { describe, expect, it } from 'vitest'
import {
  creditAfterFailure,
  isRetryableSendErrcode,
  isTokenErrcode,
  loginErrcodeRule,
  requeueScope,
  sendErrcodeAction,
  sendErrcodeMessage,
  sendErrcodePersonMessage,
  TRANSPORT_ERRCODE,
} from '../../../src/domain/wechat-errcodes'

describe('send errcodes', () => {
  it.each([
    [0, 'sent'],
    [-1, 'retry'],
    [TRANSPORT_ERRCODE, 'retry'],
    [43108, 'requeue'],
    [45009, 'requeue'],
    [40001, 'refresh-token'],
    [40014, 'refresh-token'],
    [42001, 'refresh-token'],
    [40003, 'fail'],
    [40037, 'fail'],
    [41030, 'fail'],
    [43101, 'fail'],
    [47003, 'fail'],
    [99999, 'fail'],
  ] as const)('errcode %i → %s', (errcode, action) => {
    expect(sendErrcodeAction(errcode)).toBe(action)
  })

  it.each([
    [47003, 'refund'],
    [40037, 'refund'],
    [41030, 'refund'],
    [40003, 'refund'],
    [-1, 'refund'],
    [TRANSPORT_ERRCODE, 'refund'],
    [45009, 'refund'],
    [43108, 'refund'],
    [42001, 'refund'],
    [40125, 'refund'],
    [40164, 'refund'],
    [43101, 'zero'],
    [99999, 'keep'],
  ] as const)('credit after a final %i → %s', (errcode, credit) => {
    expect(creditAfterFailure(errcode)).toBe(credit)
  })

  it('explains each code in Chinese, unknown ones with their number', () => {
    expect(sendErrcodeMessage(43101)).toBe('用户没有订阅这个模板，或订阅次数已用完')
    expect(sendErrcodeMessage(41030)).toBe('跳转页面 page 无效：不是小程序已发布的页面')
    expect(sendErrcodeMessage(-2)).toBe('连接微信服务器失败（网络错误或服务器错误），稍后重试')
    expect(sendErrcodeMessage(40125)).toBe('AppSecret 无效：检查 WECHAT_SECRET（在微信后台重置后要同步更新）')
    expect(sendErrcodeMessage(12345)).toBe('微信返回了未知错误（错误码 12345）')
  })

  it('tells the person in plain words, without operator details; other codes by their number', () => {
    expect(sendErrcodePersonMessage(43101)).toBe('你还没有订阅这类消息，或订阅次数已用完')
    expect(sendErrcodePersonMessage(-2)).toBe('连接微信服务器失败')
    expect(sendErrcodePersonMessage(47003)).toBe('消息内容不符合模板的要求')
    expect(sendErrcodePersonMessage(40125)).toBe('微信拒绝发送（错误码 40125）')
    expect(sendErrcodePersonMessage(12345)).toBe('微信拒绝发送（错误码 12345）')
  })

  it('tells retryable and token codes apart', () => {
    expect([-1, -2, 43108, 45009, 40001, 47003].map(isRetryableSendErrcode)).toEqual([true, true, false, false, false, false])
    expect([45009, 43108, -1, 47003].map(requeueScope)).toEqual(['everyone', 'recipient', null, null])
    expect([40001, 40014, 42001, -1].map(isTokenErrcode)).toEqual([true, true, true, false])
  })
})

describe('jscode2session errcodes', () => {
  it.each([
    [40029, 'fail', 'invalid-code'],
    [40163, 'fail', 'invalid-code'],
    [45011, 'fail', 'rate-limited'],
    [40226, 'fail', 'refused'],
    [-1, 'retry', 'unavailable'],
    [TRANSPORT_ERRCODE, 'retry', 'unavailable'],
    [40013, 'fail', 'unavailable'],
  ] as const)('errcode %i → %s, %s', (errcode, action, failure) => {
    expect(loginErrcodeRule(errcode)).toMatchObject({ action, failure })
  })

  it('tells the person what to do, unknown codes with their number', () => {
    expect(loginErrcodeRule(40029).message).toBe('code: 登录凭证无效或已使用，请重新调用 uni.login 获取')
    expect(loginErrcodeRule(45011).message).toBe('登录太频繁（每人每分钟最多 100 次），请稍后再试')
    expect(loginErrcodeRule(12345).message).toBe('微信登录接口暂时不可用（错误码 12345），请稍后再试')
  })
})
