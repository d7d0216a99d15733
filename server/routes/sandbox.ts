/**
 * Sandbox mode only (no WECHAT_APPID): what WeChat itself would do for a mini-program, reachable
 * over HTTP so the H5 preview and the browser journeys can play the person and the platform.
 * These routes are not registered at all when the service talks to real WeChat.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  SandboxCodeRequest,
  SandboxCodeResponse,
  SandboxConsentRequest,
  SandboxConsentResponse,
} from '../../src/domain/contract'
import { FaultsRequest, FaultsState, ReceivedList, ReceivedQuery, SandboxStats, type ReceivedMessage } from '../../src/domain/console-contract'
import { AppError } from '../errors'
import type { SentMessage } from '../wechat/sandbox'
import { responses, type RouteContext } from './context'

const IsoTime = Type.String({ description: 'ISO 8601 time' })

const ClockRequest = Type.Object({ now: Type.Union([IsoTime, Type.Null()]) })
const ClockResponse = Type.Object({ now: IsoTime, offsetMs: Type.Integer() })

const SchedulerRunResponse = Type.Object({ processed: Type.Integer({ minimum: 0 }) })

function receivedMessage(message: SentMessage): ReceivedMessage {
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

  /** Every message the sandbox WeChat accepted, in order; `?limit=N`: the newest N of them. */
  app.get('/sandbox/received', { schema: { querystring: ReceivedQuery, response: responses({ 200: ReceivedList }) } }, async (request) => {
    const received = sandbox.received()
    const { limit } = request.query
    return (limit === undefined ? received : received.slice(-limit)).map(receivedMessage)
  })

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

  /** Fault switches of the sandbox WeChat (latency, -1 answers, the next N answers, token expiry). */
  app.put(
    '/sandbox/faults',
    { schema: { body: FaultsRequest, response: responses({ 200: SandboxStats }) } },
    async (request) => {
      sandbox.setFaults(request.body)
      return sandbox.stats()
    },
  )

  /** The fault switches as they are, with the sandbox's counters (the console's 沙盒 page). */
  app.get('/sandbox/faults', { schema: { response: responses({ 200: FaultsState }) } }, async () => ({
    ...sandbox.faults(),
    stats: sandbox.stats(),
  }))
}
