/**
 * The credit rules: what a consent, a send and a failed send do to a person's credits of a template.
 * Pure. The ledger applies them through the storage's atomic primitives (add, set, claim one if > 0);
 * the sandbox WeChat and the test doubles apply them to their own counts with `applyCreditChange`,
 * so every copy of a credit follows the same rules.
 *
 * - One-time template: each accept allows exactly one more send (accepts add up, no expiry);
 *   `reject`, `ban`, `filter` change no credit (credits earned before stay: WeChat keeps that quota
 *   too). A send uses one credit.
 * - Long-term template: an accept subscribes (credits 1, and a send does not use it up); `reject` or
 *   `ban` unsubscribes (credits 0); `filter` (a duplicate title in the same dialog) changes nothing.
 * - A send that failed: the credit it held comes back when WeChat did not use the consent; WeChat's
 *   "no consent left" (43101) sets the credits to 0; an outcome nobody can know keeps it spent.
 */
import type { SubscribeResult, TemplateKind } from '../../src/domain/contract'
import { isAccept } from '../../src/domain/subscribe-results'
import { creditAfterFailure } from '../../src/domain/wechat-errcodes'

/** A change to one person's credits of one template: the primitives a storage engine offers. */
export type CreditChange =
  /** One more send allowed (a one-time accept, a credit given back). */
  | { type: 'add'; amount: number }
  /** Long-term subscribed (1) or not (0); 0 also after WeChat's 43101. */
  | { type: 'set'; value: number }
  /** Fewer sends allowed, never below 0 (a device-reported accept WeChat never confirmed, withdrawn). */
  | { type: 'remove'; amount: number }
  | { type: 'none' }

export const NO_CREDIT_CHANGE: CreditChange = Object.freeze({ type: 'none' })

/** What one answer of the subscribe dialog does to the credits of its template. */
export function creditChangeForConsent(kind: TemplateKind, result: SubscribeResult): CreditChange {
  if (kind === 'one-time') return isAccept(result) ? { type: 'add', amount: 1 } : NO_CREDIT_CHANGE
  if (isAccept(result)) return { type: 'set', value: 1 }
  if (result === 'reject' || result === 'ban') return { type: 'set', value: 0 }
  return NO_CREDIT_CHANGE
}

/**
 * The person turned the template off in WeChat (服务通知 → 设置, pushed as `subscribe_msg_change_event`
 * reject): WeChat sends no more of it, one-time or long-term, so neither do we.
 */
export function creditChangeForTurnOff(): CreditChange {
  return { type: 'set', value: 0 }
}

/** Whether a send of this kind of template uses up a credit (long-term subscriptions do not). */
export function sendConsumesCredit(kind: TemplateKind): boolean {
  return kind === 'one-time'
}

/**
 * What a send that failed does to the credits: `heldCredit` says whether the message spent one when
 * it was claimed; `errcode` is WeChat's last answer, or null when it is not known whether WeChat got
 * the call (the process died or failed mid-call: the credit comes back, and if WeChat did use the
 * consent, the next send meets 43101, which zeroes it).
 */
export function creditChangeAfterFailedSend(heldCredit: boolean, errcode: number | null): CreditChange {
  const rule = errcode === null ? 'refund' : creditAfterFailure(errcode)
  if (rule === 'zero') return { type: 'set', value: 0 }
  if (rule === 'refund' && heldCredit) return { type: 'add', amount: 1 }
  return NO_CREDIT_CHANGE
}

/** The credits after `change`: what a storage engine's primitive does, for in-memory copies. */
export function applyCreditChange(credits: number, change: CreditChange): number {
  switch (change.type) {
    case 'add':
      return credits + change.amount
    case 'set':
      return change.value
    case 'remove':
      return Math.max(0, credits - change.amount)
    case 'none':
      return credits
  }
}

/** Claims one credit if there is one: the count after, or null when there was none to spend. */
export function claimOneCredit(credits: number): number | null {
  return credits > 0 ? credits - 1 : null
}
