/**
 * Per-person advisory locks (transaction-scoped), where SQLite's single writer serialised more than a
 * row lock does. Two int4 keys: a namespace and `hashtext(openid)`; a hash collision only makes two
 * people wait for each other. Several are always taken in one statement, in key order, so two
 * transactions never wait for each other's.
 */
import type postgres from 'postgres'
import { textArray } from './parameters'

export const LOCK = {
  /** A person's consents and WeChat's consent events: replays and report/event pairing. */
  ledger: 1,
  /** A person's sends counted on a day (the daily limit). */
  dailyCount: 2,
} as const

/** The locks of the people `openids` (a fragment with an `openid` column), one statement, in key order. */
function lockOpenidsOf(tx: postgres.TransactionSql | postgres.ReservedSql, namespace: number, openids: postgres.PendingQuery<postgres.Row[]>) {
  return tx`
    SELECT pg_advisory_xact_lock(${namespace}::integer, key) FROM (
      SELECT DISTINCT hashtext(openid) AS key FROM (${openids}) AS people ORDER BY key
    ) AS keys
  `
}

export async function lockPeople(tx: postgres.TransactionSql, namespace: number, openids: readonly string[]): Promise<void> {
  if (openids.length === 0) return
  await lockOpenidsOf(tx, namespace, tx`SELECT unnest(${textArray(tx, openids)}) AS openid`)
}

/** `lockPeople` for the recipients of these messages, read from their rows in the same statement (started now: it may be pipelined). */
export function lockRecipientsOf(tx: postgres.TransactionSql | postgres.ReservedSql, namespace: number, messageIds: readonly string[]): Promise<unknown> {
  return lockOpenidsOf(tx, namespace, tx`SELECT openid FROM messages WHERE id = ANY(${textArray(tx, messageIds)})`).then(() => undefined)
}
