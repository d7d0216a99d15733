import { afterEach, describe, expect, it, vi } from 'vitest'
import { apiErrorFromResponse, createApiClient } from '@/api/client'
import { ApiError, isApiError } from '@/api/errors'
import { FakePlatform } from '@/platform/fake'
import { PlatformError } from '@/platform/errors'
import type { PlatformRequest, PlatformResponse } from '@/platform/types'

/** A valid answer of each endpoint, by `METHOD /path`. */
const ANSWERS: Record<string, unknown> = {
  'GET /api/info': { sandbox: true, miniprogramState: 'developer' },
  'POST /sandbox/code': { code: 'sandbox-alice' },
  'POST /api/session': { token: 'tok-1', openid: 'o-alice', expiresAt: '2026-03-09T02:00:00.000Z' },
  'GET /api/templates': [],
  'GET /api/me/subscriptions': [{ templateId: 'T', credits: 1, lastResult: 'accept', updatedAt: '2026-03-02T02:00:00.000Z' }],
  'GET /api/me/preferences': { quietHours: null, dailyLimit: 20, mutedCategories: [] },
  'PUT /api/me/preferences': { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: ['marketing'] },
  'GET /api/me/messages': [],
  'POST /api/events': { message: { id: 'm1', templateId: 'T', status: 'sent' } },
  'POST /sandbox/subscriptions': { quota: { T: 1 } },
}

const BAD_RESPONSE_MESSAGE = '服务返回的数据不完整，请稍后重试'

function answerOf(request: PlatformRequest): PlatformResponse {
  const key = `${request.method} ${new URL(request.url).pathname}`
  if (!(key in ANSWERS)) throw new Error(`no answer for ${key}`)
  return { statusCode: 200, data: ANSWERS[key] }
}

function clientAnswering(answer: (request: PlatformRequest) => PlatformResponse, token: string | null = 'tok-1') {
  const platform = new FakePlatform({ request: answer })
  const api = createApiClient({ request: (request) => platform.request(request), baseUrl: 'http://127.0.0.1:8080', getToken: () => token })
  return { platform, api }
}

describe('requests', () => {
  it('sends JSON with the bearer token to base URL + path', async () => {
    const { platform, api } = clientAnswering(() => ({ statusCode: 200, data: { credits: { T: 1 } } }))
    await expect(api.postConsent({ consentId: 'consent-0001', results: { T: 'accept' } })).resolves.toEqual({ credits: { T: 1 } })
    expect(platform.requests[0]).toEqual({
      url: 'http://127.0.0.1:8080/api/consents',
      method: 'POST',
      data: { consentId: 'consent-0001', results: { T: 'accept' } },
      header: { 'content-type': 'application/json', authorization: 'Bearer tok-1' },
      timeout: 10_000,
    })
  })

  it('sends no bearer without a session, and none to the unauthenticated endpoints', async () => {
    const { platform, api } = clientAnswering(answerOf)
    await api.info()
    await api.sandboxCode('alice')
    await api.createSession('code-1')
    expect(platform.requests.map((request) => [request.method, request.url, request.header?.authorization])).toEqual([
      ['GET', 'http://127.0.0.1:8080/api/info', undefined],
      ['POST', 'http://127.0.0.1:8080/sandbox/code', undefined],
      ['POST', 'http://127.0.0.1:8080/api/session', undefined],
    ])
    const signedOut = clientAnswering(answerOf, null)
    await signedOut.api.myMessages()
    expect(signedOut.platform.requests[0]?.header?.authorization).toBeUndefined()
  })

  it('has one function per endpoint', async () => {
    const { platform, api } = clientAnswering(answerOf)
    await api.templates()
    await api.mySubscriptions()
    await api.getPreferences()
    await api.putPreferences({ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: ['marketing'] })
    await api.myMessages()
    await api.postEvent({ type: 'order.status_changed', orderId: 'D1', status: 'paid' })
    await api.sandboxGrant({ T: 'accept' })
    expect(platform.requests.map((request) => `${request.method} ${request.url.replace('http://127.0.0.1:8080', '')}`)).toEqual([
      'GET /api/templates',
      'GET /api/me/subscriptions',
      'GET /api/me/preferences',
      'PUT /api/me/preferences',
      'GET /api/me/messages',
      'POST /api/events',
      'POST /sandbox/subscriptions',
    ])
    expect(platform.requests[6]?.data).toEqual({ results: { T: 'accept' } })
  })

  it('gives each answer as the service sent it', async () => {
    const { api } = clientAnswering(answerOf)
    await expect(api.mySubscriptions()).resolves.toEqual(ANSWERS['GET /api/me/subscriptions'])
    await expect(api.postEvent({ type: 'order.status_changed', orderId: 'D1', status: 'paid' })).resolves.toEqual(ANSWERS['POST /api/events'])
  })
})

describe('answers of the wrong shape', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('a 2xx answer that is not what the contract says is an ApiError BAD_RESPONSE in plain Chinese; where it differs is logged', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { api } = clientAnswering(() => ({ statusCode: 200, data: [{ id: 'T', key: 'order_status', title: '订单', kind: 'one-time', category: 'order', keywords: [{ name: 'thing1', type: 'things', label: '名' }] }] }))
    const loading = api.templates()
    await expect(loading).rejects.toBeInstanceOf(ApiError)
    await expect(loading).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: 200, message: BAD_RESPONSE_MESSAGE, retryable: false })
    expect(warn).toHaveBeenCalledWith("GET /api/templates: the answer (HTTP 200) does not have the contract's shape at 0.keywords.0.type: none of the allowed shapes")
  })

  it.each([
    ['an HTML page', '<html>OK</html>'],
    ['nothing', ''],
    ['a field missing', { sandbox: true }],
    ['a field of another type', { sandbox: 'yes', miniprogramState: 'developer' }],
  ])('%s from a 2xx is BAD_RESPONSE, never an exception of another kind', async (_, data) => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { api } = clientAnswering(() => ({ statusCode: 200, data }))
    await expect(api.info()).rejects.toMatchObject({ name: 'ApiError', code: 'BAD_RESPONSE', message: BAD_RESPONSE_MESSAGE })
  })

  it('an error body outside the contract (a code not in UPPER_SNAKE) is read by its status', () => {
    expect(apiErrorFromResponse(503, { error: { code: 'busy', message: '忙' } })).toMatchObject({ code: 'SERVER_ERROR', message: '服务暂时不可用（HTTP 503），请稍后再试' })
  })
})

describe('errors', () => {
  it('turns an ErrorBody into an ApiError with its code, message and field', async () => {
    const { api } = clientAnswering(() => ({
      statusCode: 400,
      data: { error: { code: 'VALIDATION_FAILED', message: '免打扰的开始和结束时间不能相同', field: 'quietHours.end' } },
    }))
    const saving = api.putPreferences({ quietHours: { start: '22:00', end: '22:00' }, dailyLimit: 5, mutedCategories: [] })
    await expect(saving).rejects.toBeInstanceOf(ApiError)
    await expect(saving).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400, field: 'quietHours.end', message: '免打扰的开始和结束时间不能相同', retryable: false })
  })

  it('a 401 is UNAUTHORIZED whatever code the body has', () => {
    const error = apiErrorFromResponse(401, { error: { code: 'INVALID_CODE', message: '登录凭证无效，请重新登录' } })
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401, message: '登录凭证无效，请重新登录' })
  })

  it('a 5xx without ErrorBody is SERVER_ERROR and retryable; other statuses without body are named', () => {
    expect(apiErrorFromResponse(502, '<html>Bad Gateway</html>')).toMatchObject({ code: 'SERVER_ERROR', status: 502, message: '服务暂时不可用（HTTP 502），请稍后再试', retryable: true })
    expect(apiErrorFromResponse(401, '')).toMatchObject({ code: 'UNAUTHORIZED', message: '登录已失效，请重新登录' })
    expect(apiErrorFromResponse(429, null)).toMatchObject({ code: 'RATE_LIMITED', retryable: true })
    expect(apiErrorFromResponse(418, null)).toMatchObject({ code: 'BAD_RESPONSE', retryable: false })
  })

  it('no answer becomes OFFLINE or TIMEOUT', async () => {
    const offline = clientAnswering(() => {
      throw new PlatformError('OFFLINE', 'request:fail ')
    })
    await expect(offline.api.myMessages()).rejects.toMatchObject({ name: 'ApiError', code: 'OFFLINE', status: null, retryable: true, message: '网络连接失败，请检查网络后重试' })
    const slow = clientAnswering(() => {
      throw new PlatformError('TIMEOUT', 'request:fail timeout')
    })
    const error: unknown = await slow.api.myMessages().then(
      () => null,
      (caught: unknown) => caught,
    )
    expect(isApiError(error) && error.code).toBe('TIMEOUT')
  })
})
