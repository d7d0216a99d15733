import { describe, expect, it } from 'vitest'

describe('toolchain', () => {
  it('runs server tests under node', () => {
    expect(typeof process.versions.node).toBe('string')
  })
})
