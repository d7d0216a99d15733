import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { Reason } from '../../../src/domain/contract'
import { describeReason, errcodeReason, isReason, reasonErrcode, retryableReasons, SERVICE_REASONS } from '../../../src/domain/reasons'

describe('reasons: one vocabulary for the service, operators and people', () => {
  it('explains every service reason to an operator and to the person, in Chinese', () => {
    for (const reason of SERVICE_REASONS) {
      const info = describeReason(reason)
      expect(info.operator, reason).toMatch(/^[\u4e00-\u9fff]/)
      expect(info.person, reason).toMatch(/^[\u4e00-\u9fff]/)
      expect(info.operator, reason).not.toBe(info.person)
    }
  })

  it('reads errcode reasons through WeChat\'s send table', () => {
    expect(describeReason('43101')).toEqual({
      operator: '用户没有订阅这个模板，或订阅次数已用完',
      person: '你还没有订阅这类消息，或订阅次数已用完',
      retryable: false,
      noConsent: true,
    })
    expect(describeReason('47003')).toMatchObject({ person: '消息内容不符合模板的要求', retryable: false, noConsent: false })
    expect(describeReason('40999')).toMatchObject({ operator: '微信返回了未知错误（错误码 40999）', person: '微信拒绝发送（错误码 40999）' })
  })

  it('says which reasons a second send can fix: WeChat busy, rate limits, the network', () => {
    const retryable = ['-1', '-2', '43108', '45009', '43101', '47003', '40003', ...SERVICE_REASONS].filter(
      (reason) => isReason(reason) && describeReason(reason).retryable,
    )
    expect(retryable).toEqual(['-1', '-2', '43108', '45009'])
    expect(retryableReasons().sort()).toEqual(['-1', '-2', '43108', '45009'])
  })

  it('NO_CREDIT and 43101 both mean no consent, nothing else does', () => {
    const noConsent = [...SERVICE_REASONS, '43101', '-1', '45009'].filter((reason) => isReason(reason) && describeReason(reason).noConsent)
    expect(noConsent).toEqual(['NO_CREDIT', '43101'])
  })

  it('writes errcodes in decimal and reads them back', () => {
    expect(errcodeReason(43101)).toBe('43101')
    expect(errcodeReason(-1)).toBe('-1')
    expect(reasonErrcode('-2')).toBe(-2)
    expect(reasonErrcode('NO_CREDIT')).toBeNull()
  })

  it('the contract accepts exactly these reasons', () => {
    expect(['NO_CREDIT', 'INTERRUPTED', '43101', '-1', '0'].map((reason) => Value.Check(Reason, reason))).toEqual([true, true, true, true, true])
    expect(['SOMETHING_NEW', '1.5', '', '043101', 'no_credit'].map((reason) => Value.Check(Reason, reason))).toEqual([false, false, false, false, false])
    expect(['SOMETHING_NEW', '1.5', '43101', 'NO_CREDIT'].map(isReason)).toEqual([false, false, true, true])
  })
})
