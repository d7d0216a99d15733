/**
 * One JSON call to the service, over `Platform.request`: the one place where HTTP answers become
 * results or `ApiError`s, for the app's client (./client.ts) and the operator console's
 * (src/console/api.ts) alike.
 * - a 2xx answer is checked against the contract's schema for it (src/rules/shape.ts); one of another
 *   shape is an `ApiError` BAD_RESPONSE with a plain message, and where it differs is logged; a call
 *   that expects no body (`null` for the schema: 204) resolves with nothing;
 * - a non-2xx answer becomes an `ApiError` with the `ErrorBody`'s code and message;
 * - a request that got no answer (`PlatformError` OFFLINE / TIMEOUT) becomes an `ApiError` with that code.
 */
import type { Static, TSchema } from 'typebox'
import { ErrorBody } from '@/domain/contract'
import type { Platform, PlatformRequest } from '@/platform/types'
import { isPlatformError } from '@/platform/errors'
import { hasShape, shapeProblem } from '@/rules/shape'
import { ApiError } from './errors'

const DEFAULT_TIMEOUT_MS = 10_000

export interface JsonCallerOptions {
  request: Platform['request']
  /** '' = same origin. No trailing slash. */
  baseUrl: string
  /** The bearer token, or null when signed out. Read on every request. */
  getToken: () => string | null
  timeoutMs?: number
}

/** `call(schema, method, path, data?, auth?)`: the answer checked against `schema`; `null` for no body. */
export interface JsonCaller {
  <S extends TSchema>(answer: S, method: PlatformRequest['method'], path: string, data?: unknown, auth?: boolean): Promise<Static<S>>
  (answer: null, method: PlatformRequest['method'], path: string, data?: unknown, auth?: boolean): Promise<void>
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

export function createJsonCaller(options: JsonCallerOptions): JsonCaller {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS

  async function call(answer: TSchema | null, method: PlatformRequest['method'], path: string, data?: unknown, auth = true): Promise<unknown> {
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
    if (answer === null) return undefined
    if (hasShape(answer, response.data)) return response.data
    const problem = shapeProblem(answer, response.data)
    console.warn(`${method} ${path}: the answer (HTTP ${response.statusCode}) does not have the contract's shape at ${problem?.path || '(the answer)'}: ${problem?.problem ?? ''}`)
    throw new ApiError('BAD_RESPONSE', { status: response.statusCode, message: BAD_RESPONSE_MESSAGE })
  }

  return call as JsonCaller
}
