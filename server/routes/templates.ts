import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { TemplateList } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

/** GET /api/templates: the catalogue, for a signed-in person or an operator. */
export const templateRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { templates, auth }) => {
  app.get(
    '/api/templates',
    { onRequest: auth.userOrAdmin, schema: { response: responses({ 200: TemplateList }) } },
    async () => [...templates.list()],
  )
}
