/** Retry delays: exponential, capped, deterministic (no jitter: one device, one queue). Pure. */

export interface BackoffOptions {
  /** Delay after the first failure. Default 2 s. */
  baseMs?: number
  /** Largest delay. Default 5 min. */
  maxMs?: number
}

/** Delay before the next try after `failures` failed tries (1 → base, 2 → 2×base, 3 → 4×base…). */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 2_000
  const max = options.maxMs ?? 5 * 60_000
  if (failures <= 0) return 0
  return Math.min(max, base * 2 ** Math.min(failures - 1, 30))
}
