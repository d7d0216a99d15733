/**
 * The load generator: a closed loop of `concurrency` callers, each starting its next request as soon
 * as its last one answered. A run is bounded twice: at most `maxCount` requests, and none started
 * after `maxDurationMs` (those in flight are awaited). Latency is measured per request, on the
 * caller's side, with the monotonic clock.
 */
import { performance } from 'node:perf_hooks'

export interface LoadOptions<T> {
  concurrency: number
  /** Requests in all, at most. */
  maxCount: number
  /** No request starts after this many ms; the run ends when the ones in flight have answered. */
  maxDurationMs: number
  /**
   * One request (`index` counts from 0 within the run). Its value is kept with its latency; a
   * rejection stops every caller and fails the run with that error.
   */
  task: (index: number) => Promise<T>
}

export interface Sample<T> {
  latencyMs: number
  value: T
}

export interface LoadRun<T> {
  completed: number
  elapsedMs: number
  perSecond: number
  samples: Sample<T>[]
}

export async function runLoad<T>(options: LoadOptions<T>): Promise<LoadRun<T>> {
  const samples: Sample<T>[] = []
  let next = 0
  const failures: unknown[] = []
  const start = performance.now()
  const deadline = start + options.maxDurationMs

  async function caller(): Promise<void> {
    while (failures.length === 0 && next < options.maxCount && performance.now() < deadline) {
      const index = next
      next += 1
      const began = performance.now()
      try {
        const value = await options.task(index)
        samples.push({ latencyMs: performance.now() - began, value })
      } catch (error) {
        failures.push(error)
      }
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, options.maxCount)) }, caller))
  if (failures.length > 0) throw failures[0]
  const elapsedMs = performance.now() - start
  return { completed: samples.length, elapsedMs, perSecond: (samples.length * 1000) / elapsedMs, samples }
}

/** Nearest-rank percentile (`p` in 0..100) of values sorted ascending; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export function latencies<T>(samples: readonly Sample<T>[]): number[] {
  return samples.map((sample) => sample.latencyMs).sort((a, b) => a - b)
}

/** Several measured runs of one case, told as medians (the spread of the rate beside it). */
export interface RateSummary {
  /** Median over the runs of requests per second. */
  perSecond: number
  perSecondMin: number
  perSecondMax: number
  /** Median over the runs of each run's p50 / p99 latency, in ms. */
  p50Ms: number
  p99Ms: number
  runs: number
  /** Requests answered in the measured runs. */
  requests: number
}

export function summarizeRuns(runs: readonly LoadRun<unknown>[]): RateSummary {
  const rates = runs.map((run) => run.perSecond)
  return {
    perSecond: median(rates),
    perSecondMin: Math.min(...rates),
    perSecondMax: Math.max(...rates),
    p50Ms: median(runs.map((run) => percentile(latencies(run.samples), 50))),
    p99Ms: median(runs.map((run) => percentile(latencies(run.samples), 99))),
    runs: runs.length,
    requests: runs.reduce((sum, run) => sum + run.completed, 0),
  }
}

/** Runs `warmups` unrecorded runs, then `runs` recorded ones. */
export async function measure<T>(plan: { warmups: number; runs: number }, run: (index: number) => Promise<LoadRun<T>>): Promise<LoadRun<T>[]> {
  for (let i = 0; i < plan.warmups; i += 1) await run(-1 - i)
  const recorded: LoadRun<T>[] = []
  for (let i = 0; i < plan.runs; i += 1) recorded.push(await run(i))
  return recorded
}
