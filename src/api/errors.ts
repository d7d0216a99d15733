/**
 * The service's errors as the client sees them: one class, a code union, a guard.
 * `src/api/client.ts` is the only place that makes them (from a non-2xx answer and its `ErrorBody`, an
 * answer of the wrong shape, or a request that got no answer).
 */

/** Codes the client itself gives (no or unusable answer) or acts on. */
type KnownApiErrorCode =
  /** No answer: offline, connection refused. */
  | 'OFFLINE'
  /** No answer in time. */
  | 'TIMEOUT'
  /** 401: no session, or it expired. Sign in again. */
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION_FAILED'
  | 'INVALID_DATA'
  | 'NO_CREDIT'
  | 'RATE_LIMITED'
  /** 5xx without an ErrorBody. */
  | 'SERVER_ERROR'
  /** An answer without the contract's shape: a non-2xx one without an ErrorBody (a proxy's HTML page), or a 2xx one that is not what the contract says. */
  | 'BAD_RESPONSE'

/** Known codes, or any other UPPER_SNAKE code the service sends in `ErrorBody.error.code`. */
type ApiErrorCode = KnownApiErrorCode | (string & {})

interface ApiErrorOptions {
  /** HTTP status; null when no answer came. */
  status: number | null
  message: string
  field?: string
}

export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly code: ApiErrorCode
  readonly status: number | null
  /** The offending field the service named (`quietHours.start`). */
  readonly field: string | null

  constructor(code: ApiErrorCode, options: ApiErrorOptions) {
    super(options.message)
    this.code = code
    this.status = options.status
    this.field = options.field ?? null
  }

  /** Worth trying again later: no answer, 5xx, 429. */
  get retryable(): boolean {
    if (this.code === 'OFFLINE' || this.code === 'TIMEOUT') return true
    return this.status !== null && (this.status >= 500 || this.status === 429)
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError
}
