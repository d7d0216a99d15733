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

/** The JSON of history entries to write or append, each `[at, status, reason]`. */
export function historyEntries(...entries: HistoryEntry[]): string {
  return JSON.stringify(entries)
}

/** The JSON of attempts to append. */
export function attemptEntries(attempts: readonly SendAttemptRecord[]): string {
  return JSON.stringify(attempts.map((attempt): AttemptEntry => [attempt.at.getTime(), attempt.errcode, attempt.errmsg]))
}

/**
 * SQL for `column` with the entries of the JSON array bound as `@param` appended. Both are arrays
 * written by this module or by SQLite's JSON functions, so without spaces: joining their texts is the
 * concatenation, without parsing either. (`json_insert(…, '$[#]', …)` appends one value; a send can
 * bring several attempts.)
 */
export function appended(column: 'history' | 'attempts', param: string): string {
  return `CASE WHEN @${param} = '[]' THEN ${column} WHEN ${column} = '[]' THEN @${param}
    ELSE substr(${column}, 1, length(${column}) - 1) || ',' || substr(@${param}, 2) END`
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
