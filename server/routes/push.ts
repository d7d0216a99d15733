/**
 * GET|POST /wechat/push: WeChat's message push (开发管理 → 开发设置 → 消息推送), registered only while
 * WECHAT_PUSH_TOKEN is set (and in sandbox mode, where the sandbox WeChat pushes). No session, no
 * admin key and no request limit: the signature is the auth (server/wechat/push/receiver.ts), and
 * WeChat, which retries a push three times, must never be locked out.
 *
 * Bodies are XML or JSON as WeChat sends them, whatever Content-Type says: this plugin reads raw
 * bytes instead of the service's JSON-only parser. An accepted push answers `success` (text/plain)
 * once applied, well within WeChat's 5 s.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { PushEvents } from '../push/events'
import { receivePush, verifyPushUrl, type PushSecrets } from '../wechat/push/receiver'
import type { RouteContext } from './context'

const Param = Type.Optional(Type.String({ maxLength: 512 }))
const PushQuery = Type.Object({
  signature: Param,
  timestamp: Param,
  nonce: Param,
  echostr: Param,
  openid: Param,
  encrypt_type: Param,
  msg_signature: Param,
})

/** Where WeChat (and the sandbox WeChat) posts its pushes. */
export const PUSH_PATH = '/wechat/push'

export interface PushEndpoint {
  secrets: PushSecrets
  events: PushEvents
}

export const pushRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { push }) => {
  if (!push) throw new Error('the push routes need the push secrets (WECHAT_PUSH_TOKEN)')
  const { secrets, events } = push

  // This plugin only: raw bytes of any type (XML arrives as text/xml, JSON as application/json).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

  app.get(PUSH_PATH, { schema: { querystring: PushQuery } }, async (request, reply) =>
    reply.type('text/plain; charset=utf-8').send(verifyPushUrl(secrets, request.query)),
  )

  app.post(PUSH_PATH, { schema: { querystring: PushQuery } }, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const { push: received } = receivePush(secrets, request.query, body)
    await events.apply(received)
    return reply.type('text/plain; charset=utf-8').send('success')
  })
}
