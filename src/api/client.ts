/**
 * The typed client of the send service (src/domain/contract.ts), over `Platform.request`.
 *
 * The one place where HTTP answers become results or `ApiError`s:
 * - a 2xx answer is checked against the contract's schema for it (src/rules/shape.ts); one of another
 *   shape is an `ApiError` BAD_RESPONSE with a plain message, and where it differs is logged;
 * - a non-2xx answer becomes an `ApiError` with the `ErrorBody`'s code and message;
 * - a request that got no answer (`PlatformError` OFFLINE / TIMEOUT) becomes an `ApiError` with that code.
 *
 * Base URL: `import.meta.env.VITE_API_BASE`; without it '' (same origin: H5 served by the service)
 * on H5 and http://127.0.0.1:8080 (the local service) on mp-weixin.
 */
import type { Static, TSchema } from 'typebox'
import {
  ConsentResponse,
  ErrorBody,
  EventResponse,
  MyMessageList,
  Preferences,
  SandboxCodeResponse,
  SandboxConsentResponse,
  ServiceInfo,
  SessionResponse,
  SubscriptionList,
  TemplateList,
  type ConsentRequest,
  type EventRequest,
} from '@/domain/contract'
import type { Platform, PlatformRequest, SandboxLink, SubscribeAnswers } from '@/platform/types'
import { isPlatformError } from '@/platform/errors'
import { hasShape, shapeProblem } from '@/rules/shape'
import { ApiError } from './errors'

const LOCAL_SERVICE_BASE = 'http://127.0.0.1:8080'
const DEFAULT_TIMEOUT_MS = 10_000

/** The service's base URL for this build. */
export function defaultApiBase(): string {
  const configured = import.meta.env.VITE_API_BASE
  if (configured !== undefined && configured !== '') return configured.replace(/\/+$/, '')
  let base = ''
  // #ifdef MP-WEIXIN
  base = LOCAL_SERVICE_BASE
  // #endif
  return base
}

interface ApiClientOptions {
  request: Platform['request']
  /** '' = same origin. No trailing slash. */
  baseUrl: string
  /** The session bearer token, or null when signed out. Read on every request. */
  getToken: () => string | null
  timeoutMs?: number
}

export interface ApiClient {
  readonly baseUrl: string
  /** GET /api/info (no auth). */
  info(): Promise<ServiceInfo>
  /** POST /api/session `{ code }`. */
  createSession(code: string): Promise<SessionResponse>
  /** GET /api/templates. */
  templates(): Promise<TemplateList>
  /** POST /api/consents; the same consentId again returns the same answer and adds nothing. */
  postConsent(consent: ConsentRequest): Promise<ConsentResponse>
  /** GET /api/me/subscriptions. */
  mySubscriptions(): Promise<SubscriptionList>
  /** GET /api/me/preferences. */
  getPreferences(): Promise<Preferences>
  /** PUT /api/me/preferences; answers the saved preferences. */
  putPreferences(preferences: Preferences): Promise<Preferences>
  /** GET /api/me/messages (newest first). */
  myMessages(): Promise<MyMessageList>
  /** POST /api/events. */
  postEvent(event: EventRequest): Promise<EventResponse>
  /** POST /sandbox/code `{ user }` (sandbox only, no auth). */
  sandboxCode(user: string): Promise<SandboxCodeResponse>
  /** POST /sandbox/subscriptions `{ results }` (sandbox only, session bearer). */
  sandboxGrant(results: SubscribeAnswers): Promise<SandboxConsentResponse>
}

function statusMessage(status: number): string {
  if (status === 401) return '登录已失效，请重新登录'
  if (status === 403) return '没有权限进行这个操作'
  if (status === 404) return '服务上没有找到请求的内容'
  if (status === 429) return '操作太频繁，请稍后再试'
  if (status >= 500) return `服务暂时不可用（HTTP ${status}），请稍后再试`
  return `服务拒绝了请求（HTTP ${status}）`
}

function fallbackCode(status: number): ApiError['code'] {
  if (status === 401) return 'UNAUTHORIZED'
  if (status === 403) return 'FORBIDDEN'
  if (status === 404) return 'NOT_FOUND'
  if (status === 429) return 'RATE_LIMITED'
  if (status >= 500) return 'SERVER_ERROR'
  return 'BAD_RESPONSE'
}

/** What the person reads when an answer does not have the contract's shape. */
const BAD_RESPONSE_MESSAGE = '服务返回的数据不完整，请稍后重试'

/** A non-2xx answer → ApiError. A 401 is always UNAUTHORIZED, whatever the body says. */
export function apiErrorFromResponse(status: number, body: unknown): ApiError {
  if (hasShape(ErrorBody, body)) {
    const code = status === 401 ? 'UNAUTHORIZED' : body.error.code
    const options: ConstructorParameters<typeof ApiError>[1] = { status, message: body.error.message || statusMessage(status) }
    if (body.error.field !== undefined) options.field = body.error.field
    return new ApiError(code, options)
  }
  return new ApiError(fallbackCode(status), { status, message: statusMessage(status) })
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS

  async function call<S extends TSchema>(
    answer: S,
    method: PlatformRequest['method'],
    path: string,
    data?: unknown,
    auth = true,
  ): Promise<Static<S>> {
    const header: Record<string, string> = { 'content-type': 'application/json' }
    const token = auth ? options.getToken() : null
    if (token !== null) header.authorization = `Bearer ${token}`
    const request: PlatformRequest = { url: `${options.baseUrl}${path}`, method, header, timeout }
    if (data !== undefined) request.data = data
    let response
    try {
      response = await options.request(request)
    } catch (error) {
      if (isPlatformError(error) && (error.code === 'OFFLINE' || error.code === 'TIMEOUT')) {
        throw new ApiError(error.code, { status: null, message: error.message })
      }
      throw error
    }
    if (response.statusCode < 200 || response.statusCode >= 300) throw apiErrorFromResponse(response.statusCode, response.data)
    if (hasShape(answer, response.data)) return response.data
    const problem = shapeProblem(answer, response.data)
    console.warn(`${method} ${path}: the answer (HTTP ${response.statusCode}) does not have the contract's shape at ${problem?.path || '(the answer)'}: ${problem?.problem ?? ''}`)
    throw new ApiError('BAD_RESPONSE', { status: response.statusCode, message: BAD_RESPONSE_MESSAGE })
  }

  return {
    baseUrl: options.baseUrl,
    info: () => call(ServiceInfo, 'GET', '/api/info', undefined, false),
    createSession: (code) => call(SessionResponse, 'POST', '/api/session', { code }, false),
    templates: () => call(TemplateList, 'GET', '/api/templates'),
    postConsent: (consent) => call(ConsentResponse, 'POST', '/api/consents', consent),
    mySubscriptions: () => call(SubscriptionList, 'GET', '/api/me/subscriptions'),
    getPreferences: () => call(Preferences, 'GET', '/api/me/preferences'),
    putPreferences: (preferences) => call(Preferences, 'PUT', '/api/me/preferences', preferences),
    myMessages: () => call(MyMessageList, 'GET', '/api/me/messages'),
    postEvent: (event) => call(EventResponse, 'POST', '/api/events', event),
    sandboxCode: (user) => call(SandboxCodeResponse, 'POST', '/sandbox/code', { user }, false),
    sandboxGrant: (results) => call(SandboxConsentResponse, 'POST', '/sandbox/subscriptions', { results }),
  }
}

/** The H5 stand-in dialog's view of the service (see `SandboxLink`). */
export function sandboxLinkFrom(api: ApiClient): SandboxLink {
  return {
    info: () => api.info(),
    templates: () => api.templates(),
    grant: async (results) => {
      await api.sandboxGrant(results)
    },
  }
}
