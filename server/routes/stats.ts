import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Stats } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** GET /api/stats (admin): messages by status, WeChat answers (every attempt) by errcode. */
export const statsRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { messages, auth }) => {
  app.get('/api/stats', { onRequest: auth.admin, schema: { response: responses({ 200: Stats }) } }, async () =>
    messages.stats(),
  )
}
