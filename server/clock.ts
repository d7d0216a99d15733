/**
 * The service clock. Every rule that depends on time (quiet hours, daily limits, session expiry,
 * token expiry, the scheduler) reads it through `Clock`. In sandbox mode the clock can be moved
 * (PUT /sandbox/clock) so browser journeys can cross quiet hours without waiting.
 */
import type { Clock } from './wechat/types'

export interface AdjustableClock extends Clock {
  /** From now on `now()` answers `instant` and runs on from there; `null` goes back to the base clock. */
  set(instant: Date | null): void
  /** How far this clock is ahead of its base, in ms. */
  offsetMs(): number
}

/** A clock that runs at the base clock's pace with a settable offset. */
export function createAdjustableClock(base: Clock): AdjustableClock {
  let offset = 0
  return {
    now: () => new Date(base.now().getTime() + offset),
    set(instant) {
      offset = instant === null ? 0 : instant.getTime() - base.now().getTime()
    },
    offsetMs: () => offset,
  }
}

/** A clock for tests: stands still until moved. */
export interface ManualClock extends Clock {
  set(instant: Date): void
  advance(ms: number): void
}

export function createManualClock(start: Date): ManualClock {
  let current = start.getTime()
  return {
    now: () => new Date(current),
    set(instant) {
      current = instant.getTime()
    },
    advance(ms) {
      current += ms
    },
  }
}
