/**
 * The send pipeline: check → write → preferences → claim → send → record.
 *
 * - Everything a caller got wrong (unknown template, a page that is not in pages.json, a keyword
 *   value WeChat would refuse, an idempotencyKey reused for another request) is refused with a 4xx
 *   before anything is written or any credit touched.
 * - The message is written (`queued`) before anything else happens to it, and every status change
 *   and every call to WeChat is recorded with it.
 * - Whether it can go now (eligibility.ts): a muted category → `skipped` MUTED_CATEGORY; no credit →
 *   `failed` NO_CREDIT; the daily limit used up → `skipped` DAILY_LIMIT; inside quiet hours and not
 *   urgent → `deferred` until they end (the scheduler picks it up then). Then the ledger claims, in one
 *   transaction, the place under the daily limit and the credit, checked again. Only a claimed
 *   message is sent.
 * - After the send: `sent` with WeChat's msgid, or `failed` with the errcode as reason; the ledger
 *   decides what that does to the credit.
 * - Recording that result can fail (a locked or failing database) after WeChat already answered. The
 *   message is never sent again for it: the failure is logged with the message id and WeChat's answer,
 *   and the same result is written once more. If that fails too the error goes on to the caller (500,
 *   or the scheduler's log) and the message stays `sending` until the next start marks it `failed`
 *   INTERRUPTED, as for a process that died mid-call.
 *
 * Every status change is conditional on the status it leaves, so the scheduler and a request (or
 * two processes) working on the same message never both send it.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { MessageOutcome, MessageStatus, Template } from '../../src/domain/contract'
import { validateMessageData, type KeywordInput } from '../../src/domain/keywords'
import { localDayKey } from '../../src/domain/quiet-hours'
import { errcodeReason } from '../../src/domain/reasons'
import type { MessageRecord, MessageSource, SendEnding, Storage } from '../db/storage'
import { AppError } from '../errors'
import type { Ledger } from '../ledger/ledger'
import type { PreferencesService } from '../preferences/preferences'
import type { Clock, MessageLang, MiniprogramState, SendAttemptRecord, SendOutcome, WeChatClient } from '../wechat/types'
import { deliveryVerdict } from './eligibility'
import { isMiniProgramPage } from './pages'
import type { TemplateDirectory } from './templates'

export type PipelineLogger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>

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
   * For messages the service builds itself: data that breaks a keyword rule is the service's own
   * defect, not the caller's mistake, so instead of a 400 the message is written and `failed` with
   * INVALID_DATA (and the defect logged).
   */
  recordInvalidData?: boolean
}

export interface PipelineOptions {
  storage: Storage
  ledger: Ledger
  preferences: PreferencesService
  wechat: WeChatClient
  templates: TemplateDirectory
  /** The mini-program's pages (pages.json). */
  pages: readonly string[]
  clock: Clock
  /** The zone of quiet hours and daily limits. */
  timeZone: string
  miniprogramState: MiniprogramState
  logger: PipelineLogger
  newMessageId?: () => string
}

export interface Pipeline {
  /** Checks, writes and moves a new message as far as it goes now. Throws AppError 4xx for a caller's mistake. */
  submit(input: SendInput): Promise<MessageOutcome>
  /** Moves a `queued` message, or a `deferred` one whose time has come, as far as it goes now. */
  advance(id: string): Promise<MessageOutcome | null>
  /**
   * A message found in `sending` when the service starts was in the middle of its WeChat call when
   * the process died: WeChat may or may not have accepted it. It is NOT sent again (that could
   * deliver it twice): it becomes `failed` INTERRUPTED and the ledger gives its credit back. Returns
   * their ids.
   */
  failInterrupted(): Promise<string[]>
}

function outcomeOf(message: Pick<MessageRecord, 'id' | 'templateId' | 'status' | 'reason' | 'deliverAfter'>): MessageOutcome {
  const outcome: MessageOutcome = { id: message.id, templateId: message.templateId, status: message.status }
  if (message.reason !== undefined) outcome.reason = message.reason
  if (message.status === 'deferred' && message.deliverAfter !== undefined) {
    outcome.deliverAfter = message.deliverAfter.toISOString()
  }
  return outcome
}

/** What an idempotencyKey stands for: the request as the caller wrote it, whatever its key order. */
function requestFingerprint(input: SendInput): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical)
    if (typeof value !== 'object' || value === null) return value
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, canonical(inner)]),
    )
  }
  const { touser, templateId, data, page, urgent, lang, truncate } = input
  const request = { touser, templateId, data, page, urgent: urgent === true, lang, truncate: truncate === true }
  return createHash('sha256').update(JSON.stringify(canonical(request))).digest('base64url')
}

function idempotencyKeyReused(key: string): AppError {
  return new AppError(
    422,
    'IDEMPOTENCY_KEY_REUSED',
    `idempotencyKey: 「${key}」已用于另一条内容不同的消息；同一个键只能重发完全相同的请求，新消息请换一个键`,
    'idempotencyKey',
  )
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { storage, ledger, preferences, wechat, templates, clock, timeZone, logger } = options
  const pages = new Set(options.pages.map((page) => page.replace(/^\//, '')))
  const newMessageId = options.newMessageId ?? randomUUID

  async function current(id: string): Promise<MessageOutcome> {
    const message = await storage.messages.get(id)
    if (!message) throw new Error(`消息 ${id} 不存在`)
    return outcomeOf(message)
  }

  /** The message a reused key stands for, or the 422 when the key was used for another request. */
  function replayOf(message: MessageRecord, input: SendInput, fingerprint: string): MessageOutcome {
    if (message.requestFingerprint !== fingerprint) throw idempotencyKeyReused(input.idempotencyKey ?? '')
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
  async function record(id: string, creditSpent: boolean, attempts: readonly SendAttemptRecord[], ending: SendEnding): Promise<void> {
    try {
      await ledger.settleSend(id, creditSpent, attempts, ending)
      return
    } catch (error) {
      logger.error({ err: error, messageId: id, result: ending }, 'recording the send result failed; writing it again')
    }
    try {
      // A write whose answer was lost may have landed: only a message still `sending` is written.
      const message = await storage.messages.get(id)
      if (message?.status === 'sending') await ledger.settleSend(id, creditSpent, attempts, ending)
    } catch (error) {
      logger.error(
        { err: error, messageId: id, result: ending },
        'send result not recorded: the message stays sending until the next start marks it failed (INTERRUPTED)',
      )
      throw error
    }
  }

  async function send(message: MessageRecord, creditSpent: boolean): Promise<void> {
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
      // process, and whether WeChat got the call is unknown.
      logger.error({ err: error, messageId: message.id }, 'send failed inside the service')
      await record(message.id, creditSpent, [], { status: 'failed', reason: 'INTERNAL' })
      return
    }
    const ending: SendEnding = outcome.ok
      ? { status: 'sent', msgid: outcome.msgid }
      : { status: 'failed', reason: errcodeReason(outcome.errcode) }
    await record(message.id, creditSpent, outcome.attempts, ending)
  }

  /** Preferences, then the ledger's atomic daily-limit + credit claim, then the send. */
  async function proceed(message: MessageRecord, from: MessageStatus): Promise<MessageOutcome> {
    const template = templates.byId(message.templateId)
    const now = clock.now()
    if (!template) {
      // The catalogue changed since the message was written.
      await storage.messages.transition(message.id, [from], { status: 'failed', reason: 'UNKNOWN_TEMPLATE' }, now)
      return current(message.id)
    }
    const wishes = await preferences.get(message.openid)
    const dayKey = localDayKey(now, timeZone)
    const [credits, sentToday] = await Promise.all([
      storage.ledger.credits(message.openid, message.templateId),
      storage.messages.countOnDay(message.openid, dayKey),
    ])
    const verdict = deliveryVerdict({ preferences: wishes, category: message.category, urgent: message.urgent, credits, sentToday, now, timeZone })
    if (verdict.verdict === 'defer') {
      await storage.messages.transition(message.id, [from], { status: 'deferred', deliverAfter: verdict.until }, now)
      return current(message.id)
    }
    if (verdict.verdict !== 'send') {
      await storage.messages.transition(message.id, [from], { status: verdict.verdict === 'skip' ? 'skipped' : 'failed', reason: verdict.reason }, now)
      return current(message.id)
    }
    // Checked again in one transaction: another send may have taken the credit or the last place.
    const claim = await ledger.claimSend({ id: message.id, status: from }, template, { dayKey, dailyLimit: wishes.dailyLimit })
    switch (claim.outcome) {
      case 'claimed':
        await send(message, claim.creditSpent)
        break
      case 'daily-limit-reached':
        await storage.messages.transition(message.id, [from], { status: 'skipped', reason: 'DAILY_LIMIT' }, clock.now())
        break
      case 'no-credit':
        await storage.messages.transition(message.id, [from], { status: 'failed', reason: 'NO_CREDIT' }, clock.now())
        break
      case 'not-claimable':
        break
    }
    return current(message.id)
  }

  return {
    async submit(input) {
      const fingerprint = requestFingerprint(input)
      if (input.idempotencyKey !== undefined) {
        const existing = await storage.messages.findByIdempotencyKey(input.idempotencyKey)
        if (existing) return replayOf(existing, input, fingerprint)
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
        ...(input.idempotencyKey !== undefined && { idempotencyKey: input.idempotencyKey, requestFingerprint: fingerprint }),
        source: input.source,
        createdAt: clock.now(),
      })
      // Another request with the same idempotencyKey got there first: its message, never a second send.
      if (!created) return replayOf(message, input, fingerprint)
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

    async failInterrupted() {
      const sending = await storage.messages.listSending()
      for (const message of sending) {
        await ledger.settleSend(message.id, message.creditSpent, [], { status: 'failed', reason: 'INTERRUPTED' })
      }
      const ids = sending.map((message) => message.id)
      if (ids.length > 0) logger.warn({ messageIds: ids }, 'messages interrupted mid-send marked failed (INTERRUPTED), credits given back')
      return ids
    },
  }
}
