import { afterEach, describe, expect, it, vi } from 'vitest'
import { randomId } from '@/rules/ids'

describe('randomId', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('is 22 URL-safe characters, a new one each time', () => {
    const ids = Array.from({ length: 200 }, () => randomId())
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('works without Web Crypto, as in the mini-program', () => {
    vi.stubGlobal('crypto', undefined)
    expect(randomId(15)).toMatch(/^[A-Za-z0-9_-]{15}$/)
  })
})
