import { describe, expect, it } from 'vitest'
import { isRecord, persistedSlot } from '@/platform/persisted'
import type { PlatformStorage } from '@/platform/types'

function memory(): PlatformStorage & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, get: (key) => map.get(key) ?? null, set: (key, value) => void map.set(key, value), remove: (key) => void map.delete(key) }
}

const parseCount = (data: unknown): { count: number } | null => (isRecord(data) && typeof data.count === 'number' ? { count: data.count } : null)

describe('persistedSlot', () => {
  it('writes versioned JSON and reads it back', () => {
    const storage = memory()
    const slot = persistedSlot(storage, 'counter', { version: 2, parse: parseCount })
    slot.save({ count: 3 })
    expect(storage.map.get('uni-subscribe:counter')).toBe('{"v":2,"data":{"count":3}}')
    expect(slot.load()).toEqual({ count: 3 })
  })

  it.each([
    ['text that is not JSON', '{"v":2,"data":'],
    ['another version', '{"v":1,"data":{"count":3}}'],
    ['data the parser refuses', '{"v":2,"data":{"count":"three"}}'],
    ['no envelope', '[1,2,3]'],
  ])('reads %s as nothing and removes it', (_, text) => {
    const storage = memory()
    storage.map.set('uni-subscribe:counter', text)
    expect(persistedSlot(storage, 'counter', { version: 2, parse: parseCount }).load()).toBeNull()
    expect(storage.map.has('uni-subscribe:counter')).toBe(false)
  })
})
