/**
 * The HTTP contract of the operator console (H5 only, pages/console/…): its own routes, and every
 * schema of src/domain/contract.ts the console reads, re-exported here. The console imports its
 * schemas from this module only, so its builds carry them in the console's chunks (as plain JSON,
 * scripts/contract-as-json.ts) and the end user's pages never download them.
 */
import { Type, type Static } from 'typebox'
import { SegmentFilter, User } from './contract'

export {
  AddTemplateRequest,
  Campaign,
  CampaignList,
  CatalogueSyncReport,
  ErrorBody,
  LibraryKeywordList,
  LibraryPage,
  MessageDetail,
  MessageOutcome,
  MessageStatus,
  MessageSearchResult,
  RetryCount,
  Segment,
  SegmentList,
  SegmentReach,
  ServiceInfo,
  Stats,
  Template,
  TemplateList,
  User,
  UserDetail,
  UserList,
  WeChatCategoryList,
} from './contract'

const IsoTime = Type.String({ description: 'ISO 8601 time, e.g. 2026-11-25T13:00:00.000Z' })

// ─── POST /api/admin/session, DELETE /api/admin/session ──────────────────────

/** The admin key, given once: the console keeps only the session token it is exchanged for. */
export const OperatorSignInRequest = Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false })
export type OperatorSignInRequest = Static<typeof OperatorSignInRequest>
export const OperatorSession = Type.Object({
  /** 256 random bits, base64url; the service stores only its hash. */
  token: Type.String({ minLength: 1 }),
  expiresAt: IsoTime,
})
export type OperatorSession = Static<typeof OperatorSession>

// ─── GET /api/health ─────────────────────────────────────────────────────────

export const ServiceHealth = Type.Object({
  /** The service clock. */
  now: IsoTime,
  wechat: Type.Object({
    /** sandbox: the loopback sandbox WeChat (no WECHAT_APPID); real: api.weixin.qq.com. */
    mode: Type.Union([Type.Literal('sandbox'), Type.Literal('real')]),
    appId: Type.String(),
  }),
  database: Type.Object({
    ok: Type.Boolean(),
    /** How long one read of the queue's depth took. */
    latencyMs: Type.Number({ minimum: 0 }),
    /** What went wrong, when not ok. */
    problem: Type.Optional(Type.String()),
  }),
  dispatcher: Type.Object({
    /** Queued messages, due now or later. */
    queued: Type.Integer({ minimum: 0 }),
    /** Of them, due now. */
    due: Type.Integer({ minimum: 0 }),
    deferred: Type.Integer({ minimum: 0 }),
    sending: Type.Integer({ minimum: 0 }),
    /** Sends this process has in flight, of at most `concurrency`. */
    inFlight: Type.Integer({ minimum: 0 }),
    concurrency: Type.Integer({ minimum: 1 }),
    /** DISPATCH_RATE, messages/s; null: unlimited. */
    rateLimit: Type.Union([Type.Number(), Type.Null()]),
    /** Messages that became sent in the last 60 s. */
    sentLastMinute: Type.Integer({ minimum: 0 }),
    /** Milliseconds left of a pause WeChat asked for (45009). */
    slowedForMs: Type.Integer({ minimum: 0 }),
  }),
  scheduler: Type.Object({
    intervalMs: Type.Integer({ minimum: 1 }),
    /** When its last run began in this process; null before the first. */
    lastRunAt: Type.Union([IsoTime, Type.Null()]),
  }),
  /** The shared WeChat access token's expiry; null while none is kept. */
  accessToken: Type.Object({ expiresAt: Type.Union([IsoTime, Type.Null()]) }),
  /** WeChat's message push: when the last event came in; null when none came (or push is not set up). */
  push: Type.Object({ lastEventAt: Type.Union([IsoTime, Type.Null()]) }),
})
export type ServiceHealth = Static<typeof ServiceHealth>

// ─── GET /api/stats/timeline ─────────────────────────────────────────────────

export const TimelineRange = Type.Union([Type.Literal('24h'), Type.Literal('7d')])
export type TimelineRange = Static<typeof TimelineRange>
export const TimelineQuery = Type.Object({ range: Type.Optional(TimelineRange) }, { additionalProperties: false })
export type TimelineQuery = Static<typeof TimelineQuery>

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }))

export const TimelineBucket = Type.Object({
  /** The bucket's start. */
  at: IsoTime,
  /** Messages that became sent, failed, skipped or deferred in it. */
  byStatus: Counts,
  /** WeChat's answers in it by errcode (every attempt; 0 is accepted). */
  byErrcode: Counts,
})
export type TimelineBucket = Static<typeof TimelineBucket>

export const Timeline = Type.Object({
  range: TimelineRange,
  /** An hour for 24h, a day (in TZ_QUIET_HOURS) for 7d. */
  bucketMs: Type.Integer({ minimum: 1 }),
  /** Every bucket of the range, oldest first, empty ones too. */
  buckets: Type.Array(TimelineBucket),
  /** Since the start of today in TZ_QUIET_HOURS. */
  today: Type.Object({
    from: IsoTime,
    sent: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    skipped: Type.Integer({ minimum: 0 }),
    /** WeChat's delivery reports of today; null when the service gets none (no message push). */
    delivered: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  }),
})
export type Timeline = Static<typeof Timeline>

// ─── POST /api/segments/preview ──────────────────────────────────────────────

/** A filter not saved yet, while the operator builds it. */
export const SegmentPreviewRequest = Type.Object({ filter: SegmentFilter }, { additionalProperties: false })
export type SegmentPreviewRequest = Static<typeof SegmentPreviewRequest>
export const SegmentPreview = Type.Object({
  /** Users the filter matches now. */
  users: Type.Integer({ minimum: 0 }),
  /** The first few of them, in openid order. */
  sample: Type.Array(User),
})
export type SegmentPreview = Static<typeof SegmentPreview>

// ─── sandbox only: GET /sandbox/received, GET|PUT /sandbox/faults ────────────

/** A message the sandbox WeChat accepted, as it was sent to WeChat. */
export const ReceivedMessage = Type.Object({
  touser: Type.String(),
  template_id: Type.String(),
  page: Type.Optional(Type.String()),
  data: Type.Record(Type.String(), Type.Object({ value: Type.String() })),
  miniprogram_state: Type.Optional(Type.String()),
  lang: Type.Optional(Type.String()),
  msgid: Type.String(),
  at: IsoTime,
})
export type ReceivedMessage = Static<typeof ReceivedMessage>
export const ReceivedList = Type.Array(ReceivedMessage)
export type ReceivedList = Static<typeof ReceivedList>
/** `limit`: only the newest that many (still oldest first). */
export const ReceivedQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) })
export type ReceivedQuery = Static<typeof ReceivedQuery>

/** PUT /sandbox/faults: changes only the switches it names (0 turns one off). */
export const FaultsRequest = Type.Object({
  latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  busyRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  failNext: Type.Optional(
    Type.Object({
      errcode: Type.Union([Type.Integer(), Type.Literal('reset')]),
      count: Type.Integer({ minimum: 0, maximum: 10_000 }),
    }),
  ),
  expireTokens: Type.Optional(Type.Literal(true)),
  /** The next `count` accepted sends are reported undelivered (subscribe_msg_sent_event with this ErrorCode and ErrorStatus). */
  failDeliveries: Type.Optional(
    Type.Object({ errorCode: Type.Integer(), errorStatus: Type.String({ maxLength: 64 }), count: Type.Integer({ minimum: 0, maximum: 10_000 }) }),
  ),
})
export type FaultsRequest = Static<typeof FaultsRequest>
export const SandboxStats = Type.Object({ tokenIssued: Type.Integer(), tokenCalls: Type.Integer(), sendCalls: Type.Integer() })
export type SandboxStats = Static<typeof SandboxStats>
/** GET /sandbox/faults: the switches as they are, and the sandbox's counters. */
export const FaultsState = Type.Object({
  latencyMs: Type.Integer({ minimum: 0 }),
  busyRate: Type.Number({ minimum: 0, maximum: 1 }),
  /** Send calls still to be answered with `errcode`; null when none. */
  failNext: Type.Union([Type.Object({ errcode: Type.Union([Type.Integer(), Type.Literal('reset')]), left: Type.Integer({ minimum: 1 }) }), Type.Null()]),
  stats: SandboxStats,
})
export type FaultsState = Static<typeof FaultsState>
