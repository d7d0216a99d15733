/**
 * The embedded dispatch engine: the queue is the `messages` table. It leases due `queued` messages
 * in batches (owner + expiry) and never leases more than it has free slots, so at any moment at most
 * `concurrency` messages are taken by this process, and a crash leaves at most that many in doubt
 * (`sending`); everything still `queued` is leased again after the restart.
 *
 * Pacing: the global rate (DISPATCH_RATE) and each campaign's rate are token buckets; a 45009 pauses
 * every lease until the slowdown is over. When nothing is due it waits for `wake()` or the next poll.
 */
import type { DispatchJob, MessageRepository } from '../db/storage'
import type { Clock } from '../wechat/types'
import type { DispatchEngine, EngineStatus, JobHandler, UnreadableHandler } from './engine'
import { createTokenBucket, type Slowdown, type TokenBucket } from './rate'
import type { Timer } from './timer'

export interface EmbeddedEngineOptions {
  messages: MessageRepository
  /** The service clock: what is due, and lease expiry. */
  clock: Clock
  /** Real time: pacing. */
  timer: Timer
  slowdown: Slowdown
  /** This process's lease owner id. */
  owner: string
  /** Jobs in flight at most. */
  concurrency: number
  /** Messages per second for the whole dispatcher; null = unlimited. */
  rate: number | null
  /** The running campaigns that have their own rate. */
  campaignRates: () => Promise<ReadonlyArray<{ id: string; ratePerSecond: number }>>
  /** How long a lease holds (a `sending` message's lease is the worker's). */
  leaseMs: number
  /** How often to look when nothing woke it. */
  pollMs: number
  onError: (error: unknown) => void
}

/** How long a free slot waits for others to share a lease's transaction. */
const LEASE_GATHER_MS = 1

/** Why a nap ended early (nothing reads it). */
const WOKEN = 'woken'

export function createEmbeddedEngine(options: EmbeddedEngineOptions): DispatchEngine {
  const { messages, clock, timer, slowdown, owner, concurrency } = options
  const global = options.rate === null ? null : createTokenBucket(options.rate, timer)
  /** Free slots that make a lease worth its transaction (an eighth of the slots, at most 32). */
  const leaseBatchMin = Math.max(1, Math.min(32, Math.floor(concurrency / 8)))
  const campaignBuckets = new Map<string, { rate: number; bucket: TokenBucket }>()
  let inFlight = 0
  let running = false
  let loop: Promise<void> | null = null
  let wakeUp = new AbortController()
  let idleWaiters: Array<() => void> = []
  let emptyWaiters: Array<() => void> = []
  let lastLeaseEmpty = false
  /** Since when fewer than `leaseBatchMin` slots are free (the lease waits for more at most LEASE_GATHER_MS). */
  let shortSince: number | null = null

  function wake(): void {
    lastLeaseEmpty = false
    // Once per nap, with a reason of its own: abort()'s default reason is a new DOMException, whose
    // stack is captured on every call, and wake() comes with every job's end and every queued message.
    if (!wakeUp.signal.aborted) wakeUp.abort(WOKEN)
  }

  function nap(ms: number): Promise<void> {
    return timer.sleep(ms, wakeUp.signal)
  }

  function settleIdle(): void {
    if (inFlight > 0 || !lastLeaseEmpty) return
    const waiters = idleWaiters
    idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  function bucketFor(id: string, rate: number): TokenBucket {
    const known = campaignBuckets.get(id)
    if (known && known.rate === rate) return known.bucket
    const bucket = createTokenBucket(rate, timer)
    campaignBuckets.set(id, { rate, bucket })
    return bucket
  }

  /** Up to `room` due jobs: each rate-limited campaign within its bucket first, then all the rest. */
  async function leaseBatch(room: number): Promise<{ jobs: DispatchJob[]; unreadable: string[]; waitMs: number }> {
    const now = clock.now()
    const until = new Date(now.getTime() + options.leaseMs)
    const jobs: DispatchJob[] = []
    const unreadable: string[] = []
    const limited = await options.campaignRates()
    let waitMs = 0
    for (const { id, ratePerSecond } of limited) {
      if (jobs.length >= room) break
      const bucket = bucketFor(id, ratePerSecond)
      const tokens = Math.min(bucket.available(), room - jobs.length)
      if (tokens <= 0) {
        waitMs = waitMs === 0 ? bucket.waitMs() : Math.min(waitMs, bucket.waitMs())
        continue
      }
      const leased = await messages.leaseDue({ owner, now, until, limit: tokens, scope: { campaignId: id } })
      bucket.take(leased.jobs.length + leased.unreadable.length)
      jobs.push(...leased.jobs)
      unreadable.push(...leased.unreadable)
    }
    if (jobs.length < room) {
      const rest = await messages.leaseDue({
        owner,
        now,
        until,
        limit: room - jobs.length,
        scope: { exceptCampaigns: limited.map((campaign) => campaign.id) },
      })
      jobs.push(...rest.jobs)
      unreadable.push(...rest.unreadable)
    }
    return { jobs, unreadable, waitMs }
  }

  function run(work: Promise<unknown>): void {
    inFlight += 1
    work
      .catch(options.onError)
      .finally(() => {
        inFlight -= 1
        if (inFlight === 0) for (const resolve of emptyWaiters.splice(0)) resolve()
        // A slot is free: lease again.
        wake()
        settleIdle()
      })
  }

  async function work(handle: JobHandler, unreadable: UnreadableHandler): Promise<void> {
    while (running) {
      wakeUp = new AbortController()
      const paused = slowdown.remainingMs()
      if (paused > 0) {
        await nap(paused)
        continue
      }
      const free = concurrency - inFlight
      if (free <= 0) {
        shortSince = null
        await nap(options.pollMs)
        continue
      }
      // Lease in batches: wait for a few slots to free rather than lease one message per answer, but
      // not for long: with WeChat slow to answer, slots free one at a time and would sit idle.
      if (inFlight > 0 && free < leaseBatchMin) {
        const now = timer.now()
        shortSince ??= now
        const left = LEASE_GATHER_MS - (now - shortSince)
        if (left > 0) {
          await nap(left)
          continue
        }
      }
      shortSince = null
      const allowed = global === null ? free : Math.min(free, global.available())
      if (allowed <= 0) {
        await nap(global?.waitMs() ?? options.pollMs)
        continue
      }
      let batch: { jobs: DispatchJob[]; unreadable: string[]; waitMs: number }
      try {
        batch = await leaseBatch(allowed)
      } catch (error) {
        options.onError(error)
        await nap(options.pollMs)
        continue
      }
      global?.take(batch.jobs.length)
      if (batch.jobs.length > 0) for (const job of handle(batch.jobs)) run(job)
      for (const id of batch.unreadable) run(unreadable(id))
      if (batch.jobs.length + batch.unreadable.length === 0) {
        lastLeaseEmpty = batch.waitMs === 0
        settleIdle()
        await nap(batch.waitMs > 0 ? batch.waitMs : options.pollMs)
      } else {
        lastLeaseEmpty = false
      }
    }
  }

  return {
    start(handle, unreadable) {
      if (running) return
      running = true
      loop = work(handle, unreadable)
    },
    wake,
    idle() {
      // Not started (or stopped): nothing will be taken, so nothing is left to wait for.
      if (!running) return Promise.resolve()
      return new Promise((resolve) => {
        idleWaiters.push(resolve)
        wake()
      })
    },
    async stop() {
      running = false
      wake()
      await loop
      if (inFlight > 0) await new Promise<void>((resolve) => emptyWaiters.push(resolve))
      // Not giving them back only delays those messages until their leases run out.
      await messages.releaseLeases(owner).catch(options.onError)
      for (const resolve of idleWaiters.splice(0)) resolve()
    },
    status(): EngineStatus {
      return { inFlight, concurrency, rate: options.rate, slowedForMs: slowdown.remainingMs() }
    },
  }
}
