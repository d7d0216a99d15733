/**
 * Real time for pacing the dispatcher (rates, backoff, polling), injectable so tests move it by hand.
 * The service clock (which the sandbox can move) decides what is due; this one decides how fast.
 */

export interface Timer {
  /** Milliseconds on a monotonic scale. */
  now(): number
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const realTimer: Timer = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const timeout = setTimeout(done, Math.max(0, ms))
      function done(): void {
        clearTimeout(timeout)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    }),
}
