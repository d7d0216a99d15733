/**
 * How a message comes in: checked, then written `queued` for the dispatcher (server/dispatch/), which
 * is woken to send it. Everything a caller got wrong (unknown template, a page that is not in
 * pages.json, a keyword value WeChat would refuse, an idempotencyKey reused for another request) is
 * refused with a 4xx before anything is written or any credit touched. From then on every status
 * change and every call to WeChat is recorded with the message.
 */
import { createHash } from 'node:crypto'
import { newMessageId as newMessageIdAt } from './ids'
import type { FastifyBaseLogger } from 'fastify'
import type { MessageOutcome, Template } from '../../src/domain/contract'
import { validateMessageData, type KeywordInput } from '../../src/domain/keywords'
import type { MessageRecord, MessageSource, Storage } from '../db/storage'
import { AppError } from '../errors'
import type { Clock, MessageLang } from '../wechat/types'
import { outcomeOf } from './outcome'
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
  templates: TemplateDirectory
  /** The mini-program's pages (pages.json). */
  pages: readonly string[]
  clock: Clock
  logger: PipelineLogger
  /** Called once a message is queued: the dispatcher looks at once. */
  onQueued: () => void
  newMessageId?: () => string
}

export interface Pipeline {
  /**
   * Checks and writes a new message `queued` for the dispatcher: its outcome says `queued` (or
   * `failed` INVALID_DATA for data the service built itself). Throws AppError 4xx for a caller's mistake.
   */
  submit(input: SendInput): Promise<MessageOutcome>
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
  const { storage, templates, clock, logger } = options
  const pages = new Set(options.pages.map((page) => page.replace(/^\//, '')))
  const newMessageId = options.newMessageId ?? (() => newMessageIdAt(clock.now().getTime()))

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

  return {
    async submit(input) {
      // Only a request with an idempotencyKey is ever compared with another one: the others skip the hash.
      const idempotency = input.idempotencyKey === undefined ? null : { key: input.idempotencyKey, fingerprint: requestFingerprint(input) }
      if (idempotency) {
        const existing = await storage.messages.findByIdempotencyKey(idempotency.key)
        if (existing) return replayOf(existing, input, idempotency.fingerprint)
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
        ...(idempotency && { idempotencyKey: idempotency.key, requestFingerprint: idempotency.fingerprint }),
        source: input.source,
        createdAt: clock.now(),
      })
      // Another request with the same idempotencyKey got there first: its message, never a second send.
      if (!created && idempotency) return replayOf(message, input, idempotency.fingerprint)
      if (invalid) {
        logger.error({ messageId: message.id, field: invalid.field, rule: invalid.message }, 'the service built invalid data')
        await storage.messages.transition(
          message.id,
          ['queued'],
          { status: 'failed', reason: 'INVALID_DATA', detail: invalid.message },
          clock.now(),
        )
        return current(message.id)
      }
      options.onQueued()
      return outcomeOf(message)
    },
  }
}
