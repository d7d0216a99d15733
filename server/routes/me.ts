import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MyMessageList, Preferences, SubscriptionList, type MyMessage } from '../../src/domain/contract'
import type { MessageSummary } from '../db/storage'
import { responses, type RouteContext } from './context'

const MessagesQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) })
const DEFAULT_MESSAGE_LIMIT = 50

function myMessage(message: MessageSummary): MyMessage {
  const item: MyMessage = {
    id: message.id,
    templateId: message.templateId,
    status: message.status,
    createdAt: message.createdAt.toISOString(),
  }
  if (message.reason !== undefined) item.reason = message.reason
  if (message.sentAt !== undefined) item.sentAt = message.sentAt.toISOString()
  if (message.status === 'deferred' && message.deliverAfter !== undefined) item.deliverAfter = message.deliverAfter.toISOString()
  return item
}

/** The signed-in person's own data: subscriptions, preferences, messages. Always the caller's openid. */
export const meRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { ledger, storage, pipeline, clock, auth }) => {
  app.addHook('onRequest', auth.user)

  app.get('/api/me/subscriptions', { schema: { response: responses({ 200: SubscriptionList }) } }, async (request) =>
    ledger.subscriptions(request.openid),
  )

  app.get('/api/me/preferences', { schema: { response: responses({ 200: Preferences }) } }, async (request) =>
    pipeline.preferencesOf(request.openid),
  )

  app.put(
    '/api/me/preferences',
    { schema: { body: Preferences, response: responses({ 200: Preferences }) } },
    async (request) => {
      const { quietHours, dailyLimit, mutedCategories } = request.body
      const preferences = { quietHours, dailyLimit, mutedCategories }
      await storage.preferences.put(request.openid, preferences, clock.now())
      return preferences
    },
  )

  app.get(
    '/api/me/messages',
    { schema: { querystring: MessagesQuery, response: responses({ 200: MyMessageList }) } },
    async (request) => {
      const messages = await storage.messages.listForRecipient(request.openid, request.query.limit ?? DEFAULT_MESSAGE_LIMIT)
      return messages.map(myMessage)
    },
  )
}
