import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MessageDetail, MessageOutcome, MessageSearchQuery, MessageSearchResult, SendRequest } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

const MessageParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
const SendQuery = Type.Object({
  /** Answer once WeChat answered (or the message was deferred, skipped or failed), not once queued. */
  wait: Type.Optional(Type.Boolean()),
})
/** How long `?wait=true` waits before answering what the message is by then. */
const SEND_WAIT_MS = 30_000

/** Operators (admin key): send a message to anyone, search and read any message with its attempts and history, retry. */
export const messageRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { pipeline, dispatcher, messages, retries, auth }) => {
  app.addHook('onRequest', auth.admin)

  app.post(
    '/api/messages',
    { schema: { querystring: SendQuery, body: SendRequest, response: responses({ 202: MessageOutcome }) } },
    async (request, reply) => {
      const queued = await pipeline.submit({ ...request.body, source: 'admin' })
      const waited = request.query.wait === true && queued.status === 'queued' ? await dispatcher.waitFor(queued.id, SEND_WAIT_MS) : null
      return reply.status(202).send(waited ?? queued)
    },
  )

  app.get(
    '/api/messages',
    { schema: { querystring: MessageSearchQuery, response: responses({ 200: MessageSearchResult }) } },
    async (request) => messages.search(request.query),
  )

  app.post(
    '/api/messages/:id/retry',
    { schema: { params: MessageParams, response: responses({ 202: MessageOutcome }) } },
    async (request, reply) => reply.status(202).send(await retries.retry(request.params.id)),
  )

  app.get(
    '/api/messages/:id',
    { schema: { params: MessageParams, response: responses({ 200: MessageDetail }) } },
    async (request) => messages.detail(request.params.id),
  )
}
