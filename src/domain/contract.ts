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
  /**
   * Every other accept WeChat answers, kept as it came: the 强提醒 answers seen in the field
   * (`acceptWithAlert`, `acceptWithForcePush`) and whatever accept comes next. An accept all the same
   * (src/domain/subscribe-results.ts).
   */
  Type.Unsafe<`accept${string}`>(Type.String({ pattern: '^accept[A-Za-z]{0,40}$' })),
  Type.Literal('reject'),
  Type.Literal('ban'),
  Type.Literal('filter'),
  /** An answer nobody knows, recorded as `unrecognized:<the answer>` (≤ 40 characters of it): no credit, never dropped. */
  Type.Unsafe<`unrecognized:${string}`>(Type.String({ pattern: '^unrecognized:[\\s\\S]{1,40}$' })),
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

/** One keyword of a message as WeChat's notice shows it: the template's label and the value sent. */
export const MessageKeyword = Type.Object({
  name: Type.String(),
  /** The template's label (订单号); the keyword's name when the template is no longer in the catalogue. */
  label: Type.String(),
  value: Type.String(),
})
export type MessageKeyword = Static<typeof MessageKeyword>

/** What a person sees of one of their messages, in the list and on its own page. */
const myMessageFields = {
  id: Type.String(),
  templateId: Type.String(),
  status: MessageStatus,
  reason: Type.Optional(Reason),
  createdAt: IsoTime,
  sentAt: Type.Optional(IsoTime),
  deliverAfter: Type.Optional(IsoTime),
  delivery: Type.Optional(Delivery),
}

export const MyMessage = Type.Object({
  ...myMessageFields,
  /** The notice's keywords in the template's order (a list row shows the first values). */
  content: Type.Optional(Type.Array(MessageKeyword)),
})
export type MyMessage = Static<typeof MyMessage>
export const MyMessageList = Type.Array(MyMessage)
export type MyMessageList = Static<typeof MyMessageList>

/** GET /api/me/messages/:id: one of my messages, with what its notice showed and its status history. */
export const MyMessageDetail = Type.Object({
  ...myMessageFields,
  content: Type.Array(MessageKeyword),
  /** The page the notice opens, as sent: `pages/orders/index?id=<orderId>`. */
  page: Type.Optional(Type.String()),
  history: Type.Array(Type.Object({ at: IsoTime, status: MessageStatus, reason: Type.Optional(Reason) })),
})
export type MyMessageDetail = Static<typeof MyMessageDetail>

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
  /** What exactly broke, when the reason alone does not say: `data.thing1.value: 最多 20 个字符`. */
  detail: Type.Optional(Type.String()),
  /** The campaign it belongs to, if any. */
  campaignId: Type.Optional(Type.String()),
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

// ─── admin: users and segments ───────────────────────────────────────────────

/** WeChat openids are 28 characters of [A-Za-z0-9_-]; an operator's own ids follow the same alphabet. */
const Openid = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })

/** `vip`, `beijing`, `2026双11`: letters, digits, `_ - . :` and CJK ideographs, 1–32 characters. */
export const UserTag = Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_.:\\-\u3400-\u4dbf\u4e00-\u9fff]+$' })
export const UserTags = Type.Array(UserTag, { maxItems: 50, uniqueItems: true })

/** `nickname`, `city`, `level`, `orderCount`: a lower-case letter, then letters, digits or `_`, at most 32. */
const AttributeKeyPattern = '^[a-z][a-zA-Z0-9_]{0,31}$'
/** A string of at most 200 characters or a finite number. */
export const AttributeValue = Type.Union([Type.String({ maxLength: 200 }), Type.Number()])
export type AttributeValue = Static<typeof AttributeValue>
export const UserAttributes = Type.Record(Type.String({ pattern: AttributeKeyPattern }), AttributeValue, {
  maxProperties: 50,
  additionalProperties: false,
})
export type UserAttributes = Static<typeof UserAttributes>

/** PUT /api/users/:openid: replaces what it names (tags, attributes, or both); creates the user if absent. */
export const UserChanges = Type.Object(
  { tags: Type.Optional(UserTags), attributes: Type.Optional(UserAttributes) },
  { additionalProperties: false },
)
export type UserChanges = Static<typeof UserChanges>
export const UserParams = Type.Object({ openid: Openid })
export type UserParams = Static<typeof UserParams>

export const User = Type.Object({
  openid: Type.String(),
  /** In alphabetical order. */
  tags: Type.Array(Type.String()),
  attributes: Type.Record(Type.String(), AttributeValue),
  /** The last sign-in or request with a session (written at most once per 5 minutes); null: never signed in. */
  lastActiveAt: Type.Union([IsoTime, Type.Null()]),
})
export type User = Static<typeof User>

/** GET /api/users/:openid. */
export const UserDetail = Type.Object({
  ...User.properties,
  /** Credits per template id, as the ledger counts them. */
  credits: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  /** What the person saved, else the defaults. */
  preferences: Preferences,
})
export type UserDetail = Static<typeof UserDetail>

/** POST /api/users/import: each entry as a PUT; all of them or none. */
export const UserImportRequest = Type.Object(
  {
    users: Type.Array(
      Type.Object({ openid: Openid, tags: Type.Optional(UserTags), attributes: Type.Optional(UserAttributes) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
)
export type UserImportRequest = Static<typeof UserImportRequest>
export const UserImportResponse = Type.Object({ created: Type.Integer({ minimum: 0 }), updated: Type.Integer({ minimum: 0 }) })
export type UserImportResponse = Static<typeof UserImportResponse>

/** GET /api/users: in openid order; `q` an openid or its beginning, `tag` a tag the user has. */
export const UserListQuery = Type.Object({
  tag: Type.Optional(UserTag),
  q: Type.Optional(Openid),
  /** The `nextCursor` of the page before. */
  cursor: Type.Optional(Openid),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
})
export type UserListQuery = Static<typeof UserListQuery>
export const UserList = Type.Object({
  items: Type.Array(User),
  /** Null on the last page. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})
export type UserList = Static<typeof UserList>

/** One attribute's condition: every operator given must hold. `gte`/`lte` match numbers only. */
export const AttributeCondition = Type.Object(
  {
    eq: Type.Optional(AttributeValue),
    in: Type.Optional(Type.Array(AttributeValue, { minItems: 1, maxItems: 100 })),
    gte: Type.Optional(Type.Number()),
    lte: Type.Optional(Type.Number()),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type AttributeCondition = Static<typeof AttributeCondition>

/** Who a segment is: every condition given must hold; `{}` is every user. */
export const SegmentFilter = Type.Object(
  {
    /** Has every one of these tags. */
    tagsAll: Type.Optional(Type.Array(UserTag, { maxItems: 50, uniqueItems: true })),
    /** Has at least one of these tags. */
    tagsAny: Type.Optional(Type.Array(UserTag, { minItems: 1, maxItems: 50, uniqueItems: true })),
    /** Has none of these tags. */
    tagsNone: Type.Optional(Type.Array(UserTag, { maxItems: 50, uniqueItems: true })),
    /** Active (signed in, or used a session) within this many days of now. */
    activeWithinDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    attributes: Type.Optional(
      Type.Record(Type.String({ pattern: AttributeKeyPattern }), AttributeCondition, { maxProperties: 20, additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
)
export type SegmentFilter = Static<typeof SegmentFilter>

/** POST /api/segments. */
export const SegmentRequest = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 40, pattern: '\\S' }), filter: SegmentFilter },
  { additionalProperties: false },
)
export type SegmentRequest = Static<typeof SegmentRequest>
export const Segment = Type.Object({ id: Type.String(), name: Type.String(), filter: SegmentFilter, createdAt: IsoTime })
export type Segment = Static<typeof Segment>
export const SegmentList = Type.Array(Segment)
export type SegmentList = Static<typeof SegmentList>
export const SegmentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
export type SegmentParams = Static<typeof SegmentParams>

/** GET /api/segments/:id/reach?template=: what a send of that template to the segment would do now. */
export const ReachQuery = Type.Object({ template: Type.String({ minLength: 1, maxLength: 64 }) })
export type ReachQuery = Static<typeof ReachQuery>
export const SegmentReach = Type.Object({
  /** Users in the segment. */
  users: Type.Integer({ minimum: 0 }),
  /** Would be sent now. */
  eligible: Type.Integer({ minimum: 0 }),
  /** Inside their quiet hours: would be sent when they end. */
  deferred: Type.Integer({ minimum: 0 }),
  notEligible: Type.Object({
    NO_CREDIT: Type.Integer({ minimum: 0 }),
    MUTED_CATEGORY: Type.Integer({ minimum: 0 }),
    DAILY_LIMIT: Type.Integer({ minimum: 0 }),
  }),
})
export type SegmentReach = Static<typeof SegmentReach>

// ─── admin: campaigns, message search and retry ──────────────────────────────

export const CampaignStatus = Type.Union([
  Type.Literal('scheduled'),
  Type.Literal('running'),
  Type.Literal('paused'),
  Type.Literal('completed'),
  Type.Literal('cancelled'),
])
export type CampaignStatus = Static<typeof CampaignStatus>

/**
 * POST /api/campaigns: a template sent to a segment. Values may hold per-person placeholders:
 * `{{nickname}}`, `{{city|全国}}` (a fallback), `{{openid}}`.
 */
export const CampaignRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 60 }),
  segmentId: Type.String({ minLength: 1, maxLength: 64 }),
  /** A template id or a catalogue key. */
  template: Type.String({ minLength: 1, maxLength: 64 }),
  data: Type.Record(Type.String({ pattern: '^[a-z_]+[0-9]+$' }), Type.String({ maxLength: 200 })),
  page: Type.Optional(Type.String({ maxLength: 200 })),
  /** Urgent messages ignore quiet hours (never muted categories or daily limits). Default false. */
  urgent: Type.Optional(Type.Boolean()),
  /** When to start; default now. */
  startAt: Type.Optional(IsoTime),
  /** Messages per second for this campaign, on top of DISPATCH_RATE. */
  ratePerSecond: Type.Optional(Type.Number({ minimum: 0.01, maximum: 100_000 })),
  /** Shorten `thing` values that are too long (17 characters + "...") instead of skipping the recipient. */
  truncate: Type.Optional(Type.Boolean()),
})
export type CampaignRequest = Static<typeof CampaignRequest>

export const CampaignCounts = Type.Object({
  /** Not sent yet: queued or sending. */
  pending: Type.Integer({ minimum: 0 }),
  sent: Type.Integer({ minimum: 0 }),
  deferred: Type.Integer({ minimum: 0 }),
  skipped: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
})
export type CampaignCounts = Static<typeof CampaignCounts>

export const Campaign = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: CampaignStatus,
  segmentId: Type.String(),
  templateId: Type.String(),
  data: Type.Record(Type.String(), Type.String()),
  page: Type.Optional(Type.String()),
  urgent: Type.Boolean(),
  truncate: Type.Boolean(),
  ratePerSecond: Type.Optional(Type.Number()),
  startAt: Type.Optional(IsoTime),
  /** Recipients written so far (every one of the segment once expansion is done). */
  total: Type.Integer({ minimum: 0 }),
  /** Whether every recipient of the segment has been written. */
  expanded: Type.Boolean(),
  counts: CampaignCounts,
  /** Skipped and failed messages by reason. */
  reasons: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  createdAt: IsoTime,
  startedAt: Type.Optional(IsoTime),
  finishedAt: Type.Optional(IsoTime),
})
export type Campaign = Static<typeof Campaign>
export const CampaignList = Type.Array(Campaign)
export type CampaignList = Static<typeof CampaignList>

/** POST /api/campaigns/:id/retry: how many failed messages whose reason can be retried went back in the queue. */
export const RetryCount = Type.Object({ retried: Type.Integer({ minimum: 0 }) })
export type RetryCount = Static<typeof RetryCount>

/** GET /api/messages: newest first; every filter given must hold. */
export const MessageSearchQuery = Type.Object({
  campaign: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  status: Type.Optional(MessageStatus),
  touser: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** A template id or a catalogue key. */
  template: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  reason: Type.Optional(Reason),
  /** Created at or after / before this time. */
  since: Type.Optional(IsoTime),
  until: Type.Optional(IsoTime),
  /** The `nextCursor` of the page before. */
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9]+$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
})
export type MessageSearchQuery = Static<typeof MessageSearchQuery>

export const MessageListItem = Type.Object({
  id: Type.String(),
  touser: Type.String(),
  templateId: Type.String(),
  status: MessageStatus,
  reason: Type.Optional(Reason),
  detail: Type.Optional(Type.String()),
  campaignId: Type.Optional(Type.String()),
  createdAt: IsoTime,
  sentAt: Type.Optional(IsoTime),
  deliverAfter: Type.Optional(IsoTime),
  delivery: Type.Optional(Delivery),
})
export type MessageListItem = Static<typeof MessageListItem>
export const MessageSearchResult = Type.Object({
  items: Type.Array(MessageListItem),
  /** Null on the last page. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})
export type MessageSearchResult = Static<typeof MessageSearchResult>

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
  /** Only titles containing this text; `start` and `limit` then page through the matches. */
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 30 })),
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
  /** How many titles the categories have in all (with `q`: how many of them match). */
  count: Type.Integer({ minimum: 0 }),
  titles: Type.Array(LibraryTitle),
  /** With `q`: true when the categories hold more titles than a search reads, so later ones were not searched. */
  partial: Type.Optional(Type.Boolean()),
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
