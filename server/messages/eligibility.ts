/**
 * Whether a message can go to a person now: the one rule the dispatcher checks before it claims a
 * credit, and that segment reach counts with. In this order:
 * 1. a muted category → skipped MUTED_CATEGORY (the person said no to this kind of message);
 * 2. no credit → failed NO_CREDIT (it could never be sent, so it is not held until quiet hours end);
 * 3. the daily limit used up → skipped DAILY_LIMIT;
 * 4. inside quiet hours and not urgent → deferred until they end;
 * else it can be sent. Credit and daily limit are checked again, atomically, when the send claims them.
 */
import type { Preferences, Reason } from '../../src/domain/contract'
import { quietHoursState } from '../../src/domain/quiet-hours'

export interface DeliveryFacts {
  preferences: Preferences
  /** The template's category. */
  category: string
  urgent: boolean
  /** The person's credits of the template (a long-term subscription: 1). */
  credits: number
  /** Messages sending or sent to the person on today's local day. */
  sentToday: number
  now: Date
  /** The zone of quiet hours and daily limits. */
  timeZone: string
}

export type DeliveryVerdict =
  | { verdict: 'send' }
  | { verdict: 'defer'; until: Date }
  | { verdict: 'skip'; reason: Extract<Reason, 'MUTED_CATEGORY' | 'DAILY_LIMIT'> }
  | { verdict: 'fail'; reason: Extract<Reason, 'NO_CREDIT'> }

export function deliveryVerdict(facts: DeliveryFacts): DeliveryVerdict {
  const { preferences } = facts
  if (preferences.mutedCategories.includes(facts.category)) return { verdict: 'skip', reason: 'MUTED_CATEGORY' }
  if (facts.credits <= 0) return { verdict: 'fail', reason: 'NO_CREDIT' }
  if (facts.sentToday >= preferences.dailyLimit) return { verdict: 'skip', reason: 'DAILY_LIMIT' }
  if (!facts.urgent) {
    const quiet = quietHoursState(facts.now, preferences.quietHours, facts.timeZone)
    if (quiet.inside) return { verdict: 'defer', until: quiet.endsAt }
  }
  return { verdict: 'send' }
}
