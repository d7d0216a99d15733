import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AddTemplateRequest, CatalogueSyncReport, Template, TemplateList } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

const TemplateParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/**
 * GET /api/templates: the catalogue, for a signed-in person or an operator. With the admin key: POST /api/templates
 * (add a template of WeChat's public library), DELETE /api/templates/:id (by id or key), POST
 * /api/templates/sync (the catalogue after WeChat's template list). See server/templates/admin.ts.
 */
export const templateRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { templates, templateAdmin, auth }) => {
  app.get(
    '/api/templates',
    { onRequest: auth.userOrAdmin, schema: { response: responses({ 200: TemplateList }) } },
    async () => [...templates.list()],
  )

  app.post(
    '/api/templates',
    { onRequest: auth.admin, schema: { body: AddTemplateRequest, response: responses({ 201: Template }) } },
    async (request, reply) => reply.status(201).send(await templateAdmin.add(request.body)),
  )

  app.delete(
    '/api/templates/:id',
    { onRequest: auth.admin, schema: { params: TemplateParams, response: responses({ 200: Template }) } },
    async (request) => templateAdmin.remove(request.params.id),
  )

  app.post(
    '/api/templates/sync',
    { onRequest: auth.admin, schema: { response: responses({ 200: CatalogueSyncReport }) } },
    async () => templateAdmin.sync(),
  )
}
