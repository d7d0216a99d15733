/**
 * The BullMQ dispatch engine (REDIS_URL): every instance of the service takes jobs from one queue in
 * Redis. A job carries only message ids; the message row stays the job, and the worker claims it
 * in the database (status + lease, `ledger.claimSends`) before WeChat is called. So a job delivered
 * twice — a stalled lock, an instance killed after its send — finds the row `sending` or `sent` and
 * sends nothing; a row whose claim's lease ran out while sending is failed INTERRUPTED by the
 * scheduler, per message.
 *
 * - Jobs of several messages. With no DISPATCH_RATE a job carries up to JOB_SIZE message ids (half
 *   of DISPATCH_CONCURRENCY at most): BullMQ's scripts (each job's add, take and finish, ~35 µs of
 *   Redis each) run once for several messages. Its job id is BullMQ's own: a message whose feed lease
 *   ran out while its job still waited (a queue paused longer than the lease) can be in two jobs, and
 *   the second finds it claimed. With DISPATCH_RATE a job is one message, its job id the message id (a
 *   message is in the queue once however many instances feed it): the limiter counts jobs.
 * - Send slots from claim to ending. The worker holds twice the jobs that fill DISPATCH_CONCURRENCY;
 *   their messages are read and checked (status, campaign) as they arrive, without a slot, and wait
 *   ready. A message takes one of DISPATCH_CONCURRENCY slots when it is handed to the worker (which
 *   claims it: `sending`) and gives it back once its ending is written, so no more than
 *   DISPATCH_CONCURRENCY messages of an instance are ever in doubt after a crash; an unclaimed one is
 *   still `queued` under its feed lease and is fed again. Ready messages are handed over once half the
 *   slots are free (or none is in flight), together: on PostgreSQL a claim and an ending cost less per
 *   message in batches (bench/pg-storage.ts: ~140 µs a message in batches of 16, ~90 in 64).
 *
 * - Feeding. Each instance moves due `queued` rows into the queue (on wake, every poll, and after its
 *   jobs once a batch's worth of room may have opened): it leases them to the cluster's owner for a
 *   short while and adds jobs of their ids. The queue is topped up to a window, not filled with a whole
 *   campaign, so a pause finds little in it. A job lost with Redis is fed again once its short lease
 *   has run out.
 * - Pacing. DISPATCH_RATE is BullMQ's global limiter (one budget for every worker of the queue); a
 *   45009 pauses the whole queue (`queue.rateLimit`); a campaign's own rate is a token bucket in Redis
 *   that every feeder takes from.
 * - Timers. A deferred message gets a delayed job for the moment its quiet hours end (one per distinct
 *   moment); the scheduler is a BullMQ job scheduler, one run per interval for the cluster.
 * - Pause and cancel. The worker reads a campaign's status (at most 200 ms old) before claiming: a job
 *   of a campaign that is not running sends nothing, and its row waits in the database.
 */
import { Queue, Worker, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import type { CampaignStatus } from '../../src/domain/contract'
import type { DispatchJob, MessageRepository } from '../db/storage'
import type { Clock } from '../wechat/types'
import type { ClusterTicker, DispatchEngine, EngineStatus, JobHandler, JobOutcome, UnreadableHandler } from './engine'
import type { Slowdown } from './rate'
import type { Timer } from './timer'

export interface BullmqEngineOptions {
  redisUrl: string
  /** BullMQ's key prefix: instances with the same prefix (and database) are one cluster. */
  prefix: string
  messages: MessageRepository
  /** A campaign's status now, or null when there is none. */
  campaignStatus: (id: string) => Promise<CampaignStatus | null>
  clock: Clock
  timer: Timer
  slowdown: Slowdown
  /** The lease owner every instance of the cluster feeds and claims under. */
  owner: string
  /** Jobs in flight at most in this instance. */
  concurrency: number
  /** Messages per second for the whole cluster; null = unlimited. */
  rate: number | null
  campaignRates: () => Promise<ReadonlyArray<{ id: string; ratePerSecond: number }>>
  /** How long a BullMQ job's lock holds without renewal before another instance takes it over (stalled). */
  lockMs?: number
  pollMs: number
  onError: (error: unknown) => void
}

const SEND_QUEUE = 'dispatch'
const TIMER_QUEUE = 'dispatch-timers'
/** A fed row is hidden from other feeders this long; a job lost with Redis is fed again after it. */
export const FEED_LEASE_MS = 10_000
/** How old a campaign's status may be when a message of it is read or handed to the worker (pause and cancel reach every instance within this). */
const CAMPAIGN_STATUS_MS = 200
const SCHEDULER_ID = 'scheduler'
/** Message ids a job carries at most (with no DISPATCH_RATE). */
export const JOB_SIZE = 32
/** With no DISPATCH_RATE the limiter is still there (a 45009 pause needs it), far above any real rate. */
const UNLIMITED = { max: 1_000_000, duration: 1_000 }

/** DISPATCH_RATE as BullMQ's limiter: `max` jobs per `duration` ms, exactly the rate (0.5/s: 1 per 2 s). */
export function limiterFor(rate: number | null): { max: number; duration: number } {
  if (rate === null) return UNLIMITED
  const max = Math.max(1, Math.round(rate))
  return { max, duration: Math.round((1000 * max) / rate) }
}

/** A campaign's bucket in Redis (a burst of one second's worth), taken from atomically by every feeder. */
const TAKE_TOKENS = `
local rate = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local capacity = math.max(1, rate)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
local granted = math.max(0, math.min(want, math.floor(tokens)))
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - granted), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return granted
`

/** A send job's data: one message id (under a rate), or several. */
type SendJobData = { messageId: string } | { messageIds: string[] }

interface Waiting {
  id: string
  resolve: (outcome: JobOutcome) => void
  reject: (error: unknown) => void
}

/** A message read and found sendable, waiting for a send slot. */
interface Ready {
  job: DispatchJob
  waiting: Waiting
}

export function createBullmqEngine(options: BullmqEngineOptions): DispatchEngine {
  const { messages, clock, timer, slowdown, owner, concurrency, prefix } = options
  const done: JobOutcome = { kind: 'done' }
  const lockMs = options.lockMs ?? 30_000
  /** Message ids per job: one under a rate (BullMQ's limiter counts jobs), else up to JOB_SIZE. */
  const jobSize = options.rate === null ? Math.max(1, Math.min(JOB_SIZE, Math.floor(concurrency / 2))) : 1
  /**
   * Jobs this instance's worker holds at once. With several messages a job, twice what `concurrency`
   * messages fill: the second half is taken ahead, its messages read and waiting ready, so freed slots
   * start the next messages at once rather than when a whole job is done and the next one fetched.
   */
  const jobConcurrency = jobSize === 1 ? concurrency : 2 * Math.max(1, Math.floor(concurrency / jobSize))
  let slotsFree = concurrency
  /** Messages read and found sendable, waiting for a send slot, oldest first. */
  const readyQueue: Ready[] = []
  let pumpScheduled = false
  /**
   * Slots that must be free before ready messages are handed to the worker (unless none is in flight):
   * handed as soon as any slot frees, claims were as small as one ending write's worth (~15 at 64).
   */
  const claimBatch = Math.max(1, Math.floor(concurrency / 2))
  let pumping = false
  /** Messages waiting in the queue (all instances) that feeders top up to (counted as whole jobs). */
  const window = Math.max(64, concurrency * 4)
  /**
   * Fed in batches of at least this many messages (a quarter of the window) while the queue holds
   * enough for every slot of this instance: one lease statement and one addBulk for many jobs, not one
   * per job done.
   */
  const feedBatch = Math.floor(window / 4)
  /** Messages this instance is to finish before its next look at the queue's room (each look is a Redis call). */
  let jobsBeforeLook = 0
  const client = new Redis(options.redisUrl, { maxRetriesPerRequest: null })
  client.on('error', options.onError)
  const connection = client
  const sends = new Queue(SEND_QUEUE, { connection, prefix })
  const timers = new Queue(TIMER_QUEUE, { connection, prefix })
  sends.on('error', options.onError)
  timers.on('error', options.onError)
  const campaigns = new Map<string, { status: CampaignStatus | null; at: number }>()

  let handle: JobHandler | null = null
  let unreadable: UnreadableHandler | null = null
  let sendWorker: Worker | null = null
  let timerWorker: Worker | null = null
  let poll: NodeJS.Timeout | null = null
  let running = false
  /** Messages holding a send slot (claimed or about to be, until their ending is written). */
  let inFlight = 0
  /** Messages of the jobs this instance holds, from their job's start until each is done. */
  let held = 0
  let feeding: Promise<void> | null = null
  let feedAgain = false
  let tick: (() => Promise<void>) | null = null
  let gathered: Waiting[] = []
  let gathering = false

  async function campaignStatus(id: string): Promise<CampaignStatus | null> {
    const known = campaigns.get(id)
    if (known && timer.now() - known.at < CAMPAIGN_STATUS_MS) return known.status
    const status = await options.campaignStatus(id)
    campaigns.set(id, { status, at: timer.now() })
    return status
  }

  async function takeTokens(campaignId: string, rate: number, want: number): Promise<number> {
    const granted = await client.eval(TAKE_TOKENS, 1, `${prefix}:campaign-rate:${campaignId}`, String(rate), String(want))
    return Number(granted)
  }

  async function giveBack(campaignId: string, count: number): Promise<void> {
    await client.hincrbyfloat(`${prefix}:campaign-rate:${campaignId}`, 'tokens', count)
  }

  /** Leases due rows (each rate-limited campaign within its bucket, then the rest) and adds their jobs. */
  async function feedOnce(): Promise<number> {
    const counts = await sends.getJobCounts('wait', 'prioritized')
    const waiting = ((counts.wait ?? 0) + (counts.prioritized ?? 0)) * jobSize
    const room = window - waiting
    if (room <= 0 || (room < feedBatch && waiting >= concurrency)) {
      // Room grows by a job's messages per job taken; other instances' feeds and the poll look meanwhile too.
      jobsBeforeLook = feedBatch - Math.max(0, room)
      return 0
    }
    jobsBeforeLook = 0
    const now = clock.now()
    const until = new Date(now.getTime() + FEED_LEASE_MS)
    // Ids only: the worker reads each message when it takes its job (jobsOf), a row that no longer reads among them.
    const ids: string[] = []
    const limited = await options.campaignRates()
    for (const { id, ratePerSecond } of limited) {
      if (ids.length >= room) break
      const granted = await takeTokens(id, ratePerSecond, room - ids.length)
      if (granted <= 0) continue
      const leased = await messages.leaseDueIds({ owner, now, until, limit: granted, scope: { campaignId: id } })
      if (leased.length < granted) await giveBack(id, granted - leased.length)
      ids.push(...leased)
    }
    if (ids.length < room) {
      ids.push(...(await messages.leaseDueIds({ owner, now, until, limit: room - ids.length, scope: { exceptCampaigns: limited.map((campaign) => campaign.id) } })))
    }
    if (ids.length > 0) {
      const bulk: Array<{ name: string; data: SendJobData; opts: { jobId?: string; removeOnComplete: true; removeOnFail: true } }> = []
      for (let start = 0; start < ids.length; start += jobSize) {
        const some = ids.slice(start, start + jobSize)
        bulk.push(
          jobSize === 1
            ? { name: 'send', data: { messageId: some[0]! }, opts: { jobId: some[0]!, removeOnComplete: true, removeOnFail: true } }
            : { name: 'send', data: { messageIds: some }, opts: { removeOnComplete: true, removeOnFail: true } },
        )
      }
      await sends.addBulk(bulk)
    }
    return ids.length
  }

  /** One feed at a time in this instance; a request during one makes it go round again. */
  function requestFeed(): Promise<void> {
    if (!running) return Promise.resolve()
    if (feeding) {
      feedAgain = true
      return feeding
    }
    feeding = (async () => {
      do {
        feedAgain = false
        try {
          if ((await feedOnce()) > 0) feedAgain = true
        } catch (error) {
          options.onError(error)
          return
        }
      } while (feedAgain && running)
    })().finally(() => {
      feeding = null
    })
    return feeding
  }

  /** Jobs that arrived together are read and decided as one batch (the worker claims a batch in one transaction). */
  function gather(id: string): Promise<JobOutcome> {
    return new Promise((resolve, reject) => {
      gathered.push({ id, resolve, reject })
      if (!gathering) {
        gathering = true
        setImmediate(() => void flush())
      }
    })
  }

  async function flush(): Promise<void> {
    gathering = false
    const batch = gathered
    gathered = []
    const ready: Ready[] = []
    try {
      // The whole batch in one read: status and what the send needs, not each message's history.
      const found = await messages.jobsOf(batch.map((waiting) => waiting.id))
      const seen = new Set<string>()
      for (const waiting of batch) {
        const entry = found.get(waiting.id)
        // In two jobs at once (fed again after its feed lease ran out): the first one sends it.
        if (seen.has(waiting.id)) {
          waiting.resolve(done)
          continue
        }
        seen.add(waiting.id)
        // Sent, settled or claimed by another job of it (a redelivery): nothing to do.
        if (entry === undefined || entry.status !== 'queued') {
          waiting.resolve(done)
          continue
        }
        // Its stored data no longer reads: failed, never left blocking the queue.
        if (entry.job === null) {
          await unreadable?.(waiting.id)
          waiting.resolve(done)
          continue
        }
        // A paused or cancelled campaign: its row waits in the database, fed again once it runs.
        if (entry.job.campaignId !== undefined && (await campaignStatus(entry.job.campaignId)) !== 'running') {
          waiting.resolve(done)
          continue
        }
        ready.push({ job: entry.job, waiting })
      }
    } catch (error) {
      const decided = new Set(ready.map((entry) => entry.waiting))
      for (const waiting of batch) if (!decided.has(waiting)) waiting.reject(error)
      for (const { waiting } of ready) waiting.resolve(done)
      return
    }
    readyQueue.push(...ready)
    schedulePump()
  }

  /** Hands ready messages to the worker as send slots free: all that fit at once, one batch (one claim). */
  function schedulePump(): void {
    if (pumpScheduled || pumping) return
    pumpScheduled = true
    // After the turn in which slots freed: an ending batch frees its slots together, and they are one claim.
    setImmediate(() => {
      pumpScheduled = false
      void pump()
    })
  }

  async function pump(): Promise<void> {
    pumping = true
    try {
      while (readyQueue.length > 0 && (slotsFree >= claimBatch || (inFlight === 0 && slotsFree > 0))) {
        const taken = readyQueue.splice(0, slotsFree)
        // Read again (cached, at most CAMPAIGN_STATUS_MS old) in case the wait for a slot was long: a
        // campaign paused meanwhile sends nothing more.
        const go: Ready[] = []
        for (const entry of taken) {
          if (entry.job.campaignId !== undefined && (await campaignStatus(entry.job.campaignId)) !== 'running') entry.waiting.resolve(done)
          else go.push(entry)
        }
        if (go.length === 0) continue
        if (handle === null) {
          for (const { waiting } of go) waiting.resolve(done)
          continue
        }
        // A slot per message from its claim (in `handle`) until its ending is written.
        slotsFree -= go.length
        inFlight += go.length
        const outcomes = handle(go.map((entry) => entry.job))
        go.forEach(({ waiting }, index) => {
          outcomes[index]!
            .then(waiting.resolve, waiting.reject)
            .finally(() => {
              inFlight -= 1
              slotsFree += 1
              schedulePump()
            })
        })
      }
    } finally {
      pumping = false
    }
  }

  async function processSend(job: Job<SendJobData>): Promise<Array<JobOutcome['kind']>> {
    const ids = 'messageIds' in job.data ? job.data.messageIds : [job.data.messageId]
    const one = async (id: string): Promise<JobOutcome> => {
      held += 1
      try {
        return await gather(id)
      } finally {
        held -= 1
        jobsBeforeLook -= 1
        if (jobsBeforeLook <= 0) void requestFeed()
      }
    }
    // Every message of the job settles before the job does (a failed one fails the job once all are done).
    const settled = await Promise.allSettled(ids.map(one))
    const failed = settled.find((result) => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    return settled.map((result) => (result.status === 'fulfilled' ? result.value.kind : 'done'))
  }

  async function processTimer(job: Job): Promise<void> {
    if (job.name === SCHEDULER_ID) {
      await tick?.()
      return
    }
    // A deferred message's time came: what is due goes back in the queue (the scheduler does the same on its rounds).
    while ((await messages.enqueueDeferred(clock.now(), 500)) === 500) {
      // more of them came due at once
    }
    void requestFeed()
  }

  let stopping: Promise<void> | null = null
  async function close(): Promise<void> {
    running = false
    tick = null
    if (poll) clearInterval(poll)
    await feeding
    // Waits for the jobs in flight; what is still waiting in Redis stays there for the other instances.
    await sendWorker?.close()
    await timerWorker?.close()
    await sends.close()
    await timers.close()
    await client.quit().catch(() => client.disconnect())
  }

  const ticker: ClusterTicker = {
    async start(everyMs, run) {
      tick = run
      await timers.upsertJobScheduler(SCHEDULER_ID, { every: everyMs }, { name: SCHEDULER_ID, opts: { removeOnComplete: true, removeOnFail: true } })
    },
    async stop() {
      tick = null
    },
  }

  return {
    shared: true,
    clusterTicker: ticker,
    start(handler, unreadableHandler) {
      if (running) return
      running = true
      handle = handler
      unreadable = unreadableHandler
      const common = { connection, prefix, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 2 }
      sendWorker = new Worker(SEND_QUEUE, processSend, { ...common, concurrency: jobConcurrency, limiter: limiterFor(options.rate) })
      timerWorker = new Worker(TIMER_QUEUE, processTimer, { ...common, concurrency: 2 })
      sendWorker.on('error', options.onError)
      timerWorker.on('error', options.onError)
      poll = setInterval(() => void requestFeed(), options.pollMs)
      poll.unref()
      void requestFeed()
    },
    wake() {
      void requestFeed()
    },
    async idle() {
      while (running) {
        const fed = await feedOnce().catch((error: unknown) => {
          options.onError(error)
          return 1
        })
        const counts = await sends.getJobCounts('wait', 'active', 'prioritized', 'delayed')
        const queued = Object.values(counts).reduce((sum, count) => sum + count, 0)
        if (fed === 0 && queued === 0 && held === 0 && inFlight === 0) return
        await timer.sleep(20)
      }
    },
    stop() {
      stopping ??= close()
      return stopping
    },
    status(): EngineStatus {
      return { inFlight, concurrency, rate: options.rate, slowedForMs: slowdown.remainingMs() }
    },
    slowEveryone(ms) {
      // PX takes whole milliseconds.
      sends.rateLimit(Math.max(1, Math.ceil(ms))).catch(options.onError)
    },
    deferred(_messageId, until) {
      const delay = Math.max(0, until.getTime() - clock.now().getTime())
      timers
        .add('due', {}, { jobId: `due-${until.getTime()}`, delay, removeOnComplete: true, removeOnFail: true })
        .catch(options.onError)
    },
  }
}
