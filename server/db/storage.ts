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
import type { AttributeValue, MessageStatus, Preferences, Reason, SegmentFilter, SubscribeResult } from '../../src/domain/contract'

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

// ─── consents and credits ────────────────────────────────────────────────────

export interface ConsentChange {
  templateId: string
  result: SubscribeResult
  credit: CreditChange
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
  }): Promise<{ credits: Record<string, number>; replayed: boolean }>
  listSubscriptions(openid: string): Promise<SubscriptionRecord[]>
  credits(openid: string, templateId: string): Promise<number>
  /** The credits of `templateId` of each of `openids` that has a row (one read for a page of people). */
  creditsOf(openids: readonly string[], templateId: string): Promise<Map<string, number>>
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

export type MessageSource = 'admin' | 'event'

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
  createdAt: Date
  sentAt?: Date
  deliverAfter?: Date
}

export interface MessageRecord extends NewMessage, MessageSummary {
  msgid?: string
  /** Whether a one-time credit is held by this message (spent at claim, maybe given back at finish). */
  creditSpent: boolean
  attempts: SendAttemptRecord[]
  history: StatusChangeRecord[]
}

export type ClaimResult =
  /** The message is now `sending`; `creditSpent`: one credit was taken for it. */
  | { outcome: 'claimed'; creditSpent: boolean }
  /** The recipient's sends on `dayKey` reached `dailyLimit`: nothing changed. */
  | { outcome: 'daily-limit-reached' }
  /** No credit of (openid, templateId) above 0: nothing changed. */
  | { outcome: 'no-credit' }
  /** The message was not in one of the expected statuses (another worker has it): nothing changed. */
  | { outcome: 'not-claimable' }

/** How a send ended, as WeChat (or the lack of an answer) decided it. */
export type SendEnding = { status: 'sent'; msgid: string } | { status: 'failed'; reason: Reason }

export interface MessageRepository {
  /**
   * Writes a new `queued` message with its first history entry. When `idempotencyKey` is already
   * taken, writes nothing and returns the message that holds it.
   */
  insert(message: NewMessage): Promise<{ message: MessageRecord; created: boolean }>
  get(id: string): Promise<MessageRecord | null>
  findByIdempotencyKey(key: string): Promise<MessageRecord | null>
  /** Newest first. */
  listForRecipient(openid: string, limit: number): Promise<MessageSummary[]>
  /**
   * Moves a message from one of `from` to `to` (with `reason`/`deliverAfter`) and records the change.
   * False when the message was not in one of `from`.
   */
  transition(
    id: string,
    from: readonly MessageStatus[],
    to: { status: 'deferred'; deliverAfter: Date } | { status: 'skipped' | 'failed'; reason: Reason },
    now: Date,
  ): Promise<boolean>
  /**
   * In one transaction: the message must be in one of `from`; the recipient must have fewer than
   * `dailyLimit` messages sending or sent on `dayKey`; a credit of (openid, templateId) must be > 0
   * (one is taken when `spendCredit`). Then the message becomes `sending`, counted on `dayKey`.
   * Otherwise nothing changes and the answer says which condition failed.
   */
  claimForSend(claim: {
    id: string
    from: readonly MessageStatus[]
    spendCredit: boolean
    dayKey: string
    dailyLimit: number
    now: Date
  }): Promise<ClaimResult>
  /**
   * In one transaction: the message must be `sending` (else it throws); records every attempt, moves
   * it to `sent`/`failed`, applies `credit` to the recipient's credits of the template, and records
   * whether the message still holds a credit.
   */
  finishSend(
    id: string,
    finish: { attempts: readonly SendAttemptRecord[]; ending: SendEnding; credit: CreditChange; creditHeld: boolean },
    now: Date,
  ): Promise<void>
  /** How many of the recipient's messages are sending or sent on `dayKey` (what the daily limit counts). */
  countOnDay(openid: string, dayKey: string): Promise<number>
  /** Ids of `queued` messages and of `deferred` ones whose time has come, oldest first. */
  listDue(now: Date, limit: number): Promise<string[]>
  /** Messages in `sending`, oldest first, with whether each holds a credit. */
  listSending(): Promise<{ id: string; creditSpent: boolean }[]>
  /** Messages by status, and WeChat answers (every attempt) by errcode. */
  stats(): Promise<{ byStatus: Record<string, number>; byErrcode: Record<string, number> }>
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

export interface Storage {
  readonly sessions: SessionRepository
  readonly ledger: LedgerRepository
  readonly preferences: PreferencesRepository
  readonly messages: MessageRepository
  readonly users: UserRepository
  readonly segments: SegmentRepository
  /** The shared WeChat access token (see server/wechat/types.ts). */
  readonly tokens: TokenStore
  close(): void
}
