/**
 * What the dispatcher does with one leased message, whatever engine leased it:
 * 1. whether it can go now (messages/eligibility.ts): else `skipped`, `failed` NO_CREDIT or `deferred`;
 * 2. the ledger claims its credit and daily-limit place atomically (`sending`, lease held);
 * 3. WeChat is called (the client retries -1 and network errors itself);
 * 4. the result is written in a batch (results.ts): `sent`, `failed` with the errcode, or — when WeChat
 *    asks to slow down (45009 for every send, 43108 for this recipient) — back to `queued` for later,
 *    credit given back, until it has been put back `maxRequeues` times; then it fails with that code.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { MessageStatus, Preferences, Template } from '../../src/domain/contract'
import { localDayKey } from '../../src/domain/quiet-hours'
import { errcodeReason } from '../../src/domain/reasons'
import { requeueScope } from '../../src/domain/wechat-errcodes'
import { creditKey, type DispatchJob, type MessageTransition, type SendEnding, type Storage } from '../db/storage'
import type { Ledger } from '../ledger/ledger'
import { deliveryVerdict } from '../messages/eligibility'
import type { TemplateDirectory } from '../messages/templates'
import type { PreferencesService } from '../preferences/preferences'
import type { Clock, MiniprogramState, SendOutcome, WeChatClient } from '../wechat/types'
import type { JobOutcome } from './engine'
import type { Slowdown } from './rate'
import type { ResultWriter } from './results'

export type DispatchLogger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>

/** How long one recipient waits after 43108 (concurrent calls to one openid), times the requeues so far. */
const RECIPIENT_PAUSE_MS = 2_000

export interface DispatchWorkerOptions {
  storage: Storage
  ledger: Ledger
  preferences: PreferencesService
  wechat: WeChatClient
  templates: TemplateDirectory
  results: ResultWriter
  slowdown: Slowdown
  clock: Clock
  timeZone: string
  miniprogramState: MiniprogramState
  logger: DispatchLogger
  /** The lease owner this process claims under. */
  owner: string
  /** How long a claimed (`sending`) message stays this process's. */
  leaseMs: number
  maxRequeues: number
  /** Called whenever a message reached an end or a wait (sent, failed, skipped, deferred). */
  onSettled: (messageId: string) => void
  /** A message was deferred until its quiet hours end. */
  onDeferred?: (messageId: string, until: Date) => void
}

/**
 * Works on a leased batch: one promise per job, settled when that job is done. What can be read and
 * decided for the whole batch at once (preferences, credits, today's counts, the claims) is, in one
 * transaction each, so a batch of 64 costs a few transactions rather than 64 of each.
 */
export type DispatchWorker = (jobs: readonly DispatchJob[]) => Array<Promise<JobOutcome>>

/** What the batch step decided for one job. */
type Decision = { kind: 'claimed'; creditSpent: boolean } | { kind: 'settled' }

export function createDispatchWorker(options: DispatchWorkerOptions): DispatchWorker {
  const { storage, ledger, preferences, wechat, templates, results, slowdown, clock, timeZone, logger, owner } = options
  const done: JobOutcome = { kind: 'done' }

  async function call(job: DispatchJob): Promise<SendOutcome | null> {
    try {
      return await wechat.sendSubscribeMessage({
        touser: job.openid,
        template_id: job.templateId,
        data: job.data,
        ...(job.page !== undefined && { page: job.page }),
        ...(job.lang !== undefined && { lang: job.lang }),
        miniprogram_state: options.miniprogramState,
      })
    } catch (error) {
      // The client answers every WeChat outcome with `{ ok: false }`; a throw is a defect in this
      // process, and whether WeChat got the call is unknown.
      logger.error({ err: error, messageId: job.id }, 'send failed inside the service')
      return null
    }
  }

  /** How the send ended, and whether it goes back in the queue. */
  function endingOf(job: DispatchJob, outcome: SendOutcome | null): { ending: SendEnding; requeued: JobOutcome | null } {
    if (outcome === null) return { ending: { status: 'failed', reason: 'INTERNAL' }, requeued: null }
    if (outcome.ok) {
      slowdown.clear()
      return { ending: { status: 'sent', msgid: outcome.msgid }, requeued: null }
    }
    const reason = errcodeReason(outcome.errcode)
    const waits = requeueScope(outcome.errcode)
    if (waits === null || job.requeues >= options.maxRequeues) return { ending: { status: 'failed', reason }, requeued: null }
    const pauseMs = waits === 'everyone' ? slowdown.hit() : RECIPIENT_PAUSE_MS * (job.requeues + 1)
    const dueAt = new Date(clock.now().getTime() + pauseMs)
    return { ending: { status: 'queued', reason, dueAt }, requeued: { kind: 'requeued', waits } }
  }

  /** Credits of each job's template for each recipient, read a template at a time. */
  async function creditsOf(jobs: readonly DispatchJob[]): Promise<Map<string, number>> {
    const byTemplate = new Map<string, string[]>()
    for (const job of jobs) {
      const openids = byTemplate.get(job.templateId)
      if (openids) openids.push(job.openid)
      else byTemplate.set(job.templateId, [job.openid])
    }
    const credits = new Map<string, number>()
    for (const [templateId, openids] of byTemplate) {
      for (const [openid, count] of await storage.ledger.creditsOf(openids, templateId)) credits.set(creditKey(openid, templateId), count)
    }
    return credits
  }

  /** Each recipient's preferences and sends today, and the credits of each job: in one statement where the storage offers it. */
  async function factsOf(
    jobs: readonly DispatchJob[],
    openids: readonly string[],
    dayKey: string,
  ): Promise<{ wishes: Map<string, Preferences>; counts: Map<string, number>; credits: Map<string, number> }> {
    if (storage.dispatchFacts) {
      const facts = await storage.dispatchFacts({ openids, dayKey, pairs: jobs.map((job) => ({ openid: job.openid, templateId: job.templateId })) })
      return { wishes: preferences.ofSaved(openids, facts.savedPreferences), counts: facts.sentToday, credits: facts.credits }
    }
    const [wishes, counts, credits] = await Promise.all([preferences.getMany(openids), storage.messages.countsOnDay(openids, dayKey), creditsOf(jobs)])
    return { wishes, counts, credits }
  }

  /** Eligibility, then the claims, for the whole batch: each job is claimed, or moved and settled. */
  async function decide(jobs: readonly DispatchJob[]): Promise<Map<string, Decision>> {
    const decisions = new Map<string, Decision>()
    const now = clock.now()
    const dayKey = localDayKey(now, timeZone)
    const openids = [...new Set(jobs.map((job) => job.openid))]
    const { wishes, counts, credits } = await factsOf(jobs, openids, dayKey)
    const moves: Array<{ id: string; from: readonly MessageStatus[]; to: MessageTransition }> = []
    const claims: Array<{ job: DispatchJob; template: Template; dailyLimit: number }> = []
    for (const job of jobs) {
      const template = templates.byId(job.templateId)
      // The catalogue changed since the message was written.
      if (!template) {
        moves.push({ id: job.id, from: ['queued'], to: { status: 'failed', reason: 'UNKNOWN_TEMPLATE' } })
        continue
      }
      const preferencesOf = wishes.get(job.openid)!
      const verdict = deliveryVerdict({
        preferences: preferencesOf,
        category: job.category,
        urgent: job.urgent,
        credits: credits.get(creditKey(job.openid, job.templateId)) ?? 0,
        sentToday: counts.get(job.openid) ?? 0,
        now,
        timeZone,
      })
      if (verdict.verdict === 'defer') moves.push({ id: job.id, from: ['queued'], to: { status: 'deferred', deliverAfter: verdict.until } })
      else if (verdict.verdict === 'skip') moves.push({ id: job.id, from: ['queued'], to: { status: 'skipped', reason: verdict.reason } })
      else if (verdict.verdict === 'fail') moves.push({ id: job.id, from: ['queued'], to: { status: 'failed', reason: verdict.reason } })
      else claims.push({ job, template, dailyLimit: preferencesOf.dailyLimit })
    }
    // Checked again in one transaction: another send may have taken the credit or the last place.
    const leaseUntil = new Date(now.getTime() + options.leaseMs)
    const outcomes = await ledger.claimSends(
      claims.map(({ job, template, dailyLimit }) => ({ messageId: job.id, template, owner, leaseUntil, dayKey, dailyLimit })),
    )
    claims.forEach(({ job }, index) => {
      const outcome = outcomes[index]!
      if (outcome.outcome === 'claimed') decisions.set(job.id, { kind: 'claimed', creditSpent: outcome.creditSpent })
      else if (outcome.outcome === 'daily-limit-reached') moves.push({ id: job.id, from: ['queued'], to: { status: 'skipped', reason: 'DAILY_LIMIT' } })
      else if (outcome.outcome === 'no-credit') moves.push({ id: job.id, from: ['queued'], to: { status: 'failed', reason: 'NO_CREDIT' } })
      else decisions.set(job.id, { kind: 'settled' })
    })
    const moved = new Set(await storage.messages.transitions(moves, clock.now()))
    for (const move of moves) {
      decisions.set(move.id, { kind: 'settled' })
      if (move.to.status === 'deferred' && moved.has(move.id)) options.onDeferred?.(move.id, move.to.deliverAfter)
      options.onSettled(move.id)
    }
    return decisions
  }

  async function send(job: DispatchJob, decision: Decision): Promise<JobOutcome> {
    if (decision.kind === 'settled') return done
    const outcome = await call(job)
    const { ending, requeued } = endingOf(job, outcome)
    try {
      await results.record({ id: job.id, creditSpent: decision.creditSpent, attempts: outcome?.attempts ?? [], ending })
    } catch {
      // Logged by the writer; the message stays `sending` until the recovery marks it INTERRUPTED.
      // Whoever waits for it is told so now.
      options.onSettled(job.id)
      return done
    }
    if (requeued === null) options.onSettled(job.id)
    return requeued ?? done
  }

  return (jobs) => {
    const decided = decide(jobs)
    return jobs.map(async (job) => send(job, (await decided).get(job.id) ?? { kind: 'settled' }))
  }
}
