/**
 * Subscriptions: per template of the catalogue (src/stores/templates.ts), what this person chose,
 * and asking WeChat for it. Persisted.
 *
 * Per template (`TemplateState`): the status (`unknown` until a dialog answered), the credits the
 * service reports, the "总是保持以上选择" choice as `getSetting` reports it, and the prompt history
 * (when a pre-prompt / the system dialog was last shown and how it ended). Plus the main switch.
 * All of it is the signed-in person's: kept per openid (`personalSlot`), swapped at once when someone
 * else signs in, and nothing while nobody is.
 *
 * `subscribe(ids)` and `openSettings()` must be the FIRST thing a tap handler does: each makes its
 * platform call synchronously, before anything is awaited, so WeChat still sees the tap.
 * Actions throw `SubscribeError` / `ApiError`; they never toast or navigate.
 */
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { SubscribeResult } from '@/domain/contract'
import { hasShape } from '@/rules/shape'
import { consentBatchProblem, uniqueTemplateIds } from '@/rules/consent-batches'
import {
  EMPTY_PROMPT_HISTORY,
  decideGroupPrompt,
  decidePrompt,
  isKeptChoice,
  statusOf,
  type DialogOutcome,
  type KeptChoice,
  type PrePromptOutcome,
  type PromptDecision,
  type PromptHistory,
  type PromptInput,
  type SubscriptionStatus,
} from '@/rules/prompt-policy'
import { SubscribeError, isSubscribeError, isSubscribeErrorCode, type SubscribeErrorCode } from '@/rules/subscribe-errors'
import type { SubscribeAnswers, SubscriptionsSetting } from '@/platform/types'
import { useClientContext } from '@/context'
import { dropOwnerless, isFiniteNumber, isRecord, oneOf, personalSlot, type PersistedSlot } from '@/platform/persisted'
import { useConsentOutboxStore, type FlushReport } from './consent-outbox'
import { useTemplatesStore } from './templates'

export interface TemplateState {
  status: SubscriptionStatus
  /** Sends left as the service reports them; null until the service said. */
  credits: number | null
  /** The "always keep" choice from getSetting's itemSettings; null when not kept. */
  alwaysKeep: KeptChoice | null
  prompts: PromptHistory
  /** When the status last changed on this device (ms), null if never. */
  updatedAt: number | null
  /** The error code of the last failed dialog call, if the last call failed. */
  lastError: SubscribeErrorCode | null
  /** The last dialog answer as WeChat gave it (`acceptWithAlert`, `unrecognized:…`); null before one. */
  lastAnswer: SubscribeResult | null
}

export interface SubscribeOutcome {
  /** The dialog's answer per template id. */
  results: SubscribeAnswers
  /** The consent id the answer was queued under in the outbox. */
  consentId: string
  /** True when the service acknowledged the consent during this call (credits updated). */
  reported: boolean
  /** What the outbox flush did (e.g. `stoppedBy` OFFLINE: it waits and is retried). */
  flush: FlushReport
}

const UNKNOWN_TEMPLATE_STATE: TemplateState = Object.freeze({
  status: 'unknown',
  credits: null,
  alwaysKeep: null,
  prompts: EMPTY_PROMPT_HISTORY,
  updatedAt: null,
  lastError: null,
  lastAnswer: null,
})

// ─── persisted shape ────────────────────────────────────────────────────────

interface StoredSubscriptions {
  states: Record<string, TemplateState>
  mainSwitch: boolean | null
}

const isStatus = oneOf<SubscriptionStatus>(['unknown', 'accept', 'reject', 'ban', 'filter'])
const isPrePromptOutcome = oneOf<PrePromptOutcome>(['shown', 'confirmed', 'declined'])
const isDialogOutcome = oneOf<DialogOutcome>(['accept', 'reject', 'ban', 'filter', 'unrecognized', 'failed'])

function parseStamp<T extends string>(value: unknown, isOutcome: (v: unknown) => v is T): { at: number; outcome: T } | null {
  if (!isRecord(value) || !isFiniteNumber(value.at) || !isOutcome(value.outcome)) return null
  return { at: value.at, outcome: value.outcome }
}

function parseState(value: unknown): TemplateState | null {
  if (!isRecord(value) || !isStatus(value.status)) return null
  const prompts = isRecord(value.prompts) ? value.prompts : {}
  return {
    status: value.status,
    credits: isFiniteNumber(value.credits) ? value.credits : null,
    alwaysKeep: isKeptChoice(value.alwaysKeep) ? value.alwaysKeep : null,
    prompts: {
      prePrompt: parseStamp(prompts.prePrompt, isPrePromptOutcome),
      dialog: parseStamp(prompts.dialog, isDialogOutcome),
    },
    updatedAt: isFiniteNumber(value.updatedAt) ? value.updatedAt : null,
    lastError: isSubscribeErrorCode(value.lastError) ? value.lastError : null,
    lastAnswer: hasShape(SubscribeResult, value.lastAnswer) ? value.lastAnswer : null,
  }
}

function parseSubscriptions(data: unknown): StoredSubscriptions | null {
  if (!isRecord(data) || !isRecord(data.states)) return null
  const states: Record<string, TemplateState> = {}
  for (const [id, value] of Object.entries(data.states)) {
    const state = parseState(value)
    if (state !== null) states[id] = state
  }
  return { states, mainSwitch: typeof data.mainSwitch === 'boolean' ? data.mainSwitch : null }
}

// ─── the store ──────────────────────────────────────────────────────────────

export const useSubscriptionsStore = defineStore('subscriptions', () => {
  const context = useClientContext()
  const catalogue = useTemplatesStore()
  dropOwnerless(context.platform.storage, 'subscriptions')
  let slot: PersistedSlot<StoredSubscriptions> | null = null

  // state
  const states = ref<Record<string, TemplateState>>({})
  /** The main switch as getSetting last reported it; null until read. */
  const mainSwitch = ref<boolean | null>(null)

  /** The state of the person signed in as `openid` (nothing for nobody). */
  function openFor(openid: string | null): void {
    slot = openid === null ? null : personalSlot(context.platform.storage, 'subscriptions', openid, { version: 1, parse: parseSubscriptions })
    const stored = slot?.load() ?? null
    states.value = stored?.states ?? {}
    mainSwitch.value = stored?.mainSwitch ?? null
  }
  // Synchronously, so nothing of the previous person is shown or written after a sign-in.
  watch(() => context.currentOpenid(), openFor, { immediate: true, flush: 'sync' })

  // Credits the service acknowledges for a queued consent, whenever the outbox delivers it.
  useConsentOutboxStore().onAcknowledged((ack) => applyCredits(ack.credits))

  function persist(): void {
    slot?.save({ states: states.value, mainSwitch: mainSwitch.value })
  }

  function stateOf(templateId: string): TemplateState {
    return states.value[templateId] ?? UNKNOWN_TEMPLATE_STATE
  }

  function update(templateId: string, change: (state: TemplateState) => TemplateState): void {
    states.value = { ...states.value, [templateId]: change(stateOf(templateId)) }
  }

  function promptInput(templateId: string, now: number): PromptInput {
    const state = stateOf(templateId)
    return { now, status: state.status, alwaysKeep: state.alwaysKeep, mainSwitch: mainSwitch.value, history: state.prompts }
  }

  /** What the page should do for this template now (see src/rules/prompt-policy.ts). */
  function decisionFor(templateId: string): PromptDecision {
    return decidePrompt(promptInput(templateId, context.clock.now()))
  }

  /** One decision for a group button. */
  function decisionForGroup(templateIds: readonly string[]): PromptDecision {
    const now = context.clock.now()
    return decideGroupPrompt(uniqueTemplateIds(templateIds).map((id) => promptInput(id, now)))
  }

  /** Records the app's own pre-prompt for these templates. */
  function recordPrePrompt(templateIds: readonly string[], outcome: PrePromptOutcome): void {
    const at = context.clock.now()
    for (const id of uniqueTemplateIds(templateIds)) {
      update(id, (state) => ({ ...state, prompts: { ...state.prompts, prePrompt: { at, outcome } } }))
    }
    persist()
  }

  function recordFailure(templateIds: readonly string[], at: number, code: SubscribeErrorCode): void {
    for (const id of templateIds) {
      update(id, (state) => ({ ...state, lastError: code, prompts: { ...state.prompts, dialog: { at, outcome: 'failed' } } }))
    }
    if (code === 'MAIN_SWITCH_OFF') mainSwitch.value = false
    persist()
  }

  function recordResults(results: SubscribeAnswers, at: number): void {
    for (const [id, result] of Object.entries(results)) {
      // An unrecognized answer is recorded as such and leaves the status as it was.
      const status = statusOf(result)
      update(id, (state) => ({
        ...state,
        status: status ?? state.status,
        updatedAt: status === null ? state.updatedAt : at,
        lastError: null,
        lastAnswer: result,
        prompts: { ...state.prompts, dialog: { at, outcome: status ?? 'unrecognized' } },
      }))
    }
    // The dialog answered: the main switch is on.
    mainSwitch.value = true
    persist()
  }

  async function settle(templateIds: string[], at: number, openid: string, call: Promise<SubscribeAnswers>): Promise<SubscribeOutcome> {
    let results: SubscribeAnswers
    try {
      results = await call
    } catch (error) {
      if (isSubscribeError(error)) recordFailure(templateIds, at, error.code)
      throw error
    }
    recordResults(results, at)
    const outbox = useConsentOutboxStore()
    // Queued for the person who was shown the dialog, whoever is signed in by the time it answers.
    const entry = outbox.enqueue(results, openid)
    // A "总是保持以上选择" ticked in this dialog shows only in getSetting: read it again, so the guides
    // (always-reject) and the next taps see it. The consent is already stored in the outbox by now.
    const [flush] = await Promise.all([outbox.flush(), refreshSettings()])
    const reported = flush.acknowledged.some((ack) => ack.consentId === entry.consentId)
    return { results, consentId: entry.consentId, reported, flush }
  }

  /**
   * Asks WeChat for consent to these templates (≤ 3, one kind). Call it FIRST in the tap handler: the
   * platform call happens synchronously, before this returns its promise. Then records the answers,
   * queues the consent report in the outbox (written to storage) for the person signed in, and
   * flushes it. Rejects with a `SubscribeError`; before calling WeChat for too many ids, kinds mixed,
   * or nobody signed in (no one the consent could be counted for).
   */
  function subscribe(templateIds: readonly string[]): Promise<SubscribeOutcome> {
    const ids = uniqueTemplateIds(templateIds)
    const problem = consentBatchProblem(ids, catalogue.templates)
    if (problem !== null) return Promise.reject(problem)
    const openid = context.currentOpenid()
    if (openid === null) return Promise.reject(new SubscribeError('SIGNED_OUT'))
    let call: Promise<SubscribeAnswers>
    try {
      call = context.platform.requestSubscribe(ids)
    } catch (error) {
      return Promise.reject(error)
    }
    return settle(ids, context.clock.now(), openid, call)
  }

  function applySettings(setting: SubscriptionsSetting): SubscriptionsSetting {
    const at = context.clock.now()
    mainSwitch.value = setting.mainSwitch
    const ids = new Set([...Object.keys(states.value), ...catalogue.templates.map((template) => template.id), ...Object.keys(setting.itemSettings)])
    for (const id of ids) {
      const kept = setting.itemSettings[id] ?? null
      update(id, (state) => ({
        ...state,
        alwaysKeep: kept,
        // A kept choice is the answer every call will get.
        status: kept ?? state.status,
        updatedAt: kept !== null && kept !== state.status ? at : state.updatedAt,
      }))
    }
    persist()
    return setting
  }

  /** `getSetting({ withSubscriptions: true })`: main switch and "always keep" choices. */
  async function refreshSettings(): Promise<SubscriptionsSetting> {
    return applySettings(await context.platform.getSubscriptionsSetting())
  }

  /** Opens WeChat's settings (tap only: call it FIRST in the tap handler); applies the settings on return. */
  function openSettings(): Promise<SubscriptionsSetting> {
    let call: Promise<SubscriptionsSetting>
    try {
      call = context.platform.openSubscriptionsSetting()
    } catch (error) {
      return Promise.reject(error)
    }
    return call.then(applySettings)
  }

  /** Credits per template id (from a consent acknowledgement or the service's list). */
  function applyCredits(credits: Record<string, number>): void {
    for (const [id, count] of Object.entries(credits)) update(id, (state) => ({ ...state, credits: count }))
    persist()
  }

  /**
   * GET /api/me/subscriptions: the credits, and the service's last result where it is newer than
   * what this device knows. Known templates the service does not list have 0 credits. The request
   * goes at once; when the catalogue is still being loaded (`catalogueLoad`, the page's templates.load()),
   * the answer is applied once it is in.
   */
  async function refreshFromService(catalogueLoad: Promise<unknown> = Promise.resolve()): Promise<void> {
    const owner = context.currentOpenid()
    const [list] = await Promise.all([context.api.mySubscriptions(), catalogueLoad])
    // Someone else signed in meanwhile: these credits are not theirs.
    if (context.currentOpenid() !== owner) return
    const listed = new Set<string>()
    for (const subscription of list) {
      listed.add(subscription.templateId)
      const serviceTime = Date.parse(subscription.updatedAt)
      update(subscription.templateId, (state) => {
        const newer = subscription.lastResult !== null && (state.updatedAt === null || serviceTime > state.updatedAt)
        return {
          ...state,
          credits: subscription.credits,
          status: (newer && subscription.lastResult !== null ? statusOf(subscription.lastResult) : null) ?? state.status,
          updatedAt: newer ? serviceTime : state.updatedAt,
        }
      })
    }
    for (const template of catalogue.templates) {
      if (!listed.has(template.id)) update(template.id, (state) => ({ ...state, credits: 0 }))
    }
    persist()
  }

  return {
    states,
    mainSwitch,
    stateOf,
    decisionFor,
    decisionForGroup,
    recordPrePrompt,
    subscribe,
    refreshSettings,
    openSettings,
    applyCredits,
    refreshFromService,
  }
})
