/**
 * Bounded retries with exponential backoff and jitter, for WeChat answers that say "later"
 * (-1 system busy) and for transport failures (network errors, HTTP 5xx).
 */

export interface RetryOptions {
  /** Calls in all, the first included (default 5, as WxJava). */
  maxAttempts?: number
  /** The delay before the first retry, before jitter (default 500 ms); doubled for each next one. */
  baseDelayMs?: number
  /** The longest delay (default 8 s). */
  maxDelayMs?: number
  /** Injected in tests so nothing really waits. */
  sleep?: (ms: number) => Promise<void>
  /** In [0, 1); injected in tests for exact delays. */
  random?: () => number
}

export type RetryPolicy = Required<RetryOptions>

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: options.maxAttempts ?? 5,
    baseDelayMs: options.baseDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 8_000,
    sleep: options.sleep ?? sleep,
    random: options.random ?? Math.random,
  }
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(`retry.maxAttempts 应为不小于 1 的整数，收到 ${policy.maxAttempts}`)
  }
  return policy
}

/**
 * The wait before retry number `retry` (0 = the first retry): half of the exponential step plus a
 * random share of the other half ("equal jitter"), so callers spread out but never retry at once.
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry)
  return Math.round(step / 2 + (policy.random() * step) / 2)
}
