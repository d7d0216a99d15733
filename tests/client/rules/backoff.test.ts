import { describe, expect, it } from 'vitest'
import { backoffDelay } from '@/rules/backoff'

describe('backoffDelay', () => {
  it('waits 2 s after the first failure and twice as long after each next one, 5 min at most', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(backoffDelay)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000])
    expect(backoffDelay(1_000)).toBe(300_000)
  })

  it('does not wait before the first try', () => {
    expect(backoffDelay(0)).toBe(0)
  })
})
