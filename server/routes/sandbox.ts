/**
 * Sandbox mode only (no WECHAT_APPID): what WeChat itself would do for a mini-program, reachable
 * over HTTP so the H5 preview and the browser journeys can play the person and the platform.
 * These routes are not registered at all when the service talks to real WeChat.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox'
import {
  SandboxCodeRequest,
  SandboxCodeResponse,
  SandboxConsentRequest,
  SandboxConsentResponse,
  SandboxTurnOffRequest,
} from '../../src/domain/contract'
import { AppError } from '../errors'
import type { SentMessage } from '../wechat/sandbox'
import { responses, type RouteContext } from './context'

const IsoTime = Type.String({ description: 'ISO 8601 time' })

const ReceivedMessage = Type.Object({
  touser: Type.String(),
  template_id: Type.String(),
  page: Type.Optional(Type.String()),
  data: Type.Record(Type.String(), Type.Object({ value: Type.String() })),
  miniprogram_state: Type.Optional(Type.String()),
  lang: Type.Optional(Type.String()),
  msgid: Type.String(),
  at: IsoTime,
})
const ReceivedList = Type.Array(ReceivedMessage)

const ClockRequest = Type.Object({ now: Type.Union([IsoTime, Type.Null()]) })
const ClockResponse = Type.Object({ now: IsoTime, offsetMs: Type.Integer() })

const FaultsRequest = Type.Object({
  latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  busyRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  failNext: Type.Optional(
    Type.Object({
      errcode: Type.Union([Type.Integer(), Type.Literal('reset')]),
      count: Type.Integer({ minimum: 0, maximum: 10_000 }),
    }),
  ),
  expireTokens: Type.Optional(Type.Literal(true)),
  failDeliveries: Type.Optional(
    Type.Object({
      errorCode: Type.Integer(),
      errorStatus: Type.String({ maxLength: 64 }),
      count: Type.Integer({ minimum: 0, maximum: 10_000 }),
    }),
  ),
})
const SandboxStatsBody = Type.Object({ tokenIssued: Type.Integer(), tokenCalls: Type.Integer(), sendCalls: Type.Integer() })

const SchedulerRunResponse = Type.Object({ processed: Type.Integer({ minimum: 0 }) })

function receivedMessage(message: SentMessage): Static<typeof ReceivedMessage> {
  return { ...message, at: message.at.toISOString() }
}

export const sandboxRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, context) => {
  const { sandbox, templates, clock, scheduler, auth } = context
  if (!sandbox) throw new Error('sandbox routes need the sandbox WeChat')

  /** What `wx.login` would give the mini-program of test user `user`. */
  app.post(
    '/sandbox/code',
    { schema: { body: SandboxCodeRequest, response: responses({ 200: SandboxCodeResponse }) } },
    async (request) => ({ code: sandbox.issueCode(request.body.user) }),
  )

  /** The H5 stand-in dialog's answers, fed to the sandbox WeChat as WeChat's own dialog would. */
  app.post(
    '/sandbox/subscriptions',
    { onRequest: auth.user, schema: { body: SandboxConsentRequest, response: responses({ 200: SandboxConsentResponse }) } },
    async (request) => {
      for (const templateId of Object.keys(request.body.results)) {
        if (!templates.byId(templateId)) {
          throw new AppError(400, 'UNKNOWN_TEMPLATE', `results.${templateId}: 没有这个模板 ID`, `results.${templateId}`)
        }
      }
      return { quota: sandbox.grant(request.openid, request.body.results) }
    },
  )

  /** The test user turns templates off in WeChat's 服务通知 settings (the sandbox pushes the change event). */
  app.post(
    '/sandbox/turn-off',
    { onRequest: auth.user, schema: { body: SandboxTurnOffRequest, response: responses({ 200: SandboxConsentResponse }) } },
    async (request) => {
      request.body.templateIds.forEach((templateId, index) => {
        if (!templates.byId(templateId)) {
          throw new AppError(400, 'UNKNOWN_TEMPLATE', `templateIds.${index}: 没有这个模板 ID（${templateId}）`, `templateIds.${index}`)
        }
      })
      return { quota: sandbox.turnOff(request.openid, request.body.templateIds) }
    },
  )

  /** Every message the sandbox WeChat accepted, in order. */
  app.get('/sandbox/received', { schema: { response: responses({ 200: ReceivedList }) } }, async () =>
    sandbox.received().map(receivedMessage),
  )

  /** Moves the service clock (and the sandbox's, which shares it); `null` goes back to real time. */
  app.put(
    '/sandbox/clock',
    { schema: { body: ClockRequest, response: responses({ 200: ClockResponse }) } },
    async (request) => {
      const { now } = request.body
      if (now !== null) {
        const instant = new Date(now)
        if (Number.isNaN(instant.getTime())) {
          throw new AppError(400, 'VALIDATION_FAILED', 'now: 应为 ISO 8601 时间，如 2026-11-25T13:00:00.000Z', 'now')
        }
        clock.set(instant)
      } else {
        clock.set(null)
      }
      return { now: clock.now().toISOString(), offsetMs: clock.offsetMs() }
    },
  )

  app.post('/sandbox/scheduler/run', { schema: { response: responses({ 200: SchedulerRunResponse }) } }, async () =>
    scheduler.runOnce({ settle: true }),
  )

  /** Fault switches of the sandbox WeChat (latency, -1 answers, the next N answers, token expiry, undelivered messages). */
  app.put(
    '/sandbox/faults',
    { schema: { body: FaultsRequest, response: responses({ 200: SandboxStatsBody }) } },
    async (request) => {
      sandbox.setFaults(request.body)
      return sandbox.stats()
    },
  )
}
