import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { EventRequest, EventResponse } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/**
 * POST /api/events: something happened to the caller's order; the service builds the message from
 * its own rules and sends it to the caller only. Answers with the message's outcome, which names the
 * template it was built with (`templateId`): the client offers that template when there was no credit.
 */
export const eventRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { orderEvents, auth }) => {
  app.post(
    '/api/events',
    { onRequest: auth.user, schema: { body: EventRequest, response: responses({ 200: EventResponse }) } },
    async (request) => ({ message: await orderEvents.statusChanged(request.openid, request.body) }),
  )
}
