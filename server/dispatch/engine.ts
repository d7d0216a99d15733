/**
 * A dispatch engine decides which queued messages are worked on, when, and how many at once. The
 * message row is the job either way; what a job does (eligibility, credit, send, record) is the
 * worker's, the same for every engine.
 *
 * - embedded.ts: the message rows themselves, leased in batches (SQLite, one process or several on
 *   one file). The default.
 * - bullmq.ts: BullMQ on Redis (REDIS_URL), for several instances: jobs carry only the message id,
 *   the row is still claimed in the database before any send.
 */
import type { DispatchJob } from '../db/storage'

/** What became of a job, for the engine's pacing. */
export type JobOutcome =
  | { kind: 'done' }
  /** Back in the queue: WeChat asked this recipient's sends (43108) or every send (45009) to wait. */
  | { kind: 'requeued'; waits: 'everyone' | 'recipient' }

/** Works on a leased batch: one promise per job, settled when that job is done. */
export type JobHandler = (jobs: readonly DispatchJob[]) => Array<Promise<JobOutcome>>

/** What the engine does with a leased message that cannot be read (it is failed, never left blocking the queue). */
export type UnreadableHandler = (messageId: string) => Promise<void>

export interface EngineStatus {
  /** Jobs being worked on now. */
  inFlight: number
  concurrency: number
  /** The global cap in messages/s; null when unlimited. */
  rate: number | null
  /** Milliseconds left of a 45009 slowdown. */
  slowedForMs: number
}

export interface DispatchEngine {
  /** Starts taking jobs for `handle`; messages that no longer read go to `unreadable`. */
  start(handle: JobHandler, unreadable: UnreadableHandler): void
  /** New work may be due: look now rather than at the next poll. */
  wake(): void
  /** Resolves once nothing is due and nothing is in flight. */
  idle(): Promise<void>
  /** Stops taking jobs, waits for those in flight, gives back what it leased and did not start. */
  stop(): Promise<void>
  status(): EngineStatus
  /** WeChat asked every send to wait `ms` (45009): an engine shared by several instances pauses them all. */
  slowEveryone?(ms: number): void
  /** A message was deferred until `until`: an engine with timers of its own queues it then. */
  deferred?(messageId: string, until: Date): void
  /** One timer for the whole cluster (the scheduler's); absent for an engine that is one process's. */
  readonly clusterTicker?: ClusterTicker
  /** True when other instances take from the same queue: what this one queued may be sent elsewhere. */
  readonly shared?: boolean
}

/** Calls `tick` once per interval for every instance together, on whichever instance is free. */
export interface ClusterTicker {
  start(everyMs: number, tick: () => Promise<void>): Promise<void>
  stop(): Promise<void>
}
