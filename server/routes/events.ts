import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { EventRequest, EventResponse } from '../../src/domain/contract'
import { ORDER_STATUS_TEMPLATE_KEY, orderPage, orderStatusData } from '../messages/order-events'
import { responses, type RouteContext } from './context'

/**
 * POST /api/events: something happened to the caller's order; the service builds the message from
 * its own rules and sends it to the caller only. Answers with the message's outcome, which names the
 * template it was built with (`templateId`): the client offers that template when there was no credit.
 */
export const eventRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { pipeline, templates, clock, config, auth }) => {
  app.post(
    '/api/events',
    { onRequest: auth.user, schema: { body: EventRequest, response: responses({ 200: EventResponse }) } },
    async (request) => {
      const template = templates.find(ORDER_STATUS_TEMPLATE_KEY)
      if (!template) throw new Error(`the template catalogue has no "${ORDER_STATUS_TEMPLATE_KEY}" template`)
      const event = request.body
      const message = await pipeline.submit({
        touser: request.openid,
        templateId: template.id,
        data: orderStatusData(template, event, clock.now(), config.quietHoursTimeZone),
        page: orderPage(event.orderId),
        source: 'event',
        recordInvalidData: true,
      })
      return { message }
    },
  )
}
