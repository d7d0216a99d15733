/**
 * The service's one error type. Routes and services throw `AppError`; the error handler in app.ts
 * turns it into the contract's `{ error: { code, message, field? } }`.
 */

export type AppErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_DATA'
  | 'UNKNOWN_TEMPLATE'
  | 'INVALID_PAGE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'UNKNOWN_SEGMENT'
  | 'CONFLICT'
  | 'NOT_RETRYABLE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INVALID_CODE'
  | 'RATE_LIMITED'
  | 'WECHAT_UNAVAILABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MALFORMED_JSON'
  | 'FORBIDDEN_KEY'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'HEADERS_TOO_LARGE'
  | 'BAD_REQUEST'
  | 'INTERNAL'
  // WeChat's message push and template management
  | 'INVALID_SIGNATURE'
  | 'MALFORMED_PUSH'
  | 'ALREADY_EXISTS'
  | 'WECHAT_REFUSED'

export class AppError extends Error {
  override readonly name = 'AppError'
  constructor(
    readonly statusCode: number,
    readonly code: AppErrorCode,
    /** For a person to read, in Chinese. */
    message: string,
    /** The offending field (`data.thing1.value`, `results.tmpl-x`, `page`). */
    readonly field?: string,
  ) {
    super(message)
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError
}
