/**
 * The sandbox WeChat: a loopback HTTP server that answers like `api.weixin.qq.com` for the endpoints
 * this service uses, so the whole system runs and is tested without an AppID, and that pushes to the
 * service what WeChat pushes. Its parts, in sandbox/: tokens, login, the quota the subscribe dialog
 * feeds (`grant`, called by the H5 stand-in dialog through the service), send, the public template
 * library, message push, fault switches, HTTP.
 *
 * Pushes (once the service connected its push URL): `subscribe_msg_popup_event` for each dialog
 * answered (`grant`), `subscribe_msg_sent_event` after each accepted send, and
 * `subscribe_msg_change_event` when a test user turns a template off (`turnOff`).
 */
import type { SubscribeResult, Template } from '../../src/domain/contract'
import { isAccept } from '../../src/domain/subscribe-results'
import { fail, type WeChatAnswer } from './sandbox/answers'
import { createFaultSwitches, type FaultState, type SandboxFaults } from './sandbox/faults'
import { createSandboxServer, type SandboxRoutes } from './sandbox/http'
import { createSandboxLibrary } from './sandbox/library'
import { createSandboxLogin } from './sandbox/login'
import { createSandboxPush, type SandboxPush } from './sandbox/push'
import { createSandboxQuota } from './sandbox/quota'
import { createSandboxSend, templateList, type SentMessage } from './sandbox/send'
import { createSandboxTokens } from './sandbox/tokens'
import type { Clock } from './types'

export type { FaultState, SandboxFaults } from './sandbox/faults'
export type { SentMessage } from './sandbox/send'
export type { PushSettings, PushTarget } from './sandbox/push'

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
  /** How a push waits before it is tried again (default: really waits 1 s, then 2 s). */
  pushSleep?: (ms: number) => Promise<void>
}

export interface SandboxStats {
  /** New access tokens issued (by `token` and `stable_token` together). */
  tokenIssued: number
  /** Calls to `token` and `stable_token`, whether or not they issued a new token. */
  tokenCalls: number
  sendCalls: number
}

export interface SandboxWeChat {
  /** The mini-program's AppID it plays WeChat for (what its pushes are encrypted for). */
  readonly appId: string
  /** `http://127.0.0.1:<port>`, known once `listen()` resolved. */
  readonly url: string
  listen(): Promise<string>
  close(): Promise<void>
  /** A `js_code` for the test user `user`, as `wx.login` would give the mini-program (one use, 5 minutes). */
  issueCode(user: string): string
  /** The stable openid of test user `user` (registers the user). */
  openidFor(user: string): string
  /**
   * What the person answered in the subscribe dialog; returns the quota left per template id, and
   * pushes `subscribe_msg_popup_event` for the accepts and rejects.
   */
  grant(openid: string, results: Record<string, SubscribeResult>): Record<string, number>
  /** The person turns templates off (服务通知 → 设置): no quota, and `subscribe_msg_change_event` reject. */
  turnOff(openid: string, templateIds: readonly string[]): Record<string, number>
  quota(openid: string, templateId: string): number
  /** Message push to the service: connected by the service to its push URL. */
  readonly push: Pick<SandboxPush, 'connect' | 'disconnect' | 'settled' | 'history'>
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
  const faults = createFaultSwitches()
  const push = createSandboxPush({ appId, clock, ...(options.pushSleep && { sleep: options.pushSleep }) })
  const library = createSandboxLibrary(templates)
  const sender = createSandboxSend({
    templates,
    pages,
    tokens,
    login,
    quota,
    clock,
    // A delivery fault counts only the reports that are really made.
    onAccepted: (message) => {
      if (!push.connected()) return
      push.send({
        event: 'subscribe_msg_sent_event',
        fromUserName: message.touser,
        items: [{ templateId: message.template_id, msgid: message.msgid, ...faults.nextDelivery() }],
      })
    },
  })
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
    'GET /wxaapi/newtmpl/getcategory': ({ query }) => tokens.check(query.get('access_token')) ?? library.categories(),
    'GET /wxaapi/newtmpl/getpubtemplatetitles': ({ query }) => tokens.check(query.get('access_token')) ?? library.titles(query),
    'GET /wxaapi/newtmpl/getpubtemplatekeywords': ({ query }) => tokens.check(query.get('access_token')) ?? library.keywords(query),
    'POST /wxaapi/newtmpl/addtemplate': async ({ query, form }) => tokens.check(query.get('access_token')) ?? library.add(await form()),
    'POST /wxaapi/newtmpl/deltemplate': async ({ query, json }) => tokens.check(query.get('access_token')) ?? library.remove(await json()),
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
    async close() {
      await push.disconnect()
      await server.close()
    },
    issueCode: login.issueCode,
    openidFor: login.openidFor,
    grant(openid, results) {
      const left = quota.grant(openid, results)
      const items = Object.entries(results)
        .filter(([templateId, result]) => templates.has(templateId) && (isAccept(result) || result === 'reject'))
        .map(([templateId, result]) => ({ templateId, status: isAccept(result) ? 'accept' : 'reject', popupScene: '0' }))
      if (items.length > 0) push.send({ event: 'subscribe_msg_popup_event', fromUserName: openid, items })
      return left
    },
    turnOff(openid, templateIds) {
      const known = templateIds.filter((templateId) => templates.has(templateId))
      const left = Object.fromEntries(known.map((templateId) => [templateId, quota.turnOff(openid, templateId)]))
      if (known.length > 0) {
        push.send({ event: 'subscribe_msg_change_event', fromUserName: openid, items: known.map((templateId) => ({ templateId, status: 'reject' })) })
      }
      return left
    },
    quota: quota.quota,
    push,
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
