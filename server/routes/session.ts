import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SessionRequest, SessionResponse } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** POST /api/session { code } → a session token for the openid WeChat knows the code by. */
export const sessionRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { sessions }) => {
  app.post(
    '/api/session',
    { schema: { body: SessionRequest, response: responses({ 200: SessionResponse }) } },
    async (request) => sessions.signIn(request.body.code),
  )
}
