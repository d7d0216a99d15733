/**
 * Request bodies: JSON and nothing else ("Every body is JSON"). Fastify's built-in parsers are
 * replaced, so that
 * - `text/plain` (which a browser may send across origins without asking first) and every other
 *   type is 415 UNSUPPORTED_MEDIA_TYPE instead of a string handed to the schema;
 * - bytes that are not UTF-8 are said to be so, instead of being decoded to U+FFFD (which then
 *   showed as a Content-Length mismatch, or went through unnoticed with chunked encoding);
 * - a `__proto__` or `constructor.prototype` key is refused by its name and place, not as "not JSON";
 * - U+0000 in any key or string is refused by its place: it means nothing in a name, tag or keyword
 *   value, and PostgreSQL refuses it in text and jsonb (SQLite kept it), so both engines answer alike.
 */
import { isUtf8 } from 'node:buffer'
import type { FastifyInstance } from 'fastify'
import { HTTP_ERRORS, httpError } from '../http-errors'

const BYTE_ORDER_MARK = '\uFEFF'

type JsonContainer = Record<string, unknown> | unknown[]

const isContainer = (value: unknown): value is JsonContainer => typeof value === 'object' && value !== null

/**
 * Every key of every object and array in a parsed body, with the value under it and its dotted
 * place. Walks with its own stack: a deeply nested body cannot overflow the call stack.
 */
function* entriesOf(value: unknown): Generator<{ key: string; child: unknown; path: readonly string[] }> {
  const pending: { value: unknown; path: readonly string[] }[] = [{ value, path: [] }]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (!isContainer(next.value)) continue
    // JSON.parse makes `__proto__` an own property like any other: Object.keys lists it.
    for (const key of Object.keys(next.value)) {
      const child: unknown = Array.isArray(next.value) ? next.value[Number(key)] : next.value[key]
      const path = [...next.path, key]
      yield { key, child, path }
      pending.push({ value: child, path })
    }
  }
}

/**
 * The first key that could reach an object's prototype if the body were merged into an object:
 * `__proto__` anywhere, or `constructor` holding a `prototype`. As a dotted path (`data.__proto__`),
 * or null.
 */
function forbiddenKeyPath(value: unknown): string | null {
  for (const { key, child, path } of entriesOf(value)) {
    if (key === '__proto__') return path.join('.')
    if (key === 'constructor' && isContainer(child) && Object.hasOwn(child, 'prototype')) return [...path, 'prototype'].join('.')
  }
  return null
}

/**
 * The first place holding U+0000 (a key or a string value), as a dotted path (`(body)` for a body
 * that is one string), or null. JSON carries it only escaped, so a body without `\u0000` is not walked.
 */
function nulCharacterPath(value: unknown, text: string): string | null {
  if (!text.includes('\\u0000')) return null
  if (typeof value === 'string') return value.includes('\0') ? '(body)' : null
  for (const { key, child, path } of entriesOf(value)) {
    if (key.includes('\0') || (typeof child === 'string' && child.includes('\0'))) return path.join('.')
  }
  return null
}

/** A JSON request body from its bytes; throws the table's AppError for each way it can be wrong. */
function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) throw httpError(HTTP_ERRORS.emptyJson())
  if (!isUtf8(raw)) throw httpError(HTTP_ERRORS.invalidUtf8())
  let text = raw.toString('utf8')
  if (text.startsWith(BYTE_ORDER_MARK)) text = text.slice(1)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw httpError(HTTP_ERRORS.invalidJson())
  }
  const forbidden = forbiddenKeyPath(value)
  if (forbidden !== null) throw httpError(HTTP_ERRORS.forbiddenKey(forbidden))
  const nul = nulCharacterPath(value, text)
  if (nul !== null) throw httpError(HTTP_ERRORS.nulCharacter(nul))
  return value
}

/** Accepts `application/json` bodies only (any charset parameter), parsed by `parseJsonBody`. */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
}
