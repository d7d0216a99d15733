/**
 * The sandbox WeChat: a loopback HTTP server that answers like `api.weixin.qq.com` for the endpoints
 * this service uses, so the whole system runs and is tested without an AppID. Its parts, in
 * sandbox/: tokens, login, the quota the subscribe dialog feeds (`grant`, called by the H5 stand-in
 * dialog through the service), send, fault switches, HTTP.
 */
import type { SubscribeResult, Template } from '../../src/domain/contract'
import { fail, type WeChatAnswer } from './sandbox/answers'
import { createFaultSwitches, type FaultState, type SandboxFaults } from './sandbox/faults'
import { createSandboxServer, type SandboxRoutes } from './sandbox/http'
import { createSandboxLogin } from './sandbox/login'
import { createSandboxQuota } from './sandbox/quota'
import { createSandboxSend, templateList, type SentMessage } from './sandbox/send'
import { createSandboxTokens } from './sandbox/tokens'
import type { Clock } from './types'

export type { FaultState, SandboxFaults } from './sandbox/faults'
export type { SentMessage } from './sandbox/send'

export interface SandboxWeChatOptions {
  appId: string
  secret: string
  /** The templates this mini-program has added in WeChat's console. */
  templates: readonly Template[]
  /** The mini-program's pages (`pages/orders/index`); a send to another page gets 41030. */
  pages: readonly string[]
  clock: Clock
  /** Default 127.0.0.1 (loopback only). */
  host?: string
}

export interface SandboxStats {
  /** New access tokens issued (by `token` and `stable_token` together). */
  tokenIssued: number
  /** Calls to `token` and `stable_token`, whether or not they issued a new token. */
  tokenCalls: number
  sendCalls: number
}

export interface SandboxWeChat {
  /** The AppID it plays WeChat for. */
  readonly appId: string
  /** `http://127.0.0.1:<port>`, known once `listen()` resolved. */
  readonly url: string
  listen(): Promise<string>
  close(): Promise<void>
  /** A `js_code` for the test user `user`, as `wx.login` would give the mini-program (one use, 5 minutes). */
  issueCode(user: string): string
  /** The stable openid of test user `user` (registers the user). */
  openidFor(user: string): string
  /** What the person answered in the subscribe dialog; returns the quota left per template id. */
  grant(openid: string, results: Record<string, SubscribeResult>): Record<string, number>
  quota(openid: string, templateId: string): number
  /**
   * What this sandbox forgot when the process restarted, from the service's database: `openid` is a
   * user again, and each template without a count of its own gets `quota` (one with a count keeps it).
   */
  remember(openid: string, quota: Record<string, number>): void
  received(): SentMessage[]
  setFaults(faults: SandboxFaults): void
  /** The fault switches as they are now. */
  faults(): FaultState
  stats(): SandboxStats
}

export function createSandboxWeChat(options: SandboxWeChatOptions): SandboxWeChat {
  const { appId, secret, clock } = options
  const templates = new Map(options.templates.map((template) => [template.id, template]))
  const pages = new Set(options.pages.map((page) => page.replace(/^\//, '')))
  const tokens = createSandboxTokens(clock)
  const login = createSandboxLogin(appId, clock)
  const quota = createSandboxQuota(templates)
  const sender = createSandboxSend({ templates, pages, tokens, login, quota, clock })
  const faults = createFaultSwitches()
  const counters = { tokenCalls: 0, sendCalls: 0 }
  let url = ''

  function credentialsProblem(givenAppId: unknown, givenSecret: unknown): WeChatAnswer | null {
    if (givenAppId !== appId) return fail(40013, 'invalid appid')
    if (givenSecret !== secret) return fail(40125, 'invalid appsecret')
    return null
  }

  const routes: SandboxRoutes = {
    'GET /cgi-bin/token': ({ query }) => {
      counters.tokenCalls += 1
      if (query.get('grant_type') !== 'client_credential') return fail(40002, 'invalid grant_type')
      return credentialsProblem(query.get('appid'), query.get('secret')) ?? tokens.token()
    },
    'POST /cgi-bin/stable_token': async ({ json }) => {
      counters.tokenCalls += 1
      const body = await json()
      if (body.grant_type !== 'client_credential') return fail(40002, 'invalid grant_type')
      return credentialsProblem(body.appid, body.secret) ?? tokens.stableToken(body.force_refresh === true)
    },
    'GET /sns/jscode2session': ({ query }) => {
      const denied = credentialsProblem(query.get('appid'), query.get('secret'))
      if (denied) return denied
      if (query.get('grant_type') !== 'authorization_code') return fail(40002, 'invalid grant_type')
      return login.jscode2session(query.get('js_code') ?? '')
    },
    'POST /cgi-bin/message/subscribe/send': async ({ query, json }) => {
      counters.sendCalls += 1
      const body = await json()
      const fault = faults.nextSendFault()
      if (fault === 'reset') return 'reset'
      if (fault === -2) return 502
      if (fault !== null) return fail(fault, `sandbox fault ${fault}`)
      return sender.send(query.get('access_token'), body)
    },
    'GET /wxaapi/newtmpl/gettemplate': ({ query }) => tokens.check(query.get('access_token')) ?? templateList(templates.values()),
  }
  const server = createSandboxServer(routes, faults.latencyMs)

  return {
    appId,
    get url() {
      if (!url) throw new Error('沙箱微信尚未启动：先调用 listen()')
      return url
    },
    async listen() {
      url = await server.listen(options.host ?? '127.0.0.1')
      return url
    },
    close: () => server.close(),
    issueCode: login.issueCode,
    openidFor: login.openidFor,
    grant: quota.grant,
    quota: quota.quota,
    remember(openid, quotas) {
      login.remember(openid)
      for (const [templateId, count] of Object.entries(quotas)) quota.restore(openid, templateId, count)
    },
    received: sender.received,
    setFaults(next) {
      const { expireTokens, ...switches } = next
      faults.set(switches)
      if (expireTokens) tokens.expireAll()
    },
    faults: () => faults.current(),
    stats: () => ({ tokenIssued: tokens.issued(), ...counters }),
  }
}
