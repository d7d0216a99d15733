/**
 * The two targets of the service contract suite, behind one small driver:
 *
 * - `service`: the real service (buildApp) through `app.inject()`, in sandbox mode, on a fresh SQLite
 *   file, with the real undici WeChat client talking to the sandbox WeChat on loopback, as
 *   `npm run server` runs without WECHAT_APPID (tests/server/support/service.ts startSandboxService).
 * - `fake`: the client tests' FakeService (tests/support/fake-service.ts) in sandbox mode, through
 *   its `handle`, as the client's transports call it.
 *
 * Both are driven over HTTP only. Sign-in is POST /sandbox/code → POST /api/session on both; time
 * moves through the one injected clock both read (the service's clock and its sandbox WeChat's).
 * The real service's sandbox WeChat pushes its events (popup, change, sent) without waiting:
 * `settled()` waits until the service has answered them; the fake applies them at once.
 */
import { SandboxCodeResponse, SessionResponse } from '../../../src/domain/contract'
import { createManualClock, type ManualClock } from '../../../server/clock'
import { NOON_SHANGHAI, startSandboxService, testConfig } from '../../server/support/service'
import { FakeService } from '../../support/fake-service'
import { Value } from 'typebox/value'

export interface ContractRequest {
  method: 'GET' | 'POST' | 'PUT'
  url: string
  /** A JSON body (sent as `application/json`). */
  body?: unknown
  /** A session token, sent as `Authorization: Bearer <token>`. */
  token?: string
}

export interface ContractAnswer {
  statusCode: number
  /** The parsed JSON body. */
  body: unknown
}

export interface ServiceDriver {
  request(request: ContractRequest): Promise<ContractAnswer>
  /** Signs test user `user` in over HTTP (POST /sandbox/code → POST /api/session). */
  signIn(user: string): Promise<SignedIn>
  /** The clock the service (and its WeChat) reads; starts at 2026-11-25 13:00 in Shanghai. */
  readonly clock: ManualClock
  /** Resolves once the service has answered every push its WeChat made so far. */
  settled(): Promise<void>
  close(): Promise<void>
}

export interface SignedIn {
  token: string
  openid: string
}

export interface ServiceTarget {
  name: 'service' | 'fake'
  start(): Promise<ServiceDriver>
}

const headers = (token?: string): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` })

/** Sign-in the way the H5 app does it in sandbox mode, over `request` only. */
function signInOver(request: ServiceDriver['request']): ServiceDriver['signIn'] {
  return async (user) => {
    const code = await request({ method: 'POST', url: '/sandbox/code', body: { user } })
    if (code.statusCode !== 200 || !Value.Check(SandboxCodeResponse, code.body)) throw new Error(`POST /sandbox/code: ${JSON.stringify(code)}`)
    const session = await request({ method: 'POST', url: '/api/session', body: { code: code.body.code } })
    if (session.statusCode !== 200 || !Value.Check(SessionResponse, session.body)) throw new Error(`POST /api/session: ${JSON.stringify(session)}`)
    return { token: session.body.token, openid: session.body.openid }
  }
}

export const realService: ServiceTarget = {
  name: 'service',
  async start() {
    const clock = createManualClock(NOON_SHANGHAI)
    // One service serves the whole suite, signing in a few people per scenario from one address.
    const service = await startSandboxService({ manual: clock, config: testConfig({ RATE_LIMIT_SIGN_INS_PER_MINUTE: '100000' }) })
    const request: ServiceDriver['request'] = async ({ method, url, body, token }) => {
      const response = await service.app.inject({ method, url, headers: headers(token), ...(body !== undefined && { payload: body as object }) })
      return { statusCode: response.statusCode, body: response.body === '' ? undefined : (JSON.parse(response.body) as unknown) }
    }
    return { request, signIn: signInOver(request), clock, settled: () => service.settled(), close: () => service.close() }
  },
}

export const fakeService: ServiceTarget = {
  name: 'fake',
  async start() {
    const clock = createManualClock(NOON_SHANGHAI)
    const fake = new FakeService({ sandbox: true, now: () => clock.now() })
    const request: ServiceDriver['request'] = async ({ method, url, body, token }) => {
      const answer = fake.handle({ method, url, header: headers(token), ...(body !== undefined && { data: body }) })
      return { statusCode: answer.statusCode, body: answer.data }
    }
    return { request, signIn: signInOver(request), clock, settled: async () => {}, close: async () => {} }
  },
}

export const SERVICE_TARGETS: readonly ServiceTarget[] = [realService, fakeService]
