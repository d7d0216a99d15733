/**
 * Versioned JSON in the platform's storage, for stores (and the H5 stand-in's settings) that survive a
 * restart. Works on any `PlatformStorage`; touches no `uni.*` itself.
 *
 * Stored as `{"v": <version>, "data": <value>}` under `uni-subscribe:<name>`. Reading gives null,
 * never throws, for anything unusable: no entry, text that is not JSON, another version, or data the
 * store's `parse` refuses. Such an entry is removed so it cannot get in the way again.
 *
 * What belongs to a person (their orders, statuses, kept choices, prompt history) lives in a
 * `personalSlot`, under `uni-subscribe:<name>@<openid>`: whoever signs in next reads only their own.
 * Such state written before it had an owner (`uni-subscribe:<name>` alone) is dropped, never shown
 * to whoever signs in (`dropOwnerless`).
 */
import type { PlatformStorage } from '@/platform/types'

export interface PersistedSlot<T> {
  readonly key: string
  load(): T | null
  save(value: T): void
  clear(): void
}

interface PersistedSlotOptions<T> {
  version: number
  /** Turns the stored `data` back into a T, or null when it is not one. */
  parse: (data: unknown) => T | null
}

const STORAGE_PREFIX = 'uni-subscribe:'

function readEnvelope(text: string): { v: unknown; data: unknown } | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // Corrupt text: the caller treats it as "nothing stored".
    return null
  }
  if (typeof value !== 'object' || value === null || !('v' in value) || !('data' in value)) return null
  return { v: value.v, data: value.data }
}

export function persistedSlot<T>(storage: PlatformStorage, name: string, options: PersistedSlotOptions<T>): PersistedSlot<T> {
  const key = `${STORAGE_PREFIX}${name}`
  return {
    key,
    load() {
      const text = storage.get(key)
      if (text === null) return null
      const envelope = readEnvelope(text)
      const value = envelope !== null && envelope.v === options.version ? options.parse(envelope.data) : null
      if (value === null) storage.remove(key)
      return value
    },
    save(value) {
      storage.set(key, JSON.stringify({ v: options.version, data: value }))
    },
    clear() {
      storage.remove(key)
    },
  }
}

/** The slot of one person's state: `uni-subscribe:<name>@<openid>`. */
export function personalSlot<T>(storage: PlatformStorage, name: string, openid: string, options: PersistedSlotOptions<T>): PersistedSlot<T> {
  return persistedSlot(storage, `${name}@${openid}`, options)
}

/** Removes what an earlier version of the app kept under `name` for whoever was signed in (no owner). */
export function dropOwnerless(storage: PlatformStorage, name: string): void {
  storage.remove(`${STORAGE_PREFIX}${name}`)
}

// ─── small guards for parse functions ────────────────────────────────────────

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function isString(value: unknown): value is string {
  return typeof value === 'string'
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (value: unknown): value is T => typeof value === 'string' && (values as readonly string[]).includes(value)
}

export function nullable<T>(guard: (value: unknown) => value is T) {
  return (value: unknown): value is T | null => value === null || guard(value)
}
