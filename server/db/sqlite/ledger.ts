/**
 * Consents and credits in SQLite. A consent is applied in one `BEGIN IMMEDIATE` transaction: a
 * consentId seen before returns the credits stored with it; a new one applies its changes (decided
 * by the ledger) and is stored with the credits that resulted.
 */
import type { SubscribeResult } from '../../../src/domain/contract'
import type { ConsentChange, LedgerRepository, SubscriptionRecord } from '../storage'
import { creditStatements } from './credits'
import type { SqliteDatabase } from './database'

export function createSqliteLedgerRepository(db: SqliteDatabase): LedgerRepository {
  const credits = creditStatements(db)
  const findConsent = db.prepare<[string, string], { credits: string }>(
    'SELECT credits FROM consents WHERE openid = ? AND consent_id = ?',
  )
  const insertConsent = db.prepare(
    'INSERT INTO consents (openid, consent_id, results, credits, created_at) VALUES (?, ?, ?, ?, ?)',
  )
  const list = db.prepare<
    [string],
    { template_id: string; credits: number; last_result: string | null; updated_at: number }
  >('SELECT template_id, credits, last_result, updated_at FROM subscriptions WHERE openid = ? ORDER BY template_id')
  const creditsOf = db.prepare<[string, string], { openid: string; credits: number }>(
    'SELECT openid, credits FROM subscriptions WHERE template_id = ? AND openid IN (SELECT value FROM json_each(?))',
  )

  const apply = db.transaction((openid: string, consentId: string, changes: ConsentChange[], now: number) => {
    const seen = findConsent.get(openid, consentId)
    if (seen) return { credits: JSON.parse(seen.credits) as Record<string, number>, replayed: true }
    for (const change of changes) credits.apply(openid, change.templateId, change.credit, now, change.result)
    const after = Object.fromEntries(changes.map((change) => [change.templateId, credits.read(openid, change.templateId)]))
    const results = Object.fromEntries(changes.map((change) => [change.templateId, change.result]))
    insertConsent.run(openid, consentId, JSON.stringify(results), JSON.stringify(after), now)
    return { credits: after, replayed: false }
  })

  return {
    async applyConsent({ openid, consentId, changes, now }) {
      return apply.immediate(openid, consentId, changes, now.getTime())
    },
    async listSubscriptions(openid) {
      return list.all(openid).map(
        (row): SubscriptionRecord => ({
          templateId: row.template_id,
          credits: row.credits,
          lastResult: row.last_result as SubscribeResult | null,
          updatedAt: new Date(row.updated_at),
        }),
      )
    },
    async credits(openid, templateId) {
      return credits.read(openid, templateId)
    },
    async creditsOf(openids, templateId) {
      return new Map(creditsOf.all(templateId, JSON.stringify(openids)).map((row) => [row.openid, row.credits]))
    },
  }
}
