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
import type { Template } from '../../src/domain/contract'
import { localDayKey } from '../../src/domain/quiet-hours'
import { errcodeReason } from '../../src/domain/reasons'
import { requeueScope } from '../../src/domain/wechat-errcodes'
import type { DispatchJob, MessageTransition, SendEnding, Storage } from '../db/storage'
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
}

export type DispatchWorker = (job: DispatchJob) => Promise<JobOutcome>

export function createDispatchWorker(options: DispatchWorkerOptions): DispatchWorker {
  const { storage, ledger, preferences, wechat, templates, results, slowdown, clock, timeZone, logger, owner } = options
  const done: JobOutcome = { kind: 'done' }

  async function move(job: DispatchJob, to: MessageTransition): Promise<JobOutcome> {
    await storage.messages.transition(job.id, ['queued'], to, clock.now())
    options.onSettled(job.id)
    return done
  }

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

  async function send(job: DispatchJob, template: Template): Promise<JobOutcome> {
    const now = clock.now()
    const wishes = await preferences.get(job.openid)
    const dayKey = localDayKey(now, timeZone)
    const [credits, sentToday] = await Promise.all([
      storage.ledger.credits(job.openid, job.templateId),
      storage.messages.countOnDay(job.openid, dayKey),
    ])
    const verdict = deliveryVerdict({ preferences: wishes, category: job.category, urgent: job.urgent, credits, sentToday, now, timeZone })
    if (verdict.verdict === 'defer') return move(job, { status: 'deferred', deliverAfter: verdict.until })
    if (verdict.verdict === 'skip') return move(job, { status: 'skipped', reason: verdict.reason })
    if (verdict.verdict === 'fail') return move(job, { status: 'failed', reason: verdict.reason })

    // Checked again in one transaction: another send may have taken the credit or the last place.
    const leaseUntil = new Date(now.getTime() + options.leaseMs)
    const claim = await ledger.claimSend(job.id, template, { owner, leaseUntil, dayKey, dailyLimit: wishes.dailyLimit })
    if (claim.outcome === 'daily-limit-reached') return move(job, { status: 'skipped', reason: 'DAILY_LIMIT' })
    if (claim.outcome === 'no-credit') return move(job, { status: 'failed', reason: 'NO_CREDIT' })
    if (claim.outcome === 'not-claimable') return done

    const outcome = await call(job)
    const { ending, requeued } = endingOf(job, outcome)
    try {
      await results.record({ id: job.id, creditSpent: claim.creditSpent, attempts: outcome?.attempts ?? [], ending })
    } catch {
      // Logged by the writer; the message stays `sending` until the recovery marks it INTERRUPTED.
      // Whoever waits for it is told so now.
      options.onSettled(job.id)
      return done
    }
    if (requeued === null) options.onSettled(job.id)
    return requeued ?? done
  }

  return async (job) => {
    const template = templates.byId(job.templateId)
    // The catalogue changed since the message was written.
    if (!template) return move(job, { status: 'failed', reason: 'UNKNOWN_TEMPLATE' })
    return send(job, template)
  }
}
