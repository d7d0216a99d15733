/**
 * The credit primitives in SQL, shared by the consent and the message repositories so that a credit
 * is changed by one set of statements: apply an add / set / remove change, take one if > 0, read. They
 * run inside the caller's transaction; what a change should be is decided in server/ledger/rules.ts.
 *
 * One bookkeeping rule lives with them: credits set to 0 void the template's unconfirmed device
 * reports (server/ledger/reconciliation.ts), since the credit a withdrawal would take back is gone.
 */
import type { SubscribeResult } from '../../../src/domain/contract'
import type { CreditChange } from '../../ledger/rules'
import type { SqliteDatabase } from './database'

export interface CreditStatements {
  /** Applies `change` to (openid, templateId), creating the row at 0 first; `result` becomes its last answer when given. */
  apply(openid: string, templateId: string, change: CreditChange, now: number, result?: SubscribeResult): void
  /** Takes one credit if there is one above 0; false when there was none. */
  takeOne(openid: string, templateId: string, now: number): boolean
  read(openid: string, templateId: string): number
}

export function creditStatements(db: SqliteDatabase): CreditStatements {
  const ensureRow = db.prepare(
    'INSERT OR IGNORE INTO subscriptions (openid, template_id, credits, last_result, updated_at) VALUES (?, ?, 0, NULL, ?)',
  )
  const add = db.prepare('UPDATE subscriptions SET credits = credits + ?, updated_at = ? WHERE openid = ? AND template_id = ?')
  const set = db.prepare('UPDATE subscriptions SET credits = ?, updated_at = ? WHERE openid = ? AND template_id = ?')
  const remove = db.prepare('UPDATE subscriptions SET credits = MAX(credits - ?, 0), updated_at = ? WHERE openid = ? AND template_id = ?')
  const voidReports = db.prepare(
    `UPDATE consent_reports SET state = 'void', settled_at = ? WHERE openid = ? AND template_id = ? AND state = 'unconfirmed'`,
  )
  const setResult = db.prepare('UPDATE subscriptions SET last_result = ?, updated_at = ? WHERE openid = ? AND template_id = ?')
  const takeOne = db.prepare(
    'UPDATE subscriptions SET credits = credits - 1, updated_at = ? WHERE openid = ? AND template_id = ? AND credits > 0',
  )
  const read = db.prepare<[string, string], { credits: number }>(
    'SELECT credits FROM subscriptions WHERE openid = ? AND template_id = ?',
  )
  return {
    apply(openid, templateId, change, now, result) {
      ensureRow.run(openid, templateId, now)
      if (change.type === 'add') add.run(change.amount, now, openid, templateId)
      else if (change.type === 'remove') remove.run(change.amount, now, openid, templateId)
      else if (change.type === 'set') {
        set.run(change.value, now, openid, templateId)
        if (change.value === 0) voidReports.run(now, openid, templateId)
      }
      if (result !== undefined) setResult.run(result, now, openid, templateId)
    },
    takeOne(openid, templateId, now) {
      return takeOne.run(now, openid, templateId).changes === 1
    },
    read(openid, templateId) {
      return read.get(openid, templateId)?.credits ?? 0
    },
  }
}
