/**
 * Storage as the service sees it: a few repositories whose every method is one atomic operation.
 *
 * SQLite (better-sqlite3, server/db/sqlite/, one file per repository) is the embedded default. The
 * methods return Promises although SQLite answers synchronously, so that a second engine
 * (PostgreSQL) can implement the same interface. Each method states what must happen in one
 * transaction. An engine only offers primitives (add to a credit, set it, take one if > 0, move a
 * status); it never decides: which answer adds a credit, what a failure does to it and which reason
 * a message gets are decided in ledger/ and messages/.
 */
import type { CreditChange } from '../ledger/rules'
import type { MessageLang, SendAttemptRecord, TokenStore } from '../wechat/types'
import type { AttributeValue, CampaignStatus, MessageStatus, Preferences, Reason, SegmentFilter, SubscribeResult } from '../../src/domain/contract'

// ─── sessions ────────────────────────────────────────────────────────────────

export interface SessionRepository {
  /** Stores a session by the sha256 of its token (the token itself is never stored). */
  create(session: { tokenHash: string; openid: string; createdAt: Date; expiresAt: Date }): Promise<void>
  /** The openid of an unexpired session, or null. */
  findOpenid(tokenHash: string, now: Date): Promise<string | null>
  /** Removes sessions that expired before `now`; returns how many. */
  deleteExpired(now: Date): Promise<number>
  /** Keeps the `keep` newest sessions of `openid` (by creation) and removes the others; returns how many went. */
  deleteAllButNewest(openid: string, keep: number): Promise<number>
}

// ─── operator sessions (the console) ─────────────────────────────────────────

export interface OperatorSessionRepository {
  /** Stores a session by the sha256 of its token (the token itself is never stored). */
  create(session: { tokenHash: string; createdAt: Date; expiresAt: Date }): Promise<void>
  /** When the session of this hash expires (or expired), or null when there is none. */
  expiry(tokenHash: string): Promise<Date | null>
  /** Ends one session; false when there was none. */
  delete(tokenHash: string): Promise<boolean>
  /** Removes sessions that expired before `before`; returns how many. */
  deleteExpired(before: Date): Promise<number>
}

// ─── consents and credits ────────────────────────────────────────────────────

export interface ConsentChange {
  templateId: string
  result: SubscribeResult
  credit: CreditChange
  /**
   * Set while push is configured, for an answer counted once across the device's report and WeChat's
   * event (server/ledger/reconciliation.ts): applied instead of `credit` when WeChat's event for it
   * already counted. Otherwise `credit` applies and the report waits, unconfirmed, for the event.
   */
  whenPaired?: CreditChange
}

export interface SubscriptionRecord {
  templateId: string
  credits: number
  lastResult: SubscribeResult | null
  updatedAt: Date
}

export interface LedgerRepository {
  /**
   * In one transaction: if (openid, consentId) was seen, return the credits stored with it and change
   * nothing; else apply every change, record each answer as the template's last result, store the
   * consent with the resulting credits of its templates, and return them.
   */
  applyConsent(input: {
    openid: string
    consentId: string
    changes: ConsentChange[]
    now: Date
    /**
     * For changes with `whenPaired`: the person's oldest event of that template that counted on its
     * own and was received at most this long before `now` pairs with the report.
     */
    pairWithinMs?: number
  }): Promise<{ credits: Record<string, number>; replayed: boolean }>
  listSubscriptions(openid: string): Promise<SubscriptionRecord[]>
  credits(openid: string, templateId: string): Promise<number>
  /** The credits of `templateId` of each of `openids` that has a row (one read for a page of people). */
  creditsOf(openids: readonly string[], templateId: string): Promise<Map<string, number>>
  /**
   * In one transaction, for each item whose `key` was never seen (a retried push is seen): records
   * the event; with `whenPaired`, pairs it with the person's oldest unconfirmed report of the template
   * (which becomes confirmed) and applies `whenPaired`, else applies `credit`, records `result` and
   * keeps the event to pair with a later report. Returns the keys applied and those seen before.
   */
  applyWeChatEvents(input: {
    event: 'popup' | 'change'
    openid: string
    /** WeChat's CreateTime. */
    createdAt: Date
    items: WeChatConsentEvent[]
    now: Date
  }): Promise<{ applied: string[]; duplicates: string[] }>
  /** Reports still unconfirmed that were received before `before`, oldest first, at most `limit`. */
  listUnconfirmed(before: Date, limit: number): Promise<{ seq: number; openid: string; templateId: string }[]>
  /** In one transaction: each report still unconfirmed becomes withdrawn and `credit` applies. Returns how many. */
  withdrawReports(reports: readonly { seq: number; credit: CreditChange }[], now: Date): Promise<number>
}

/** One template of a popup or change event, with what it does to the credits (decided by the ledger). */
export interface WeChatConsentEvent {
  /** ToUserName + FromUserName + CreateTime + Event + TemplateId: the same for a retried push. */
  key: string
  templateId: string
  /** SubscribeStatusString as WeChat wrote it. */
  status: string
  popupScene?: string
  credit: CreditChange
  whenPaired?: CreditChange
  result?: SubscribeResult
}

// ─── deliveries (subscribe_msg_sent_event) ───────────────────────────────────

export interface DeliveryRecord {
  status: 'delivered' | 'failed'
  errorCode: number
  errorStatus: string
  /** WeChat's CreateTime of the event. */
  at: Date
}

export interface DeliveryEvent {
  /** ToUserName + FromUserName + CreateTime + Event + MsgID. */
  key: string
  templateId: string
  msgid: string
  delivery: DeliveryRecord
}

export interface DeliveryRepository {
  /**
   * In one transaction: records each delivery whose key was never seen. A delivery is kept also when
   * no message has its msgid (yet): a message written later with that msgid shows it. Returns the
   * keys applied, those seen before, and the msgids no message has.
   */
  record(input: { openid: string; items: DeliveryEvent[]; now: Date }): Promise<{ applied: string[]; duplicates: string[]; unknownMsgids: string[] }>
  /** The delivery of each msgid that has one (the latest, should WeChat report one twice). */
  forMsgids(msgids: readonly string[]): Promise<Map<string, DeliveryRecord>>
  /** Messages with a delivery record, by its status. */
  counts(): Promise<Record<DeliveryRecord['status'], number>>
  /** Messages WeChat reported delivered (ErrorCode 0) by events dated `from` or later (their CreateTime). */
  deliveredSince(from: Date): Promise<number>
  /** When the service received the last push event it recorded (popup, change or sent); null before the first. */
  lastEventReceivedAt(): Promise<Date | null>
}

// ─── preferences ─────────────────────────────────────────────────────────────

export interface PreferencesRepository {
  /** Null when the person never saved any (the service applies its defaults). */
  get(openid: string): Promise<Preferences | null>
  /** What each of `openids` saved, for those who saved any (one read for a page of people). */
  getMany(openids: readonly string[]): Promise<Map<string, Preferences>>
  put(openid: string, preferences: Preferences, now: Date): Promise<void>
}

// ─── messages ────────────────────────────────────────────────────────────────

export type MessageSource = 'admin' | 'event' | 'campaign'

export interface NewMessage {
  id: string
  openid: string
  templateId: string
  /** The template's category when the message was made (what muting compares against). */
  category: string
  data: Record<string, { value: string }>
  page?: string
  urgent: boolean
  lang?: MessageLang
  idempotencyKey?: string
  /** What the idempotencyKey stands for: a digest of the request, compared when the key comes again. */
  requestFingerprint?: string
  source: MessageSource
  campaignId?: string
  createdAt: Date
}

export interface StatusChangeRecord {
  at: Date
  status: MessageStatus
  reason?: Reason
}

export interface MessageSummary {
  id: string
  openid: string
  templateId: string
  status: MessageStatus
  reason?: Reason
  /** What exactly broke, when the reason alone does not say (`data.thing1.value: 最多 20 个字符`). */
  detail?: string
  campaignId?: string
  createdAt: Date
  sentAt?: Date
  deliverAfter?: Date
  /** WeChat's msgid, once sent (what its delivery is found by). */
  msgid?: string
}

export interface MessageRecord extends NewMessage, MessageSummary {
  /** Whether a one-time credit is held by this message (spent at claim, maybe given back at finish). */
  creditSpent: boolean
  /** How often WeChat asked to try it later (45009, 43108). */
  requeues: number
  attempts: SendAttemptRecord[]
  history: StatusChangeRecord[]
}

/** A `queued` message leased to a dispatcher: what sending it needs, without its history. */
export interface DispatchJob {
  id: string
  openid: string
  templateId: string
  category: string
  data: Record<string, { value: string }>
  page?: string
  lang?: MessageLang
  urgent: boolean
  requeues: number
  campaignId?: string
}

export type ClaimResult =
  /** The message is now `sending`; `creditSpent`: one credit was taken for it. */
  | { outcome: 'claimed'; creditSpent: boolean }
  /** The recipient's sends on `dayKey` reached `dailyLimit`: nothing changed. */
  | { outcome: 'daily-limit-reached' }
  /** No credit of (openid, templateId) above 0: nothing changed. */
  | { outcome: 'no-credit' }
  /** The message was not `queued` under this owner's lease (another worker has it): nothing changed. */
  | { outcome: 'not-claimable' }

/**
 * How a send ended, as WeChat (or the lack of an answer) decided it: sent, failed, or back in the
 * queue until `dueAt` because WeChat asked to slow down.
 */
export type SendEnding =
  | { status: 'sent'; msgid: string }
  | { status: 'failed'; reason: Reason }
  | { status: 'queued'; reason: Reason; dueAt: Date }

export interface SendClaim {
  id: string
  owner: string
  leaseUntil: Date
  spendCredit: boolean
  dayKey: string
  dailyLimit: number
}

export interface FinishedSend {
  id: string
  attempts: readonly SendAttemptRecord[]
  ending: SendEnding
  credit: CreditChange
  creditHeld: boolean
}

/** Where a message goes from `queued` or `deferred` without being sent. */
export type MessageTransition =
  | { status: 'deferred'; deliverAfter: Date }
  | { status: 'skipped' | 'failed'; reason: Reason; detail?: string }

/** Which queued messages a lease takes: those of one running campaign, or those of none / of campaigns not listed. */
export type LeaseScope = { campaignId: string } | { exceptCampaigns: readonly string[] }

export interface MessageRepository {
  /**
   * Writes a new `queued` message (due now) with its first history entry. When `idempotencyKey` is
   * already taken, writes nothing and returns the message that holds it.
   */
  insert(message: NewMessage): Promise<{ message: MessageRecord; created: boolean }>
  get(id: string): Promise<MessageRecord | null>
  findByIdempotencyKey(key: string): Promise<MessageRecord | null>
  /** Newest first, each with its data (left out when it no longer reads as a message's data). */
  listForRecipient(openid: string, limit: number): Promise<Array<MessageSummary & { data?: Record<string, { value: string }> }>>
  /**
   * In one transaction: up to `limit` `queued` messages due by `now`, not leased by anyone (or whose
   * lease ran out), in `scope`, and not of a campaign that is not running, oldest due first, are
   * leased to `owner` until `until`. A row that no longer reads (its stored data is not JSON) is not a
   * job: its id comes back in `unreadable`, leased like the others.
   */
  leaseDue(lease: { owner: string; now: Date; until: Date; limit: number; scope: LeaseScope }): Promise<{ jobs: DispatchJob[]; unreadable: string[] }>
  /**
   * The same lease as `leaseDue`, answering only the ids leased (oldest due first, unreadable rows
   * among them): for an engine whose worker reads each message when it takes it (`jobsOf`: the BullMQ
   * engine), so that a message's data is not read and parsed twice.
   */
  leaseDueIds(lease: { owner: string; now: Date; until: Date; limit: number; scope: LeaseScope }): Promise<string[]>
  /**
   * What a dispatcher that holds only message ids (the BullMQ engine's jobs) needs to decide and send
   * them, in one read: each message's status and its job, the job null when its stored data no longer
   * reads as a message's data. Ids with no message are left out.
   */
  jobsOf(ids: readonly string[]): Promise<Map<string, { status: MessageStatus; job: DispatchJob | null }>>
  /** Gives back the leases `owner` holds on messages still `queued` (a dispatcher stopping). */
  releaseLeases(owner: string): Promise<number>
  /** Gives back every lease on a `queued` message held by anyone but `owner` (a lone process starting: they are gone). */
  releaseOtherLeases(owner: string): Promise<number>
  /**
   * Moves a `queued` or `deferred` message to `to` and records the change; the lease goes.
   * False when the message was not in one of `from`.
   */
  transition(id: string, from: readonly MessageStatus[], to: MessageTransition, now: Date): Promise<boolean>
  /** `transition` for each, in one transaction; the ids moved. */
  transitions(moves: readonly { id: string; from: readonly MessageStatus[]; to: MessageTransition }[], now: Date): Promise<string[]>
  /**
   * In one transaction: the message must be `queued` and leased by `owner`; the recipient must have
   * fewer than `dailyLimit` messages sending or sent on `dayKey`; a credit of (openid, templateId)
   * must be > 0 (one is taken when `spendCredit`). Then the message becomes `sending`, counted on
   * `dayKey`, its lease held until `leaseUntil`. Otherwise nothing changes and the answer says which
   * condition failed.
   */
  claimForSend(claim: SendClaim & { now: Date }): Promise<ClaimResult>
  /** `claimForSend` for each, in order, in one transaction. */
  claimForSends(claims: readonly SendClaim[], now: Date): Promise<ClaimResult[]>
  /**
   * In one transaction, for each: if the message is still `sending`, records every attempt, moves it to
   * `sent` / `failed` / back to `queued` (counting a requeue), applies `credit` to the recipient's
   * credits of the template and records whether the message still holds a credit. Returns the ids
   * that were not `sending` any more (nothing written for them).
   */
  finishSends(sends: readonly FinishedSend[], now: Date): Promise<{ notSending: string[] }>
  /** How many of the recipient's messages are sending or sent on `dayKey` (what the daily limit counts). */
  countOnDay(openid: string, dayKey: string): Promise<number>
  /** `countOnDay` for many people at once (those with none are left out). */
  countsOnDay(openids: readonly string[], dayKey: string): Promise<Map<string, number>>
  /** `deferred` messages whose time has come become `queued`, due now; returns how many (at most `limit`). */
  enqueueDeferred(now: Date, limit: number): Promise<number>
  /**
   * Messages in `sending` that no live dispatcher holds: their lease ran out by `now`, or — with
   * `otherOwners` (one process alone on its database, starting) — they are leased by anyone but
   * `owner`. With whether each holds a credit.
   */
  listInDoubt(query: { now: Date; owner: string; otherOwners: boolean }): Promise<{ id: string; creditSpent: boolean }[]>
  /** What waits: queued (due now or later), deferred, sending. */
  depth(now: Date): Promise<{ queued: number; due: number; deferred: number; sending: number }>
  /** Messages by status, and WeChat answers (every attempt) by errcode. */
  stats(): Promise<{ byStatus: Record<string, number>; byErrcode: Record<string, number> }>
  /**
   * A `failed` message whose reason is one of `reasons` goes back to `queued`, due now, its requeues
   * counted afresh; the change is recorded. False when it was not failed for one of them.
   */
  retry(id: string, reasons: readonly Reason[], now: Date): Promise<boolean>
  /** Newest first, by the message's sequence; `before` is the cursor (the last sequence of the page before). */
  search(query: MessageQuery): Promise<{ items: MessageSummary[]; next: string | null }>
}

export interface MessageQuery {
  campaignId?: string
  status?: MessageStatus
  openid?: string
  templateId?: string
  reason?: Reason
  since?: Date
  until?: Date
  before?: string
  limit: number
}

// ─── outcomes over time (the console's charts) ───────────────────────────────

/** What happened in one bucket of time: bucket `index` is [from + index·bucketMs, from + (index+1)·bucketMs). */
export interface OutcomeBucket {
  index: number
  /** Messages that became sent, failed, skipped or deferred then (their status history). */
  byStatus: Partial<Record<MessageStatus, number>>
  /** WeChat's answers then, by errcode (every attempt; 0 is accepted). */
  byErrcode: Record<string, number>
}

/**
 * Outcomes are counted as they happen, per second (statuses a message ends a step in, and WeChat's
 * answers by errcode), in the transaction that records them: no row per event. Counts older than a
 * couple of hours are folded into one count per minute by `compact`, so the counts stay small and
 * every chart bucket aligned to a minute (an hour, a day in any time zone) stays exact.
 */
export interface OutcomeRepository {
  /** Buckets of `bucketMs` from `from` (inclusive) to `to` (exclusive), in order; buckets with nothing are left out. */
  overTime(query: { from: Date; to: Date; bucketMs: number }): Promise<OutcomeBucket[]>
  /** Folds the per-second counts before `before` into per-minute counts (each at its minute's start); answers how many per-second counts were folded. */
  compact(before: Date): Promise<number>
}

// ─── campaigns ───────────────────────────────────────────────────────────────

export interface CampaignRecord {
  id: string
  name: string
  segmentId: string
  /** The segment's filter when the campaign was made: who it goes to, even if the segment changes later. */
  segmentFilter: SegmentFilter
  templateId: string
  /** The keyword values as written, placeholders and all. */
  data: Record<string, string>
  page?: string
  urgent: boolean
  truncate: boolean
  ratePerSecond?: number
  status: CampaignStatus
  startAt?: Date
  /** The last openid written by the expansion; null before the first page. */
  expansionCursor: string | null
  expanded: boolean
  total: number
  createdAt: Date
  startedAt?: Date
  finishedAt?: Date
}

/** One recipient's message as the expansion writes it: queued, or already skipped (its data broke a rule). */
export type CampaignMessage = NewMessage & ({ skipped?: undefined } | { skipped: { reason: Reason; detail: string } })

export interface CampaignRepository {
  create(campaign: CampaignRecord): Promise<void>
  get(id: string): Promise<CampaignRecord | null>
  /** Newest first. */
  list(): Promise<CampaignRecord[]>
  /** Moves the campaign from one of `from` to `to`; false when it was not in one of them. */
  setStatus(
    id: string,
    from: readonly CampaignStatus[],
    to: CampaignStatus,
    now: Date,
    times?: { startedAt?: Date; finishedAt?: Date | null },
  ): Promise<boolean>
  /**
   * One page of the expansion, in one transaction, only while the campaign is `running` and its
   * cursor is still `fromCursor` (so a page is never written twice): writes the messages (a recipient
   * who already has one in this campaign is passed over), moves the cursor, counts them into `total`,
   * and marks the expansion done when `done`. Null when the campaign was not in that state.
   */
  expandPage(page: {
    id: string
    fromCursor: string | null
    toCursor: string | null
    done: boolean
    messages: readonly CampaignMessage[]
    now: Date
  }): Promise<{ written: number } | null>
  /** Its messages by status, and the skipped and failed ones by reason. */
  counts(id: string): Promise<CampaignCounts>
  /** Scheduled campaigns whose start time has come. */
  dueToStart(now: Date): Promise<string[]>
  /** Running campaigns whose expansion is not done. */
  expanding(): Promise<string[]>
  /** Running campaigns whose expansion is done, none of whose messages is queued, sending or deferred. */
  finished(): Promise<string[]>
  /** Its `queued` and `deferred` messages become `skipped` with `reason` (CANCELLED); returns how many. */
  skipPending(id: string, reason: Reason, now: Date): Promise<number>
  /** Its `failed` messages whose reason is one of `reasons` go back to `queued`; returns how many. */
  retryFailed(id: string, reasons: readonly Reason[], now: Date): Promise<number>
  /** Running campaigns that have a rate of their own. */
  rates(): Promise<Array<{ id: string; ratePerSecond: number }>>
}

// ─── users and segments ──────────────────────────────────────────────────────

export interface UserRecord {
  openid: string
  /** In alphabetical order. */
  tags: string[]
  /** By key in alphabetical order. */
  attributes: Record<string, AttributeValue>
  /** Null: never signed in (created by an operator). */
  lastActiveAt: Date | null
}

/** What a PUT or an import entry replaces: the tags, the attributes, or both; what it does not name stays. */
export interface UserChangeSet {
  tags?: readonly string[]
  attributes?: Readonly<Record<string, AttributeValue>>
}

/** Which users, in openid order: the segment filter, and for lists an openid prefix. */
export interface AudienceQuery {
  filter: SegmentFilter
  /** Openids beginning with this. */
  prefix?: string
  /** Openids after this one (the cursor). */
  after?: string
  limit: number
  /** What `activeWithinDays` counts back from. */
  now: Date
}

export interface UserRepository {
  /** Creates the user if absent; sets lastActiveAt to `now`. */
  touch(openid: string, now: Date): Promise<void>
  /**
   * In one transaction, for each entry in order: creates the user if absent, then replaces the tags
   * and/or attributes it names. Returns how many were created and how many existed before.
   */
  put(users: readonly (UserChangeSet & { openid: string })[], now: Date): Promise<{ created: number; updated: number }>
  /** The users of `openids` that exist, in the order given. */
  details(openids: readonly string[]): Promise<UserRecord[]>
  /**
   * One page of the openids that match, in openid order, at most `limit`; `next` is the last of them
   * when more may follow, else null. The filter runs in the engine: no user is loaded to be tested.
   */
  page(query: AudienceQuery): Promise<{ openids: string[]; next: string | null }>
}

export interface SegmentRecord {
  id: string
  name: string
  filter: SegmentFilter
  createdAt: Date
}

export interface SegmentRepository {
  /** False, and nothing written, when another segment has this name. */
  create(segment: SegmentRecord): Promise<boolean>
  /** Oldest first. */
  list(): Promise<SegmentRecord[]>
  get(id: string): Promise<SegmentRecord | null>
  /** False when there was none. */
  delete(id: string): Promise<boolean>
}

// ─── all of it ───────────────────────────────────────────────────────────────

/** A campaign's messages by status, and its skipped and failed ones by reason (`CampaignRepository.counts`). */
export interface CampaignCounts {
  byStatus: Partial<Record<MessageStatus, number>>
  byReason: Record<string, number>
}

/** A campaign's counts from rows of (status, reason, count), as each engine's query reads them (a status may come in several rows, a count may be 0). */
export function campaignCounts(rows: Iterable<{ status: string; reason: string | null; count: number }>): CampaignCounts {
  const counts: CampaignCounts = { byStatus: {}, byReason: {} }
  for (const row of rows) {
    if (row.count === 0) continue
    const status = row.status as MessageStatus
    counts.byStatus[status] = (counts.byStatus[status] ?? 0) + row.count
    if ((status === 'skipped' || status === 'failed') && row.reason !== null) counts.byReason[row.reason] = (counts.byReason[row.reason] ?? 0) + row.count
  }
  return counts
}

/** How `DispatchFacts.credits` (and the dispatcher's own read of them) key a person's credits of a template. */
export function creditKey(openid: string, templateId: string): string {
  return `${openid} ${templateId}`
}

/**
 * What the dispatcher reads of a batch's recipients before it decides (`Storage.dispatchFacts`): the
 * preferences each saved (those who saved none left out), the sends each has on `dayKey` (as
 * `countsOnDay`), and the credits of each (openid, template) pair (as `LedgerRepository.creditsOf`,
 * keyed by `creditKey`, a pair with no subscription left out).
 */
export interface DispatchFacts {
  savedPreferences: Map<string, Preferences>
  sentToday: Map<string, number>
  credits: Map<string, number>
}

export interface Storage {
  /**
   * `DispatchFacts` in one statement, for an engine whose every read is a round trip (PostgreSQL): the
   * same answers as `preferences.getMany`, `messages.countsOnDay` and `ledger.creditsOf`, one statement
   * instead of three for each batch the dispatcher decides. Absent where those are cheap (SQLite).
   */
  readonly dispatchFacts?: (request: { openids: readonly string[]; dayKey: string; pairs: ReadonlyArray<{ openid: string; templateId: string }> }) => Promise<DispatchFacts>
  readonly sessions: SessionRepository
  readonly operatorSessions: OperatorSessionRepository
  readonly ledger: LedgerRepository
  readonly preferences: PreferencesRepository
  readonly messages: MessageRepository
  readonly deliveries: DeliveryRepository
  readonly outcomes: OutcomeRepository
  readonly campaigns: CampaignRepository
  readonly users: UserRepository
  readonly segments: SegmentRepository
  /** The shared WeChat access token (see server/wechat/types.ts). */
  readonly tokens: TokenStore
  /**
   * One service process alone on this database (the embedded SQLite file): at start, every send in
   * doubt is from a process that is gone. False for an engine several instances share.
   */
  readonly singleProcess: boolean
  /** SQLite closes at once; PostgreSQL resolves once its pool has ended. */
  close(): void | Promise<void>
}
