import { describe, expect, it } from 'vitest'
import { FakePlatform } from '@/platform/fake'

const templates = [
  { id: 'A', kind: 'one-time' as const, title: '订单状态通知' },
  { id: 'B', kind: 'one-time' as const, title: '发货提醒' },
  { id: 'B2', kind: 'one-time' as const, title: '发货提醒' },
  { id: 'L', kind: 'long-term' as const, title: '服务进度通知' },
]

describe('FakePlatform behaves like wx.requestSubscribeMessage', () => {
  it('answers WeChat errCodes with WeChat errMsg strings', async () => {
    const fake = new FakePlatform({ templates })
    await expect(fake.requestSubscribe([])).rejects.toMatchObject({ errCode: 10001, errMsg: "requestSubscribeMessage:fail TmplIds can't be empty" })
    await expect(fake.requestSubscribe(['A', 'B', 'L', 'B2'])).rejects.toMatchObject({ errCode: 20003 })
    await expect(fake.requestSubscribe(['X'])).rejects.toMatchObject({ errCode: 20001 })
    await expect(fake.requestSubscribe(['A', 'L'])).rejects.toMatchObject({ errCode: 20002, errMsg: 'requestSubscribeMessage:fail Templates type must be same' })
    fake.mainSwitch = false
    await expect(fake.requestSubscribe(['A'])).rejects.toMatchObject({ errCode: 20004 })
    expect(fake.dialogsShown).toBe(0)
  })

  it('filters a second template with the same title', async () => {
    const fake = new FakePlatform({ templates })
    await expect(fake.requestSubscribe(['B', 'B2'])).resolves.toEqual({ B: 'accept', B2: 'filter' })
  })

  it('after "always keep" returns the kept answers with no dialog', async () => {
    const fake = new FakePlatform({ templates, keepChoices: true, answers: { B: 'reject' } })
    await expect(fake.requestSubscribe(['A', 'B'])).resolves.toEqual({ A: 'accept', B: 'reject' })
    fake.answers = {}
    await expect(fake.requestSubscribe(['A', 'B'])).resolves.toEqual({ A: 'accept', B: 'reject' })
    expect(fake.subscribeCalls.map((call) => call.dialogShown)).toEqual([true, false])
    await expect(fake.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: true, itemSettings: { A: 'accept', B: 'reject' } })
  })

  it('records whether each call came inside a tap, and enforces it when asked', async () => {
    const fake = new FakePlatform({ requireTap: true })
    await expect(fake.requestSubscribe(['A'])).rejects.toMatchObject({ code: 'NOT_IN_TAP', errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.' })
    await fake.tap(() => fake.requestSubscribe(['A']))
    expect(fake.subscribeCalls.map((call) => call.inTap)).toEqual([false, true])
  })

  it('fails the next call with a scripted errCode, once', async () => {
    const fake = new FakePlatform()
    fake.failNextSubscribe(10005)
    await expect(fake.requestSubscribe(['A'])).rejects.toMatchObject({ code: 'DIALOG_UNAVAILABLE', errMsg: 'requestSubscribeMessage:fail Cannot show subscribe message UI' })
    await expect(fake.requestSubscribe(['A'])).resolves.toEqual({ A: 'accept' })
  })
})
