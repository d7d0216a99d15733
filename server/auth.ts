/**
 * Who is calling. People hold a session token (POST /api/session, see sessions/sessions.ts);
 * operators hold the admin key, compared in constant time, on sha256 digests so that neither the
 * content nor the length of the key leaks through timing, or an operator session token the console
 * got for the key (POST /api/admin/session, see operators/sessions.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { AppError } from './errors'
import type { OperatorSessionService } from './operators/sessions'
import type { SessionService } from './sessions/sessions'

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's openid, set by the user guard; '' before it ran. */
    openid: string
  }
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

/**
 * Whether a key given is the admin key: their SHA-256 digests compared in constant time (equal lengths
 * whatever was given). The admin key's own digest is made once.
 */
export function adminKeyCheck(adminApiKey: string): (given: string) => boolean {
  const expected = sha256(adminApiKey)
  return (given) => timingSafeEqual(sha256(given), expected)
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (typeof header !== 'string') return null
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match ? match[1]! : null
}

const missing = (): AppError =>
  new AppError(401, 'UNAUTHORIZED', '未登录：请求头需要 Authorization: Bearer <令牌>')

/**
 * Routes run these as `onRequest` hooks: before the body is read, parsed and validated, so a caller
 * without the right credentials learns only that (401/403), never which field of the body is wrong.
 */
export interface AuthGuards {
  /** Requires an unexpired session; sets `request.openid`. */
  user: onRequestAsyncHookHandler
  /** Requires the admin key or a live operator session. */
  admin: onRequestAsyncHookHandler
  /** An operator (as `admin`), else a person's session (as `user`): routes both read. */
  userOrAdmin: onRequestAsyncHookHandler
}

/** Whether the bearer is the admin key or a live operator session; the error to answer otherwise. */
type OperatorCheck = (token: string) => Promise<AppError | null>

/** `userOrAdmin` from the two guards it chooses between. */
export function userOrAdminGuard(user: onRequestAsyncHookHandler, isOperator: OperatorCheck): onRequestAsyncHookHandler {
  return async function (request, reply) {
    const token = bearerToken(request)
    if (token !== null && (await isOperator(token)) === null) return
    await user.call(this, request, reply)
  }
}

export function createAuthGuards(options: {
  sessions: Pick<SessionService, 'openidOf'>
  operators: Pick<OperatorSessionService, 'check'>
  adminApiKey: string
}): AuthGuards & { isOperator: OperatorCheck } {
  const { sessions, operators, adminApiKey } = options
  const isAdminKey = adminKeyCheck(adminApiKey)
  const isOperator: OperatorCheck = async (token) => {
    if (isAdminKey(token)) return null
    const state = await operators.check(token)
    if (state === 'valid') return null
    if (state === 'expired') return new AppError(401, 'UNAUTHORIZED', '登录已过期，请重新输入管理密钥登录')
    return new AppError(403, 'FORBIDDEN', '管理密钥不正确：这个接口只对运营方开放')
  }
  const guards: AuthGuards = {
    async user(request) {
      const token = bearerToken(request)
      if (token === null) throw missing()
      const openid = await sessions.openidOf(token)
      if (openid === null) throw new AppError(401, 'UNAUTHORIZED', '登录已失效或令牌无效，请重新登录')
      request.openid = openid
    },
    async admin(request) {
      const token = bearerToken(request)
      if (token === null) throw missing()
      const refused = await isOperator(token)
      if (refused !== null) throw refused
    },
    userOrAdmin: async () => {},
  }
  guards.userOrAdmin = userOrAdminGuard(guards.user, isOperator)
  return { ...guards, isOperator }
}
