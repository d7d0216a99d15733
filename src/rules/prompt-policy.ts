/**
 * When to ask for consent: the prompt policy.
 *
 * A "pre-prompt" is the app's own explanation (a modal or card) shown before WeChat's dialog; the
 * "dialog" is WeChat's `requestSubscribeMessage` window. The policy says, for one template at one
 * moment, what the page should do:
 *
 * - `offer`: show the pre-prompt (its confirm calls `subscribe`).
 * - `direct`: the person ticked "总是保持以上选择" with accept; WeChat shows no dialog and answers
 *   accept at once, so a subscribe control can call `subscribe` without a pre-prompt.
 * - `wait`: the person said no less than the cooldown ago (72 h by default): do not ask again yet.
 * - `guide`: asking cannot work: the main switch is off, or the person ticked "always keep" with
 *   reject. Show the settings guide; its tap calls `openSettings()` and the settings are read again
 *   on return.
 * - `blocked`: the template is banned (`ban`): never ask.
 *
 * Pure, with the time passed in (`now`, ms since the epoch): no uni, no HTTP, no Date.now().
 */
import type { SubscribeResult } from '@/domain/contract'
import { isAccept, isUnrecognized } from '@/domain/subscribe-results'

/** What the app knows about a template for this person. `unknown` until a dialog answered. */
export type SubscriptionStatus = 'unknown' | 'accept' | 'reject' | 'ban' | 'filter'

/** A choice kept with "总是保持以上选择", as `getSetting` reports it in `itemSettings`. */
export type KeptChoice = 'accept' | 'reject' | 'ban'

export function isKeptChoice(value: unknown): value is KeptChoice {
  return value === 'accept' || value === 'reject' || value === 'ban'
}

/** A status a dialog answer gives. */
type AnsweredStatus = Exclude<SubscriptionStatus, 'unknown'>

/**
 * A dialog answer as a status: every accept (`acceptWithAudio`, `acceptWithAlert`… too) is `accept`;
 * an unrecognized answer says nothing about the status (null).
 */
export function statusOf(result: SubscribeResult): AnsweredStatus | null {
  if (isAccept(result)) return 'accept'
  if (isUnrecognized(result)) return null
  // reject, ban or filter.
  return result as Exclude<SubscribeResult, `accept${string}` | `unrecognized:${string}`>
}

/** The choice "总是保持以上选择" keeps for an answer (a `filter` or an unrecognized answer keeps none). */
export function keptChoiceOf(result: SubscribeResult): KeptChoice | null {
  const status = statusOf(result)
  return status === 'filter' ? null : status
}

export type PrePromptOutcome = 'shown' | 'confirmed' | 'declined'

/**
 * How the last system dialog ended: its answer for the template, `unrecognized` (an answer of no
 * known form), or `failed` (an error, see the store).
 */
export type DialogOutcome = 'accept' | 'reject' | 'ban' | 'filter' | 'unrecognized' | 'failed'

export interface PromptHistory {
  /** The app's own pre-prompt, last time it was shown, and how it ended. */
  prePrompt: { at: number; outcome: PrePromptOutcome } | null
  /** WeChat's dialog (a `requestSubscribeMessage` call), last time, and how it ended. */
  dialog: { at: number; outcome: DialogOutcome } | null
}

export interface PromptInput {
  now: number
  status: SubscriptionStatus
  alwaysKeep: KeptChoice | null
  /** null: not read from `getSetting` yet (treated as on). */
  mainSwitch: boolean | null
  history: PromptHistory
}

interface PromptPolicyOptions {
  /** How long to leave a person alone after they said no. Default 72 h. */
  rejectCooldownMs?: number
}

export type PromptDecision =
  | { action: 'offer' }
  | { action: 'direct'; reason: 'always-accept' }
  | { action: 'wait'; reason: 'cooldown'; until: number }
  | { action: 'guide'; reason: 'main-switch-off' | 'always-reject' }
  | { action: 'blocked'; reason: 'ban' }

export const HOUR_MS = 60 * 60 * 1000
const DEFAULT_REJECT_COOLDOWN_MS = 72 * HOUR_MS

export const EMPTY_PROMPT_HISTORY: PromptHistory = Object.freeze({ prePrompt: null, dialog: null })

/** When the person last said no to this template, in the pre-prompt or in the dialog. */
function lastRejectionAt(history: PromptHistory): number | null {
  const times: number[] = []
  if (history.prePrompt?.outcome === 'declined') times.push(history.prePrompt.at)
  if (history.dialog?.outcome === 'reject') times.push(history.dialog.at)
  return times.length === 0 ? null : Math.max(...times)
}

export function decidePrompt(input: PromptInput, options: PromptPolicyOptions = {}): PromptDecision {
  const cooldown = options.rejectCooldownMs ?? DEFAULT_REJECT_COOLDOWN_MS
  if (input.status === 'ban' || input.alwaysKeep === 'ban') return { action: 'blocked', reason: 'ban' }
  if (input.mainSwitch === false) return { action: 'guide', reason: 'main-switch-off' }
  if (input.alwaysKeep === 'reject') return { action: 'guide', reason: 'always-reject' }
  if (input.alwaysKeep === 'accept') return { action: 'direct', reason: 'always-accept' }
  const rejectedAt = lastRejectionAt(input.history)
  if (rejectedAt !== null && input.now < rejectedAt + cooldown) {
    return { action: 'wait', reason: 'cooldown', until: rejectedAt + cooldown }
  }
  return { action: 'offer' }
}

/**
 * One decision for a group button (≤ 3 templates asked in one call). Banned templates are left out;
 * a main switch that is off wins; the group is offered when any template may be offered; it waits
 * when any template is cooling down and none may be offered; a guide when every askable template is
 * kept as reject; direct when every askable template is kept as accept.
 */
export function decideGroupPrompt(inputs: readonly PromptInput[], options: PromptPolicyOptions = {}): PromptDecision {
  const decisions = inputs.map((input) => decidePrompt(input, options))
  const askable = decisions.filter((decision) => decision.action !== 'blocked')
  if (askable.length === 0) return { action: 'blocked', reason: 'ban' }
  const mainSwitchOff = askable.find((decision) => decision.action === 'guide' && decision.reason === 'main-switch-off')
  if (mainSwitchOff) return mainSwitchOff
  if (askable.some((decision) => decision.action === 'offer')) return { action: 'offer' }
  const waits = askable.filter((decision) => decision.action === 'wait')
  if (waits.length > 0) return { action: 'wait', reason: 'cooldown', until: Math.min(...waits.map((wait) => wait.until)) }
  if (askable.every((decision) => decision.action === 'direct')) return { action: 'direct', reason: 'always-accept' }
  if (askable.every((decision) => decision.action === 'guide')) return { action: 'guide', reason: 'always-reject' }
  // A mix of kept accepts and kept rejects: the dialog will not show, asking adds the accepts.
  return { action: 'direct', reason: 'always-accept' }
}
