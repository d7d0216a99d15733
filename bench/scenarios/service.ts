/**
 * Scenario 2: the service end to end over real HTTP. The service runs in its own process, as
 * `npm start` runs it against WeChat (SQLite file, undici Pool, message push configured), listening
 * on 127.0.0.1 port 0; WeChat is the sandbox in a third process, which answers the sends and pushes
 * each delivery event to the service as WeChat does, so the service's figures are the service's own
 * work. This process is the load generator (undici `request` over a Pool of one connection per caller).
 *
 * Setup (not measured): test users sign in (a code from the sandbox, POST /api/session) and raise
 * their daily limit to 100; the sandbox's quota is granted as WeChat's dialog would.
 * Measured, at concurrency 50: POST /api/consents (one accept each: the credits the sends spend),
 * then admin POST /api/messages (validate → write `queued` → 202; the dispatcher sends meanwhile, in
 * the same process), with the service's CPU per admin send. Afterwards (not measured) the dispatcher
 * is waited for: every message must end `sent`, with one WeChat call each.
 */
import { performance } from 'node:perf_hooks'
import type { ConsentRequest, MessageOutcome, Preferences, SendRequest, SessionResponse, Stats } from '../../src/domain/contract'
import { ORDER_DATA, ORDER_STATUS } from '../support/fixtures'
import { httpClient, type HttpClient } from '../support/http'
import { measure, runLoad, summarizeRuns, type RateSummary } from '../support/load'
import type { ServerProcess } from '../support/server-control'

/** The highest daily limit the contract allows: sends per person per day. */
const DAILY_LIMIT = 100

export interface ServicePlan {
  concurrency: number
  warmups: number
  runs: number
  /** Consents per run, and messages per run. */
  perRun: number
  /** Safety bound of one run. */
  maxRunMs: number
}

export interface ServiceResult {
  concurrency: number
  users: number
  consents: RateSummary
  messages: RateSummary
  /** Admin sends by the status they were answered with (202), all runs (all must be `queued`). */
  messageStatuses: Record<string, number>
  /** The admin sends by status once the dispatcher has finished them (all must be `sent`). */
  finalStatuses: Record<string, number>
  /** How long the dispatcher took after the last 202 to finish the queue, in ms. */
  drainMs: number
  /** Send calls the sandbox WeChat received for the admin sends. */
  wechatSendCalls: number
  /** The service process's CPU (user + system) per admin send, in µs, from the first measured send until the queue was drained. */
  serviceCpuMicrosPerSend: number
}

/** The processes of the scenario: the service, and the sandbox WeChat it calls (and that pushes to it). */
export interface ServiceProcesses {
  service: ServerProcess
  sandbox: ServerProcess
}

const UNFINISHED = ['queued', 'sending', 'deferred']

/** The messages by status once none is unfinished (queued, sending, deferred), or after `maxMs`. */
async function drained(http: HttpClient, adminKey: string, maxMs: number): Promise<Record<string, number>> {
  const deadline = performance.now() + maxMs
  for (;;) {
    const { byStatus } = await http.call<Stats>('GET', '/api/stats', 200, undefined, adminKey)
    if (UNFINISHED.every((status) => (byStatus[status] ?? 0) === 0) || performance.now() > deadline) return byStatus
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function benchService({ service, sandbox }: ServiceProcesses, plan: ServicePlan): Promise<ServiceResult> {
  const { serviceUrl, adminKey } = service.ready
  if (serviceUrl === null || adminKey === null) throw new Error('服务场景需要以 service 角色启动的进程')
  const http = httpClient(serviceUrl, plan.concurrency)
  const totalPerPhase = (plan.warmups + plan.runs) * plan.perRun
  const userCount = Math.ceil(totalPerPhase / DAILY_LIMIT)
  try {
    // ─── setup ──────────────────────────────────────────────────────────────
    const users = Array.from({ length: userCount }, (_, i) => `bench-user-${i}`)
    const sessions: SessionResponse[] = new Array<SessionResponse>(userCount)
    const preferences: Preferences = { quietHours: null, dailyLimit: DAILY_LIMIT, mutedCategories: [] }
    const { codes } = await sandbox.control('codes', { users })
    await runLoad({
      concurrency: 8,
      maxCount: userCount,
      maxDurationMs: plan.maxRunMs,
      task: async (i) => {
        const session = await http.call<SessionResponse>('POST', '/api/session', 200, { code: codes[i] })
        await http.call('PUT', '/api/me/preferences', 200, preferences, session.token)
        sessions[i] = session
      },
    })
    if (sessions.filter(Boolean).length !== userCount) throw new Error(`只有 ${sessions.filter(Boolean).length} / ${userCount} 个测试用户登录成功`)
    await sandbox.control('grant', { users, templateId: ORDER_STATUS.id, times: DAILY_LIMIT })
    // WeChat pushes a popup event for each of those accepts: let the service take them all before measuring.
    await sandbox.control('pushesSettled', {})

    // ─── consents: each adds one credit for order_status ────────────────────
    const consentRuns = await measure(plan, (runIndex) => {
      const offset = (runIndex + plan.warmups) * plan.perRun
      return runLoad({
        concurrency: plan.concurrency,
        maxCount: plan.perRun,
        maxDurationMs: plan.maxRunMs,
        task: async (i) => {
          const n = offset + i
          const consent: ConsentRequest = { consentId: `bench-consent-${n}`, results: { [ORDER_STATUS.id]: 'accept' } }
          await http.call('POST', '/api/consents', 200, consent, sessions[n % userCount]!.token)
        },
      })
    })

    // ─── admin sends ────────────────────────────────────────────────────────
    const messageStatuses: Record<string, number> = {}
    const before = await sandbox.control('stats', {})
    const cpuBefore = (await service.control('usage', {})).cpuMicros
    const messageRuns = await measure(plan, (runIndex) => {
      const offset = (runIndex + plan.warmups) * plan.perRun
      return runLoad({
        concurrency: plan.concurrency,
        maxCount: plan.perRun,
        maxDurationMs: plan.maxRunMs,
        task: async (i) => {
          const send: SendRequest = { touser: sessions[(offset + i) % userCount]!.openid, templateId: ORDER_STATUS.key, data: ORDER_DATA }
          const outcome = await http.call<MessageOutcome>('POST', '/api/messages', 202, send, adminKey)
          const key = outcome.reason === undefined ? outcome.status : `${outcome.status} ${outcome.reason}`
          messageStatuses[key] = (messageStatuses[key] ?? 0) + 1
        },
      })
    })
    const drainStarted = performance.now()
    const finalStatuses = await drained(http, adminKey, plan.maxRunMs)
    const drainMs = performance.now() - drainStarted
    // Every delivery event pushed, and taken by the service: part of what a send costs it.
    await sandbox.control('pushesSettled', {})
    const after = await sandbox.control('stats', {})
    const cpuAfter = (await service.control('usage', {})).cpuMicros
    const sends = (plan.warmups + plan.runs) * plan.perRun

    return {
      concurrency: plan.concurrency,
      users: userCount,
      consents: summarizeRuns(consentRuns),
      messages: summarizeRuns(messageRuns),
      messageStatuses,
      finalStatuses,
      drainMs,
      wechatSendCalls: after.sendCalls - before.sendCalls,
      serviceCpuMicrosPerSend: (cpuAfter - cpuBefore) / sends,
    }
  } finally {
    await http.close()
  }
}
