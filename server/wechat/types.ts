/**
 * The WeChat API as the service sees it. The real implementation (undici) and the sandbox both sit
 * behind this interface; the pipeline, routes and tests know nothing else of WeChat.
 * A WeChat `errcode` becomes a `WeChatError` in exactly one place: the client implementation.
 */

export type MiniprogramState = 'formal' | 'trial' | 'developer'
export type MessageLang = 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW'

/** The body of `POST /cgi-bin/message/subscribe/send`, as WeChat names it. */
export interface SubscribeMessage {
  touser: string
  template_id: string
  page?: string
  data: Record<string, { value: string }>
  miniprogram_state?: MiniprogramState
  lang?: MessageLang
}

/** One call to WeChat's send API: what it answered (errcode -2 = network error or HTTP 5xx, no answer). */
export interface SendAttemptRecord {
  at: Date
  errcode: number
  errmsg: string
}

/**
 * The outcome of a send after the client's own retries (token refresh once; backoff on -1,
 * network errors and 5xx). `attempts` lists every call made, in order.
 */
export type SendOutcome =
  | { ok: true; msgid: string; attempts: SendAttemptRecord[] }
  | { ok: false; errcode: number; errmsg: string; attempts: SendAttemptRecord[] }

export interface Code2SessionResult {
  openid: string
  unionid?: string
}

/** A template as `wxaapi/newtmpl/gettemplate` lists it. */
export interface WeChatTemplate {
  priTmplId: string
  title: string
  content: string
  example: string
  /** 2 = one-time, 3 = long-term */
  type: 2 | 3
  keywordEnumValueList?: { keywordCode: string; enumValueList: string[] }[]
}

/** `wxaapi/newtmpl/getcategory`: a category the mini-program may take templates from. */
export interface WeChatCategory {
  id: number
  name: string
}

/** `wxaapi/newtmpl/getpubtemplatetitles`: a template of the public library. */
export interface PublicTemplateTitle {
  tid: number
  title: string
  /** 2 = one-time, 3 = long-term */
  type: 2 | 3
  categoryId: number
}

/** `wxaapi/newtmpl/getpubtemplatekeywords`: a keyword one can pick for a public template. */
export interface PublicTemplateKeyword {
  kid: number
  name: string
  example: string
  /** The keyword type: thing, time… */
  rule: string
}

export interface WeChatClient {
  /** A valid access token, shared by every process on the same database; refreshed before expiry. */
  getAccessToken(options?: { forceRefresh?: boolean }): Promise<string>
  /** Rejects with WeChatError (40029 bad code, 45011, 40226, -1). The session_key never leaves the client. */
  code2Session(jsCode: string): Promise<Code2SessionResult>
  /** Never rejects for a WeChat answer: failures come back as `{ ok: false, errcode }`. */
  sendSubscribeMessage(message: SubscribeMessage): Promise<SendOutcome>
  getTemplateList(): Promise<WeChatTemplate[]>
  // Template management: each rejects with WeChatError (the errcodes: src/domain/wechat-errcodes.ts).
  getCategories(): Promise<WeChatCategory[]>
  /** `limit` at most 30. */
  getPublicTemplateTitles(query: { ids: readonly number[]; start: number; limit: number }): Promise<{ count: number; titles: PublicTemplateTitle[] }>
  getPublicTemplateKeywords(tid: number): Promise<PublicTemplateKeyword[]>
  /** Adds a public template (2–5 keyword ids, in display order) to the mini-program's; returns its priTmplId. */
  addTemplate(request: { tid: number; kidList: readonly number[]; sceneDesc?: string }): Promise<string>
  deleteTemplate(priTmplId: string): Promise<void>
}

/** A WeChat answer with a non-zero errcode (or a transport failure, errcode -2). */
export class WeChatError extends Error {
  override readonly name = 'WeChatError'
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`WeChat errcode ${errcode}: ${errmsg}`)
  }
}

export function isWeChatError(error: unknown): error is WeChatError {
  return error instanceof WeChatError
}

/**
 * Where the shared access token lives (the database in production, memory in unit tests). Every
 * method returns a Promise so that a network database (PostgreSQL, Redis) can implement it; each one
 * is a single atomic operation on the store.
 */
export interface TokenStore {
  read(): Promise<{ token: string; expiresAt: Date } | null>
  write(token: string, expiresAt: Date): Promise<void>
  /**
   * Takes the refresh lease for `ms` if nobody else holds it: the cross-process "one refresh in flight".
   * Resolves false while another process holds an unexpired lease. Checking and taking the lease must
   * be one atomic step (a transaction, `INSERT … ON CONFLICT … WHERE`, `SET NX PX`).
   */
  tryLease(holder: string, ms: number): Promise<boolean>
  /** Gives the lease back, if `holder` still holds it. */
  releaseLease(holder: string): Promise<void>
}

/** Time, injected wherever a rule depends on it. */
export interface Clock {
  now(): Date
}
export const systemClock: Clock = { now: () => new Date() }
