/**
 * The one error handler: every error leaves as the contract's `{ error: { code, message, field? } }`.
 * Caller mistakes are 4xx with a Chinese message naming the field; anything else is a 500 whose
 * message says nothing about the inside (the details go to the log, never a stack to the client).
 *
 * That includes what Fastify and Node would otherwise answer themselves, in English: a path with bad
 * percent-encoding (Fastify's `frameworkErrors`), a method the path does not have (405 with `Allow`
 * instead of 404), and requests the HTTP parser refuses before there is a request at all (Node's
 * `clientError`: malformed, headers too large, too slow), answered on the raw socket.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ErrorBody } from '../src/domain/contract'
import { AppError, isAppError, type AppErrorCode } from './errors'

/** One answer of the HTTP layer: its status, its code and what a person reads. */
export interface HttpErrorText {
  statusCode: number
  code: AppErrorCode
  message: string
  field?: string
}

const text = (statusCode: number, code: AppErrorCode, message: string, field?: string): HttpErrorText => ({
  statusCode,
  code,
  message,
  ...(field !== undefined && { field }),
})

/** A path, header value or key echoed back in a message: never more than this many characters. */
const ECHO_LIMIT = 200
function shown(value: string): string {
  return value.length > ECHO_LIMIT ? `${value.slice(0, ECHO_LIMIT)}…` : value
}

const kib = (bytes: number): string => `${Math.floor(bytes / 1024)} KiB`

/**
 * Every answer the HTTP layer gives on its own (routes and services throw their own `AppError`s),
 * in one table: the Chinese texts of HTTP-level errors live here and only here.
 */
export const HTTP_ERRORS = {
  badRequest: () => text(400, 'BAD_REQUEST', '请求不正确'),
  /** Node's HTTP parser could not read the request (the `clientError` event). */
  malformedRequest: () => text(400, 'BAD_REQUEST', '请求不是合法的 HTTP/1.1 请求，连接已关闭'),
  badUrl: (path: string) =>
    text(400, 'BAD_REQUEST', `请求路径中的百分号编码不合法（% 后应为两位十六进制数字，解码后应为合法的 UTF-8）：${shown(path)}`),
  contentLengthMismatch: () => text(400, 'BAD_REQUEST', 'Content-Length 与请求体长度不符'),
  emptyJson: () => text(400, 'MALFORMED_JSON', '请求体为空，但声明了 application/json'),
  invalidJson: () => text(400, 'MALFORMED_JSON', '请求体不是合法的 JSON'),
  invalidUtf8: () => text(400, 'MALFORMED_JSON', '请求体不是合法的 UTF-8'),
  /** `__proto__` or `constructor.prototype`: refused so that no body can reach an object's prototype. */
  forbiddenKey: (path: string) => text(400, 'FORBIDDEN_KEY', `请求体含有不允许的键 ${shown(path)}`, path),
  /** U+0000 anywhere in a body: no text of this service means it, and PostgreSQL cannot store it. */
  nulCharacter: (path: string) => text(400, 'VALIDATION_FAILED', `${shown(path)} 含有空字符（U+0000），请删除后重试`, path),
  unauthorized: () => text(401, 'UNAUTHORIZED', '未登录'),
  forbidden: () => text(403, 'FORBIDDEN', '没有权限'),
  /** A browser page of another origin tried to change the sandbox (see http/origin-guard.ts). */
  crossOriginSandbox: (origin: string) =>
    text(
      403,
      'FORBIDDEN',
      `拒绝来自 ${shown(origin)} 的跨源请求：沙箱接口只接受本服务自己的页面和 CORS_ORIGINS 中的来源修改数据`,
    ),
  notFound: (method: string, path: string) => text(404, 'NOT_FOUND', `没有这个接口：${method} ${shown(path)}`),
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) =>
    text(405, 'METHOD_NOT_ALLOWED', `${shown(path)} 不支持 ${method} 请求，只支持 ${allowed.join('、')}`),
  requestTimeout: () => text(408, 'REQUEST_TIMEOUT', '请求超时：没有在规定时间内收到完整的请求，连接已关闭'),
  payloadTooLarge: (limitBytes: number) => text(413, 'PAYLOAD_TOO_LARGE', `请求体太大：最多 ${kib(limitBytes)}`),
  unsupportedMediaType: (contentType: string | undefined) =>
    text(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      contentType
        ? `只接受 application/json 请求体，收到的是 ${shown(contentType)}`
        : '只接受 application/json 请求体，这个请求没有声明 Content-Type',
    ),
  rateLimited: (retryAfterSeconds: number) => text(429, 'RATE_LIMITED', `请求太频繁，请等 ${retryAfterSeconds} 秒后再试`),
  headersTooLarge: (limitBytes: number) =>
    text(431, 'HEADERS_TOO_LARGE', `请求头太大：所有请求头加起来最多 ${kib(limitBytes)}，连接已关闭`),
  internal: () => text(500, 'INTERNAL', '服务内部错误，请稍后重试'),
} as const

/** The table's answer as the one error type, for code that throws (body parsers, the rate limits). */
export function httpError(answer: HttpErrorText): AppError {
  return new AppError(answer.statusCode, answer.code, answer.message, answer.field)
}

function bodyOf(answer: HttpErrorText): ErrorBody {
  const body: ErrorBody = { error: { code: answer.code, message: answer.message } }
  if (answer.field !== undefined) body.error.field = answer.field
  return body
}

// ─── validation ──────────────────────────────────────────────────────────────

/** One validation problem as TypeBox's compiler (and Ajv) report it. */
interface ValidationIssue {
  keyword: string
  instancePath: string
  schemaPath?: string
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

function typeNames(type: unknown): string {
  const types = Array.isArray(type) ? type : [type]
  return [...new Set(types.map((one) => TYPE_NAMES[String(one)] ?? String(one)))].join('或')
}

/** The part of `schema` a JSON pointer (`#/properties/attributes`) names. */
function schemaAt(schema: unknown, pointer: string | undefined): unknown {
  let node = schema
  for (const part of (pointer ?? '').replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')]
  }
  return node
}

/** An object's key the schema does not allow: a record's key breaks its name rule, an object's is not one of its fields. */
function describeExtraKey(issue: ValidationIssue, schema: unknown): string {
  const patterns = (schemaAt(schema, issue.schemaPath) as { patternProperties?: Record<string, unknown> } | undefined)?.patternProperties
  return patterns ? `名称不符合规则（${Object.keys(patterns).join(' 或 ')}）` : '不是可用的字段'
}

/** The constants a union at the issue's place allows, as JSON. */
function allowedConstants(issue: ValidationIssue, siblings: readonly ValidationIssue[]): string[] {
  return siblings
    .filter((other) => other.instancePath === issue.instancePath && other.keyword === 'const')
    .map((other) => JSON.stringify(other.params.allowedValue))
}

function describe(issue: ValidationIssue, siblings: readonly ValidationIssue[], schema: unknown): string {
  const limit = issue.params.limit
  switch (issue.keyword) {
    case 'additionalProperties':
      return describeExtraKey(issue, schema)
    case 'minProperties':
      return `至少 ${String(limit)} 项`
    case 'maxProperties':
      return `最多 ${String(limit)} 项`
    case 'required':
      return '缺少这个字段'
    case 'type':
      return `应为${typeNames(issue.params.type)}`
    case 'minLength':
      return `至少 ${String(limit)} 个字符`
    case 'maxLength':
      return `最多 ${String(limit)} 个字符`
    case 'pattern': {
      // A union of constants and patterns (a dialog answer: "accept"… or accept…): name them all.
      const allowed = allowedConstants(issue, siblings)
      if (allowed.length === 0) return '格式不正确'
      const patterns = siblings
        .filter((other) => other.instancePath === issue.instancePath && other.keyword === 'pattern')
        .map((other) => String(other.params.pattern))
      return `只能是 ${allowed.join('、')} 之一，或符合 ${patterns.join('、')}`
    }
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
      const allowed = allowedConstants(issue, siblings)
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
  if (issue.keyword === 'additionalProperties') {
    const extra = issue.params.additionalProperties
    const first = Array.isArray(extra) ? extra[0] : extra
    if (typeof first === 'string') path.push(first)
  }
  if (path.length === 0) return context
  return context === 'body' ? path.join('.') : `${context}.${path.join('.')}`
}

/**
 * The issue to tell the caller. Usually the first one (the most specific: a nested rule before the
 * union that contains it). When that one belongs to a union (`{ value: string } | string`), the
 * validator reports every branch, and the first branch is not necessarily the one meant: the branch
 * the value has the shape of is. `"x".repeat(201)` is a string that is too long, not "应为对象".
 * When the value has the shape of no branch, the answer lists the shapes allowed ("应为对象或字符串").
 */
function chooseIssue(issues: readonly ValidationIssue[]): ValidationIssue | undefined {
  const first = issues[0]
  if (!first?.schemaPath) return first
  const union = issues.find(
    (issue) => issue.keyword === 'anyOf' && issue.schemaPath !== undefined && first.schemaPath!.startsWith(`${issue.schemaPath}/anyOf/`),
  )
  if (!union?.schemaPath) return first
  const branchPrefix = `${union.schemaPath}/anyOf/`
  const branches = new Map<string, ValidationIssue[]>()
  for (const issue of issues) {
    if (!issue.schemaPath?.startsWith(branchPrefix)) continue
    const branch = issue.schemaPath.slice(branchPrefix.length).split('/')[0]!
    branches.set(branch, [...(branches.get(branch) ?? []), issue])
  }
  // A branch whose every issue is "not this type" or "not this constant" at the union itself: the
  // value does not have its shape at all.
  const notThisShape = (issue: ValidationIssue): boolean =>
    (issue.keyword === 'type' || issue.keyword === 'const') && issue.instancePath === union.instancePath
  for (const branchIssues of branches.values()) {
    if (!branchIssues.every(notThisShape)) return branchIssues[0]
  }
  const types = [...branches.values()].flat().filter((issue) => issue.keyword === 'type').map((issue) => issue.params.type)
  if (types.length === 0) return first // constants only: `describe` lists them
  return { keyword: 'type', instancePath: union.instancePath, params: { type: types.flat() } }
}

function validationError(issues: readonly ValidationIssue[], context: string, schema: unknown): ErrorBody {
  const issue = chooseIssue(issues)
  if (!issue) return { error: { code: 'VALIDATION_FAILED', message: `${context}: 不符合要求` } }
  const field = fieldOf(issue, context)
  return { error: { code: 'VALIDATION_FAILED', message: `${field}: ${describe(issue, issues, schema)}`, field } }
}

// ─── errors raised while a request is handled ────────────────────────────────

/** Fastify's own errors, by code. */
const FASTIFY_CODES: Record<string, (request: FastifyRequest | undefined) => HttpErrorText> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (request) => HTTP_ERRORS.payloadTooLarge(request?.routeOptions.bodyLimit ?? 0),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (request) => HTTP_ERRORS.unsupportedMediaType(request?.headers['content-type']),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => HTTP_ERRORS.emptyJson(),
  FST_ERR_CTP_INVALID_JSON_BODY: () => HTTP_ERRORS.invalidJson(),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => HTTP_ERRORS.contentLengthMismatch(),
}

/** Any other 4xx, by status. */
const BY_STATUS: Record<number, (request: FastifyRequest | undefined) => HttpErrorText> = {
  400: () => HTTP_ERRORS.badRequest(),
  401: () => HTTP_ERRORS.unauthorized(),
  403: () => HTTP_ERRORS.forbidden(),
  404: (request) => HTTP_ERRORS.notFound(request?.method ?? 'GET', pathOf(request?.url ?? '/')),
  413: FASTIFY_CODES.FST_ERR_CTP_BODY_TOO_LARGE!,
  415: FASTIFY_CODES.FST_ERR_CTP_INVALID_MEDIA_TYPE!,
}

/** What a client sees for `error`, and its status. */
function errorResponse(error: FastifyError | Error, request?: FastifyRequest): { statusCode: number; body: ErrorBody } {
  if (isAppError(error)) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } }
    if (error.field !== undefined) body.error.field = error.field
    return { statusCode: error.statusCode, body }
  }
  const fastifyError = error as FastifyError
  if (Array.isArray(fastifyError.validation)) {
    const context = fastifyError.validationContext ?? 'body'
    const schema = (request?.routeOptions.schema as Record<string, unknown> | undefined)?.[context]
    return { statusCode: 400, body: validationError(fastifyError.validation as ValidationIssue[], context, schema) }
  }
  const statusCode = fastifyError.statusCode ?? 500
  if (statusCode >= 400 && statusCode < 500) {
    const known = (fastifyError.code && FASTIFY_CODES[fastifyError.code]) || BY_STATUS[statusCode]
    const answer = known ? known(request) : HTTP_ERRORS.badRequest()
    // The status stays the one Fastify chose; the table gives the code and the words.
    return { statusCode, body: bodyOf({ ...answer, statusCode }) }
  }
  return { statusCode: 500, body: bodyOf(HTTP_ERRORS.internal()) }
}

// ─── 404 and 405 ─────────────────────────────────────────────────────────────

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

function pathOf(url: string): string {
  return url.split('?')[0] ?? url
}

/**
 * The methods `path` has a route for. A catch-all route (`/*`: the static files, CORS preflight)
 * says nothing about a path, so it does not count.
 */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  return METHODS.filter((method) => {
    const route = app.findRoute({ method, url: path })
    return route !== null && !Object.hasOwn(route.params, '*')
  })
}

// ─── answers before a route: bad URLs and the raw socket ────────────────────

/**
 * Fastify's `frameworkErrors` option: a path with bad percent-encoding (`/api/%zz`) never reaches
 * the router, so neither the error handler nor the not-found handler sees it.
 */
function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const answer = error.code === 'FST_ERR_BAD_URL' ? HTTP_ERRORS.badUrl(pathOf(request.url)) : HTTP_ERRORS.internal()
  if (answer.statusCode >= 500) request.log.error({ err: error }, 'request failed')
  else request.log.info({ code: answer.code }, 'request refused')
  void reply.status(answer.statusCode).send(bodyOf(answer))
}

/** What a `clientError` is answered with. */
function clientErrorAnswer(error: ConnectionError): HttpErrorText {
  if (error.code === 'HPE_HEADER_OVERFLOW') return HTTP_ERRORS.headersTooLarge(maxHeaderSize)
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return HTTP_ERRORS.requestTimeout()
  return HTTP_ERRORS.malformedRequest()
}

/**
 * Fastify's `clientErrorHandler` option (Node's `clientError` event): the HTTP parser refused the
 * bytes, so there is no request to answer. The answer is written on the socket as a complete
 * HTTP/1.1 response with an ErrorBody, and the connection is closed. Only the parser's code is
 * logged: the raw packet may hold a token.
 */
function answerClientError(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const answer = clientErrorAnswer(error)
  this.log.info({ code: error.code, answered: answer.statusCode }, 'malformed request refused')
  // As Node itself does: no answer in the middle of a response already on its way to the client.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy()
    return
  }
  const body = JSON.stringify(bodyOf(answer))
  socket.end(
    `HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  )
}

/** The Fastify options that route Fastify's and Node's own answers through this module. */
export const httpErrorOptions = {
  frameworkErrors: answerFrameworkError,
  clientErrorHandler: answerClientError,
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { statusCode, body } = errorResponse(error, request)
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: body.error.code, field: body.error.field }, 'request refused')
    return reply.status(statusCode).send(body)
  })
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = pathOf(request.url)
    const allowed = allowedMethods(app, path)
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send(bodyOf(HTTP_ERRORS.methodNotAllowed(request.method, path, allowed)))
    }
    return reply.status(404).send(bodyOf(HTTP_ERRORS.notFound(request.method, path)))
  })
}
