/**
 * The consent outbox: every dialog answer waits here until the service acknowledged it.
 *
 * `enqueue(results)` writes `{ consentId, results }` to storage at once (before any network call), with
 * a consent id made on the device; `flush()` posts each entry to POST /api/consents:
 * - 2xx: acknowledged, removed; `onAcknowledged` listeners get the credits (the subscriptions store
 *   listens).
 * - no answer (OFFLINE, TIMEOUT), 5xx, 429: kept; retried after a backoff (2 s, 4 s, 8 s… 5 min) on the
 *   context's timers, and at once on the next `flush()` (app show, next action, sign-in).
 * - 401: kept, no timer: it goes after the next sign-in.
 * - 400 UNKNOWN_TEMPLATE naming `results.<id>` (the service's catalogue dropped a template this
 *   device still offered): only that answer is dropped; the others are posted again under the same
 *   consent id (the service stored nothing for the refused request), so they are not lost.
 * - any other 4xx: the service will never take it; removed and kept in `dropped` with its error.
 * A replay (the same consentId after a lost answer) adds nothing on the service, so nothing is
 * counted twice. `flush()` never rejects: it reports what happened.
 *
 * Each entry belongs to the person who answered the dialog: `enqueue(results, openid)` names that
 * session's openid, and `flush()` posts only the entries of the person signed in now
 * (`context.currentOpenid()`), so switching test users on H5 never credits A's consent to B. The others
 * stay stored until their person signs in again. `pendingAccepts`, `pendingCount` and a report's
 * `remaining` count only the current person's entries.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { SubscribeResult, type ConsentResponse } from '@/domain/contract'
import { isAccept } from '@/domain/subscribe-results'
import { backoffDelay } from '@/rules/backoff'
import { useClientContext } from '@/context'
import { isApiError, type ApiError } from '@/api/errors'
import { isFiniteNumber, isRecord, isString, nullable, persistedSlot } from '@/platform/persisted'
import { hasShape } from '@/rules/shape'

interface OutboxEntry {
  consentId: string
  /** The person who answered the dialog. */
  openid: string
  results: Record<string, SubscribeResult>
  /** ms since the epoch. */
  createdAt: number
  /** Failed tries so far. */
  attempts: number
  lastError: OutboxError | null
}

interface OutboxError {
  code: string
  status: number | null
  message: string
  at: number
}

interface DroppedConsent {
  consentId: string
  results: Record<string, SubscribeResult>
  droppedAt: number
  error: OutboxError
}

interface ConsentAcknowledgement {
  consentId: string
  credits: ConsentResponse['credits']
}

export interface FlushReport {
  acknowledged: ConsentAcknowledgement[]
  dropped: DroppedConsent[]
  /** The current person's entries still waiting. */
  remaining: number
  /** The error that stopped this flush (offline, 5xx, 401), if any. */
  stoppedBy: ApiError | null
}

/** How many dropped consents are kept for display. */
const DROPPED_KEPT = 20

function parseResults(value: unknown): Record<string, SubscribeResult> | null {
  if (!isRecord(value)) return null
  const results: Record<string, SubscribeResult> = {}
  for (const [id, result] of Object.entries(value)) {
    if (!hasShape(SubscribeResult, result)) return null
    results[id] = result
  }
  return results
}

function parseError(value: unknown): OutboxError | null {
  if (!isRecord(value)) return null
  const { code, status, message, at } = value
  if (!isString(code) || !nullable(isFiniteNumber)(status) || !isString(message) || !isFiniteNumber(at)) return null
  return { code, status, message, at }
}

function parseEntry(value: unknown): OutboxEntry | null {
  if (!isRecord(value)) return null
  const results = parseResults(value.results)
  const { consentId, openid, createdAt, attempts } = value
  if (!isString(consentId) || !isString(openid) || results === null || !isFiniteNumber(createdAt) || !isFiniteNumber(attempts)) return null
  return { consentId, openid, results, createdAt, attempts, lastError: parseError(value.lastError) }
}

function parseDropped(value: unknown): DroppedConsent | null {
  if (!isRecord(value)) return null
  const results = parseResults(value.results)
  const error = parseError(value.error)
  const { consentId, droppedAt } = value
  if (!isString(consentId) || results === null || error === null || !isFiniteNumber(droppedAt)) return null
  return { consentId, results, droppedAt, error }
}

interface StoredOutbox {
  entries: OutboxEntry[]
  dropped: DroppedConsent[]
}

function parseOutbox(data: unknown): StoredOutbox | null {
  if (!isRecord(data) || !Array.isArray(data.entries) || !Array.isArray(data.dropped)) return null
  // An entry that cannot be read is skipped, the others kept.
  const entries = data.entries.map(parseEntry).filter((entry) => entry !== null)
  const dropped = data.dropped.map(parseDropped).filter((entry) => entry !== null)
  return { entries, dropped }
}

/** The answer the service refused for an unknown template (`field: results.<id>`), if it is one of `results`. */
function unknownTemplateIn(
  error: ApiError,
  results: Record<string, SubscribeResult>,
): { templateId: string; result: SubscribeResult } | null {
  if (error.code !== 'UNKNOWN_TEMPLATE' || error.field === null || !error.field.startsWith('results.')) return null
  const templateId = error.field.slice('results.'.length)
  const result = Object.hasOwn(results, templateId) ? results[templateId] : undefined
  return result === undefined ? null : { templateId, result }
}

export const useConsentOutboxStore = defineStore('consentOutbox', () => {
  const context = useClientContext()
  const slot = persistedSlot(context.platform.storage, 'consent-outbox', { version: 1, parse: parseOutbox })
  const stored = slot.load()

  // state
  const entries = ref<OutboxEntry[]>(stored?.entries ?? [])
  const dropped = ref<DroppedConsent[]>(stored?.dropped ?? [])
  const flushing = ref(false)
  /** When the retry timer fires (ms since the epoch), or null when none is set. */
  const retryAt = ref<number | null>(null)

  /** Whether `entry` is posted for the person signed in as `openid` (nobody signed in: null). */
  function belongsTo(entry: OutboxEntry, openid: string | null): boolean {
    return openid !== null && entry.openid === openid
  }

  // getters
  /** The current person's entries (the session's openid is reactive, so these follow a sign-in). */
  const currentEntries = computed(() => {
    const openid = context.currentOpenid()
    return entries.value.filter((entry) => belongsTo(entry, openid))
  })
  const pendingCount = computed(() => currentEntries.value.length)
  /** The current person's accepts per template id still waiting: credits they have but the service does not know yet. */
  const pendingAccepts = computed(() => {
    const counts: Record<string, number> = {}
    for (const entry of currentEntries.value) {
      for (const [id, result] of Object.entries(entry.results)) {
        if (isAccept(result)) counts[id] = (counts[id] ?? 0) + 1
      }
    }
    return counts
  })

  let cancelRetry: (() => void) | null = null
  const listeners = new Set<(ack: ConsentAcknowledgement) => void>()
  let inFlight: Promise<FlushReport> | null = null

  function persist(): void {
    slot.save({ entries: entries.value, dropped: dropped.value })
  }

  /** Queues one dialog answer of the person signed in as `openid` and writes it to storage before returning. */
  function enqueue(results: Record<string, SubscribeResult>, openid: string): OutboxEntry {
    const entry: OutboxEntry = {
      consentId: context.newId(),
      openid,
      results: { ...results },
      createdAt: context.clock.now(),
      attempts: 0,
      lastError: null,
    }
    entries.value = [...entries.value, entry]
    persist()
    return entry
  }

  function stopRetrying(): void {
    cancelRetry?.()
    cancelRetry = null
    retryAt.value = null
  }

  function scheduleRetry(): void {
    stopRetrying()
    const failures = Math.min(...currentEntries.value.map((entry) => entry.attempts))
    const delay = backoffDelay(Math.max(failures, 1))
    retryAt.value = context.clock.now() + delay
    cancelRetry = context.timers.schedule(() => {
      cancelRetry = null
      retryAt.value = null
      void flush()
    }, delay)
  }

  function errorOf(error: ApiError): OutboxError {
    return { code: error.code, status: error.status, message: error.message, at: context.clock.now() }
  }

  function replaceEntry(consentId: string, update: (entry: OutboxEntry) => OutboxEntry | null): void {
    entries.value = entries.value.flatMap((entry) => {
      if (entry.consentId !== consentId) return [entry]
      const next = update(entry)
      return next === null ? [] : [next]
    })
    persist()
  }

  async function runFlush(): Promise<FlushReport> {
    const report: FlushReport = { acknowledged: [], dropped: [], remaining: 0, stoppedBy: null }
    const tried = new Set<string>()
    flushing.value = true
    try {
      for (;;) {
        // Read each time: entries queued while this flush runs are picked up too, and a sign-in as
        // someone else stops this person's entries from going under the new session.
        const openid = context.currentOpenid()
        const entry = entries.value.find((candidate) => !tried.has(candidate.consentId) && belongsTo(candidate, openid))
        if (entry === undefined) break
        tried.add(entry.consentId)
        try {
          const response = await context.api.postConsent({ consentId: entry.consentId, results: entry.results })
          replaceEntry(entry.consentId, () => null)
          const ack: ConsentAcknowledgement = { consentId: entry.consentId, credits: response.credits }
          report.acknowledged.push(ack)
          for (const listener of listeners) listener(ack)
        } catch (error) {
          if (!isApiError(error)) throw error
          const recorded = errorOf(error)
          if (error.retryable || error.code === 'UNAUTHORIZED') {
            replaceEntry(entry.consentId, (current) => ({ ...current, attempts: current.attempts + 1, lastError: recorded }))
            report.stoppedBy = error
            break
          }
          const unknown = unknownTemplateIn(error, entry.results)
          const refused = unknown === null ? entry.results : { [unknown.templateId]: unknown.result }
          const others = Object.fromEntries(Object.entries(entry.results).filter(([id]) => id !== unknown?.templateId))
          const gone: DroppedConsent = { consentId: entry.consentId, results: refused, droppedAt: recorded.at, error: recorded }
          dropped.value = [gone, ...dropped.value].slice(0, DROPPED_KEPT)
          report.dropped.push(gone)
          if (unknown !== null && Object.keys(others).length > 0) {
            // The other answers still count: posted again in this flush.
            replaceEntry(entry.consentId, (current) => ({ ...current, results: others }))
            tried.delete(entry.consentId)
          } else {
            replaceEntry(entry.consentId, () => null)
          }
        }
      }
    } finally {
      flushing.value = false
    }
    report.remaining = currentEntries.value.length
    if (report.stoppedBy !== null && report.stoppedBy.retryable && report.remaining > 0) scheduleRetry()
    return report
  }

  /**
   * Posts every waiting consent now (backoff or not). A flush already running is joined, not doubled.
   * Never rejects for a service error: see the report.
   */
  function flush(): Promise<FlushReport> {
    if (inFlight !== null) return inFlight
    stopRetrying()
    inFlight = runFlush().finally(() => {
      inFlight = null
    })
    return inFlight
  }

  /** Calls `listener` with each acknowledgement (credits per template); returns the unsubscribe. */
  function onAcknowledged(listener: (ack: ConsentAcknowledgement) => void): () => void {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  return { entries, dropped, flushing, retryAt, pendingCount, pendingAccepts, enqueue, flush, stopRetrying, onAcknowledged }
})
