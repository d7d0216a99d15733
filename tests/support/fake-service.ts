/**
 * An in-memory stand-in for the send service, answering the HTTP contract of src/domain/contract.ts:
 * request bodies are checked with the contract's own TypeBox schemas (a wrong body gets the 400 the
 * real service would give) and so is every answer it returns, so a drift from the contract fails the
 * test that caused it. Transports (the mini-program's `wx.request` double, the typed fake platform)
 * hand it `{ method, url, data, header }` and get `{ statusCode, data }` back.
 *
 * Rules kept as the service keeps them: each accept of a one-time template adds one credit, a replayed
 * consentId adds nothing and returns the first answer; an order event (the order-status template,
 * named in the outcome as `templateId`, unless a test sets `eventTemplateKey`) is `skipped` for a muted category, `deferred` inside quiet hours (Asia/Shanghai), `failed`
 * with NO_CREDIT without credit, else `sent`, spending one credit.
 */
import type { Static, TSchema } from 'typebox'
import { Value } from 'typebox/value'
import {
  ConsentRequest,
  ConsentResponse,
  ErrorBody,
  EventRequest,
  EventResponse,
  MyMessageList,
  Preferences,
  SandboxCodeRequest,
  SandboxCodeResponse,
  SandboxConsentRequest,
  SandboxConsentResponse,
  ServiceInfo,
  SessionRequest,
  SessionResponse,
  SubscriptionList,
  TemplateList,
  type MyMessage,
  type SubscribeResult,
  type Template,
} from '../../src/domain/contract'
import { quietHoursState } from '../../src/domain/quiet-hours'

export const DEMO_TEMPLATES: TemplateList = [
  {
    id: 'TMPL_ORDER_STATUS',
    key: 'order_status',
    title: '订单状态通知',
    kind: 'one-time',
    category: 'order',
    keywords: [
      { name: 'character_string1', type: 'character_string', label: '订单号' },
      { name: 'phrase2', type: 'phrase', label: '订单状态' },
      { name: 'thing3', type: 'thing', label: '商品名称' },
    ],
  },
  {
    id: 'TMPL_SHIPPING',
    key: 'shipping',
    title: '发货提醒',
    kind: 'one-time',
    category: 'order',
    keywords: [
      { name: 'character_string1', type: 'character_string', label: '订单号' },
      { name: 'thing2', type: 'thing', label: '快递公司' },
    ],
  },
  {
    id: 'TMPL_PAYMENT',
    key: 'payment',
    title: '支付成功通知',
    kind: 'one-time',
    category: 'payment',
    keywords: [
      { name: 'amount1', type: 'amount', label: '支付金额' },
      { name: 'time2', type: 'time', label: '支付时间' },
    ],
  },
  {
    id: 'TMPL_ACTIVITY',
    key: 'activity_reminder',
    title: '活动开始提醒',
    kind: 'one-time',
    category: 'marketing',
    keywords: [
      { name: 'thing1', type: 'thing', label: '活动名称' },
      { name: 'time2', type: 'time', label: '开始时间' },
    ],
  },
  {
    id: 'TMPL_SERVICE_NOTICE',
    key: 'service_notice',
    title: '服务进度通知',
    kind: 'long-term',
    category: 'service',
    keywords: [{ name: 'thing1', type: 'thing', label: '服务项目' }],
  },
]

export const QUIET_HOURS_TIME_ZONE = 'Asia/Shanghai'
const DEFAULT_PREFERENCES: Preferences = { quietHours: null, dailyLimit: 20, mutedCategories: [] }

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
  /** The service's clock; quiet hours and times in answers follow it. */
  now?: () => Date
  templates?: TemplateList
  sandbox?: boolean
  /** The openid a real `wx.login` code maps to (the person holding the phone). */
  deviceOpenid?: string
}

interface UserState {
  credits: Map<string, number>
  lastResults: Map<string, { result: SubscribeResult; at: string }>
  preferences: Preferences
  messages: MyMessage[]
  /** The sandbox WeChat's own quota, fed by the H5 stand-in dialog. */
  sandboxQuota: Map<string, number>
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

export class FakeService {
  readonly templates: TemplateList
  readonly sandbox: boolean
  /** Every request that reached the service, oldest first. */
  readonly requests: RecordedRequest[] = []
  /** The body of the last POST /api/events, for tests that check what the client reported. */
  lastOrderEvent: EventRequest | null = null
  /** While true nothing answers: transports fail as when the network is down. */
  offline = false
  /** The catalogue key of the template order events are sent with (the real service: order_status). */
  eventTemplateKey = 'order_status'
  /** Answer the next requests whose path matches with this status (e.g. a 503), once each. */
  private readonly failures: Array<{ path: string; statusCode: number; error: ErrorBody['error'] }> = []
  private readonly now: () => Date
  private readonly deviceOpenid: string
  private readonly users = new Map<string, UserState>()
  private readonly tokens = new Map<string, string>()
  private readonly consentAnswers = new Map<string, ConsentResponse>()
  private sequence = 0

  constructor(options: FakeServiceOptions = {}) {
    // A copy: a test may add templates without changing the next test's catalogue.
    this.templates = structuredClone(options.templates ?? DEMO_TEMPLATES)
    this.sandbox = options.sandbox ?? false
    this.now = options.now ?? (() => new Date())
    this.deviceOpenid = options.deviceOpenid ?? 'o-device-alice'
  }

  template(key: string): Template {
    const found = this.templates.find((template) => template.key === key)
    if (!found) throw new Error(`no demo template with key ${key}`)
    return found
  }

  /** Sets the credits the service holds for a person and template (as consents would have). */
  setCredits(openid: string, templateId: string, credits: number): void {
    const user = this.user(openid)
    user.credits.set(templateId, credits)
    if (!user.lastResults.has(templateId)) user.lastResults.set(templateId, { result: 'accept', at: this.now().toISOString() })
  }

  credits(openid: string, templateId: string): number {
    return this.user(openid).credits.get(templateId) ?? 0
  }

  setPreferences(openid: string, preferences: Preferences): void {
    this.user(openid).preferences = structuredClone(preferences)
  }

  preferences(openid: string): Preferences {
    return structuredClone(this.user(openid).preferences)
  }

  addMessage(openid: string, message: MyMessage): void {
    this.user(openid).messages.unshift(structuredClone(message))
  }

  messages(openid: string): MyMessage[] {
    return structuredClone(this.user(openid).messages)
  }

  sandboxQuota(openid: string, templateId: string): number {
    return this.user(openid).sandboxQuota.get(templateId) ?? 0
  }

  /** The openid a code maps to: `sandbox-<user>` (from POST /sandbox/code) or any `wx.login` code. */
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
      return { statusCode: 200, data: overTheWire(this.route(request.method, path, body, openid)) }
    } catch (error) {
      if (error instanceof AnswerError) return this.error(error)
      throw error
    }
  }

  private route(method: ServiceRequest['method'], path: string, body: unknown, openid: string | null): unknown {
    const route = `${method} ${path}`
    switch (route) {
      case 'GET /healthz':
        return { status: 'ok' }
      case 'GET /api/info':
        return checked(ServiceInfo, { sandbox: this.sandbox, miniprogramState: 'developer' })
      case 'POST /api/session':
        return this.createSession(parsed(SessionRequest, body).code)
      case 'POST /sandbox/code': {
        if (!this.sandbox) throw new AnswerError(404, 'NOT_FOUND', '找不到该接口')
        const { user } = parsed(SandboxCodeRequest, body)
        return checked(SandboxCodeResponse, { code: `sandbox-${user}` })
      }
    }
    if (!openid) throw new AnswerError(401, 'UNAUTHORIZED', '请先登录')
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
        return checked(MyMessageList, this.user(openid).messages)
      case 'POST /api/events':
        return this.orderEvent(openid, parsed(EventRequest, body))
      case 'POST /sandbox/subscriptions': {
        if (!this.sandbox) throw new AnswerError(404, 'NOT_FOUND', '找不到该接口')
        return this.sandboxConsent(openid, parsed(SandboxConsentRequest, body).results)
      }
      default:
        throw new AnswerError(404, 'NOT_FOUND', '找不到该接口')
    }
  }

  private createSession(code: string): SessionResponse {
    if (code === 'invalid') throw new AnswerError(401, 'INVALID_CODE', '登录凭证无效，请重新登录')
    const token = `token-${++this.sequence}-${code}`
    const openid = this.openidForCode(code)
    this.tokens.set(token, openid)
    this.user(openid)
    const expiresAt = new Date(this.now().getTime() + 7 * 24 * 3600_000).toISOString()
    return checked(SessionResponse, { token, openid, expiresAt })
  }

  private recordConsent(openid: string, consent: ConsentRequest): ConsentResponse {
    const replayKey = `${openid}:${consent.consentId}`
    const earlier = this.consentAnswers.get(replayKey)
    if (earlier) return earlier
    const user = this.user(openid)
    const at = this.now().toISOString()
    const credits: Record<string, number> = {}
    // As the service does: every template is checked before any credit changes.
    for (const templateId of Object.keys(consent.results)) {
      if (!this.templates.some((candidate) => candidate.id === templateId)) {
        throw new AnswerError(400, 'UNKNOWN_TEMPLATE', `没有这个模板：${templateId}`, `results.${templateId}`)
      }
    }
    for (const [templateId, result] of Object.entries(consent.results)) {
      const template = this.templates.find((candidate) => candidate.id === templateId)
      if (!template) throw new Error(`checked above: ${templateId}`)
      const accepted = result === 'accept' || result === 'acceptWithAudio'
      const held = user.credits.get(templateId) ?? 0
      const now = !accepted ? held : template.kind === 'one-time' ? held + 1 : Math.max(held, 1)
      user.credits.set(templateId, now)
      user.lastResults.set(templateId, { result, at })
      credits[templateId] = now
    }
    const answer = checked(ConsentResponse, { credits })
    this.consentAnswers.set(replayKey, answer)
    return answer
  }

  private subscriptions(openid: string): SubscriptionList {
    const user = this.user(openid)
    const list = [...user.lastResults.entries()].map(([templateId, last]) => ({
      templateId,
      credits: user.credits.get(templateId) ?? 0,
      lastResult: last.result,
      updatedAt: last.at,
    }))
    return checked(SubscriptionList, list)
  }

  private savePreferences(openid: string, preferences: Preferences): Preferences {
    if (preferences.quietHours && preferences.quietHours.start === preferences.quietHours.end) {
      throw new AnswerError(400, 'VALIDATION_FAILED', '免打扰的开始和结束时间不能相同', 'quietHours.end')
    }
    this.user(openid).preferences = structuredClone(preferences)
    return checked(Preferences, preferences)
  }

  private orderEvent(openid: string, event: EventRequest): EventResponse {
    const user = this.user(openid)
    const template = this.template(this.eventTemplateKey)
    const now = this.now()
    const message: MyMessage = {
      id: `msg-${++this.sequence}`,
      templateId: template.id,
      status: 'sent',
      createdAt: now.toISOString(),
    }
    const credits = user.credits.get(template.id) ?? 0
    const quiet = quietHoursState(now, user.preferences.quietHours, QUIET_HOURS_TIME_ZONE)
    // The service's order: muted → skipped; quiet hours → deferred (the credit is spent when it goes);
    // then the credit.
    if (user.preferences.mutedCategories.includes(template.category)) {
      message.status = 'skipped'
      message.reason = 'MUTED_CATEGORY'
    } else if (quiet.inside) {
      message.status = 'deferred'
      message.deliverAfter = quiet.endsAt.toISOString()
    } else if (credits === 0) {
      message.status = 'failed'
      message.reason = 'NO_CREDIT'
    } else {
      user.credits.set(template.id, credits - 1)
      message.sentAt = now.toISOString()
    }
    user.messages.unshift(message)
    this.lastOrderEvent = event
    const { id, templateId, status, reason, deliverAfter } = message
    return checked(EventResponse, {
      message: {
        id,
        templateId,
        status,
        ...(reason ? { reason } : {}),
        ...(deliverAfter ? { deliverAfter } : {}),
      },
    })
  }

  private sandboxConsent(openid: string, results: Record<string, SubscribeResult>): SandboxConsentResponse {
    const user = this.user(openid)
    const quota: Record<string, number> = {}
    for (const [templateId, result] of Object.entries(results)) {
      const held = user.sandboxQuota.get(templateId) ?? 0
      const now = result === 'accept' || result === 'acceptWithAudio' ? held + 1 : held
      user.sandboxQuota.set(templateId, now)
      quota[templateId] = now
    }
    return checked(SandboxConsentResponse, { quota })
  }

  private user(openid: string): UserState {
    let user = this.users.get(openid)
    if (!user) {
      user = {
        credits: new Map(),
        lastResults: new Map(),
        preferences: structuredClone(DEFAULT_PREFERENCES),
        messages: [],
        sandboxQuota: new Map(),
      }
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

/** A request body as the service's schema validation sees it: a 400 naming the first bad field otherwise. */
function parsed<Schema extends TSchema>(schema: Schema, body: unknown): Static<Schema> {
  if (Value.Check(schema, body)) return body
  const [first] = Value.Errors(schema, body)
  const field = first ? first.instancePath.replace(/^\//, '').replaceAll('/', '.') : undefined
  throw new AnswerError(400, 'VALIDATION_FAILED', `请求内容不符合要求：${first?.message ?? '格式错误'}`, field)
}

/** Every answer leaves through the contract's schema, so the fake cannot drift from it silently. */
function checked<Schema extends TSchema>(schema: Schema, value: Static<Schema>): Static<Schema> {
  if (!Value.Check(schema, value)) throw new Error(`fake service answered outside the contract: ${JSON.stringify(value)}`)
  return value
}
