/**
 * The sandbox's routes (/sandbox/*) have no auth: on loopback they are how the H5 preview and the
 * tests play WeChat. A page of any other site the person has open could still call them from their
 * browser (a form or a `text/plain` fetch needs no CORS preflight) and sign in as anyone, grant
 * consents or move the clock. So a state-changing request to /sandbox/* that carries an `Origin`
 * is accepted only from the service's own origin or one of CORS_ORIGINS. Requests without
 * `Origin` (curl, scripts, tests: nothing a web page can send) are not affected.
 */
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { HTTP_ERRORS, httpError } from '../http-errors'

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])
const SANDBOX_PREFIX = '/sandbox/'

/** `scheme://host[:port]` as a browser serializes it (lower case, no default port), or null. */
function normalizedOrigin(value: string): string | null {
  try {
    const { origin } = new URL(value)
    return origin === 'null' ? null : origin
  } catch {
    return null
  }
}

/** The origin this request was addressed to: its scheme and Host (forwarded ones with TRUST_PROXY). */
function ownOrigin(request: FastifyRequest): string | null {
  return request.host ? normalizedOrigin(`${request.protocol}://${request.host}`) : null
}

/** An `onRequest` hook for the whole app; it looks only at state-changing requests to /sandbox/*. */
export function sandboxOriginGuard(corsOrigins: readonly string[]): onRequestAsyncHookHandler {
  const allowed = new Set(corsOrigins.map(normalizedOrigin).filter((origin): origin is string => origin !== null))
  return async (request) => {
    if (SAFE_METHODS.has(request.method)) return
    if (!request.routeOptions.url?.startsWith(SANDBOX_PREFIX)) return
    const origin = request.headers.origin
    if (origin === undefined) return
    const normalized = normalizedOrigin(origin)
    if (normalized !== null && (normalized === ownOrigin(request) || allowed.has(normalized))) return
    throw httpError(HTTP_ERRORS.crossOriginSandbox(origin))
  }
}
