/**
 * The harness itself: the `wx` double keeps WeChat's rules, or the page tests would prove nothing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { launchMiniProgram, type MiniProgram } from './support/mini-program'
import type { WxFail, WxResult, WxSettingResult } from './support/wx-double'

describe('the wx double', () => {
  let mp: MiniProgram
  afterEach(() => mp.close())

  it('refuses requestSubscribeMessage outside a tap with WeChat\'s message, after the call returned', async () => {
    mp = await launchMiniProgram()
    const outcomes: Array<WxResult | WxFail> = []
    mp.wx.requestSubscribeMessage({
      tmplIds: [mp.service.template('order_status').id],
      fail: (failure) => outcomes.push(failure),
      complete: (result) => outcomes.push(result),
    })
    expect(outcomes).toEqual([])
    await Promise.resolve()
    const failure = { errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.' }
    expect(outcomes).toEqual([failure, failure])
    expect(mp.wx.subscribeCalls).toMatchObject([{ inTap: false, dialogShown: false }])
  })

  it('answers 20004 with the main switch off and 20002 for mixed kinds, inside a modal confirm', async () => {
    mp = await launchMiniProgram()
    const failures: WxFail[] = []
    const ask = (tmplIds: string[]): void => mp.wx.requestSubscribeMessage({ tmplIds, fail: (failure) => failures.push(failure) })
    mp.wx.showModal({ title: '订阅', success: () => ask([mp.service.template('order_status').id, mp.service.template('account_security').id]) })
    mp.wx.tapModal('confirm')
    mp.wx.setting.mainSwitch = false
    mp.wx.showModal({ title: '订阅', success: () => ask([mp.service.template('order_status').id]) })
    mp.wx.tapModal('confirm')
    await Promise.resolve()
    expect(failures).toEqual([
      { errMsg: 'requestSubscribeMessage:fail Templates type must be same', errCode: 20002 },
      { errMsg: 'requestSubscribeMessage:fail The main switch is switched off', errCode: 20004 },
    ])
  })

  it('keeps an "always keep" answer: no dialog next time, and getSetting lists it', async () => {
    mp = await launchMiniProgram()
    const id = mp.service.template('shipping').id
    mp.wx.person = { answers: { [id]: 'reject' }, alwaysKeep: true }
    const answers: WxResult[] = []
    const ask = (): void => mp.wx.requestSubscribeMessage({ tmplIds: [id], success: (result) => answers.push(result) })
    mp.wx.showModal({ title: '订阅', success: ask })
    mp.wx.tapModal('confirm')
    mp.wx.person = { answers: {}, alwaysKeep: false }
    mp.wx.showModal({ title: '订阅', success: ask })
    mp.wx.tapModal('confirm')
    const settings: WxSettingResult[] = []
    mp.wx.getSetting({ withSubscriptions: true, success: (result) => settings.push(result) })
    await Promise.resolve()
    expect(answers).toEqual([
      { errMsg: 'requestSubscribeMessage:ok', [id]: 'reject' },
      { errMsg: 'requestSubscribeMessage:ok', [id]: 'reject' },
    ])
    expect(mp.wx.subscribeCalls.map((call) => call.dialogShown)).toEqual([true, false])
    expect(settings).toEqual([
      { errMsg: 'getSetting:ok', authSetting: {}, subscriptionsSetting: { mainSwitch: true, itemSettings: { [id]: 'reject' } } },
    ])
  })

  it('answers requests like the service, and fails them like WeChat when offline', async () => {
    mp = await launchMiniProgram()
    const results: Array<{ statusCode?: number; data?: unknown; errMsg: string }> = []
    mp.wx.request({ url: 'http://127.0.0.1:8080/api/templates', method: 'GET', success: (result) => results.push(result) })
    await Promise.resolve()
    mp.service.offline = true
    mp.wx.request({ url: 'http://127.0.0.1:8080/api/info', fail: (failure) => results.push(failure) })
    await Promise.resolve()
    expect(results).toEqual([
      { errMsg: 'request:ok', statusCode: 401, data: { error: { code: 'UNAUTHORIZED', message: '请先登录' } }, header: expect.any(Object), cookies: [] },
      { errMsg: 'request:fail timeout', errno: 5 },
    ])
  })
})
