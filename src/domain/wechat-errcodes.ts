/**
 * WeChat's errcodes, one table per server API this project calls: what the caller does about each
 * code, and what it means for an operator and for the person. Data first, functions over it; the
 * WeChat client and the routes read codes only through these functions.
 *
 * - `subscribeMessage.send` (and the token calls a send depends on): retry, refresh the token or
 *   fail, and what becomes of the person's credit.
 * - `jscode2session` (sign-in): which failure it is, and whether to retry.
 * - Template management (`wxaapi/newtmpl/*`: getcategory, getpubtemplatetitles,
 *   getpubtemplatekeywords, addtemplate, deltemplate, gettemplate): which parameter WeChat refused, and
 *   what the admin API answers.
 */

/** Our own errcode for a call that got no WeChat answer: a network error or an HTTP 5xx. */
export const TRANSPORT_ERRCODE = -2

/**
 * What a sender does after an answer: `retry` the call at once (with a short backoff, inside the
 * WeChat client), `requeue` the message for later (the dispatcher: WeChat asks to slow down),
 * `refresh-token` and call once more, or `fail`.
 */
export type SendErrcodeAction = 'sent' | 'refresh-token' | 'retry' | 'requeue' | 'fail'

/**
 * What becomes of the credit spent for a send that failed in the end:
 * `refund` WeChat did not use the person's consent, give it back; `zero` WeChat says there is no
 * consent left, set the credits to zero; `keep` unknown outcome, count it as used (never risk a send
 * without consent).
 */
export type CreditAfterFailure = 'refund' | 'zero' | 'keep'

export interface SendErrcodeRule {
  action: SendErrcodeAction
  /** When the send finally fails with this code (for `retry`/`refresh-token`: retries exhausted). */
  credit: CreditAfterFailure
  /** For operators, in Chinese. */
  message: string
  /** For the person the message was meant for (消息记录), where it says more than an errcode would. */
  forPerson?: string
  /** For `requeue`: who waits — every send (a limit on the whole AppID) or only this recipient's. */
  waits?: 'everyone' | 'recipient'
}

const SEND_ERRCODES: Readonly<Record<number, SendErrcodeRule>> = {
  0: { action: 'sent', credit: 'keep', message: '微信已接收这条消息' },
  [-1]: { action: 'retry', credit: 'refund', message: '微信系统繁忙，稍后重试', forPerson: '微信系统繁忙' },
  [TRANSPORT_ERRCODE]: { action: 'retry', credit: 'refund', message: '连接微信服务器失败（网络错误或服务器错误），稍后重试', forPerson: '连接微信服务器失败' },
  40001: { action: 'refresh-token', credit: 'refund', message: 'access_token 无效（可能已被另一次刷新取代），刷新后重试一次' },
  40014: { action: 'refresh-token', credit: 'refund', message: 'access_token 不合法，刷新后重试一次' },
  42001: { action: 'refresh-token', credit: 'refund', message: 'access_token 已过期，刷新后重试一次' },
  40003: { action: 'fail', credit: 'refund', message: '接收者 openid 无效（touser 不是本小程序的用户）', forPerson: '接收人无效' },
  40037: { action: 'fail', credit: 'refund', message: '模板 ID 无效：模板不存在或不属于本小程序', forPerson: '消息模板已失效' },
  41030: { action: 'fail', credit: 'refund', message: '跳转页面 page 无效：不是小程序已发布的页面', forPerson: '消息要打开的页面无效' },
  43101: { action: 'fail', credit: 'zero', message: '用户没有订阅这个模板，或订阅次数已用完', forPerson: '你还没有订阅这类消息，或订阅次数已用完' },
  43108: { action: 'requeue', waits: 'recipient', credit: 'refund', message: '同时向同一用户发送的请求过多，稍后重试', forPerson: '发送太频繁，微信暂停了发送' },
  45009: { action: 'requeue', waits: 'everyone', credit: 'refund', message: '调用次数超过微信的频率或额度限制，整体放慢后重试', forPerson: '发送太频繁，微信暂停了发送' },
  47003: { action: 'fail', credit: 'refund', message: '消息内容不符合模板关键词的格式要求', forPerson: '消息内容不符合模板的要求' },
  47001: { action: 'fail', credit: 'refund', message: '请求内容不是微信要求的 JSON 格式' },
  // No access token could be had, so nothing was sent: the service's configuration is wrong.
  40013: { action: 'fail', credit: 'refund', message: 'AppID 无效：检查 WECHAT_APPID' },
  40125: { action: 'fail', credit: 'refund', message: 'AppSecret 无效：检查 WECHAT_SECRET（在微信后台重置后要同步更新）' },
  40164: { action: 'fail', credit: 'refund', message: '服务器 IP 不在小程序的 IP 白名单中：在微信后台添加本机出口 IP' },
  41001: { action: 'fail', credit: 'refund', message: '请求缺少 access_token' },
}

const UNKNOWN: SendErrcodeRule = { action: 'fail', credit: 'keep', message: '微信返回了未知错误' }

function ruleFor(errcode: number): SendErrcodeRule {
  return Object.hasOwn(SEND_ERRCODES, errcode) ? SEND_ERRCODES[errcode]! : UNKNOWN
}

/** What to do after WeChat answered `errcode` (unknown codes: fail, no retry). */
export function sendErrcodeAction(errcode: number): SendErrcodeAction {
  return ruleFor(errcode).action
}

/**
 * What happens to the credit when the send ended with `errcode` (after the client's retries):
 * refunded when WeChat did not spend the consent, zero on 43101, kept for codes we do not know.
 */
export function creditAfterFailure(errcode: number): CreditAfterFailure {
  return ruleFor(errcode).credit
}

/** A Chinese explanation of `errcode` for operators and people, e.g. `43101 用户没有订阅…`. */
export function sendErrcodeMessage(errcode: number): string {
  const rule = ruleFor(errcode)
  return rule === UNKNOWN ? `微信返回了未知错误（错误码 ${errcode}）` : rule.message
}

/** What the person is told when a send to them ended with `errcode`, e.g. in 消息记录. */
export function sendErrcodePersonMessage(errcode: number): string {
  return ruleFor(errcode).forPerson ?? `微信拒绝发送（错误码 ${errcode}）`
}

/** Every send errcode the table knows. */
export function knownSendErrcodes(): number[] {
  return Object.keys(SEND_ERRCODES).map(Number)
}

/** Whether the WeChat client calls again at once after `errcode` (system busy, transport failure). */
export function isRetryableSendErrcode(errcode: number): boolean {
  return ruleFor(errcode).action === 'retry'
}

/** For an errcode the dispatcher requeues on (45009, 43108): who waits; null for every other code. */
export function requeueScope(errcode: number): 'everyone' | 'recipient' | null {
  const rule = ruleFor(errcode)
  return rule.action === 'requeue' ? (rule.waits ?? 'recipient') : null
}

/** Whether `errcode` means the access token must be refreshed. */
export function isTokenErrcode(errcode: number): boolean {
  return ruleFor(errcode).action === 'refresh-token'
}

// ─── jscode2session (sign-in) ────────────────────────────────────────────────

/** What a failed sign-in was, for the caller to answer. */
export type LoginFailure =
  /** The code is wrong, expired or used: the app must call `uni.login` again. */
  | 'invalid-code'
  /** WeChat's limit of 100 sign-ins per person per minute. */
  | 'rate-limited'
  /** WeChat judged the person a risk and refused. */
  | 'refused'
  /** WeChat could not answer now, or the service's AppID/secret are wrong. */
  | 'unavailable'

export interface LoginErrcodeRule {
  action: 'retry' | 'fail'
  failure: LoginFailure
  /** For the person signing in, in Chinese. */
  message: string
}

const LOGIN_ERRCODES: Readonly<Record<number, LoginErrcodeRule>> = {
  [-1]: { action: 'retry', failure: 'unavailable', message: '微信登录接口繁忙，请稍后再试' },
  [TRANSPORT_ERRCODE]: { action: 'retry', failure: 'unavailable', message: '连接微信登录接口失败，请稍后再试' },
  40029: { action: 'fail', failure: 'invalid-code', message: 'code: 登录凭证无效或已使用，请重新调用 uni.login 获取' },
  40163: { action: 'fail', failure: 'invalid-code', message: 'code: 登录凭证无效或已使用，请重新调用 uni.login 获取' },
  45011: { action: 'fail', failure: 'rate-limited', message: '登录太频繁（每人每分钟最多 100 次），请稍后再试' },
  40226: { action: 'fail', failure: 'refused', message: '微信判定这个用户为高风险用户，拒绝登录' },
}

/** The rule for a jscode2session errcode; unknown codes: fail, WeChat unavailable, with the number. */
export function loginErrcodeRule(errcode: number): LoginErrcodeRule {
  if (Object.hasOwn(LOGIN_ERRCODES, errcode)) return LOGIN_ERRCODES[errcode]!
  return { action: 'fail', failure: 'unavailable', message: `微信登录接口暂时不可用（错误码 ${errcode}），请稍后再试` }
}

// ─── template management (wxaapi/newtmpl/*) ─────────────────────────────────

export type TemplateApi = 'getcategory' | 'getpubtemplatetitles' | 'getpubtemplatekeywords' | 'addtemplate' | 'deltemplate' | 'gettemplate'

/** A request parameter of WeChat's template calls that an errcode is about. */
export type TemplateParam = 'ids' | 'start' | 'limit' | 'tid' | 'kidList' | 'sceneDesc' | 'priTmplId'

export interface TemplateErrcodeRule {
  /** For operators, in Chinese. */
  message: string
  /** The parameter WeChat refused, when it is one. */
  param?: TemplateParam
  /**
   * What the admin API answers: 400 the request was wrong; 403 WeChat does not allow this account or
   * template; 409 the mini-program's limit is reached; 502 WeChat could not answer or the service's
   * own WeChat setup is wrong.
   */
  status: 400 | 403 | 409 | 502
}

type TemplateErrcodes = Readonly<Record<number, TemplateErrcodeRule>>

const NO_OWN_ERRCODES: TemplateErrcodes = {}

const PUB_TEMPLATE_TITLES_ERRCODES: TemplateErrcodes = {
  200016: { status: 400, param: 'start', message: 'start 参数错误：应为从 0 开始的整数' },
  200017: { status: 400, param: 'limit', message: 'limit 参数错误：应为 1 到 30 的整数' },
  200018: { status: 400, param: 'ids', message: '缺少类目 ids' },
  200019: { status: 400, param: 'ids', message: '类目 ids 不合法：不是本小程序的类目（用 GET /api/wechat/categories 查看）' },
}

const PUB_TEMPLATE_KEYWORDS_ERRCODES: TemplateErrcodes = {
  200014: { status: 400, param: 'tid', message: '模板标题 tid 不存在或不在本小程序的类目下' },
}

/**
 * addtemplate. WeChat's own doc and the errmsgs it answers ("missing parameter tid", "tid does not
 * exist" with 200014) give 200014 to tid, 200020 to kidList and 200021 to sceneDesc; a digest that
 * gives 200014 to kidList and 200021 to tid disagrees, and WeChat's answers are followed here.
 */
const ADD_TEMPLATE_ERRCODES: TemplateErrcodes = {
  200011: { status: 403, message: '此账号已被封禁，不能添加模板' },
  200012: { status: 409, message: '个人模板数已达上限（25 个）：先删除不用的模板' },
  200013: { status: 403, param: 'tid', message: '此模板已被封禁，不能选用' },
  200014: { status: 400, param: 'tid', message: '模板标题 tid 不存在，或请求没有带上 tid' },
  200020: { status: 400, param: 'kidList', message: '关键词列表 kidList 不正确：应为 2 到 5 个这个模板的关键词 id，不能重复' },
  200021: { status: 400, param: 'sceneDesc', message: '服务场景描述 sceneDesc 不正确：最多 15 个字' },
}

const DELETE_TEMPLATE_ERRCODES: TemplateErrcodes = {
  20001: { status: 502, message: '微信系统错误，模板没有删除，请稍后重试' },
  20002: { status: 400, param: 'priTmplId', message: '模板 ID 不正确：微信里没有这个模板' },
}

/** One table per API. */
const TEMPLATE_ERRCODES: Readonly<Record<TemplateApi, TemplateErrcodes>> = {
  getcategory: NO_OWN_ERRCODES,
  getpubtemplatetitles: PUB_TEMPLATE_TITLES_ERRCODES,
  getpubtemplatekeywords: PUB_TEMPLATE_KEYWORDS_ERRCODES,
  addtemplate: ADD_TEMPLATE_ERRCODES,
  deltemplate: DELETE_TEMPLATE_ERRCODES,
  gettemplate: NO_OWN_ERRCODES,
}

/** Codes every template call can meet (after the client's retries and its one token refresh). */
const COMMON_TEMPLATE_ERRCODES: TemplateErrcodes = {
  48001: { status: 403, message: '小程序没有这个接口的权限（订阅消息的模板管理需要已认证的小程序）' },
}

/**
 * What the admin API makes of `errcode` from `api`: the API's own table, then the codes all template
 * calls share, then the send table's words for busy, network, token and setup errors (502).
 */
export function templateErrcodeRule(api: TemplateApi, errcode: number): TemplateErrcodeRule {
  const own = TEMPLATE_ERRCODES[api]
  if (Object.hasOwn(own, errcode)) return own[errcode]!
  if (Object.hasOwn(COMMON_TEMPLATE_ERRCODES, errcode)) return COMMON_TEMPLATE_ERRCODES[errcode]!
  if (Object.hasOwn(SEND_ERRCODES, errcode)) return { status: 502, message: SEND_ERRCODES[errcode]!.message }
  return { status: 502, message: `微信返回了未知错误（错误码 ${errcode}）` }
}
