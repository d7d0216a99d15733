/**
 * An in-memory stand-in for the send service, answering the HTTP contract of src/domain/contract.ts.
 * Request bodies and query strings are checked as the service checks them (the contract's TypeBox
 * schemas through server/validation.ts) and refused with a 400 naming the field, and every answer
 * it returns is checked against the contract, so a drift from the contract fails the test that
 * caused it. Transports (the mini-program's `wx.request` double, the typed fake platform) hand it
 * `{ method, url, data, header }` and get `{ statusCode, data }` back.
 *
 * Its rules are the service's own functions, not copies: credits follow server/ledger/rules.ts,
 * whether a message goes server/messages/eligibility.ts, preferences src/domain/preferences.ts, the
 * order-status data server/messages/order-events.ts. An order event goes as the pipeline sends it:
 * the order-status template (unless a test sets `eventTemplateKey`) is `skipped` MUTED_CATEGORY,
 * `failed` NO_CREDIT, `skipped` DAILY_LIMIT, `deferred` inside quiet hours (Asia/Shanghai), else
 * `sent`, spending one credit of a one-time template. In sandbox mode WeChat is the sandbox WeChat,
 * with its own quota (server/wechat/sandbox/quota.ts): a send it has no quota for fails with 43101
 * (and the credits go to 0), as in the service; a message it accepts shows as delivered, as the
 * sandbox WeChat's subscribe_msg_sent_event makes it; POST /sandbox/turn-off turns templates off as
 * its subscribe_msg_change_event does (credits 0, last result reject).
 *
 * tests/contract/service.contract.test.ts runs the same HTTP scenarios against this fake and the real
 * service. What the fake does not have: the admin API, /sandbox/received, /sandbox/clock (tests
 * move the injected clock), /sandbox/scheduler/run, /sandbox/faults, rate limits. A login code that
 * did not come from POST /sandbox/code stands for a real `wx.login` code and signs in as the
 * device's person (`deviceOpenid`), in sandbox mode too; `invalid` is refused.
 */
import { Type, type Static, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import {
  ConsentRequest,
  ConsentResponse,
  ErrorBody,
  EventRequest,
  EventResponse,
  MyMessageDetail,
  MyMessageList,
  Preferences,
  SandboxCodeRequest,
  SandboxCodeResponse,
  SandboxConsentRequest,
  SandboxConsentResponse,
  SandboxTurnOffRequest,
  ServiceInfo,
  SessionRequest,
  SessionResponse,
  SubscriptionList,
  TemplateList,
  type MessageOutcome,
  type MyMessage,
  type SubscribeResult,
  type Template,
} from '../../src/domain/contract'
import { validateMessageData } from '../../src/domain/keywords'
import { orderPage } from '../../src/domain/orders'
import { DEFAULT_PREFERENCES, preferencesProblem } from '../../src/domain/preferences'
import { localDayKey } from '../../src/domain/quiet-hours'
import { errcodeReason } from '../../src/domain/reasons'
import { loginErrcodeRule } from '../../src/domain/wechat-errcodes'
import {
  applyCreditChange,
  claimOneCredit,
  creditChangeAfterFailedSend,
  creditChangeForConsent,
  creditChangeForTurnOff,
  sendConsumesCredit,
  type CreditChange,
} from '../../server/ledger/rules'
import { deliveryVerdict } from '../../server/messages/eligibility'
import { orderStatusData } from '../../server/messages/order-events'
import { strictValidatorCompiler } from '../../server/validation'
import { createSandboxQuota, type SandboxQuota } from '../../server/wechat/sandbox/quota'
import { TEMPLATES } from './templates'

export const QUIET_HOURS_TIME_ZONE = 'Asia/Shanghai'
const SESSION_TTL_MS = 168 * 3_600_000
/** WeChat's answer when the person has no consent left for the template. */
const NO_CONSENT_ERRCODE = 43101
/** GET /api/me/messages?limit= (the service: server/routes/me.ts). */
const MessagesQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) })
const DEFAULT_MESSAGE_LIMIT = 50

/** The routes the fake answers, per path, and whether they need a session. */
const ROUTES: Readonly<Record<string, Readonly<Record<string, 'open' | 'session'>>>> = {
  '/healthz': { GET: 'open' },
  '/api/info': { GET: 'open' },
  '/api/session': { POST: 'open' },
  '/sandbox/code': { POST: 'open' },
  '/api/templates': { GET: 'session' },
  '/api/consents': { POST: 'session' },
  '/api/me/subscriptions': { GET: 'session' },
  '/api/me/preferences': { GET: 'session', PUT: 'session' },
  '/api/me/messages': { GET: 'session' },
  '/api/events': { POST: 'session' },
  '/sandbox/subscriptions': { POST: 'session' },
  '/sandbox/turn-off': { POST: 'session' },
}

export interface ServiceRequest {
  url: string
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  data?: unknown
  header?: Record<string, string>
}

export interface ServiceAnswer {
  statusCode: number
  data: unknown
}

export interface RecordedRequest {
  method: ServiceRequest['method']
  path: string
  body: unknown
  openid: string | null
}

export interface FakeServiceOptions {
  /** The service's clock; quiet hours, daily limits and times in answers follow it. */
  now?: () => Date
  /** Default: the catalogue the service ships (tests/support/templates.ts). */
  templates?: readonly Template[]
  sandbox?: boolean
  /** GET /api/info; default `formal`, as the service without MINIPROGRAM_STATE. */
  miniprogramState?: ServiceInfo['miniprogramState']
  /** The openid a real `wx.login` code maps to (the person holding the phone). */
  deviceOpenid?: string
}

interface SubscriptionState {
  credits: number
  lastResult: SubscribeResult | null
  updatedAt: string
}

interface UserState {
  subscriptions: Map<string, SubscriptionState>
  preferences: Preferences
  /** Newest first. */
  messages: MyMessage[]
}

class AnswerError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

const notFound = (method: string, path: string): AnswerError => new AnswerError(404, 'NOT_FOUND', `没有这个接口：${method} ${path}`)

export class FakeService {
  readonly templates: Template[]
  readonly sandbox: boolean
  /** Every request that reached the service, oldest first. */
  readonly requests: RecordedRequest[] = []
  /** What GET /api/me/messages/:id adds to a listed message: the page its notice opens, its history. */
  private readonly messageExtras = new Map<string, { page?: string; history: MyMessageDetail['history'] }>()
  /** The body of the last POST /api/events, for tests that check what the client reported. */
  lastOrderEvent: EventRequest | null = null
  /** While true nothing answers: transports fail as when the network is down. */
  offline = false
  /**
   * The catalogue key of the template order events are sent with. The service always uses
   * order_status; tests of how the client follows the outcome's `templateId` change it.
   */
  eventTemplateKey = 'order_status'
  /** Answer the next requests whose path matches with this status (e.g. a 503), once each. */
  private readonly failures: Array<{ path: string; statusCode: number; error: ErrorBody['error'] }> = []
  private readonly now: () => Date
  private readonly miniprogramState: ServiceInfo['miniprogramState']
  private readonly deviceOpenid: string
  private readonly users = new Map<string, UserState>()
  private readonly tokens = new Map<string, string>()
  private readonly consentAnswers = new Map<string, ConsentResponse>()
  /** Sandbox login codes issued and not used yet, with how many of each. */
  private readonly sandboxCodes = new Map<string, number>()
  /** The sandbox WeChat's own quota of the catalogue it was started with, fed by the H5 stand-in dialog. */
  private readonly wechatQuota: SandboxQuota
  private sequence = 0

  constructor(options: FakeServiceOptions = {}) {
    // A copy: a test may add templates without changing the next test's catalogue.
    this.templates = structuredClone([...(options.templates ?? TEMPLATES)])
    this.sandbox = options.sandbox ?? false
    this.now = options.now ?? (() => new Date())
    this.miniprogramState = options.miniprogramState ?? 'formal'
    this.deviceOpenid = options.deviceOpenid ?? 'o-device-alice'
    this.wechatQuota = createSandboxQuota(new Map(this.templates.map((template) => [template.id, template])))
  }

  template(key: string): Template {
    const found = this.templates.find((template) => template.key === key)
    if (!found) throw new Error(`the fake service's catalogue has no template with key ${key}`)
    return found
  }

  /** Sets the credits the service holds for a person and template (as consents would have). */
  setCredits(openid: string, templateId: string, credits: number): void {
    const subscriptions = this.user(openid).subscriptions
    const held = subscriptions.get(templateId)
    subscriptions.set(templateId, { credits, lastResult: held?.lastResult ?? 'accept', updatedAt: this.now().toISOString() })
  }

  credits(openid: string, templateId: string): number {
    return this.user(openid).subscriptions.get(templateId)?.credits ?? 0
  }

  setPreferences(openid: string, preferences: Preferences): void {
    this.user(openid).preferences = structuredClone(preferences)
  }

  preferences(openid: string): Preferences {
    return structuredClone(this.user(openid).preferences)
  }

  /** A message the service holds for the person; `page` is what its notice opens. */
  addMessage(openid: string, message: MyMessage, page?: string): void {
    this.user(openid).messages.unshift(structuredClone(message))
    this.messageExtras.set(message.id, {
      ...(page !== undefined && { page }),
      history: [{ at: message.sentAt ?? message.createdAt, status: message.status, ...(message.reason !== undefined && { reason: message.reason }) }],
    })
  }

  messages(openid: string): MyMessage[] {
    return structuredClone(this.user(openid).messages)
  }

  /** The sandbox WeChat's quota of a person for a template. */
  sandboxQuota(openid: string, templateId: string): number {
    return this.wechatQuota.quota(openid, templateId)
  }

  /** The openid a code maps to: `o-<user>` for one from POST /sandbox/code, else the device's person. */
  openidForCode(code: string): string {
    return code.startsWith('sandbox-') ? `o-${code.slice('sandbox-'.length)}` : this.deviceOpenid
  }

  /** The next request to `path` gets this status and error body (default: 服务暂时不可用). */
  failNext(path: string, statusCode: number, error: ErrorBody['error'] = { code: 'UNAVAILABLE', message: '服务暂时不可用' }): void {
    this.failures.push({ path, statusCode, error })
  }

  handle(request: ServiceRequest): ServiceAnswer {
    const url = new URL(request.url, 'http://service.invalid')
    const path = url.pathname
    const token = /^Bearer (.+)$/.exec(request.header?.Authorization ?? request.header?.authorization ?? '')?.[1]
    const openid = token ? (this.tokens.get(token) ?? null) : null
    // What crosses the wire is JSON: no shared objects between the client and the service's state.
    const body = typeof request.data === 'string' && request.data !== '' ? (JSON.parse(request.data) as unknown) : overTheWire(request.data)
    this.requests.push({ method: request.method, path, body, openid })

    const failure = this.failures.findIndex((entry) => entry.path === path)
    if (failure >= 0) {
      const [{ statusCode, error }] = this.failures.splice(failure, 1)
      return this.error(new AnswerError(statusCode, error.code, error.message, error.field))
    }
    try {
      return { statusCode: 200, data: overTheWire(this.route(request.method, url, body, openid)) }
    } catch (error) {
      if (error instanceof AnswerError) return this.error(error)
      throw error
    }
  }

  private route(method: ServiceRequest['method'], url: URL, body: unknown, openid: string | null): unknown {
    const path = url.pathname
    const route = `${method} ${path}`
    // With a real AppID (not sandbox mode) the service has no /sandbox/* routes at all.
    const one = /^\/api\/me\/messages\/([^/]+)$/.exec(path)
    if (one !== null) {
      if (method !== 'GET') throw new AnswerError(405, 'METHOD_NOT_ALLOWED', `${path} 不支持 ${method} 请求，只支持 GET`)
      if (!openid) throw new AnswerError(401, 'UNAUTHORIZED', '请先登录')
      return this.messageDetail(openid, decodeURIComponent(one[1] ?? ''))
    }
    const methods = path.startsWith('/sandbox/') && !this.sandbox ? undefined : ROUTES[path]
    if (methods === undefined) throw notFound(method, path)
    const access = methods[method]
    if (access === undefined) {
      const allowed = Object.keys(methods).join('、')
      throw new AnswerError(405, 'METHOD_NOT_ALLOWED', `${path} 不支持 ${method} 请求，只支持 ${allowed}`)
    }
    if (access === 'session' && !openid) throw new AnswerError(401, 'UNAUTHORIZED', '请先登录')
    switch (route) {
      case 'GET /healthz':
        return { status: 'ok' }
      case 'GET /api/info':
        return checked(ServiceInfo, { sandbox: this.sandbox, miniprogramState: this.miniprogramState })
      case 'POST /api/session':
        return this.createSession(parsed(SessionRequest, body).code)
      case 'POST /sandbox/code':
        return this.issueSandboxCode(parsed(SandboxCodeRequest, body).user)
    }
    if (!openid) throw new Error(`route ${route} is open but not answered`)
    switch (route) {
      case 'GET /api/templates':
        return checked(TemplateList, this.templates)
      case 'POST /api/consents':
        return this.recordConsent(openid, parsed(ConsentRequest, body))
      case 'GET /api/me/subscriptions':
        return this.subscriptions(openid)
      case 'GET /api/me/preferences':
        return checked(Preferences, this.user(openid).preferences)
      case 'PUT /api/me/preferences':
        return this.savePreferences(openid, parsed(Preferences, body))
      case 'GET /api/me/messages':
        return this.messageList(openid, url.searchParams)
      case 'POST /api/events':
        return this.orderEvent(openid, parsed(EventRequest, body))
      case 'POST /sandbox/subscriptions':
        return this.sandboxConsent(openid, parsed(SandboxConsentRequest, body).results)
      case 'POST /sandbox/turn-off':
        return this.sandboxTurnOff(openid, parsed(SandboxTurnOffRequest, body).templateIds)
      default:
        throw new Error(`route ${route} is listed in ROUTES but not answered`)
    }
  }

  private issueSandboxCode(user: string): SandboxCodeResponse {
    const code = `sandbox-${user}`
    this.sandboxCodes.set(code, (this.sandboxCodes.get(code) ?? 0) + 1)
    return checked(SandboxCodeResponse, { code })
  }

  private createSession(code: string): SessionResponse {
    if (code === 'invalid') throw this.invalidCode(40029)
    if (code.startsWith('sandbox-')) {
      // A sandbox code is good once, as WeChat's are.
      const left = this.sandboxCodes.get(code) ?? 0
      if (left === 0) throw this.invalidCode(40163)
      this.sandboxCodes.set(code, left - 1)
    }
    const token = `token-${++this.sequence}-${code}`
    const openid = this.openidForCode(code)
    this.tokens.set(token, openid)
    this.user(openid)
    const expiresAt = new Date(this.now().getTime() + SESSION_TTL_MS).toISOString()
    return checked(SessionResponse, { token, openid, expiresAt })
  }

  /** What the service answers when jscode2session refuses a code with `errcode`. */
  private invalidCode(errcode: number): AnswerError {
    return new AnswerError(401, 'INVALID_CODE', loginErrcodeRule(errcode).message, 'code')
  }

  /** The template of every id in `results`, or the service's 400 for the first one the catalogue lacks. */
  private knownTemplates(results: Record<string, SubscribeResult>): Array<[Template, SubscribeResult]> {
    return Object.entries(results).map(([templateId, result]) => {
      const template = this.templates.find((candidate) => candidate.id === templateId)
      if (!template) throw new AnswerError(400, 'UNKNOWN_TEMPLATE', `results.${templateId}: 没有这个模板 ID`, `results.${templateId}`)
      return [template, result]
    })
  }

  private recordConsent(openid: string, consent: ConsentRequest): ConsentResponse {
    const replayKey = `${openid}:${consent.consentId}`
    const earlier = this.consentAnswers.get(replayKey)
    if (earlier) return earlier
    if (Object.keys(consent.results).length === 0) {
      throw new AnswerError(400, 'VALIDATION_FAILED', 'results: 至少要有一个模板的订阅结果', 'results')
    }
    // As the service does: every template is checked before any credit changes.
    const answers = this.knownTemplates(consent.results)
    const credits: Record<string, number> = {}
    for (const [template, result] of answers) {
      credits[template.id] = this.changeCredits(openid, template.id, creditChangeForConsent(template.kind, result), result)
    }
    const answer = checked(ConsentResponse, { credits })
    this.consentAnswers.set(replayKey, answer)
    return answer
  }

  /** Applies `change` to the person's credits of a template; a consent's `result` is recorded with it. */
  private changeCredits(openid: string, templateId: string, change: CreditChange, result?: SubscribeResult): number {
    const subscriptions = this.user(openid).subscriptions
    const held = subscriptions.get(templateId)
    const credits = applyCreditChange(held?.credits ?? 0, change)
    subscriptions.set(templateId, { credits, lastResult: result ?? held?.lastResult ?? null, updatedAt: this.now().toISOString() })
    return credits
  }

  private subscriptions(openid: string): SubscriptionList {
    const list = [...this.user(openid).subscriptions.entries()]
      .map(([templateId, held]) => ({ templateId, ...held }))
      // The service lists them by template id (SQLite's byte order: code units, not the locale's).
      .sort((a, b) => (a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0))
    return checked(SubscriptionList, list)
  }

  private savePreferences(openid: string, body: Preferences): Preferences {
    // Only what the contract names is kept.
    const preferences: Preferences = { quietHours: body.quietHours, dailyLimit: body.dailyLimit, mutedCategories: body.mutedCategories }
    const problem = preferencesProblem(preferences, this.templates.map((template) => template.category))
    if (problem) throw new AnswerError(400, 'VALIDATION_FAILED', problem.message, problem.field)
    this.user(openid).preferences = structuredClone(preferences)
    return checked(Preferences, preferences)
  }

  private messageList(openid: string, search: URLSearchParams): MyMessageList {
    const query = parsed(MessagesQuery, Object.fromEntries(search), 'querystring')
    return checked(MyMessageList, this.user(openid).messages.slice(0, query.limit ?? DEFAULT_MESSAGE_LIMIT))
  }

  private messageDetail(openid: string, id: string): MyMessageDetail {
    const message = this.user(openid).messages.find((candidate) => candidate.id === id)
    const extras = this.messageExtras.get(id)
    if (message === undefined || extras === undefined) throw new AnswerError(404, 'NOT_FOUND', `没有这条消息（${id}）`)
    return checked(MyMessageDetail, { ...message, content: message.content ?? [], ...extras })
  }

  private orderEvent(openid: string, event: EventRequest): EventResponse {
    const template = this.template(this.eventTemplateKey)
    const now = this.now()
    this.refuseGoodsName(template, event, now)
    const message: MyMessage = {
      id: `msg-${++this.sequence}`,
      templateId: template.id,
      createdAt: now.toISOString(),
      ...this.deliver(openid, template, now),
    }
    const data = orderStatusData(template, event, now, QUIET_HOURS_TIME_ZONE)
    message.content = template.keywords
      .filter((keyword) => data[keyword.name] !== undefined)
      .map((keyword) => ({ name: keyword.name, label: keyword.label, value: data[keyword.name] ?? '' }))
    this.user(openid).messages.unshift(message)
    this.messageExtras.set(message.id, {
      page: orderPage(event.orderId),
      history: [
        { at: now.toISOString(), status: 'queued' },
        { at: message.sentAt ?? now.toISOString(), status: message.status, ...(message.reason !== undefined && { reason: message.reason }) },
      ],
    })
    this.lastOrderEvent = event
    const { id, templateId, status, reason, deliverAfter } = message
    const outcome: MessageOutcome = { id, templateId, status }
    if (reason !== undefined) outcome.reason = reason
    if (deliverAfter !== undefined) outcome.deliverAfter = deliverAfter
    return checked(EventResponse, { message: outcome })
  }

  /** A goods name the goods keyword refuses even shortened is the caller's mistake: 400, nothing written. */
  private refuseGoodsName(template: Template, event: EventRequest, now: Date): void {
    if (event.goodsName === undefined) return
    const problem = validateMessageData(template, orderStatusData(template, event, now, QUIET_HOURS_TIME_ZONE))
    if (problem.ok) return
    const { goodsName: _goodsName, ...withoutGoods } = event
    // Only when the goods name is what breaks the data; anything else is the service's own doing.
    if (!validateMessageData(template, orderStatusData(template, withoutGoods, now, QUIET_HOURS_TIME_ZONE)).ok) return
    const keyword = template.keywords.find((candidate) => problem.field === `data.${candidate.name}.value`)
    throw new AnswerError(400, 'INVALID_DATA', `goodsName: 作为「${keyword?.label ?? problem.field}」${problem.rule}`, 'goodsName')
  }

  /** The pipeline's way: the service's eligibility rule, then the credit claim, then WeChat. */
  private deliver(openid: string, template: Template, now: Date): Pick<MyMessage, 'status' | 'reason' | 'sentAt' | 'deliverAfter' | 'delivery'> {
    const user = this.user(openid)
    const today = localDayKey(now, QUIET_HOURS_TIME_ZONE)
    const sentToday = user.messages.filter(
      (message) => message.status === 'sent' && message.sentAt !== undefined && localDayKey(new Date(message.sentAt), QUIET_HOURS_TIME_ZONE) === today,
    ).length
    const held = this.credits(openid, template.id)
    const verdict = deliveryVerdict({
      preferences: user.preferences,
      category: template.category,
      urgent: false,
      credits: held,
      sentToday,
      now,
      timeZone: QUIET_HOURS_TIME_ZONE,
    })
    switch (verdict.verdict) {
      case 'skip':
        return { status: 'skipped', reason: verdict.reason }
      case 'fail':
        return { status: 'failed', reason: verdict.reason }
      // The credit is spent when a deferred message goes, not now.
      case 'defer':
        return { status: 'deferred', deliverAfter: verdict.until.toISOString() }
      case 'send':
        break
    }
    const consumes = sendConsumesCredit(template.kind)
    if (consumes) this.changeCredits(openid, template.id, { type: 'set', value: claimOneCredit(held) ?? 0 })
    if (!this.sandbox) return { status: 'sent', sentAt: now.toISOString() }
    if (!this.wechatQuota.spend(openid, template)) {
      this.changeCredits(openid, template.id, creditChangeAfterFailedSend(consumes, NO_CONSENT_ERRCODE))
      return { status: 'failed', reason: errcodeReason(NO_CONSENT_ERRCODE) }
    }
    // The sandbox WeChat reports each message it accepted delivered.
    return { status: 'sent', sentAt: now.toISOString(), delivery: { status: 'delivered', errorCode: 0, errorStatus: 'success', at: now.toISOString() } }
  }

  private sandboxConsent(openid: string, results: Record<string, SubscribeResult>): SandboxConsentResponse {
    const answers = this.knownTemplates(results)
    const quota = this.wechatQuota.grant(openid, Object.fromEntries(answers.map(([template, result]) => [template.id, result])))
    return checked(SandboxConsentResponse, { quota })
  }

  /** What the sandbox WeChat's change event does: no quota, credits 0, the last result a reject. */
  private sandboxTurnOff(openid: string, templateIds: string[]): SandboxConsentResponse {
    templateIds.forEach((templateId, index) => {
      if (!this.templates.some((template) => template.id === templateId)) {
        throw new AnswerError(400, 'UNKNOWN_TEMPLATE', `templateIds.${index}: 没有这个模板 ID（${templateId}）`, `templateIds.${index}`)
      }
    })
    const quota: Record<string, number> = {}
    for (const templateId of templateIds) {
      this.wechatQuota.turnOff(openid, templateId)
      quota[templateId] = this.sandboxQuota(openid, templateId)
      this.changeCredits(openid, templateId, creditChangeForTurnOff(), 'reject')
    }
    return checked(SandboxConsentResponse, { quota })
  }

  private user(openid: string): UserState {
    let user = this.users.get(openid)
    if (!user) {
      user = { subscriptions: new Map(), preferences: structuredClone(DEFAULT_PREFERENCES), messages: [] }
      this.users.set(openid, user)
    }
    return user
  }

  private error(error: AnswerError): ServiceAnswer {
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } }
    return { statusCode: error.statusCode, data: overTheWire(checked(ErrorBody, body)) }
  }
}

function overTheWire(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown)
}

/** One issue as the service's validator reports it (TypeBox's errors). */
interface ValidationIssue {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
}
type Validator = (value: unknown) => { value?: unknown; error?: readonly ValidationIssue[] }

/** Each schema is one part of a request (a body, or the query string of GET /api/me/messages). */
const validators = new WeakMap<TSchema, Validator>()

/**
 * A request part checked by the service's own validator (server/validation.ts: bodies as they are,
 * query values converted only from plain decimal): the value it passes, or a 400 naming the field of
 * the first issue, as the service names it.
 */
function parsed<Schema extends TSchema>(schema: Schema, value: unknown, part: 'body' | 'querystring' = 'body'): Static<Schema> {
  let validate = validators.get(schema)
  if (!validate) {
    validate = strictValidatorCompiler({ schema, method: 'POST', url: '/', httpPart: part }) as Validator
    validators.set(schema, validate)
  }
  const result = validate(value)
  if (result.error === undefined) return result.value as Static<Schema>
  const [first] = result.error
  const path = (first?.instancePath ?? '').split('/').filter(Boolean)
  const missing = first?.keyword === 'required' ? first.params.requiredProperties : undefined
  if (Array.isArray(missing) && typeof missing[0] === 'string') path.push(missing[0])
  const field = path.length === 0 ? part : part === 'body' ? path.join('.') : `${part}.${path.join('.')}`
  throw new AnswerError(400, 'VALIDATION_FAILED', `${field}: 不符合要求`, field)
}

/** Every answer leaves through the contract's schema, so the fake cannot drift from it silently. */
function checked<Schema extends TSchema>(schema: Schema, value: Static<Schema>): Static<Schema> {
  if (!Value.Check(schema, value)) throw new Error(`fake service answered outside the contract: ${JSON.stringify(value)}`)
  return value
}
