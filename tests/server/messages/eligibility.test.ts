import { describe, expect, it } from 'vitest'
import { deliveryVerdict, type DeliveryFacts } from '../../../server/messages/eligibility'

/** 2026-11-25 23:30 in Asia/Shanghai: inside 22:00–08:00. */
const NIGHT = new Date('2026-11-25T15:30:00.000Z')
const base: DeliveryFacts = {
  preferences: { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 2, mutedCategories: ['marketing'] },
  category: 'order',
  urgent: false,
  credits: 1,
  sentToday: 0,
  now: NIGHT,
  timeZone: 'Asia/Shanghai',
}

describe('whether a message can go now', () => {
  it('muted first, then no credit, then the daily limit, then quiet hours', () => {
    expect(deliveryVerdict({ ...base, category: 'marketing', credits: 0, sentToday: 5 })).toEqual({ verdict: 'skip', reason: 'MUTED_CATEGORY' })
    expect(deliveryVerdict({ ...base, credits: 0, sentToday: 5 })).toEqual({ verdict: 'fail', reason: 'NO_CREDIT' })
    expect(deliveryVerdict({ ...base, sentToday: 2 })).toEqual({ verdict: 'skip', reason: 'DAILY_LIMIT' })
    expect(deliveryVerdict(base)).toEqual({ verdict: 'defer', until: new Date('2026-11-26T00:00:00.000Z') })
  })

  it('urgent messages ignore quiet hours only; by day, everything that passes is sent', () => {
    expect(deliveryVerdict({ ...base, urgent: true })).toEqual({ verdict: 'send' })
    expect(deliveryVerdict({ ...base, urgent: true, credits: 0 })).toEqual({ verdict: 'fail', reason: 'NO_CREDIT' })
    expect(deliveryVerdict({ ...base, now: new Date('2026-11-25T05:00:00.000Z') })).toEqual({ verdict: 'send' })
    expect(deliveryVerdict({ ...base, preferences: { ...base.preferences, dailyLimit: 0 }, now: new Date('2026-11-25T05:00:00.000Z') })).toEqual({
      verdict: 'skip',
      reason: 'DAILY_LIMIT',
    })
  })
})
