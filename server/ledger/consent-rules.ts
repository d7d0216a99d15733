/**
 * What one answer of the subscribe dialog does to a person's credits. Pure: the ledger applies it.
 *
 * - one-time template: each `accept`/`acceptWithAudio` allows exactly one more send (accepts add up,
 *   no expiry); `reject`, `ban`, `filter` change no credit (credits earned before stay: WeChat keeps
 *   that quota too) and are recorded as the last result.
 * - long-term template: `accept` subscribes (credits 1, and a send does not consume it); `reject` or
 *   `ban` unsubscribes (credits 0); `filter` (a duplicate title in the same dialog) changes nothing.
 */
import type { SubscribeResult, TemplateKind } from '../../src/domain/contract'
import type { CreditChange } from '../db/storage'

export function isAccept(result: SubscribeResult): boolean {
  return result === 'accept' || result === 'acceptWithAudio'
}

export function creditChangeFor(kind: TemplateKind, result: SubscribeResult): CreditChange {
  if (kind === 'one-time') return isAccept(result) ? { type: 'add', amount: 1 } : { type: 'none' }
  if (isAccept(result)) return { type: 'set', value: 1 }
  if (result === 'reject' || result === 'ban') return { type: 'set', value: 0 }
  return { type: 'none' }
}

/** Whether a send of this kind of template uses up a credit (long-term subscriptions do not). */
export function sendConsumesCredit(kind: TemplateKind): boolean {
  return kind === 'one-time'
}
