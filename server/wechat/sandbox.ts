/**
 * The sandbox WeChat: a loopback HTTP server that answers like `api.weixin.qq.com` for the five
 * endpoints this service uses, so the whole system runs and is tested without an AppID.
 *
 * It keeps what WeChat keeps: access tokens (per family, with the 5-minute overlap after a new one),
 * login codes, and the one-time quota per openid × template that the subscribe dialog feeds
 * (`grant`, called by the H5 stand-in dialog through the service). Answers are HTTP 200 with
 * `{ errcode, errmsg, … }` like WeChat's; fault switches make it misbehave deterministically for
 * tests and benchmarks.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SubscribeResult, Template } from '../../src/domain/contract'
import { validateMessageData, type KeywordInput } from '../../src/domain/keywords'
import type { Clock, SubscribeMessage } from './types'

/** The quota a long-term template reports once accepted: it allows any number of sends. */
export const UNLIMITED_QUOTA = 2_147_483_647

const TOKEN_TTL_MS = 7_200_000
/** Stable tokens are renewed this long before expiry; an old token stays valid this long after a new one. */
const TOKEN_OVERLAP_MS = 300_000
const CODE_TTL_MS = 300_000
const MAX_BODY_BYTES = 1_048_576

export interface SandboxWeChatOptions {
  appId: string
  secret: string
  /** The templates this mini-program has added in WeChat's console. */
  templates: Template[]
  /** The mini-program's pages (`pages/orders/index`); a send to another page gets 41030. */
  pages: string[]
  clock: Clock
  /** Default 127.0.0.1 (loopback only). */
  host?: string
}

/** A message the sandbox accepted, in the order accepted. */
export interface SentMessage extends SubscribeMessage {
  msgid: string
  at: Date
}

/** Fault switches; each `setFaults` call changes only the switches it names (0 turns one off). */
export interface SandboxFaults {
  /** Added to every answer, in ms (real time: this is the network). */
  latencyMs?: number
  /**
   * Share of send calls answered -1 (system busy), spread evenly and deterministically:
   * 0.25 answers every 4th call with -1. 0 turns it off.
   */
  busyRate?: number
  /**
   * The next `count` send calls answer `errcode` (any WeChat code, e.g. -1, 45009, 43108);
   * -2 answers HTTP 502 with no WeChat body; `reset` closes the connection without an answer.
   */
  failNext?: { errcode: number | 'reset'; count: number }
  /** Expire every token issued so far, at once (the next calls with them get 42001). */
  expireTokens?: true
}

export interface SandboxStats {
  /** New access tokens issued (by `token` and `stable_token` together). */
  tokenIssued: number
  /** Calls to `token` and `stable_token`, whether or not they issued a new token. */
  tokenCalls: number
  sendCalls: number
}

export interface SandboxWeChat {
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
  received(): SentMessage[]
  setFaults(faults: SandboxFaults): void
  stats(): SandboxStats
}

interface TokenState {
  expiresAt: number
  /** Set when a newer token of the same family replaced it: after this it answers 40001. */
  replacedUntil?: number
}

type WeChatAnswer = { errcode: number; errmsg: string } & Record<string, unknown>

const ok = (fields: Record<string, unknown> = {}): WeChatAnswer => ({ errcode: 0, errmsg: 'ok', ...fields })
const fail = (errcode: number, errmsg: string): WeChatAnswer => ({ errcode, errmsg })

/** Raised inside a handler when the request cannot even be read. */
class BadRequest extends Error {
  constructor(readonly answer: WeChatAnswer) {
    super(answer.errmsg)
  }
}

export function createSandboxWeChat(options: SandboxWeChatOptions): SandboxWeChat {
  const { appId, secret, clock } = options
  const templates = new Map(options.templates.map((template) => [template.id, template]))
  const pages = new Set(options.pages.map((page) => page.replace(/^\//, '')))
  const now = (): number => clock.now().getTime()

  const tokens = new Map<string, TokenState>()
  /** The newest token per family: `token` (each call a new one) and `stable` (shared). */
  const newest: Record<'token' | 'stable', string | null> = { token: null, stable: null }
  const codes = new Map<string, { openid: string; expiresAt: number; used: boolean }>()
  const users = new Map<string, string>()
  const knownOpenids = new Set<string>()
  /** openid → template id → one-time quota left (long-term: UNLIMITED_QUOTA once accepted). */
  const quotas = new Map<string, Map<string, number>>()
  const accepted: SentMessage[] = []
  const counters: SandboxStats = { tokenIssued: 0, tokenCalls: 0, sendCalls: 0 }
  let nextMsgid = 2_170_000_000_000
  let faults: Omit<SandboxFaults, 'expireTokens' | 'failNext'> = {}
  let failNext: { errcode: number | 'reset'; left: number } | null = null
  let busyAccumulator = 0
  let server: Server | null = null
  let url = ''

  // ─── tokens ────────────────────────────────────────────────────────────────

  function issueToken(family: 'token' | 'stable'): { access_token: string; expires_in: number } {
    const at = now()
    const previous = newest[family]
    if (previous !== null) {
      const state = tokens.get(previous)
      if (state && state.replacedUntil === undefined) state.replacedUntil = Math.min(state.expiresAt, at + TOKEN_OVERLAP_MS)
    }
    const token = `${family === 'stable' ? 'S' : 'T'}_${randomBytes(48).toString('base64url')}`
    tokens.set(token, { expiresAt: at + TOKEN_TTL_MS })
    newest[family] = token
    counters.tokenIssued += 1
    return { access_token: token, expires_in: TOKEN_TTL_MS / 1000 }
  }

  /** null when `token` may call the API, else WeChat's answer. */
  function checkToken(token: string | null): WeChatAnswer | null {
    if (!token) return fail(41001, 'access_token missing')
    const state = tokens.get(token)
    const at = now()
    if (!state) return fail(40001, 'invalid credential, access_token is invalid or not latest')
    if (at >= state.expiresAt) return fail(42001, 'access_token expired')
    if (state.replacedUntil !== undefined && at >= state.replacedUntil) {
      return fail(40001, 'invalid credential, access_token is invalid or not latest')
    }
    return null
  }

  function checkCredentials(givenAppId: unknown, givenSecret: unknown): WeChatAnswer | null {
    if (givenAppId !== appId) return fail(40013, 'invalid appid')
    if (givenSecret !== secret) return fail(40125, 'invalid appsecret')
    return null
  }

  function getToken(query: URLSearchParams): WeChatAnswer {
    counters.tokenCalls += 1
    if (query.get('grant_type') !== 'client_credential') return fail(40002, 'invalid grant_type')
    return checkCredentials(query.get('appid'), query.get('secret')) ?? ok(issueToken('token'))
  }

  function stableToken(body: Record<string, unknown>): WeChatAnswer {
    counters.tokenCalls += 1
    if (body.grant_type !== 'client_credential') return fail(40002, 'invalid grant_type')
    const denied = checkCredentials(body.appid, body.secret)
    if (denied) return denied
    const current = newest.stable
    const state = current === null ? undefined : tokens.get(current)
    const reusable = current !== null && state !== undefined && body.force_refresh !== true && state.expiresAt - now() > TOKEN_OVERLAP_MS
    if (reusable) return ok({ access_token: current, expires_in: Math.floor((state.expiresAt - now()) / 1000) })
    return ok(issueToken('stable'))
  }

  // ─── login ─────────────────────────────────────────────────────────────────

  function openidFor(user: string): string {
    let openid = users.get(user)
    if (openid === undefined) {
      // 28 characters like WeChat's, stable for an app and a user name.
      openid = `o${createHash('sha256').update(`${appId}:${user}`).digest('base64url').slice(0, 27)}`
      users.set(user, openid)
      knownOpenids.add(openid)
    }
    return openid
  }

  function issueCode(user: string): string {
    const code = randomBytes(16).toString('hex')
    codes.set(code, { openid: openidFor(user), expiresAt: now() + CODE_TTL_MS, used: false })
    return code
  }

  function jscode2session(query: URLSearchParams): WeChatAnswer {
    const denied = checkCredentials(query.get('appid'), query.get('secret'))
    if (denied) return denied
    if (query.get('grant_type') !== 'authorization_code') return fail(40002, 'invalid grant_type')
    const entry = codes.get(query.get('js_code') ?? '')
    if (!entry || now() >= entry.expiresAt) return fail(40029, 'invalid code')
    if (entry.used) return fail(40163, 'code been used')
    entry.used = true
    return ok({ openid: entry.openid, session_key: randomBytes(16).toString('base64') })
  }

  // ─── quota ─────────────────────────────────────────────────────────────────

  function quotaOf(openid: string): Map<string, number> {
    let perTemplate = quotas.get(openid)
    if (!perTemplate) {
      perTemplate = new Map()
      quotas.set(openid, perTemplate)
    }
    return perTemplate
  }

  function quota(openid: string, templateId: string): number {
    return quotas.get(openid)?.get(templateId) ?? 0
  }

  function grant(openid: string, results: Record<string, SubscribeResult>): Record<string, number> {
    const left: Record<string, number> = {}
    const perTemplate = quotaOf(openid)
    for (const [templateId, result] of Object.entries(results)) {
      const template = templates.get(templateId)
      if (template) {
        const acceptedNow = result === 'accept' || result === 'acceptWithAudio'
        if (template.kind === 'long-term') {
          if (acceptedNow) perTemplate.set(templateId, UNLIMITED_QUOTA)
          else if (result === 'reject' || result === 'ban') perTemplate.delete(templateId)
        } else if (acceptedNow) {
          perTemplate.set(templateId, quota(openid, templateId) + 1)
        }
      }
      left[templateId] = quota(openid, templateId)
    }
    return left
  }

  // ─── send ──────────────────────────────────────────────────────────────────

  /** The fault answer for this send call, if one is due: a WeChat errcode, or a transport failure. */
  function sendFault(): number | 'reset' | null {
    if (failNext !== null && failNext.left > 0) {
      failNext.left -= 1
      const errcode = failNext.errcode
      if (failNext.left === 0) failNext = null
      return errcode
    }
    const rate = faults.busyRate ?? 0
    if (rate > 0) {
      busyAccumulator += rate
      if (busyAccumulator >= 1) {
        busyAccumulator -= 1
        return -1
      }
    }
    return null
  }

  function send(query: URLSearchParams, body: Record<string, unknown>): WeChatAnswer {
    const tokenProblem = checkToken(query.get('access_token'))
    if (tokenProblem) return tokenProblem
    const { touser, template_id: templateId, page, data, miniprogram_state: state, lang } = body
    if (typeof touser !== 'string' || !knownOpenids.has(touser)) return fail(40003, 'invalid openid')
    const template = typeof templateId === 'string' ? templates.get(templateId) : undefined
    if (!template) return fail(40037, 'invalid template_id')
    if (page !== undefined && (typeof page !== 'string' || !pages.has(page.replace(/^\//, '').split('?')[0]!))) {
      return fail(41030, 'invalid page')
    }
    if (state !== undefined && state !== 'developer' && state !== 'trial' && state !== 'formal') {
      return fail(47003, 'argument invalid! miniprogram_state invalid')
    }
    if (lang !== undefined && lang !== 'zh_CN' && lang !== 'en_US' && lang !== 'zh_HK' && lang !== 'zh_TW') {
      return fail(47003, 'argument invalid! lang invalid')
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail(47003, 'argument invalid! data invalid')
    const checked = validateMessageData(template, data as Record<string, KeywordInput>)
    if (!checked.ok) return fail(47003, `argument invalid! ${checked.field} invalid`)

    const left = quota(touser, template.id)
    if (left <= 0) return fail(43101, 'user refuse to accept the msg')
    if (template.kind === 'one-time') quotaOf(touser).set(template.id, left - 1)

    const msgid = nextMsgid++
    const message: SentMessage = { touser, template_id: template.id, data: checked.data, msgid: String(msgid), at: clock.now() }
    if (typeof page === 'string') message.page = page
    if (state !== undefined) message.miniprogram_state = state
    if (lang !== undefined) message.lang = lang
    accepted.push(message)
    // WeChat answers msgid as a JSON number.
    return ok({ msgid })
  }

  // ─── templates ─────────────────────────────────────────────────────────────

  function getTemplates(query: URLSearchParams): WeChatAnswer {
    const tokenProblem = checkToken(query.get('access_token'))
    if (tokenProblem) return tokenProblem
    const data = [...templates.values()].map((template) => {
      const enums = template.keywords.filter((keyword) => keyword.type === 'enum')
      return {
        priTmplId: template.id,
        title: template.title,
        content: template.keywords.map((keyword) => `${keyword.label}:{{${keyword.name}.DATA}}\n`).join(''),
        example: template.keywords.map((keyword) => `${keyword.label}：${keyword.enumValues?.[0] ?? keyword.label}\n`).join(''),
        type: template.kind === 'one-time' ? 2 : 3,
        ...(enums.length > 0
          ? { keywordEnumValueList: enums.map((keyword) => ({ keywordCode: `${keyword.name}.DATA`, enumValueList: keyword.enumValues ?? [] })) }
          : {}),
      }
    })
    return ok({ data })
  }

  // ─── HTTP ──────────────────────────────────────────────────────────────────

  async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of request) {
      const buffer = chunk as Buffer
      size += buffer.length
      if (size > MAX_BODY_BYTES) throw new BadRequest(fail(44002, 'empty post data or post data too long'))
      chunks.push(buffer)
    }
    if (size === 0) throw new BadRequest(fail(44002, 'empty post data'))
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      throw new BadRequest(fail(47001, 'data format error'))
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadRequest(fail(47001, 'data format error'))
    return parsed as Record<string, unknown>
  }

  async function answer(request: IncomingMessage): Promise<WeChatAnswer | 'reset' | 502> {
    const requestUrl = new URL(request.url ?? '/', 'http://sandbox')
    const query = requestUrl.searchParams
    const route = `${request.method ?? 'GET'} ${requestUrl.pathname}`
    switch (route) {
      case 'GET /cgi-bin/token':
        return getToken(query)
      case 'POST /cgi-bin/stable_token':
        return stableToken(await readJson(request))
      case 'GET /sns/jscode2session':
        return jscode2session(query)
      case 'POST /cgi-bin/message/subscribe/send': {
        counters.sendCalls += 1
        const body = await readJson(request)
        const fault = sendFault()
        if (fault === 'reset') return 'reset'
        if (fault === -2) return 502
        if (fault !== null) return fail(fault, `sandbox fault ${fault}`)
        return send(query, body)
      }
      case 'GET /wxaapi/newtmpl/gettemplate':
        return getTemplates(query)
      default:
        return fail(40066, 'invalid url')
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let result: WeChatAnswer | 'reset' | 502
    try {
      result = await answer(request)
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error
      result = error.answer
    }
    if (faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs))
    if (result === 'reset') {
      request.socket.destroy()
      return
    }
    if (result === 502) {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>')
      return
    }
    const body = JSON.stringify(result)
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body)
  }

  return {
    get url() {
      if (!url) throw new Error('沙箱微信尚未启动：先调用 listen()')
      return url
    },
    async listen() {
      if (server) return url
      const created = createServer({ keepAlive: true }, (request, response) => {
        handle(request, response).catch((error: unknown) => {
          // A bug in the sandbox itself: answer 500 so the caller sees a transport failure.
          response.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error))
        })
      })
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject)
        created.listen(0, options.host ?? '127.0.0.1', () => resolve())
      })
      server = created
      const address = created.address() as AddressInfo
      url = `http://${address.address}:${address.port}`
      return url
    },
    async close() {
      const closing = server
      if (!closing) return
      server = null
      await new Promise<void>((resolve, reject) => {
        closing.close((error) => (error ? reject(error) : resolve()))
        closing.closeAllConnections()
      })
    },
    issueCode,
    openidFor,
    grant,
    quota,
    received: () => [...accepted],
    setFaults(next) {
      const { expireTokens, failNext: nextFail, ...rest } = next
      faults = { ...faults, ...rest }
      if (nextFail) failNext = nextFail.count > 0 ? { errcode: nextFail.errcode, left: nextFail.count } : null
      if (expireTokens) {
        const at = now()
        for (const state of tokens.values()) state.expiresAt = Math.min(state.expiresAt, at)
      }
    },
    stats: () => ({ ...counters }),
  }
}
