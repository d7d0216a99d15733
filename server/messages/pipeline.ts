/**
 * The send pipeline: validate → write → preferences → spend → send → record.
 *
 * - Everything a caller got wrong (unknown template, a page that is not in pages.json, a keyword
 *   value WeChat would refuse) is refused with a 400 before anything is written or any credit
 *   touched.
 * - The message is written (`queued`) before anything else happens to it, and every status change
 *   and every call to WeChat is recorded with it.
 * - Preferences: a muted category → `skipped` MUTED_CATEGORY; inside quiet hours and not urgent →
 *   `deferred` until they end (the scheduler picks it up then). Then, in one storage transaction,
 *   the daily limit (counted on the local day the send happens: `skipped` DAILY_LIMIT) and the credit
 *   (`UPDATE … WHERE credits > 0`: `failed` NO_CREDIT). Only a message that got its credit is sent,
 *   so there are never more sends than credits, whatever the concurrency.
 * - After the send: `sent` with WeChat's msgid, or `failed` with the errcode as reason; the credit is
 *   given back when WeChat did not use it, set to zero on 43101 (wechat-errcodes.ts decides).
 * - Recording that result can fail (a locked or failing database) after WeChat already answered. The
 *   message is never sent again for it: the failure is logged with the message id and WeChat's answer,
 *   and the same result is written once more. If that fails too the error goes on to the caller (500,
 *   or the scheduler's log) and the message stays `sending` until the next start marks it `failed`
 *   INTERRUPTED, as for a process that died mid-call.
 *
 * Every status change is conditional on the status it leaves, so the scheduler and a request (or
 * two processes) working on the same message never both send it.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { MessageOutcome, MessageStatus, Preferences, Template } from '../../src/domain/contract'
import { validateMessageData, type KeywordInput } from '../../src/domain/keywords'
import { localDayKey, quietHoursState } from '../../src/domain/quiet-hours'
import { errcodeReason } from '../../src/domain/reasons'
import { creditAfterFailure } from '../../src/domain/wechat-errcodes'
import type { MessageRecord, MessageSource, SendResult, Storage } from '../db/storage'
import { AppError } from '../errors'
import { sendConsumesCredit } from '../ledger/rules'
import type { Clock, MessageLang, MiniprogramState, SendAttemptRecord, SendOutcome, WeChatClient } from '../wechat/types'
import { isMiniProgramPage } from './pages'
import type { TemplateDirectory } from './templates'

export type PipelineLogger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>

/** What a person who never saved preferences gets. */
export const DEFAULT_PREFERENCES: Preferences = { quietHours: null, dailyLimit: 20, mutedCategories: [] }

export interface SendInput {
  /** The recipient's openid. */
  touser: string
  /** A template id or a catalogue key. */
  templateId: string
  data: Record<string, KeywordInput>
  page?: string
  urgent?: boolean
  lang?: MessageLang
  idempotencyKey?: string
  truncate?: boolean
  source: MessageSource
  /**
   * For messages the service builds itself (events): data that breaks a keyword rule is not the
   * caller's mistake, so instead of a 400 the message is written and `failed` with INVALID_DATA.
   */
  recordInvalidData?: boolean
}

export interface PipelineOptions {
  storage: Storage
  wechat: WeChatClient
  templates: TemplateDirectory
  /** The mini-program's pages (pages.json). */
  pages: readonly string[]
  clock: Clock
  /** The zone of quiet hours and daily limits. */
  timeZone: string
  miniprogramState: MiniprogramState
  logger: PipelineLogger
  defaultPreferences?: Preferences
  newMessageId?: () => string
}

export interface Pipeline {
  /** Checks, writes and moves a new message as far as it goes now. Throws AppError 400 for a caller's mistake. */
  submit(input: SendInput): Promise<MessageOutcome>
  /** Moves a `queued` message, or a `deferred` one whose time has come, as far as it goes now. */
  advance(id: string): Promise<MessageOutcome | null>
  /** See `failInterrupted` in storage.ts and the note below. */
  failInterrupted(): Promise<string[]>
  preferencesOf(openid: string): Promise<Preferences>
}

export function outcomeOf(message: Pick<MessageRecord, 'id' | 'templateId' | 'status' | 'reason' | 'deliverAfter'>): MessageOutcome {
  const outcome: MessageOutcome = { id: message.id, templateId: message.templateId, status: message.status }
  if (message.reason !== undefined) outcome.reason = message.reason
  if (message.status === 'deferred' && message.deliverAfter !== undefined) {
    outcome.deliverAfter = message.deliverAfter.toISOString()
  }
  return outcome
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { storage, wechat, templates, clock, timeZone, logger } = options
  const pages = new Set(options.pages.map((page) => page.replace(/^\//, '')))
  const defaults = options.defaultPreferences ?? DEFAULT_PREFERENCES
  const newMessageId = options.newMessageId ?? randomUUID

  async function preferencesOf(openid: string): Promise<Preferences> {
    return (await storage.preferences.get(openid)) ?? defaults
  }

  async function current(id: string): Promise<MessageOutcome> {
    const message = await storage.messages.get(id)
    if (!message) throw new Error(`消息 ${id} 不存在`)
    return outcomeOf(message)
  }

  function check(input: SendInput): {
    template: Template
    data: Record<string, { value: string }>
    invalid?: AppError
  } {
    const template = templates.find(input.templateId)
    if (!template) {
      throw new AppError(400, 'UNKNOWN_TEMPLATE', `templateId: 没有这个模板（${input.templateId}）`, 'templateId')
    }
    if (input.page !== undefined && !isMiniProgramPage(input.page, pages)) {
      throw new AppError(400, 'INVALID_PAGE', `page: 不是小程序的页面（${input.page}），见 pages.json`, 'page')
    }
    const checked = validateMessageData(template, input.data, { truncate: input.truncate === true })
    if (checked.ok) return { template, data: checked.data }
    const invalid = new AppError(400, 'INVALID_DATA', checked.message, checked.field)
    if (input.recordInvalidData !== true) throw invalid
    const data = Object.fromEntries(
      Object.entries(input.data).map(([name, value]) => [name, { value: typeof value === 'string' ? value : value.value }]),
    )
    return { template, data, invalid }
  }

  /** Writes WeChat's answer for a message in `sending`; once more if the first write fails (see the top). */
  async function record(id: string, attempts: readonly SendAttemptRecord[], result: SendResult): Promise<void> {
    try {
      await storage.messages.finishSend(id, attempts, result, clock.now())
      return
    } catch (error) {
      logger.error({ err: error, messageId: id, result }, 'recording the send result failed; writing it again')
    }
    try {
      // A write whose answer was lost may have landed: only a message still `sending` is written.
      const message = await storage.messages.get(id)
      if (message?.status === 'sending') await storage.messages.finishSend(id, attempts, result, clock.now())
    } catch (error) {
      logger.error(
        { err: error, messageId: id, result },
        'send result not recorded: the message stays sending until the next start marks it failed (INTERRUPTED)',
      )
      throw error
    }
  }

  async function send(message: MessageRecord): Promise<void> {
    let outcome: SendOutcome
    try {
      outcome = await wechat.sendSubscribeMessage({
        touser: message.openid,
        template_id: message.templateId,
        data: message.data,
        ...(message.page !== undefined && { page: message.page }),
        ...(message.lang !== undefined && { lang: message.lang }),
        miniprogram_state: options.miniprogramState,
      })
    } catch (error) {
      // The client answers every WeChat outcome with `{ ok: false }`; a throw is a defect in this
      // process. Whether WeChat got the call is unknown: treated like an interrupted send (credit
      // given back; a consent WeChat did use shows up as 43101 on the next send, which zeroes it).
      logger.error({ err: error, messageId: message.id }, 'send failed inside the service')
      await record(message.id, [], { status: 'failed', reason: 'INTERNAL', credit: 'refund' })
      return
    }
    const result: SendResult = outcome.ok
      ? { status: 'sent', msgid: outcome.msgid }
      : { status: 'failed', reason: errcodeReason(outcome.errcode), credit: creditAfterFailure(outcome.errcode) }
    await record(message.id, outcome.attempts, result)
  }

  /** Preferences, then the atomic daily-limit + credit claim, then the send. */
  async function proceed(message: MessageRecord, from: MessageStatus): Promise<MessageOutcome> {
    const template = templates.byId(message.templateId)
    const now = clock.now()
    if (!template) {
      // The catalogue changed since the message was written.
      await storage.messages.transition(message.id, [from], { status: 'failed', reason: 'UNKNOWN_TEMPLATE' }, now)
      return current(message.id)
    }
    const preferences = await preferencesOf(message.openid)
    if (preferences.mutedCategories.includes(message.category)) {
      await storage.messages.transition(message.id, [from], { status: 'skipped', reason: 'MUTED_CATEGORY' }, now)
      return current(message.id)
    }
    if (!message.urgent) {
      const quiet = quietHoursState(now, preferences.quietHours, timeZone)
      if (quiet.inside) {
        await storage.messages.transition(message.id, [from], { status: 'deferred', deliverAfter: quiet.endsAt }, now)
        return current(message.id)
      }
    }
    const claim = await storage.messages.claimForSend({
      id: message.id,
      from: [from],
      consumeCredit: sendConsumesCredit(template.kind),
      dayKey: localDayKey(now, timeZone),
      dailyLimit: preferences.dailyLimit,
      now,
    })
    if (claim.outcome === 'claimed') await send(message)
    return current(message.id)
  }

  return {
    preferencesOf,

    async submit(input) {
      if (input.idempotencyKey !== undefined) {
        const existing = await storage.messages.findByIdempotencyKey(input.idempotencyKey)
        if (existing) return outcomeOf(existing)
      }
      const { template, data, invalid } = check(input)
      const { message, created } = await storage.messages.insert({
        id: newMessageId(),
        openid: input.touser,
        templateId: template.id,
        category: template.category,
        data,
        ...(input.page !== undefined && { page: input.page }),
        urgent: input.urgent === true,
        ...(input.lang !== undefined && { lang: input.lang }),
        ...(input.idempotencyKey !== undefined && { idempotencyKey: input.idempotencyKey }),
        source: input.source,
        createdAt: clock.now(),
      })
      // Another request with the same idempotencyKey got there first: its message, never a second send.
      if (!created) return outcomeOf(message)
      if (invalid) {
        logger.error({ messageId: message.id, field: invalid.field, rule: invalid.message }, 'the service built invalid data')
        await storage.messages.transition(message.id, ['queued'], { status: 'failed', reason: 'INVALID_DATA' }, clock.now())
        return current(message.id)
      }
      return proceed(message, 'queued')
    },

    async advance(id) {
      const message = await storage.messages.get(id)
      if (!message) return null
      if (message.status === 'queued') return proceed(message, 'queued')
      const due = message.deliverAfter !== undefined && message.deliverAfter.getTime() <= clock.now().getTime()
      if (message.status === 'deferred' && due) return proceed(message, 'deferred')
      return outcomeOf(message)
    },

    /**
     * A message found in `sending` when the service starts was in the middle of its WeChat call when
     * the process died: WeChat may or may not have accepted it. It is NOT sent again (that could
     * deliver it twice). It becomes `failed` with reason INTERRUPTED and its credit is given back.
     * If WeChat had in fact used that consent, the next send of the template to that person gets
     * 43101, which sets the credits to zero: at worst one 43101, never a duplicate message and never
     * a consent lost.
     */
    async failInterrupted() {
      const ids = await storage.messages.failInterrupted(clock.now())
      if (ids.length > 0) logger.warn({ messageIds: ids }, 'messages interrupted mid-send marked failed (INTERRUPTED), credits given back')
      return ids
    },
  }
}
