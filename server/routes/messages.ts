import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MessageDetail, MessageOutcome, SendRequest } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

const MessageParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/** Operators (admin key): send a message to anyone, read any message with its attempts and history. */
export const messageRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { pipeline, messages, auth }) => {
  app.addHook('onRequest', auth.admin)

  app.post(
    '/api/messages',
    { schema: { body: SendRequest, response: responses({ 202: MessageOutcome }) } },
    async (request, reply) => {
      const outcome = await pipeline.submit({ ...request.body, source: 'admin' })
      return reply.status(202).send(outcome)
    },
  )

  app.get(
    '/api/messages/:id',
    { schema: { params: MessageParams, response: responses({ 200: MessageDetail }) } },
    async (request) => messages.detail(request.params.id),
  )
}
