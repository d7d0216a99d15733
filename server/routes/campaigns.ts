import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Campaign, CampaignList, CampaignRequest, RetryCount } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

const CampaignParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/** Operators (admin key): campaigns to segments, their live counts, pause / resume / cancel / retry. */
export const campaignRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { campaigns, auth }) => {
  app.addHook('onRequest', auth.admin)

  app.post('/api/campaigns', { schema: { body: CampaignRequest, response: responses({ 201: Campaign }) } }, async (request, reply) =>
    reply.status(201).send(await campaigns.create(request.body)),
  )
  app.get('/api/campaigns', { schema: { response: responses({ 200: CampaignList }) } }, async () => campaigns.list())

  const one = { schema: { params: CampaignParams, response: responses({ 200: Campaign }) } }
  app.get('/api/campaigns/:id', one, async (request) => campaigns.get(request.params.id))
  app.post('/api/campaigns/:id/pause', one, async (request) => campaigns.pause(request.params.id))
  app.post('/api/campaigns/:id/resume', one, async (request) => campaigns.resume(request.params.id))
  app.post('/api/campaigns/:id/cancel', one, async (request) => campaigns.cancel(request.params.id))
  app.post(
    '/api/campaigns/:id/retry',
    { schema: { params: CampaignParams, response: responses({ 200: RetryCount }) } },
    async (request) => campaigns.retry(request.params.id),
  )
}
