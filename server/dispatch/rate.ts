/**
 * How fast the dispatcher may go: a token bucket per rate (messages/s, a burst of one second's worth),
 * and the slowdown WeChat asks for with 45009 (every send waits, longer each time it comes again).
 */
import type { Timer } from './timer'

export interface TokenBucket {
  /** Whole tokens available now. */
  available(): number
  take(count: number): void
  /** Milliseconds until one token is available (0 when one is). */
  waitMs(): number
}

export function createTokenBucket(ratePerSecond: number, timer: Timer): TokenBucket {
  const capacity = Math.max(1, ratePerSecond)
  let tokens = capacity
  let at = timer.now()
  function refill(): void {
    const now = timer.now()
    tokens = Math.min(capacity, tokens + ((now - at) * ratePerSecond) / 1000)
    at = now
  }
  return {
    available() {
      refill()
      return Math.floor(tokens)
    },
    take(count) {
      refill()
      tokens -= count
    },
    waitMs() {
      refill()
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / ratePerSecond)
    },
  }
}

/** After WeChat's 45009 every send pauses: 1 s, then 2 s, 4 s… up to a minute; a send that goes through resets it. */
export interface Slowdown {
  /** WeChat said 45009: the pause starts now. Returns its length in ms. */
  hit(): number
  /** A send went through. */
  clear(): void
  /** Milliseconds left of the pause (0 when none). */
  remainingMs(): number
}

const FIRST_PAUSE_MS = 1_000
const LONGEST_PAUSE_MS = 60_000

export function createSlowdown(timer: Timer): Slowdown {
  let hits = 0
  let until = 0
  return {
    hit() {
      hits += 1
      const pause = Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (hits - 1))
      until = Math.max(until, timer.now() + pause)
      return until - timer.now()
    },
    clear() {
      hits = 0
    },
    remainingMs: () => Math.max(0, until - timer.now()),
  }
}
