import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MessageDetail, MessageOutcome, SendRequest, type MessageDetail as MessageDetailBody } from '../../src/domain/contract'
import type { MessageRecord } from '../db/storage'
import { AppError } from '../errors'
import { responses, type RouteContext } from './context'

const MessageParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

function messageDetail(message: MessageRecord): MessageDetailBody {
  const detail: MessageDetailBody = {
    id: message.id,
    touser: message.openid,
    templateId: message.templateId,
    status: message.status,
    data: message.data,
    urgent: message.urgent,
    createdAt: message.createdAt.toISOString(),
    attempts: message.attempts.map((attempt) => ({ ...attempt, at: attempt.at.toISOString() })),
    history: message.history.map((change) => ({
      at: change.at.toISOString(),
      status: change.status,
      ...(change.reason !== undefined && { reason: change.reason }),
    })),
  }
  if (message.reason !== undefined) detail.reason = message.reason
  if (message.page !== undefined) detail.page = message.page
  if (message.msgid !== undefined) detail.msgid = message.msgid
  if (message.sentAt !== undefined) detail.sentAt = message.sentAt.toISOString()
  if (message.deliverAfter !== undefined) detail.deliverAfter = message.deliverAfter.toISOString()
  return detail
}

/** Operators (admin key): send a message to anyone, read any message with its attempts and history. */
export const messageRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { pipeline, storage, auth }) => {
  app.addHook('onRequest', auth.admin)

  app.post(
    '/api/messages',
    { schema: { body: SendRequest, response: responses({ 202: MessageOutcome }) } },
    async (request, reply) => {
      const { body } = request
      const outcome = await pipeline.submit({
        touser: body.touser,
        templateId: body.templateId,
        data: body.data,
        ...(body.page !== undefined && { page: body.page }),
        ...(body.urgent !== undefined && { urgent: body.urgent }),
        ...(body.lang !== undefined && { lang: body.lang }),
        ...(body.idempotencyKey !== undefined && { idempotencyKey: body.idempotencyKey }),
        ...(body.truncate !== undefined && { truncate: body.truncate }),
        source: 'admin',
      })
      return reply.status(202).send(outcome)
    },
  )

  app.get(
    '/api/messages/:id',
    { schema: { params: MessageParams, response: responses({ 200: MessageDetail }) } },
    async (request) => {
      const message = await storage.messages.get(request.params.id)
      if (!message) throw new AppError(404, 'NOT_FOUND', `没有这条消息（${request.params.id}）`)
      return messageDetail(message)
    },
  )
}
