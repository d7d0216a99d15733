/**
 * The real WeChatClient: WeChat's HTTP API over an undici dispatcher (a `Pool` on the API's origin).
 *
 * This is the one place where a WeChat `errcode` becomes the project's own outcome: a `SendOutcome`
 * for sends, a `WeChatError` for everything else, by the tables of src/domain/wechat-errcodes.ts:
 * - 40001, 40014, 42001: renew the token once and call once more;
 * - -1, network errors and HTTP 5xx (errcode -2): bounded retries, exponential backoff with jitter;
 * - 45009, 43108: no call again here: the dispatcher requeues the message for later (WeChat asks to slow down);
 * - anything else (40003, 40037, 41030, 43101, 47003…): no retry.
 * The AppSecret and access tokens never appear in an error or an outcome.
 */
import type { Dispatcher } from 'undici'
import { isRetryableSendErrcode, isTokenErrcode, loginErrcodeRule, TRANSPORT_ERRCODE } from '../../src/domain/wechat-errcodes'
import { backoffDelay, retryPolicy, type RetryOptions, type RetryPolicy } from './retry'
import { TokenKeeper } from './token-keeper'
import {
  WeChatError,
  type Clock,
  type Code2SessionResult,
  type PublicTemplateKeyword,
  type PublicTemplateTitle,
  type SendAttemptRecord,
  type SendOutcome,
  type SubscribeMessage,
  type TokenStore,
  type WeChatCategory,
  type WeChatClient,
  type WeChatTemplate,
} from './types'

export interface HttpWeChatClientOptions {
  /** `https://api.weixin.qq.com`, or the sandbox's loopback URL. */
  baseUrl: string
  appId: string
  secret: string
  /** An undici `Pool` (or any Dispatcher) for `baseUrl`. */
  dispatcher: Dispatcher
  tokenStore: TokenStore
  clock: Clock
  retry?: RetryOptions
  /** Per call: headers and body must arrive within this (default 10 s). */
  timeoutMs?: number
  /** Renew the token this long before it expires (default 5 minutes). */
  refreshAheadMs?: number
}

/** What one HTTP call to WeChat came back with (transport failures as errcode -2). */
interface WeChatReply {
  errcode: number
  errmsg: string
  body: Record<string, unknown>
  /** msgid as WeChat wrote it: a 64-bit number that JSON.parse would round. */
  rawMsgid?: string
}

type Call = (accessToken: string) => Promise<WeChatReply>

/** A request body: JSON, or form-urlencoded where WeChat asks for it (addtemplate). */
type RequestBody = { json: string } | { form: URLSearchParams }

const TEMPLATE_API = '/wxaapi/newtmpl'

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A number WeChat may write as a number or as digits ("categoryId": "616"); NaN when neither. */
const numberOf = (value: unknown): number => (typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN)
const textOf = (value: unknown): string => (typeof value === 'string' ? value : '')

const MSGID = /"msgid"\s*:\s*"?(\d+)"?/

export class HttpWeChatClient implements WeChatClient {
  private readonly origin: string
  private readonly pathPrefix: string
  private readonly retry: RetryPolicy
  private readonly keeper: TokenKeeper
  private readonly timeoutMs: number

  constructor(private readonly options: HttpWeChatClientOptions) {
    const base = new URL(options.baseUrl)
    this.origin = base.origin
    this.pathPrefix = base.pathname.replace(/\/+$/, '')
    this.retry = retryPolicy(options.retry)
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.keeper = new TokenKeeper({
      store: options.tokenStore,
      clock: options.clock,
      sleep: this.retry.sleep,
      fetchToken: (forceRefresh) => this.fetchStableToken(forceRefresh),
      ...(options.refreshAheadMs === undefined ? {} : { refreshAheadMs: options.refreshAheadMs }),
    })
  }

  getAccessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    return options.forceRefresh ? this.keeper.forceRefresh() : this.keeper.getToken()
  }

  async code2Session(jsCode: string): Promise<Code2SessionResult> {
    const { appId, secret } = this.options
    const reply = await this.withRetries(
      () => this.request('GET', '/sns/jscode2session', { appid: appId, secret, js_code: jsCode, grant_type: 'authorization_code' }),
      [],
      (errcode) => loginErrcodeRule(errcode).action === 'retry',
    )
    this.throwUnlessOk(reply)
    const { openid, unionid } = reply.body
    if (typeof openid !== 'string' || openid === '') throw new WeChatError(TRANSPORT_ERRCODE, 'jscode2session answered without an openid')
    // session_key stays here: nothing in this service needs it.
    return typeof unionid === 'string' ? { openid, unionid } : { openid }
  }

  async sendSubscribeMessage(message: SubscribeMessage): Promise<SendOutcome> {
    const body = JSON.stringify(message)
    const attempts: SendAttemptRecord[] = []
    let reply: WeChatReply
    try {
      reply = await this.withToken((token) => this.request('POST', '/cgi-bin/message/subscribe/send', { access_token: token }, { json: body }), attempts)
    } catch (error) {
      // No (new) token could be had: bad AppSecret, stable_token busy or unreachable. `attempts`
      // lists the send calls made before that, if any.
      if (error instanceof WeChatError) return { ok: false, errcode: error.errcode, errmsg: error.errmsg, attempts }
      throw error
    }
    if (reply.errcode === 0) {
      const msgid = reply.rawMsgid ?? (reply.body.msgid === undefined ? '' : String(reply.body.msgid))
      return { ok: true, msgid, attempts }
    }
    return { ok: false, errcode: reply.errcode, errmsg: reply.errmsg, attempts }
  }

  async getTemplateList(): Promise<WeChatTemplate[]> {
    return (await this.templateCall('GET', 'gettemplate', {})).data as WeChatTemplate[]
  }

  async getCategories(): Promise<WeChatCategory[]> {
    const { data } = await this.templateCall('GET', 'getcategory', {})
    return data.filter(isRecord).map((entry) => ({ id: numberOf(entry.id), name: textOf(entry.name) }))
  }

  async getPublicTemplateTitles(query: { ids: readonly number[]; start: number; limit: number }): Promise<{ count: number; titles: PublicTemplateTitle[] }> {
    const params = { ids: query.ids.join(','), start: String(query.start), limit: String(query.limit) }
    const { data, body } = await this.templateCall('GET', 'getpubtemplatetitles', params)
    const titles = data.filter(isRecord).map((entry) => ({
      tid: numberOf(entry.tid),
      title: textOf(entry.title),
      type: numberOf(entry.type) === 3 ? (3 as const) : (2 as const),
      categoryId: numberOf(entry.categoryId),
    }))
    return { count: typeof body.count === 'number' ? body.count : titles.length, titles }
  }

  async getPublicTemplateKeywords(tid: number): Promise<PublicTemplateKeyword[]> {
    const { data } = await this.templateCall('GET', 'getpubtemplatekeywords', { tid: String(tid) })
    return data.filter(isRecord).map((entry) => ({ kid: numberOf(entry.kid), name: textOf(entry.name), example: textOf(entry.example), rule: textOf(entry.rule) }))
  }

  async addTemplate(request: { tid: number; kidList: readonly number[]; sceneDesc?: string }): Promise<string> {
    // Form-urlencoded, kidList repeated (`kidList=1&kidList=2`): WeChat's current doc refuses JSON here.
    const form = new URLSearchParams({ tid: String(request.tid) })
    for (const kid of request.kidList) form.append('kidList', String(kid))
    if (request.sceneDesc !== undefined) form.set('sceneDesc', request.sceneDesc)
    const { body } = await this.templateCall('POST', 'addtemplate', {}, { form })
    if (typeof body.priTmplId !== 'string' || body.priTmplId === '') throw new WeChatError(TRANSPORT_ERRCODE, 'addtemplate answered without a priTmplId')
    return body.priTmplId
  }

  async deleteTemplate(priTmplId: string): Promise<void> {
    await this.templateCall('POST', 'deltemplate', {}, { json: JSON.stringify({ priTmplId }) })
  }

  /** A template-management call: with the token, retried like a send; throws WeChatError unless errcode 0. */
  private async templateCall(
    method: 'GET' | 'POST',
    name: string,
    query: Record<string, string>,
    body?: RequestBody,
  ): Promise<{ data: unknown[]; body: Record<string, unknown> }> {
    const reply = await this.withToken((token) => this.request(method, `${TEMPLATE_API}/${name}`, { ...query, access_token: token }, body), [])
    this.throwUnlessOk(reply)
    const data = reply.body.data
    if (method === 'GET' && !Array.isArray(data)) throw new WeChatError(TRANSPORT_ERRCODE, `${name} answered without a data list`)
    return { data: Array.isArray(data) ? (data as unknown[]) : [], body: reply.body }
  }

  // ─── the policy ────────────────────────────────────────────────────────────

  /** Calls with the current token; a token errcode renews it once and calls once more. */
  private async withToken(call: Call, attempts: SendAttemptRecord[]): Promise<WeChatReply> {
    const token = await this.keeper.getToken()
    const first = await this.withRetries(() => call(token), attempts)
    if (!isTokenErrcode(first.errcode)) return first
    const renewed = await this.keeper.replaceRejected(token)
    return this.withRetries(() => call(renewed), attempts)
  }

  /**
   * Repeats a call while WeChat says "later" (by the API's own table), up to `maxAttempts` calls,
   * waiting longer each time. Each call is added to `attempts`.
   */
  private async withRetries(
    call: () => Promise<WeChatReply>,
    attempts: SendAttemptRecord[],
    retryable: (errcode: number) => boolean = isRetryableSendErrcode,
  ): Promise<WeChatReply> {
    for (let attempt = 0; ; attempt += 1) {
      const at = this.options.clock.now()
      const reply = await call()
      attempts.push({ at, errcode: reply.errcode, errmsg: reply.errmsg })
      if (!retryable(reply.errcode) || attempt + 1 >= this.retry.maxAttempts) return reply
      await this.retry.sleep(backoffDelay(attempt, this.retry))
    }
  }

  private async fetchStableToken(forceRefresh: boolean): Promise<{ token: string; expiresInSeconds: number }> {
    const { appId, secret } = this.options
    const body = JSON.stringify({ grant_type: 'client_credential', appid: appId, secret, force_refresh: forceRefresh })
    const reply = await this.withRetries(() => this.request('POST', '/cgi-bin/stable_token', {}, { json: body }), [])
    this.throwUnlessOk(reply)
    const { access_token: token, expires_in: expiresIn } = reply.body
    if (typeof token !== 'string' || token === '' || typeof expiresIn !== 'number') {
      throw new WeChatError(TRANSPORT_ERRCODE, 'stable_token answered without access_token or expires_in')
    }
    return { token, expiresInSeconds: expiresIn }
  }

  private throwUnlessOk(reply: WeChatReply): void {
    if (reply.errcode !== 0) throw new WeChatError(reply.errcode, reply.errmsg)
  }

  // ─── HTTP ──────────────────────────────────────────────────────────────────

  /** One call. Never rejects: a network error, an HTTP error or an unreadable body is errcode -2. */
  private async request(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: RequestBody): Promise<WeChatReply> {
    const search = new URLSearchParams(query).toString()
    let statusCode: number
    let text: string
    try {
      const response = await this.options.dispatcher.request({
        origin: this.origin,
        path: `${this.pathPrefix}${path}${search ? `?${search}` : ''}`,
        method,
        headers: body === undefined ? {} : { 'content-type': 'json' in body ? 'application/json' : 'application/x-www-form-urlencoded' },
        body: body === undefined ? null : 'json' in body ? body.json : body.form.toString(),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      })
      statusCode = response.statusCode
      text = await response.body.text()
    } catch (error) {
      return this.transportFailure(`network error: ${this.describe(error)}`, query.access_token)
    }
    if (statusCode !== 200) return this.transportFailure(`HTTP ${statusCode}`)
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return this.transportFailure('answer is not JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return this.transportFailure('answer is not a JSON object')
    const answer = parsed as Record<string, unknown>
    const errcode = typeof answer.errcode === 'number' ? answer.errcode : 0
    const errmsg =
      typeof answer.errmsg !== 'string' ? (errcode === 0 ? 'ok' : '') : errcode === 0 ? answer.errmsg : this.redact(answer.errmsg, query.access_token)
    const rawMsgid = MSGID.exec(text)?.[1]
    return { errcode, errmsg, body: answer, ...(rawMsgid === undefined ? {} : { rawMsgid }) }
  }

  private transportFailure(errmsg: string, accessToken?: string): WeChatReply {
    return { errcode: TRANSPORT_ERRCODE, errmsg: this.redact(errmsg, accessToken), body: {} }
  }

  private describe(error: unknown): string {
    if (!(error instanceof Error)) return 'unknown'
    const code = (error as Error & { code?: unknown }).code
    return typeof code === 'string' ? `${code} ${error.message}` : error.message
  }

  /**
   * Takes the AppSecret and any access token out of a text that may be logged or shown: the token
   * this call sent (WeChat may echo it anywhere in an errmsg) and any `access_token=…`.
   */
  private redact(text: string, accessToken?: string): string {
    let clean = this.options.secret === '' ? text : text.split(this.options.secret).join('[secret]')
    if (accessToken !== undefined && accessToken !== '') clean = clean.split(accessToken).join('[access_token]')
    return clean.replace(/access_token=[^&\s"]+/g, 'access_token=[access_token]')
  }
}

/** Builds the client; the caller owns the dispatcher (and closes it on shutdown). */
export function createWeChatClient(options: HttpWeChatClientOptions): WeChatClient {
  return new HttpWeChatClient(options)
}
