/**
 * A message's status history and WeChat's answers live in its own row (migration 9), as JSON arrays:
 * `history` of `[atMs, status, reason|null]`, `attempts` of `[atMs, errcode, errmsg]`. Entries are
 * appended by the very statement that changes the status, so a status change writes one row, not three.
 */
import type { MessageStatus, Reason } from '../../../src/domain/contract'
import type { SendAttemptRecord } from '../../wechat/types'
import type { StatusChangeRecord } from '../storage'

type HistoryEntry = [at: number, status: MessageStatus, reason: Reason | null]
type AttemptEntry = [at: number, errcode: number, errmsg: string]

/** The whole JSON of a new message's history, each entry `[at, status, reason]`. */
export function historyValue(...entries: HistoryEntry[]): string {
  return JSON.stringify(entries)
}

/** What `appended` adds for one history entry. */
export function historyAddition(...entry: HistoryEntry): string {
  return `,${JSON.stringify(entry)}`
}

/** What `appended` adds for a send's attempts ('' for none). */
export function attemptsAddition(attempts: readonly SendAttemptRecord[]): string {
  let addition = ''
  for (const attempt of attempts) addition += `,${JSON.stringify([attempt.at.getTime(), attempt.errcode, attempt.errmsg] satisfies AttemptEntry)}`
  return addition
}

/**
 * SQL for `column` with entries appended; it takes one positional parameter, an addition
 * (`historyAddition`, `attemptsAddition`): each entry's JSON preceded by a comma. Both texts are
 * written by this module (or SQLite's JSON functions), without spaces, so joining them is the
 * concatenation, without parsing either; the comma before the first entry of an empty list is trimmed.
 */
export function appended(column: 'history' | 'attempts'): string {
  return `'[' || ltrim(substr(${column}, 2, length(${column}) - 2) || ?, ',') || ']'`
}

export function historyOf(text: string): StatusChangeRecord[] {
  return (JSON.parse(text) as HistoryEntry[]).map(([at, status, reason]) => ({
    at: new Date(at),
    status,
    reason: reason ?? undefined,
  }))
}

export function attemptsOf(text: string): SendAttemptRecord[] {
  return (JSON.parse(text) as AttemptEntry[]).map(([at, errcode, errmsg]) => ({ at: new Date(at), errcode, errmsg }))
}
