import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Timeline, TimelineQuery } from '../../src/domain/console-contract'
import { Stats } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/**
 * GET /api/stats (admin): messages by status, WeChat answers (every attempt) by errcode.
 * GET /api/stats/timeline?range=24h|7d (admin): the same over time, for the console's chart, and today's counts.
 */
export const statsRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { messages, timeline, auth }) => {
  app.get(
    '/api/stats/timeline',
    { onRequest: auth.admin, schema: { querystring: TimelineQuery, response: responses({ 200: Timeline }) } },
    async (request) => timeline.timeline(request.query.range ?? '24h'),
  )

  app.get('/api/stats', { onRequest: auth.admin, schema: { response: responses({ 200: Stats }) } }, async () =>
    messages.stats(),
  )
}
