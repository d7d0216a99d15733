/**
 * The one error handler: every error leaves as the contract's `{ error: { code, message, field? } }`.
 * Caller mistakes are 4xx with a Chinese message naming the field; anything else is a 500 whose
 * message says nothing about the inside (the details go to the log, never a stack to the client).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ErrorBody } from '../src/domain/contract'
import { isAppError } from './errors'

/** One validation problem as TypeBox's compiler (and Ajv) report it. */
interface ValidationIssue {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
  message?: string
}

const TYPE_NAMES: Record<string, string> = {
  string: '字符串',
  number: '数字',
  integer: '整数',
  boolean: '布尔值（true 或 false）',
  object: '对象',
  array: '数组',
  null: 'null',
}

function describe(issue: ValidationIssue, siblings: readonly ValidationIssue[]): string {
  const limit = issue.params.limit
  switch (issue.keyword) {
    case 'required':
      return '缺少这个字段'
    case 'type':
      return `应为${TYPE_NAMES[String(issue.params.type)] ?? String(issue.params.type)}`
    case 'minLength':
      return `至少 ${String(limit)} 个字符`
    case 'maxLength':
      return `最多 ${String(limit)} 个字符`
    case 'pattern':
      return '格式不正确'
    case 'minimum':
      return `不能小于 ${String(limit)}`
    case 'maximum':
      return `不能大于 ${String(limit)}`
    case 'minItems':
      return `至少 ${String(limit)} 项`
    case 'maxItems':
      return `最多 ${String(limit)} 项`
    case 'uniqueItems':
      return '不能有重复项'
    case 'const':
    case 'enum': {
      const allowed = siblings
        .filter((other) => other.instancePath === issue.instancePath && other.keyword === 'const')
        .map((other) => JSON.stringify(other.params.allowedValue))
      return allowed.length > 0 ? `只能是 ${allowed.join('、')} 之一` : '取值不在允许的范围内'
    }
    default:
      return '不符合要求'
  }
}

/** `/data/thing1/value` → `data.thing1.value`; the missing property for `required`. */
function fieldOf(issue: ValidationIssue, context: string): string {
  const path = issue.instancePath.split('/').filter(Boolean)
  if (issue.keyword === 'required') {
    const missing = issue.params.requiredProperties ?? issue.params.missingProperty
    const first = Array.isArray(missing) ? missing[0] : missing
    if (typeof first === 'string') path.push(first)
  }
  if (path.length === 0) return context
  return context === 'body' ? path.join('.') : `${context}.${path.join('.')}`
}

export function validationError(issues: readonly ValidationIssue[], context: string): ErrorBody {
  // The first issue is the most specific one (a nested rule before the union that contains it).
  const issue = issues[0]
  if (!issue) return { error: { code: 'VALIDATION_FAILED', message: `${context}: 不符合要求` } }
  const field = fieldOf(issue, context)
  return { error: { code: 'VALIDATION_FAILED', message: `${field}: ${describe(issue, issues)}`, field } }
}

const FASTIFY_CODES: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: '请求体太大' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: '只接受 application/json 请求体' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'MALFORMED_JSON', message: '请求体为空，但声明了 application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_JSON', message: '请求体不是合法的 JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: 'Content-Length 与请求体长度不符' },
}

const STATUS_CODES: Record<number, { code: string; message: string }> = {
  400: { code: 'BAD_REQUEST', message: '请求不正确' },
  401: { code: 'UNAUTHORIZED', message: '未登录' },
  403: { code: 'FORBIDDEN', message: '没有权限' },
  404: { code: 'NOT_FOUND', message: '没有这个资源' },
  405: { code: 'METHOD_NOT_ALLOWED', message: '不支持这个请求方法' },
  413: { code: 'PAYLOAD_TOO_LARGE', message: '请求体太大' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: '不支持这种请求体类型' },
  429: { code: 'RATE_LIMITED', message: '请求太频繁，请稍后再试' },
}

/** What a client sees for `error`, and its status. */
export function errorResponse(error: FastifyError | Error): { statusCode: number; body: ErrorBody } {
  if (isAppError(error)) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } }
    if (error.field !== undefined) body.error.field = error.field
    return { statusCode: error.statusCode, body }
  }
  const fastifyError = error as FastifyError
  if (Array.isArray(fastifyError.validation)) {
    return {
      statusCode: 400,
      body: validationError(fastifyError.validation as ValidationIssue[], fastifyError.validationContext ?? 'body'),
    }
  }
  const statusCode = fastifyError.statusCode ?? 500
  if (statusCode >= 400 && statusCode < 500) {
    const known = (fastifyError.code && FASTIFY_CODES[fastifyError.code]) || STATUS_CODES[statusCode]
    // JSON syntax errors come from the parser with status 400 and no Fastify code.
    const mapped = known ?? (error instanceof SyntaxError ? FASTIFY_CODES.FST_ERR_CTP_INVALID_JSON_BODY! : STATUS_CODES[400]!)
    return { statusCode, body: { error: { code: mapped.code, message: mapped.message } } }
  }
  return { statusCode: 500, body: { error: { code: 'INTERNAL', message: '服务内部错误，请稍后重试' } } }
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { statusCode, body } = errorResponse(error)
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: body.error.code, field: body.error.field }, 'request refused')
    return reply.status(statusCode).send(body)
  })
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const body: ErrorBody = { error: { code: 'NOT_FOUND', message: `没有这个接口：${request.method} ${request.url.split('?')[0]}` } }
    return reply.status(404).send(body)
  })
}
