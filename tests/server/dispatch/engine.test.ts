/**
 * The embedded engine's pacing, with time moved by hand: never more in flight than its slots, the
 * global rate and each campaign's rate as token buckets, a 45009 slowdown pausing every lease, and
 * paused campaigns left alone. Against a real SQLite database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createManualClock } from '../../../server/clock'
import type { DispatchJob } from '../../../server/db/storage'
import { createSqliteStorage, type SqliteStorage } from '../../../server/db/sqlite/storage'
import { createEmbeddedEngine } from '../../../server/dispatch/embedded'
import type { DispatchEngine, JobOutcome } from '../../../server/dispatch/engine'
import { createSlowdown, type Slowdown } from '../../../server/dispatch/rate'
import type { Timer } from '../../../server/dispatch/timer'
import { removeDatabase, tempDatabasePath } from '../support/service'

/** Time that moves only when the test says; sleepers wake when it passes their deadline or they are woken. */
function manualTimer(): Timer & { advance(ms: number): Promise<void> } {
  let now = 0
  const sleepers: Array<{ until: number; wake: () => void }> = []
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve()
        const sleeper = { until: now + ms, wake: () => resolve() }
        sleepers.push(sleeper)
        signal?.addEventListener('abort', () => resolve(), { once: true })
      })
    },
    async advance(ms) {
      now += ms
      for (const sleeper of sleepers.splice(0)) {
        if (sleeper.until <= now) sleeper.wake()
        else sleepers.push(sleeper)
      }
      await settleTurns()
    },
  }
}

/** Lets the engine's loop and its jobs run until they wait again. */
async function settleTurns(): Promise<void> {
  for (let i = 0; i < 50; i += 1) await new Promise((resolve) => setImmediate(resolve))
}

const clock = createManualClock(new Date('2026-11-25T05:00:00.000Z'))
let storage: SqliteStorage
let path: string
let engine: DispatchEngine | null = null
let current: Run | null = null

beforeEach(() => {
  path = tempDatabasePath()
  storage = createSqliteStorage(path, clock)
})
afterEach(async () => {
  // Jobs still in the handler's hands finish, as the worker's would, so the engine can stop.
  const stopping = engine?.stop()
  await current?.finishAll()
  await stopping
  current = null
  engine = null
  storage.close()
  removeDatabase(path)
})

async function queue(count: number, campaignId?: string): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await storage.messages.insert({
      id: `${campaignId ?? 'm'}-${i}`,
      openid: `o-${i}`,
      templateId: 't',
      category: 'order',
      data: {},
      urgent: false,
      source: campaignId === undefined ? 'admin' : 'campaign',
      ...(campaignId !== undefined && { campaignId }),
      createdAt: clock.now(),
    })
  }
}

async function campaign(id: string, status: 'running' | 'paused', ratePerSecond?: number): Promise<void> {
  await storage.campaigns.create({
    id,
    name: id,
    segmentId: 's',
    segmentFilter: {},
    templateId: 't',
    data: {},
    urgent: false,
    truncate: false,
    ...(ratePerSecond !== undefined && { ratePerSecond }),
    status,
    expansionCursor: null,
    expanded: true,
    total: 0,
    createdAt: clock.now(),
  })
}

interface Run {
  timer: ReturnType<typeof manualTimer>
  slowdown: Slowdown
  started: DispatchJob[]
  /** Finishes the jobs in flight (the handler's promises resolve). */
  finishAll(outcome?: JobOutcome): Promise<void>
  /** Finishes the oldest job in flight. */
  finishOne(): Promise<void>
}

function run(options: { concurrency: number; rate: number | null; campaignRates?: Array<{ id: string; ratePerSecond: number }> }): Run {
  const timer = manualTimer()
  const slowdown = createSlowdown(timer)
  const started: DispatchJob[] = []
  let finishers: Array<(outcome: JobOutcome) => void> = []
  engine = createEmbeddedEngine({
    messages: storage.messages,
    clock,
    timer,
    slowdown,
    owner: 'engine-under-test',
    concurrency: options.concurrency,
    rate: options.rate,
    campaignRates: async () => options.campaignRates ?? [],
    leaseMs: 120_000,
    pollMs: 250,
    onError: (error) => {
      throw error
    },
  })
  engine.start(
    (jobs) =>
      jobs.map(
        (job) =>
          new Promise<JobOutcome>((resolve) => {
            started.push(job)
            finishers.push(resolve)
          }),
      ),
    async () => {},
  )
  current = {
    timer,
    slowdown,
    started,
    async finishAll(outcome = { kind: 'done' }) {
      const finishing = finishers
      finishers = []
      // A finished job has left `queued` (the worker would have moved it on).
      for (const job of started.slice(-finishing.length)) await storage.messages.transition(job.id, ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, clock.now())
      for (const finish of finishing) finish(outcome)
      await settleTurns()
    },
    async finishOne() {
      const index = started.length - finishers.length
      const finish = finishers.shift()!
      await storage.messages.transition(started[index]!.id, ['queued'], { status: 'skipped', reason: 'MUTED_CATEGORY' }, clock.now())
      finish({ kind: 'done' })
      await settleTurns()
    },
  }
  return current
}

describe('the embedded engine', () => {
  it('never has more in flight than its slots, and takes more as slots free', async () => {
    await queue(10)
    const engineRun = run({ concurrency: 4, rate: null })
    await settleTurns()
    expect(engineRun.started).toHaveLength(4)
    expect(engine!.status()).toMatchObject({ inFlight: 4, concurrency: 4 })
    await engineRun.finishAll()
    expect(engineRun.started).toHaveLength(8)
    await engineRun.finishAll()
    expect(engineRun.started.map((job) => job.id)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i}`))
  })

  it('waits for a few free slots to share a lease, but a lone free slot at most a millisecond', async () => {
    await queue(100)
    // 64 slots lease in batches of at least 8 while others are in flight.
    const engineRun = run({ concurrency: 64, rate: null })
    await settleTurns()
    expect(engineRun.started).toHaveLength(64)
    await engineRun.finishOne()
    await engineRun.finishOne()
    expect(engineRun.started).toHaveLength(64)
    // WeChat slow to answer: the two free slots do not sit idle until six more free.
    await engineRun.timer.advance(1)
    expect(engineRun.started).toHaveLength(66)
    expect(engine!.status()).toMatchObject({ inFlight: 64 })
    // Answers coming fast: eight free slots are leased at once, without waiting.
    for (let i = 0; i < 8; i += 1) await engineRun.finishOne()
    expect(engineRun.started).toHaveLength(74)
  })

  it('keeps to DISPATCH_RATE: a second\'s worth at once, then as the bucket refills', async () => {
    await queue(12)
    const engineRun = run({ concurrency: 64, rate: 5 })
    await settleTurns()
    expect(engineRun.started).toHaveLength(5)
    await engineRun.finishAll()
    expect(engineRun.started).toHaveLength(5)
    await engineRun.timer.advance(400)
    expect(engineRun.started).toHaveLength(7)
    await engineRun.timer.advance(600)
    expect(engineRun.started).toHaveLength(10)
    await engineRun.timer.advance(1_000)
    expect(engineRun.started).toHaveLength(12)
  })

  it('keeps each campaign to its own rate, while other messages go at full speed', async () => {
    await campaign('slow', 'running', 2)
    await queue(6, 'slow')
    await queue(5)
    const engineRun = run({ concurrency: 64, rate: null, campaignRates: [{ id: 'slow', ratePerSecond: 2 }] })
    await settleTurns()
    const ids = (): string[] => engineRun.started.map((job) => job.id)
    expect(ids().filter((id) => id.startsWith('slow'))).toHaveLength(2)
    expect(ids().filter((id) => id.startsWith('m-'))).toHaveLength(5)
    await engineRun.timer.advance(1_000)
    expect(ids().filter((id) => id.startsWith('slow'))).toHaveLength(4)
  })

  it('leaves a paused campaign\'s messages queued', async () => {
    await campaign('held', 'paused')
    await queue(3, 'held')
    await queue(2)
    const engineRun = run({ concurrency: 64, rate: null })
    await settleTurns()
    expect(engineRun.started.map((job) => job.id)).toEqual(['m-0', 'm-1'])
    await storage.campaigns.setStatus('held', ['paused'], 'running', clock.now())
    engine!.wake()
    await settleTurns()
    expect(engineRun.started.map((job) => job.id)).toEqual(['m-0', 'm-1', 'held-0', 'held-1', 'held-2'])
  })

  it('pauses every lease during a 45009 slowdown', async () => {
    await queue(3)
    const engineRun = run({ concurrency: 1, rate: null })
    await settleTurns()
    expect(engineRun.started).toHaveLength(1)
    expect(engineRun.slowdown.hit()).toBe(1_000)
    await engineRun.finishAll({ kind: 'requeued', waits: 'everyone' })
    expect(engineRun.started).toHaveLength(1)
    expect(engine!.status().slowedForMs).toBe(1_000)
    await engineRun.timer.advance(999)
    expect(engineRun.started).toHaveLength(1)
    await engineRun.timer.advance(1)
    expect(engineRun.started).toHaveLength(2)
  })
})
