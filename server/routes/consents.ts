import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ConsentRequest, ConsentResponse } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** POST /api/consents: the person's answers in the subscribe dialog become credits (once per consentId). */
export const consentRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { ledger, auth }) => {
  app.post(
    '/api/consents',
    { onRequest: auth.user, schema: { body: ConsentRequest, response: responses({ 200: ConsentResponse }) } },
    async (request) => ledger.recordConsent(request.openid, request.body),
  )
}
