/**
 * The reconciliation rules: while WeChat's message push is configured, a consent is counted from two
 * sources, the device's report (POST /api/consents) and WeChat's own event (subscribe_msg_popup_event),
 * and these rules say how the two make one count. Pure, like rules.ts; the ledger applies them through
 * the storage's primitives.
 *
 * - Only one-time accepts are reconciled: they are what can be counted too often. A long-term answer
 *   sets the subscription (1 or 0) whichever side says it, as often as it is said.
 * - The pair is one accept of one person for one template. The first of the two to arrive counts
 *   (one credit); the second confirms it and changes nothing. They are paired oldest first:
 *   WeChat's event with the person's oldest unconfirmed report of that template; a report with the
 *   oldest event of that template that counted on its own and arrived at most the confirmation window
 *   (CONSENT_CONFIRM_WINDOW_S) before it. A pairing never adds a credit, so pairing across two
 *   dialogs of the same template cannot count more than the accepts either side saw.
 * - A report no event confirmed within the window is withdrawn: its credit is taken back, if it is
 *   still there. An event without a report (the report was lost) keeps its credit.
 * - When the credits of a template go to 0 (WeChat's 43101, the person turned it off), unconfirmed
 *   reports of it are void: the credit they would take back is gone already.
 * - A change event's reject turns the template off (rules.ts `creditChangeForTurnOff`) and is recorded
 *   as the last result, so the prompt policy sees a reject. WeChat pushes no other change; an
 *   accept there changes nothing.
 * - Without push configured, the device's report is all there is: each accept counts (rules.ts).
 */
import type { SubscribeResult, TemplateKind } from '../../src/domain/contract'
import { NO_CREDIT_CHANGE, creditChangeForConsent, creditChangeForTurnOff, type CreditChange } from './rules'

/** How a WeChat event or a device report changes the credits, and what it records. */
export interface ReconciledAnswer {
  /** Applied when the answer counts (it is the first of its pair, or not paired at all). */
  credit: CreditChange
  /** For a one-time accept: applied instead when the other side has already counted it. */
  whenPaired?: CreditChange
  /** The template's last result afterwards (what the prompt policy reads), when it changes. */
  result?: SubscribeResult
}

/** WeChat's `SubscribeStatusString` as the dialog's answer; statuses WeChat does not document are none. */
function answerOf(status: string): SubscribeResult | null {
  if (status.startsWith('accept')) return 'accept'
  if (status === 'reject') return 'reject'
  return null
}

/** Whether this answer is counted once across the two sources. */
function isPaired(kind: TemplateKind, result: SubscribeResult): boolean {
  return kind === 'one-time' && result.startsWith('accept')
}

/** A device report of one answer, while push is configured. */
export function reportedAnswer(kind: TemplateKind, result: SubscribeResult): ReconciledAnswer {
  const credit = creditChangeForConsent(kind, result)
  return isPaired(kind, result) ? { credit, whenPaired: NO_CREDIT_CHANGE, result } : { credit, result }
}

/** One template of WeChat's `subscribe_msg_popup_event`. */
export function popupAnswer(kind: TemplateKind, status: string): ReconciledAnswer {
  const result = answerOf(status)
  if (result === null) return { credit: NO_CREDIT_CHANGE }
  const credit = creditChangeForConsent(kind, result)
  return isPaired(kind, result) ? { credit, whenPaired: NO_CREDIT_CHANGE, result } : { credit, result }
}

/** One template of WeChat's `subscribe_msg_change_event`. */
export function changeAnswer(status: string): ReconciledAnswer {
  return answerOf(status) === 'reject' ? { credit: creditChangeForTurnOff(), result: 'reject' } : { credit: NO_CREDIT_CHANGE }
}

/** A device-reported accept that WeChat did not confirm within the window: its credit taken back. */
export function creditChangeForWithdrawal(): CreditChange {
  return { type: 'remove', amount: 1 }
}
