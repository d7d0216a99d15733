/**
 * The typed client of the send service (src/domain/contract.ts), over `Platform.request`. Its calls
 * go through ./call.ts, the one place where HTTP answers become results or `ApiError`s.
 *
 * Base URL: `import.meta.env.VITE_API_BASE`; without it '' (same origin: H5 served by the service)
 * on H5 and http://127.0.0.1:8080 (the local service) on mp-weixin.
 */
import {
  ConsentResponse,
  EventResponse,
  MyMessageDetail,
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
import type { SandboxLink, SubscribeAnswers } from '@/platform/types'
import { createJsonCaller, type JsonCallerOptions } from './call'

export { apiErrorFromResponse } from './call'

const LOCAL_SERVICE_BASE = 'http://127.0.0.1:8080'

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

type ApiClientOptions = JsonCallerOptions

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
  /** GET /api/me/messages/:id: one of my messages with its content and history. */
  myMessage(id: string): Promise<MyMessageDetail>
  /** POST /api/events. */
  postEvent(event: EventRequest): Promise<EventResponse>
  /** POST /sandbox/code `{ user }` (sandbox only, no auth). */
  sandboxCode(user: string): Promise<SandboxCodeResponse>
  /** POST /sandbox/subscriptions `{ results }` (sandbox only, session bearer). */
  sandboxGrant(results: SubscribeAnswers): Promise<SandboxConsentResponse>
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const call = createJsonCaller(options)

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
    myMessage: (id) => call(MyMessageDetail, 'GET', `/api/me/messages/${encodeURIComponent(id)}`),
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
