import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SessionRequest, SessionResponse } from '../../src/domain/contract'
import { hashSessionToken, newSessionToken } from '../auth'
import { AppError } from '../errors'
import { isWeChatError, type WeChatError } from '../wechat/types'
import { responses, type RouteContext } from './context'

const HOUR_MS = 3_600_000

/** WeChat's answers to a bad login, as the caller's errors. */
function sessionError(error: WeChatError): AppError {
  if (error.errcode === 40029 || error.errcode === 40163) {
    return new AppError(401, 'INVALID_CODE', 'code: 登录凭证无效或已使用，请重新调用 uni.login 获取', 'code')
  }
  if (error.errcode === 45011) return new AppError(429, 'RATE_LIMITED', '登录太频繁（每人每分钟最多 100 次），请稍后再试')
  if (error.errcode === 40226) return new AppError(403, 'FORBIDDEN', '微信判定这个用户为高风险用户，拒绝登录')
  return new AppError(502, 'WECHAT_UNAVAILABLE', `微信登录接口暂时不可用（错误码 ${error.errcode}），请稍后再试`)
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
      await storage.sessions.deleteAllButNewest(openid, config.sessionsPerUser)
      return { token, openid, expiresAt: expiresAt.toISOString() }
    },
  )
}
