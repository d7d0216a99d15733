/**
 * Storage as the service sees it: a few repositories whose every method is one atomic operation.
 *
 * SQLite (better-sqlite3, server/db/sqlite/) is the embedded default. The methods return Promises
 * although SQLite answers synchronously, so that a second engine (PostgreSQL) can implement the
 * same interface; each method states what must happen in one transaction, and the rules that
 * decide (which answer adds a credit, what a failure does to it) stay outside, in ledger/ and
 * messages/.
 */
import type { MessageLang, SendAttemptRecord, TokenStore } from '../wechat/types'
import type { MessageStatus, Preferences, SubscribeResult } from '../../src/domain/contract'

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

/** What one answer does to the credits of its template. */
export type CreditChange =
  /** One-time template accepted: one more send allowed. */
  | { type: 'add'; amount: number }
  /** Long-term template: 1 while subscribed (never consumed by a send), 0 after a reject or ban. */
  | { type: 'set'; value: 0 | 1 }
  | { type: 'none' }

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
}

// ─── preferences ─────────────────────────────────────────────────────────────

export interface PreferencesRepository {
  /** Null when the person never saved any (the service applies its defaults). */
  get(openid: string): Promise<Preferences | null>
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
  source: MessageSource
  createdAt: Date
}

export interface StatusChangeRecord {
  at: Date
  status: MessageStatus
  reason?: string
}

export interface MessageSummary {
  id: string
  openid: string
  templateId: string
  status: MessageStatus
  reason?: string
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
  | { outcome: 'claimed' }
  /** The message is now `skipped` with reason DAILY_LIMIT. */
  | { outcome: 'daily-limit' }
  /** The message is now `failed` with reason NO_CREDIT. */
  | { outcome: 'no-credit' }
  /** The message was not in one of the expected statuses (another worker has it). */
  | { outcome: 'not-claimable' }

export type SendResult =
  | { status: 'sent'; msgid: string }
  | { status: 'failed'; reason: string; credit: 'refund' | 'zero' | 'keep' }

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
    to: { status: 'deferred'; deliverAfter: Date } | { status: 'skipped' | 'failed'; reason: string },
    now: Date,
  ): Promise<boolean>
  /**
   * In one transaction: the message must be in one of `from`; if the recipient already has
   * `dailyLimit` messages sending or sent on `dayKey`, it becomes `skipped` (DAILY_LIMIT); else one
   * credit of (openid, templateId) must be > 0 (decremented when `consumeCredit`), or it becomes
   * `failed` (NO_CREDIT); else it becomes `sending`, counted on `dayKey`.
   */
  claimForSend(claim: {
    id: string
    from: readonly MessageStatus[]
    consumeCredit: boolean
    dayKey: string
    dailyLimit: number
    now: Date
  }): Promise<ClaimResult>
  /**
   * In one transaction: records every attempt, moves the message from `sending` to `sent`/`failed`,
   * and applies `credit` to the recipient's credits of the template (`refund` only gives back a
   * credit this message holds).
   */
  finishSend(id: string, attempts: readonly SendAttemptRecord[], result: SendResult, now: Date): Promise<void>
  /** Ids of `queued` messages and of `deferred` ones whose time has come, oldest first. */
  listDue(now: Date, limit: number): Promise<string[]>
  /**
   * Messages left in `sending` by a process that died mid-call become `failed` (INTERRUPTED) and
   * give their credit back. Returns their ids.
   */
  failInterrupted(now: Date): Promise<string[]>
  /** Messages by status, and WeChat answers (every attempt) by errcode. */
  stats(): Promise<{ byStatus: Record<string, number>; byErrcode: Record<string, number> }>
}

// ─── all of it ───────────────────────────────────────────────────────────────

export interface Storage {
  readonly sessions: SessionRepository
  readonly ledger: LedgerRepository
  readonly preferences: PreferencesRepository
  readonly messages: MessageRepository
  /** The shared WeChat access token (see server/wechat/types.ts). */
  readonly tokens: TokenStore
  close(): void
}
