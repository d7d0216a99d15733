/**
 * A TokenStore in memory, for tests and for a single process without a database. Several token
 * keepers sharing one instance behave like several processes sharing the database's token row.
 */
import type { Clock, TokenStore } from './types'

export function createMemoryTokenStore(clock: Clock): TokenStore {
  let stored: { token: string; expiresAt: Date } | null = null
  let lease: { holder: string; until: number } | null = null
  // Each method does its work synchronously, so it is atomic; the Promise is the interface's.
  return {
    async read() {
      return stored === null ? null : { ...stored }
    },
    async write(token, expiresAt) {
      stored = { token, expiresAt }
    },
    async tryLease(holder, ms) {
      const now = clock.now().getTime()
      if (lease !== null && lease.holder !== holder && lease.until > now) return false
      lease = { holder, until: now + ms }
      return true
    },
    async releaseLease(holder) {
      if (lease?.holder === holder) lease = null
    },
  }
}
