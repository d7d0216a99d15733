/** Retry delays: exponential, capped, deterministic (no jitter: one device, one queue). Pure. */

const FIRST_DELAY_MS = 2_000
const LONGEST_DELAY_MS = 5 * 60_000

/** Delay before the next try after `failures` failed tries (1 → 2 s, 2 → 4 s, 3 → 8 s… at most 5 min). */
export function backoffDelay(failures: number): number {
  if (failures <= 0) return 0
  return Math.min(LONGEST_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(failures - 1, 30))
}
