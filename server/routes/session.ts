import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SessionRequest, SessionResponse } from '../../src/domain/contract'
import { hashSessionToken, newSessionToken } from '../auth'
import { loginErrcodeRule } from '../../src/domain/wechat-errcodes'
import { AppError } from '../errors'
import { isWeChatError, type WeChatError } from '../wechat/types'
import { responses, type RouteContext } from './context'

const HOUR_MS = 3_600_000

/** WeChat's answer to a bad login (read in wechat-errcodes.ts), as the caller's error. */
function sessionError(error: WeChatError): AppError {
  const { failure, message } = loginErrcodeRule(error.errcode)
  switch (failure) {
    case 'invalid-code':
      return new AppError(401, 'INVALID_CODE', message, 'code')
    case 'rate-limited':
      return new AppError(429, 'RATE_LIMITED', message)
    case 'refused':
      return new AppError(403, 'FORBIDDEN', message)
    case 'unavailable':
      return new AppError(502, 'WECHAT_UNAVAILABLE', message)
  }
}

/** POST /api/session { code } → a session token for the openid WeChat knows the code by. */
export const sessionRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { wechat, storage, clock, config }) => {
  app.post(
    '/api/session',
    { schema: { body: SessionRequest, response: responses({ 200: SessionResponse }) } },
    async (request) => {
      let openid: string
      try {
        ;({ openid } = await wechat.code2Session(request.body.code))
      } catch (error) {
        throw isWeChatError(error) ? sessionError(error) : error
      }
      const token = newSessionToken()
      const now = clock.now()
      const expiresAt = new Date(now.getTime() + config.sessionTtlHours * HOUR_MS)
      await storage.sessions.deleteExpired(now)
      await storage.sessions.create({ tokenHash: hashSessionToken(token), openid, createdAt: now, expiresAt })
      return { token, openid, expiresAt: expiresAt.toISOString() }
    },
  )
}
