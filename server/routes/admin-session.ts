import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { OperatorSession, OperatorSignInRequest } from '../../src/domain/console-contract'
import { bearerToken } from '../auth'
import { responses, type RouteContext } from './context'

/**
 * The operator console's sign-in: POST /api/admin/session { key } → 201 a session token for the admin
 * key (limited per address like every sign-in); DELETE /api/admin/session (with that token) ends it.
 */
export const adminSessionRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { operators, auth }) => {
  app.post(
    '/api/admin/session',
    { schema: { body: OperatorSignInRequest, response: responses({ 201: OperatorSession }) } },
    async (request, reply) => reply.status(201).send(await operators.signIn(request.body.key)),
  )

  app.delete('/api/admin/session', { onRequest: auth.admin, schema: { response: responses({}) } }, async (request, reply) => {
    await operators.signOut(bearerToken(request)!)
    return reply.status(204).send()
  })
}
