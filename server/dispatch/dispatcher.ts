/**
 * The dispatcher: every send (admin API, order events, campaigns, deferred messages) is a `queued`
 * message row, and this is the one thing that sends them: an engine leases due messages (embedded.ts),
 * the worker sends each (worker.ts), results are written in batches (results.ts). It starts with the
 * app and stops with it. Callers that want WeChat's answer wait for the message (`waitFor`).
 */
import { randomUUID } from 'node:crypto'
import type { MessageOutcome } from '../../src/domain/contract'
import { isOutcomeStatus } from '../db/outcome-counts'
import type { Storage } from '../db/storage'
import type { Ledger } from '../ledger/ledger'
import { outcomeOf } from '../messages/outcome'
import type { TemplateDirectory } from '../messages/templates'
import type { PreferencesService } from '../preferences/preferences'
import type { Clock, MiniprogramState, WeChatClient } from '../wechat/types'
import { createBullmqEngine } from './bullmq'
import { createEmbeddedEngine } from './embedded'
import type { ClusterTicker, DispatchEngine, EngineStatus } from './engine'
import { createSlowdown } from './rate'
import { createResultWriter } from './results'
import { realTimer, type Timer } from './timer'
import { createDispatchWorker, type DispatchLogger } from './worker'

/** A claimed message stays this process's for this long: longer than the WeChat client's retries of one call can take. */
export const LEASE_MS = 120_000
const POLL_MS = 250
const MAX_REQUEUES = 5
/** How often a caller waiting for a message another instance may send reads it again. */
const SHARED_WAIT_POLL_MS = 100

export interface DispatcherOptions {
  storage: Storage
  ledger: Ledger
  preferences: PreferencesService
  wechat: WeChatClient
  templates: TemplateDirectory
  clock: Clock
  timeZone: string
  miniprogramState: MiniprogramState
  logger: DispatchLogger
  /** DISPATCH_CONCURRENCY */
  concurrency: number
  /** DISPATCH_RATE, messages/s; null = unlimited. */
  rate: number | null
  /** The running campaigns with a rate of their own. */
  campaignRates?: () => Promise<ReadonlyArray<{ id: string; ratePerSecond: number }>>
  timer?: Timer
  owner?: string
  /** How long a claimed message stays this process's (DISPATCH_LEASE_S; default LEASE_MS). */
  leaseMs?: number
  /** REDIS_URL: the BullMQ engine, shared by every instance with the same prefix; else the embedded one. */
  redis?: { url: string; prefix: string; lockMs?: number } | null
}

export interface Dispatcher {
  start(): void
  /** Stops leasing, waits for the sends in flight and their records, gives back unstarted leases. */
  stop(): Promise<void>
  /** A message was queued: look now. */
  wake(): void
  /**
   * Resolves with the message's outcome once it is sent, failed, skipped or deferred, or with what it
   * is after `timeoutMs` (queued or sending); null when there is no such message.
   */
  waitFor(messageId: string, timeoutMs: number): Promise<MessageOutcome | null>
  /** Resolves once nothing is due, nothing is in flight and every result is written. */
  drain(): Promise<void>
  status(): EngineStatus
  readonly owner: string
  /** The cluster's one timer for the scheduler (BullMQ engine); null when this process is its own cluster. */
  readonly clusterTicker: ClusterTicker | null
}


export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const timer = options.timer ?? realTimer
  const redis = options.redis ?? null
  // In a cluster every instance feeds and claims under one owner: a job may be fed by one instance and
  // sent by another, and the claim (queued → sending) is what only one of them wins.
  const owner = options.owner ?? (redis ? `bullmq-${redis.prefix}` : `dispatcher-${randomUUID()}`)
  const leaseMs = options.leaseMs ?? LEASE_MS
  const local = createSlowdown(timer)
  let hooks: DispatchEngine | null = null
  // A 45009 pauses this process's sends, and through the engine every instance's.
  const slowdown = {
    ...local,
    hit() {
      const ms = local.hit()
      hooks?.slowEveryone?.(ms)
      return ms
    },
  }
  const results = createResultWriter({ ledger: options.ledger, logger: options.logger })
  const waiters = new Map<string, Set<() => void>>()

  function settled(messageId: string): void {
    const waiting = waiters.get(messageId)
    if (!waiting) return
    waiters.delete(messageId)
    for (const resolve of waiting) resolve()
  }

  const worker = createDispatchWorker({
    ...options,
    results,
    slowdown,
    owner,
    leaseMs,
    maxRequeues: MAX_REQUEUES,
    onSettled: settled,
    onDeferred: (messageId, until) => hooks?.deferred?.(messageId, until),
  })
  const onError = (error: unknown): void => options.logger.error({ err: error }, 'dispatching a message failed')
  const campaignRates = options.campaignRates ?? (async () => [])
  const engine: DispatchEngine = redis
    ? createBullmqEngine({
        redisUrl: redis.url,
        prefix: redis.prefix,
        messages: options.storage.messages,
        campaignStatus: async (id) => (await options.storage.campaigns.get(id))?.status ?? null,
        clock: options.clock,
        timer,
        slowdown,
        owner,
        concurrency: options.concurrency,
        rate: options.rate,
        campaignRates,
        // A job whose instance stopped renewing its lock (killed, frozen) is taken over well within the lease.
        lockMs: redis.lockMs ?? Math.min(30_000, Math.max(2_000, Math.floor(leaseMs / 4))),
        pollMs: POLL_MS,
        onError,
      })
    : createEmbeddedEngine({
        messages: options.storage.messages,
        clock: options.clock,
        timer,
        slowdown,
        owner,
        concurrency: options.concurrency,
        rate: options.rate,
        campaignRates,
        leaseMs,
        pollMs: POLL_MS,
        onError,
      })
  hooks = engine
  const shared = engine.shared === true

  async function current(messageId: string): Promise<MessageOutcome | null> {
    const message = await options.storage.messages.get(messageId)
    return message ? outcomeOf(message) : null
  }

  async function settledElsewhere(messageId: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await timer.sleep(SHARED_WAIT_POLL_MS, signal)
      const now = await current(messageId)
      if (now === null || isOutcomeStatus(now.status)) return
    }
  }

  return {
    owner,
    clusterTicker: engine.clusterTicker ?? null,
    start: () =>
      engine.start(worker, async (messageId) => {
        // Never sent: its stored data no longer reads. Failed rather than left blocking the queue.
        options.logger.error({ messageId }, 'a queued message cannot be read; failed (INTERNAL)')
        const detail = '保存的消息内容无法读取，没有发送'
        await options.storage.messages.transition(messageId, ['queued'], { status: 'failed', reason: 'INTERNAL', detail }, options.clock.now())
        settled(messageId)
      }),
    async stop() {
      await engine.stop()
      await results.flushed()
    },
    wake: () => engine.wake(),
    async waitFor(messageId, timeoutMs) {
      const abort = new AbortController()
      const settledNow = new Promise<void>((resolve) => {
        const waiting = waiters.get(messageId) ?? new Set()
        waiting.add(resolve)
        waiters.set(messageId, waiting)
        abort.signal.addEventListener('abort', () => {
          waiting.delete(resolve)
          resolve()
        })
      })
      // It may have settled before the waiter was there.
      const before = await current(messageId)
      if (before === null || isOutcomeStatus(before.status)) {
        abort.abort()
        return before
      }
      engine.wake()
      const waits: Array<Promise<unknown>> = [settledNow, timer.sleep(timeoutMs, abort.signal)]
      // Another instance may send it: its outcome is read from the database.
      if (shared) waits.push(settledElsewhere(messageId, abort.signal))
      await Promise.race(waits)
      abort.abort()
      return current(messageId)
    },
    async drain() {
      await engine.idle()
      await results.flushed()
    },
    status: () => engine.status(),
  }
}
