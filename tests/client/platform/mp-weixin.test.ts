import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SUBSCRIBE_ERR_CODES, type SubscribeErrCode } from '@/rules/subscribe-errors'
import { createMpWeixinPlatform } from '@/platform/mp-weixin'
import type { Platform } from '@/platform/types'
import { UniWeixinDouble } from '../support/uni-weixin'

let uniDouble: UniWeixinDouble
let platform: Platform

beforeEach(() => {
  uniDouble = new UniWeixinDouble()
  vi.stubGlobal('uni', uniDouble)
  platform = createMpWeixinPlatform()
})

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('requestSubscribe', () => {
  it('calls uni.requestSubscribeMessage synchronously, before returning', async () => {
    uniDouble.subscribeAnswer = { A: 'accept', B: 'reject' }
    const answered = platform.requestSubscribe(['A', 'B'])
    expect(uniDouble.callsOf('requestSubscribeMessage')).toHaveLength(1)
    expect(uniDouble.callsOf('requestSubscribeMessage')[0]?.tmplIds).toEqual(['A', 'B'])
    await expect(answered).resolves.toEqual({ A: 'accept', B: 'reject' })
  })

  it('keeps the asked ids\' answers as they came, every accept… too, and an unknown one as unrecognized (errMsg left out)', async () => {
    uniDouble.subscribeAnswer = { A: 'acceptWithAudio', B: 'filter', C: 'accept', D: 'something', E: 'acceptWithAlert', F: 'acceptWithForcePush', G: 7 }
    await expect(platform.requestSubscribe(['A', 'B', 'D', 'E', 'F', 'G', 'H'])).resolves.toEqual({
      A: 'acceptWithAudio',
      B: 'filter',
      D: 'unrecognized:something',
      E: 'acceptWithAlert',
      F: 'acceptWithForcePush',
      G: 'unrecognized:7',
    })
  })

  const codes = Object.keys(SUBSCRIBE_ERR_CODES).map(Number) as SubscribeErrCode[]
  it.each(codes)('errCode %i rejects with the matching SubscribeError', async (errCode) => {
    uniDouble.failSubscribeWith(errCode)
    await expect(platform.requestSubscribe(['A'])).rejects.toMatchObject({
      name: 'SubscribeError',
      code: SUBSCRIBE_ERR_CODES[errCode],
      errCode,
    })
  })

  it('rejects the tap-gesture failure as NOT_IN_TAP', async () => {
    uniDouble.subscribeAnswer = { errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.' }
    await expect(platform.requestSubscribe(['A'])).rejects.toMatchObject({ code: 'NOT_IN_TAP', errCode: null })
  })
})

describe('settings', () => {
  it('reads getSetting({ withSubscriptions: true })', async () => {
    uniDouble.subscriptionsSetting = { mainSwitch: true, itemSettings: { A: 'accept', B: 'reject', C: 'ban' } }
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: true, itemSettings: { A: 'accept', B: 'reject', C: 'ban' } })
    expect(uniDouble.callsOf('getSetting')[0]?.withSubscriptions).toBe(true)
  })

  it('reads a missing itemSettings as nothing kept, a missing subscriptionsSetting as switch on', async () => {
    uniDouble.subscriptionsSetting = { mainSwitch: false }
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: false, itemSettings: {} })
    uniDouble.subscriptionsSetting = undefined
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: true, itemSettings: {} })
  })

  it('openSubscriptionsSetting calls openSetting synchronously and reads the settings again on return', async () => {
    uniDouble.subscriptionsSetting = { mainSwitch: false }
    uniDouble.inSettings = () => {
      uniDouble.subscriptionsSetting = { mainSwitch: true, itemSettings: { A: 'accept' } }
    }
    const returned = platform.openSubscriptionsSetting()
    expect(uniDouble.callsOf('openSetting')).toEqual([expect.objectContaining({ withSubscriptions: true })])
    await expect(returned).resolves.toEqual({ mainSwitch: true, itemSettings: { A: 'accept' } })
    expect(uniDouble.calls.map((call) => call.api)).toEqual(['openSetting', 'getSetting'])
  })
})

describe('login', () => {
  it('resolves with the uni.login code', async () => {
    uniDouble.loginAnswer = { code: '0a3xYz' }
    await expect(platform.login()).resolves.toBe('0a3xYz')
    expect(uniDouble.callsOf('login')[0]?.provider).toBe('weixin')
  })

  it('rejects with LOGIN_FAILED and the errMsg', async () => {
    uniDouble.loginAnswer = { errMsg: 'login:fail network error' }
    await expect(platform.login()).rejects.toMatchObject({ name: 'PlatformError', code: 'LOGIN_FAILED', errMsg: 'login:fail network error', message: '微信登录失败，请稍后重试' })
  })
})

describe('request', () => {
  it('resolves with status and data for any HTTP status', async () => {
    uniDouble.requestAnswer = { statusCode: 503, data: { error: { code: 'UNAVAILABLE', message: '忙' } } }
    await expect(platform.request({ url: 'http://127.0.0.1:8080/api/me/messages', method: 'GET', header: { authorization: 'Bearer t' }, timeout: 5000 })).resolves.toEqual({
      statusCode: 503,
      data: { error: { code: 'UNAVAILABLE', message: '忙' } },
    })
    expect(uniDouble.callsOf('request')[0]).toMatchObject({ url: 'http://127.0.0.1:8080/api/me/messages', method: 'GET', timeout: 5000, header: { authorization: 'Bearer t' } })
  })

  it('rejects a timeout as TIMEOUT and other failures as OFFLINE', async () => {
    uniDouble.requestAnswer = { errMsg: 'request:fail timeout' }
    await expect(platform.request({ url: '/x', method: 'GET' })).rejects.toMatchObject({ code: 'TIMEOUT' })
    uniDouble.requestAnswer = { errMsg: 'request:fail errcode:-102 cronet_error_code:-102 error_msg:net::ERR_CONNECTION_REFUSED' }
    await expect(platform.request({ url: '/x', method: 'GET' })).rejects.toMatchObject({ code: 'OFFLINE', message: '网络连接失败，请检查网络后重试' })
  })
})

describe('storage, toast, modal', () => {
  it('stores strings and reads a missing key as null', () => {
    expect(platform.storage.get('k')).toBeNull()
    platform.storage.set('k', '{"v":1}')
    expect(platform.storage.get('k')).toBe('{"v":1}')
    platform.storage.remove('k')
    expect(platform.storage.get('k')).toBeNull()
  })

  it('stops the pull-down refresh animation', () => {
    platform.stopPullDownRefresh()
    expect(uniDouble.callsOf('stopPullDownRefresh')).toHaveLength(1)
  })

  it('shows a toast without an icon by default', () => {
    platform.toast({ title: '订单已支付' })
    expect(uniDouble.callsOf('showToast')[0]).toMatchObject({ title: '订单已支付', icon: 'none' })
  })

  it('runs onConfirm inside the confirm callback, before the promise settles', async () => {
    const order: string[] = []
    const confirmed = platform.modal({ title: '订阅', content: '发货时通知你？', onConfirm: () => order.push('onConfirm') })
    void confirmed.then(() => order.push('resolved'))
    await expect(confirmed).resolves.toBe(true)
    expect(order).toEqual(['onConfirm', 'resolved'])
    uniDouble.modalAnswer = 'cancel'
    await expect(platform.modal({ title: '订阅', content: '?', onConfirm: () => order.push('again') })).resolves.toBe(false)
    expect(order).toEqual(['onConfirm', 'resolved'])
  })

  it('a modal that cannot be shown rejects with a PlatformError in Chinese, keeping the errMsg', async () => {
    uniDouble.modalAnswer = 'fail'
    await expect(platform.modal({ title: '订阅', content: '?' })).rejects.toMatchObject({
      name: 'PlatformError',
      code: 'MODAL_FAILED',
      message: '提示框没能打开，请稍后再试',
      errMsg: 'showModal:fail system error',
    })
  })
})
