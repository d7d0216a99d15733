/**
 * The HTTP contract between the uni-app client and the send service.
 *
 * The service validates every request and response against these TypeBox schemas. The app checks the
 * answers against the same schemas (src/rules/shape.ts); its builds get this module as plain JSON
 * Schema objects made at build time (scripts/contract-as-json.ts), so no TypeBox code reaches them.
 * JSON everywhere; errors are `ErrorBody` with a 4xx for the caller's mistakes.
 */
import { Type, type Static } from 'typebox'
import { SERVICE_REASONS } from './reasons'

// ─── shared pieces ────────────────────────────────────────────────────────────

export const KeywordType = Type.Union([
  Type.Literal('thing'),
  Type.Literal('number'),
  Type.Literal('letter'),
  Type.Literal('symbol'),
  Type.Literal('character_string'),
  Type.Literal('time'),
  Type.Literal('date'),
  Type.Literal('amount'),
  Type.Literal('phone_number'),
  Type.Literal('car_number'),
  Type.Literal('name'),
  Type.Literal('phrase'),
  Type.Literal('enum'),
])
export type KeywordType = Static<typeof KeywordType>

export const TemplateKind = Type.Union([Type.Literal('one-time'), Type.Literal('long-term')])
export type TemplateKind = Static<typeof TemplateKind>

export const Keyword = Type.Object({
  /** `thing1`, `time4`…: the key in `data` and in the template's `content`. */
  name: Type.String({ pattern: '^[a-z_]+[0-9]+$' }),
  type: KeywordType,
  /** What the keyword shows as in WeChat, e.g. 订单号. */
  label: Type.String({ minLength: 1 }),
  /** Allowed values of an `enum` keyword (WeChat's keywordEnumValueList). */
  enumValues: Type.Optional(Type.Array(Type.String())),
})
export type Keyword = Static<typeof Keyword>

export const Template = Type.Object({
  /** WeChat's priTmplId. */
  id: Type.String({ minLength: 1 }),
  /** Stable key the code refers to: `order_status`, `shipping`, `payment`, `activity_reminder`… */
  key: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
  title: Type.String({ minLength: 1 }),
  kind: TemplateKind,
  /** What the person can mute: `order`, `payment`, `marketing`… */
  category: Type.String({ minLength: 1 }),
  keywords: Type.Array(Keyword, { minItems: 1 }),
})
export type Template = Static<typeof Template>

/** What `wx.requestSubscribeMessage` answers per template id. */
export const SubscribeResult = Type.Union([
  Type.Literal('accept'),
  Type.Literal('acceptWithAudio'),
  Type.Literal('reject'),
  Type.Literal('ban'),
  Type.Literal('filter'),
])
export type SubscribeResult = Static<typeof SubscribeResult>

export const MessageStatus = Type.Union([
  Type.Literal('queued'),
  Type.Literal('deferred'),
  Type.Literal('sending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
  Type.Literal('skipped'),
])
export type MessageStatus = Static<typeof MessageStatus>

/**
 * Why a message was not sent (or not yet): the service's own word, or WeChat's errcode in decimal.
 * Meanings: src/domain/reasons.ts.
 */
export const Reason = Type.Union([Type.Enum(SERVICE_REASONS), Type.TemplateLiteral('${integer}')])
export type Reason = Static<typeof Reason>

const IsoTime = Type.String({ description: 'ISO 8601 time, e.g. 2026-11-25T13:00:00.000Z' })
const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, 24-hour' })

// ─── errors ───────────────────────────────────────────────────────────────────

export const ErrorBody = Type.Object({
  error: Type.Object({
    /** UPPER_SNAKE, e.g. INVALID_DATA, NO_CREDIT, UNAUTHORIZED, NOT_FOUND, VALIDATION_FAILED. */
    code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
    /** For a person to read, in Chinese: `data.thing1.value: 最多 20 个字符`. */
    message: Type.String(),
    /** The offending field, e.g. `data.thing1.value`, `quietHours.start`. */
    field: Type.Optional(Type.String()),
  }),
})
export type ErrorBody = Static<typeof ErrorBody>

// ─── GET /healthz, GET /api/info ─────────────────────────────────────────────

export const Health = Type.Object({ status: Type.Literal('ok') })
export type Health = Static<typeof Health>

/** No auth. Tells the client whether the service runs the sandbox WeChat (H5 stand-in dialog on). */
export const ServiceInfo = Type.Object({
  sandbox: Type.Boolean(),
  miniprogramState: Type.Union([Type.Literal('formal'), Type.Literal('trial'), Type.Literal('developer')]),
})
export type ServiceInfo = Static<typeof ServiceInfo>

// ─── POST /api/session ───────────────────────────────────────────────────────

export const SessionRequest = Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) })
export type SessionRequest = Static<typeof SessionRequest>
export const SessionResponse = Type.Object({
  /** Opaque bearer token (≥ 128 random bits); the service stores only its hash. */
  token: Type.String(),
  openid: Type.String(),
  expiresAt: IsoTime,
})
export type SessionResponse = Static<typeof SessionResponse>

// ─── GET /api/templates ──────────────────────────────────────────────────────

export const TemplateList = Type.Array(Template)
export type TemplateList = Static<typeof TemplateList>

// ─── POST /api/consents ──────────────────────────────────────────────────────

export const ConsentRequest = Type.Object({
  /** Made on the device once per dialog answer; replaying it adds nothing and returns the same answer. */
  consentId: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  results: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), SubscribeResult),
})
export type ConsentRequest = Static<typeof ConsentRequest>
export const ConsentResponse = Type.Object({
  /** Credits per template id after this consent (all templates in `results`). */
  credits: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
})
export type ConsentResponse = Static<typeof ConsentResponse>

// ─── GET /api/me/subscriptions ───────────────────────────────────────────────

export const Subscription = Type.Object({
  templateId: Type.String(),
  credits: Type.Integer({ minimum: 0 }),
  lastResult: Type.Union([SubscribeResult, Type.Null()]),
  updatedAt: IsoTime,
})
export type Subscription = Static<typeof Subscription>
export const SubscriptionList = Type.Array(Subscription)
export type SubscriptionList = Static<typeof SubscriptionList>

// ─── GET/PUT /api/me/preferences ─────────────────────────────────────────────

export const QuietHours = Type.Object({ start: ClockTime, end: ClockTime })
export type QuietHours = Static<typeof QuietHours>
export const Preferences = Type.Object({
  /** Messages that are not urgent wait until the end; `start > end` spans midnight (22:00–08:00). */
  quietHours: Type.Union([QuietHours, Type.Null()]),
  /** Most messages a day (in the quiet-hours time zone); 0 means none. */
  dailyLimit: Type.Integer({ minimum: 0, maximum: 100 }),
  /** Template categories the person does not want to hear about. */
  mutedCategories: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 20, uniqueItems: true }),
})
export type Preferences = Static<typeof Preferences>

// ─── GET /api/me/messages ────────────────────────────────────────────────────

/**
 * Whether a sent message reached the person, as WeChat's `subscribe_msg_sent_event` said (only where
 * message push is configured): `errorCode` 0 is delivered; `errorStatus` is WeChat's word for it
 * (`success`, `fail:user refuse`, `fail:system error`); `at` is when WeChat said so.
 */
export const Delivery = Type.Object({
  status: Type.Union([Type.Literal('delivered'), Type.Literal('failed')]),
  errorCode: Type.Integer(),
  errorStatus: Type.String(),
  at: IsoTime,
})
export type Delivery = Static<typeof Delivery>

export const MyMessage = Type.Object({
  id: Type.String(),
  templateId: Type.String(),
  status: MessageStatus,
  reason: Type.Optional(Reason),
  createdAt: IsoTime,
  sentAt: Type.Optional(IsoTime),
  deliverAfter: Type.Optional(IsoTime),
  delivery: Type.Optional(Delivery),
})
export type MyMessage = Static<typeof MyMessage>
export const MyMessageList = Type.Array(MyMessage)
export type MyMessageList = Static<typeof MyMessageList>

// ─── POST /api/events ────────────────────────────────────────────────────────

export const OrderStatus = Type.Union([
  Type.Literal('pending_payment'),
  Type.Literal('paid'),
  Type.Literal('shipped'),
  Type.Literal('delivered'),
])
export type OrderStatus = Static<typeof OrderStatus>

export const OrderStatusChanged = Type.Object({
  type: Type.Literal('order.status_changed'),
  orderId: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' }),
  status: OrderStatus,
  /** Shown as the goods name (thing, ≤ 20 characters after truncation). */
  goodsName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  /** In fen (分). */
  amountFen: Type.Optional(Type.Integer({ minimum: 0 })),
})
export type OrderStatusChanged = Static<typeof OrderStatusChanged>
export const EventRequest = OrderStatusChanged
export type EventRequest = Static<typeof EventRequest>

export const MessageOutcome = Type.Object({
  id: Type.String(),
  /**
   * The template the message was built with (WeChat's priTmplId), so a client can offer that very
   * template when the outcome is NO_CREDIT/43101.
   */
  templateId: Type.String(),
  status: MessageStatus,
  reason: Type.Optional(Reason),
  deliverAfter: Type.Optional(IsoTime),
})
export type MessageOutcome = Static<typeof MessageOutcome>
export const EventResponse = Type.Object({ message: MessageOutcome })
export type EventResponse = Static<typeof EventResponse>

// ─── admin: POST /api/messages, GET /api/messages/:id, GET /api/stats ────────

export const KeywordValue = Type.Union([
  Type.Object({ value: Type.String({ maxLength: 200 }) }),
  Type.String({ maxLength: 200 }),
])
export const SendRequest = Type.Object({
  touser: Type.String({ minLength: 1, maxLength: 64 }),
  /** A template id or a catalogue key. */
  templateId: Type.String({ minLength: 1, maxLength: 64 }),
  data: Type.Record(Type.String({ pattern: '^[a-z_]+[0-9]+$' }), KeywordValue),
  page: Type.Optional(Type.String({ maxLength: 200 })),
  urgent: Type.Optional(Type.Boolean()),
  lang: Type.Optional(Type.Union([Type.Literal('zh_CN'), Type.Literal('en_US'), Type.Literal('zh_HK'), Type.Literal('zh_TW')])),
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /** Shorten `thing` values that are too long (17 characters + "...") instead of refusing them. */
  truncate: Type.Optional(Type.Boolean()),
})
export type SendRequest = Static<typeof SendRequest>

export const SendAttempt = Type.Object({ at: IsoTime, errcode: Type.Integer(), errmsg: Type.String() })
export type SendAttempt = Static<typeof SendAttempt>
export const StatusChange = Type.Object({ at: IsoTime, status: MessageStatus, reason: Type.Optional(Reason) })
export type StatusChange = Static<typeof StatusChange>

export const MessageDetail = Type.Object({
  id: Type.String(),
  touser: Type.String(),
  templateId: Type.String(),
  status: MessageStatus,
  reason: Type.Optional(Reason),
  data: Type.Record(Type.String(), Type.Object({ value: Type.String() })),
  page: Type.Optional(Type.String()),
  urgent: Type.Boolean(),
  msgid: Type.Optional(Type.String()),
  createdAt: IsoTime,
  sentAt: Type.Optional(IsoTime),
  deliverAfter: Type.Optional(IsoTime),
  delivery: Type.Optional(Delivery),
  attempts: Type.Array(SendAttempt),
  history: Type.Array(StatusChange),
})
export type MessageDetail = Static<typeof MessageDetail>

export const Stats = Type.Object({
  byStatus: Type.Record(Type.String(), Type.Integer()),
  byErrcode: Type.Record(Type.String(), Type.Integer()),
  /** Messages WeChat reported on (subscribe_msg_sent_event), delivered or failed. */
  byDelivery: Type.Object({ delivered: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) }),
})
export type Stats = Static<typeof Stats>

// ─── sandbox only (no WECHAT_APPID): what WeChat itself would do ─────────────

/** POST /sandbox/code `{ user }` → a js_code the sandbox's jscode2session maps to a stable openid for that name. */
export const SandboxCodeRequest = Type.Object({ user: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$' }) })
export type SandboxCodeRequest = Static<typeof SandboxCodeRequest>
export const SandboxCodeResponse = Type.Object({ code: Type.String() })
export type SandboxCodeResponse = Static<typeof SandboxCodeResponse>

/**
 * POST /sandbox/subscriptions (session bearer) `{ results }`: what the person answered in the H5
 * stand-in dialog; the sandbox WeChat adds one quota per accept of a one-time template, as WeChat does.
 */
export const SandboxConsentRequest = Type.Object({ results: Type.Record(Type.String(), SubscribeResult) })
export type SandboxConsentRequest = Static<typeof SandboxConsentRequest>
export const SandboxConsentResponse = Type.Object({ quota: Type.Record(Type.String(), Type.Integer({ minimum: 0 })) })
export type SandboxConsentResponse = Static<typeof SandboxConsentResponse>

/**
 * POST /sandbox/turn-off (session bearer) `{ templateIds }`: the test user turns templates off in
 * WeChat's 服务通知 settings; the sandbox WeChat drops their quota and pushes
 * `subscribe_msg_change_event` (reject) to the service, as WeChat does.
 */
export const SandboxTurnOffRequest = Type.Object({
  templateIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 20, uniqueItems: true }),
})
export type SandboxTurnOffRequest = Static<typeof SandboxTurnOffRequest>

// ─── admin: template management (WeChat's public template library) ───────────

/** GET /api/wechat/categories: the categories the mini-program may take templates from (getcategory). */
export const WeChatCategory = Type.Object({ id: Type.Integer(), name: Type.String() })
export type WeChatCategory = Static<typeof WeChatCategory>
export const WeChatCategoryList = Type.Array(WeChatCategory)
export type WeChatCategoryList = Static<typeof WeChatCategoryList>

/** GET /api/wechat/library?ids=&start=&limit=: public templates of those categories (getpubtemplatetitles). */
export const LibraryQuery = Type.Object({
  /** Category ids, comma-separated (`2,616`); default: every category of the mini-program. */
  ids: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}(,[0-9]{1,10}){0,49}$' })),
  start: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  /** At most 30 (WeChat's limit); default 30. */
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
})
export type LibraryQuery = Static<typeof LibraryQuery>
export const LibraryTitle = Type.Object({
  /** The public template's title id: what POST /api/templates takes. */
  tid: Type.Integer(),
  title: Type.String(),
  kind: TemplateKind,
  categoryId: Type.Integer(),
})
export type LibraryTitle = Static<typeof LibraryTitle>
export const LibraryPage = Type.Object({
  /** How many titles the categories have in all. */
  count: Type.Integer({ minimum: 0 }),
  titles: Type.Array(LibraryTitle),
})
export type LibraryPage = Static<typeof LibraryPage>

/** GET /api/wechat/library/:tid/keywords: the keywords one can pick (getpubtemplatekeywords). */
export const LibraryKeyword = Type.Object({
  kid: Type.Integer(),
  name: Type.String(),
  example: Type.String(),
  /** The keyword type (`thing`, `time`…), as WeChat names it. */
  rule: Type.String(),
})
export type LibraryKeyword = Static<typeof LibraryKeyword>
export const LibraryKeywordList = Type.Array(LibraryKeyword)
export type LibraryKeywordList = Static<typeof LibraryKeywordList>

/**
 * POST /api/templates: adds a public template to the mini-program's templates in WeChat (addtemplate)
 * and to the catalogue under `key` and `category`; answers 201 with the catalogue's entry, whose
 * keywords are read from WeChat's own content of the new template.
 */
export const AddTemplateRequest = Type.Object({
  tid: Type.Integer({ minimum: 1 }),
  /** 2 to 5 keyword ids, in the order the message shows them. */
  kidList: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, maxItems: 5, uniqueItems: true }),
  /** What the template is for, as WeChat's review reads it: at most 15 characters. */
  sceneDesc: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
  key: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 64 }),
  category: Type.String({ minLength: 1, maxLength: 32 }),
})
export type AddTemplateRequest = Static<typeof AddTemplateRequest>

/** POST /api/templates/sync: the catalogue after WeChat's gettemplate list, and what changed. */
export const CatalogueSyncReport = Type.Object({
  templates: TemplateList,
  /** New in WeChat: given a generated key and the category `other`, to be edited. */
  added: Type.Array(Type.String()),
  changed: Type.Array(Type.String()),
  /** No longer in WeChat's list: dropped from the catalogue. */
  removed: Type.Array(Type.String()),
})
export type CatalogueSyncReport = Static<typeof CatalogueSyncReport>
