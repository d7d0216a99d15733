/**
 * The sandbox's fault switches, to make it misbehave deterministically in tests and benchmarks:
 * latency on every answer, a share of sends answered -1, the next N sends answered with a given
 * errcode (or a dropped connection, or an HTTP 502).
 */

/** Each `set` changes only the switches it names (0 turns one off). */
export interface SandboxFaults {
  /** Added to every answer, in ms (real time: this is the network). */
  latencyMs?: number
  /**
   * Share of send calls answered -1 (system busy), spread evenly and deterministically:
   * 0.25 answers every 4th call with -1. 0 turns it off.
   */
  busyRate?: number
  /**
   * The next `count` send calls answer `errcode` (any WeChat code, e.g. -1, 45009, 43108);
   * -2 answers HTTP 502 with no WeChat body; `reset` closes the connection without an answer.
   */
  failNext?: { errcode: number | 'reset'; count: number }
  /** Expire every token issued so far, at once (the next calls with them get 42001). */
  expireTokens?: true
}

/** The switches as they are now. */
export interface FaultState {
  latencyMs: number
  busyRate: number
  /** Send calls still to be answered with `errcode`; null when none. */
  failNext: { errcode: number | 'reset'; left: number } | null
}

export interface FaultSwitches {
  set(faults: Omit<SandboxFaults, 'expireTokens'>): void
  current(): FaultState
  latencyMs(): number
  /** The fault this send call meets, if one is due: a WeChat errcode, -2 (HTTP 502), or a dropped connection. */
  nextSendFault(): number | 'reset' | null
}

export function createFaultSwitches(): FaultSwitches {
  let latencyMs = 0
  let busyRate = 0
  let busyAccumulator = 0
  let failNext: { errcode: number | 'reset'; left: number } | null = null
  return {
    set(faults) {
      if (faults.latencyMs !== undefined) latencyMs = faults.latencyMs
      if (faults.busyRate !== undefined) busyRate = faults.busyRate
      if (faults.failNext) failNext = faults.failNext.count > 0 ? { errcode: faults.failNext.errcode, left: faults.failNext.count } : null
    },
    latencyMs: () => latencyMs,
    current: () => ({ latencyMs, busyRate, failNext: failNext === null ? null : { ...failNext } }),
    nextSendFault() {
      if (failNext !== null && failNext.left > 0) {
        failNext.left -= 1
        const errcode = failNext.errcode
        if (failNext.left === 0) failNext = null
        return errcode
      }
      if (busyRate > 0) {
        busyAccumulator += busyRate
        if (busyAccumulator >= 1) {
          busyAccumulator -= 1
          return -1
        }
      }
      return null
    },
  }
}
