/**
 * The credit primitives in SQL, shared by the consent and the message repositories so that a credit
 * is changed by one set of statements: apply an add / set / remove change, take one if > 0, read. They
 * run inside the caller's transaction; what a change should be is decided in server/ledger/rules.ts.
 *
 * Taking one is a single `UPDATE … WHERE credits > 0 RETURNING`: under concurrency PostgreSQL makes a
 * second taker wait for the first's row lock and test `credits > 0` again on what it committed, so
 * credits never go below zero, from however many processes.
 *
 * One bookkeeping rule lives with them, as in SQLite: credits set to 0 void the template's unconfirmed
 * device reports (server/ledger/reconciliation.ts), since the credit a withdrawal would take back is gone.
 */
import type { SubscribeResult } from '../../../src/domain/contract'
import type { CreditChange } from '../../ledger/rules'
import type { Queries } from './connection'

/**
 * Applies `change` to (openid, templateId), creating the row at 0 first; `result` becomes its last
 * answer when given. One statement (so a batch can pipeline it).
 */
export async function applyCredit(
  sql: Queries,
  openid: string,
  templateId: string,
  change: CreditChange,
  now: Date,
  result?: SubscribeResult,
): Promise<void> {
  const credits =
    change.type === 'add'
      ? sql`subscriptions.credits + ${change.amount}`
      : change.type === 'remove'
        ? sql`GREATEST(subscriptions.credits - ${change.amount}, 0)`
        : change.type === 'set'
          ? sql`${change.value}::integer`
          : sql`subscriptions.credits`
  const initial = change.type === 'add' ? change.amount : change.type === 'set' ? change.value : 0
  // Credits set to 0 void the template's unconfirmed device reports.
  const voided =
    change.type === 'set' && change.value === 0
      ? sql`, voided AS (
          UPDATE consent_reports SET state = 'void', settled_at = ${now}
          WHERE openid = ${openid} AND template_id = ${templateId} AND state = 'unconfirmed'
        )`
      : sql``
  await sql`
    WITH changed AS (
      INSERT INTO subscriptions (openid, template_id, credits, last_result, updated_at)
      VALUES (${openid}, ${templateId}, ${initial}, ${result ?? null}, ${now})
      ON CONFLICT (openid, template_id) DO UPDATE SET
        credits = ${credits},
        last_result = COALESCE(${result ?? null}::text, subscriptions.last_result),
        updated_at = ${now}
      RETURNING 1
    ) ${voided}
    SELECT 1
  `
}

/**
 * A credit there to take, as a condition on a row of `subscriptions` (`claimOneCredit` in
 * server/ledger/rules.ts in JavaScript): what `takeCredit` and the set-based claims of ./messages.ts
 * test, in the same statement that takes it or counts on it.
 */
export const HAS_CREDIT = 'subscriptions.credits > 0'
/** Taking one, as a SET of `subscriptions` (only where HAS_CREDIT holds). */
export const TAKE_ONE_CREDIT = 'credits = subscriptions.credits - 1'

/** Takes one credit if there is one above 0; false when there was none. */
export async function takeCredit(sql: Queries, openid: string, templateId: string, now: Date): Promise<boolean> {
  const rows = await sql`
    UPDATE subscriptions SET ${sql.unsafe(TAKE_ONE_CREDIT)}, updated_at = ${now}
    WHERE openid = ${openid} AND template_id = ${templateId} AND ${sql.unsafe(HAS_CREDIT)}
    RETURNING credits
  `
  return rows.count === 1
}

export async function readCredits(sql: Queries, openid: string, templateId: string): Promise<number> {
  const [row] = await sql<{ credits: number }[]>`
    SELECT credits FROM subscriptions WHERE openid = ${openid} AND template_id = ${templateId}
  `
  return row?.credits ?? 0
}
