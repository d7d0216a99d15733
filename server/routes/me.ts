import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MyMessageDetail, MyMessageList, Preferences, SubscriptionList } from '../../src/domain/contract'
import { responses, type RouteContext } from './context'

const MessagesQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) })
const DEFAULT_MESSAGE_LIMIT = 50
const MessageParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

/** The signed-in person's own data: subscriptions, preferences, messages. Always the caller's openid. */
export const meRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { ledger, preferences, messages, auth }) => {
  app.addHook('onRequest', auth.user)

  app.get('/api/me/subscriptions', { schema: { response: responses({ 200: SubscriptionList }) } }, async (request) =>
    ledger.subscriptions(request.openid),
  )

  app.get('/api/me/preferences', { schema: { response: responses({ 200: Preferences }) } }, async (request) =>
    preferences.get(request.openid),
  )

  app.put(
    '/api/me/preferences',
    { schema: { body: Preferences, response: responses({ 200: Preferences }) } },
    async (request) => preferences.put(request.openid, request.body),
  )

  app.get(
    '/api/me/messages',
    { schema: { querystring: MessagesQuery, response: responses({ 200: MyMessageList }) } },
    async (request) => messages.mine(request.openid, request.query.limit ?? DEFAULT_MESSAGE_LIMIT),
  )

  app.get(
    '/api/me/messages/:id',
    { schema: { params: MessageParams, response: responses({ 200: MyMessageDetail }) } },
    async (request) => messages.mineOne(request.openid, request.params.id),
  )
}
