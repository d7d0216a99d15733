import { describe, expect, it } from 'vitest'
import {
  applyCreditChange,
  claimOneCredit,
  creditChangeAfterFailedSend,
  creditChangeForConsent,
  sendConsumesCredit,
} from '../../../server/ledger/rules'

describe('the credit rules', () => {
  it('a one-time accept of any accept kind adds one; other answers change nothing', () => {
    for (const result of ['accept', 'acceptWithAudio'] as const) {
      expect(creditChangeForConsent('one-time', result)).toEqual({ type: 'add', amount: 1 })
    }
    for (const result of ['reject', 'ban', 'filter'] as const) expect(creditChangeForConsent('one-time', result)).toEqual({ type: 'none' })
  })

  it('a long-term accept subscribes (1), reject and ban unsubscribe (0), filter changes nothing', () => {
    expect(creditChangeForConsent('long-term', 'accept')).toEqual({ type: 'set', value: 1 })
    expect(creditChangeForConsent('long-term', 'reject')).toEqual({ type: 'set', value: 0 })
    expect(creditChangeForConsent('long-term', 'ban')).toEqual({ type: 'set', value: 0 })
    expect(creditChangeForConsent('long-term', 'filter')).toEqual({ type: 'none' })
  })

  it('only one-time sends use a credit up', () => {
    expect([sendConsumesCredit('one-time'), sendConsumesCredit('long-term')]).toEqual([true, false])
  })

  it('a failed send gives back the credit it held when WeChat did not use it, zeroes on 43101, keeps it for an unknown code', () => {
    expect(creditChangeAfterFailedSend(true, 47003)).toEqual({ type: 'add', amount: 1 })
    expect(creditChangeAfterFailedSend(true, -1)).toEqual({ type: 'add', amount: 1 })
    expect(creditChangeAfterFailedSend(false, 47003)).toEqual({ type: 'none' })
    expect(creditChangeAfterFailedSend(true, 43101)).toEqual({ type: 'set', value: 0 })
    expect(creditChangeAfterFailedSend(false, 43101)).toEqual({ type: 'set', value: 0 })
    expect(creditChangeAfterFailedSend(true, 99999)).toEqual({ type: 'none' })
    // Not known whether WeChat got the call: given back (a used consent shows up as 43101 next time).
    expect(creditChangeAfterFailedSend(true, null)).toEqual({ type: 'add', amount: 1 })
  })

  it('applies changes and claims one as a storage engine does', () => {
    expect(applyCreditChange(2, { type: 'add', amount: 1 })).toBe(3)
    expect(applyCreditChange(2, { type: 'set', value: 0 })).toBe(0)
    expect(applyCreditChange(2, { type: 'none' })).toBe(2)
    expect(claimOneCredit(1)).toBe(0)
    expect(claimOneCredit(0)).toBeNull()
  })
})
