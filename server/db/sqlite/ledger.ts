/**
 * Consents and credits in SQLite. A consent is applied in one `BEGIN IMMEDIATE` transaction: a
 * consentId seen before returns the credits stored with it; a new one applies its changes (decided
 * by the ledger) and is stored with the credits that resulted.
 *
 * While WeChat's push is configured, a one-time accept is counted once across the device's report
 * (`consent_reports`) and WeChat's popup event (`wechat_events`): whichever arrives second finds the
 * first in the same transaction and pairs with it (server/ledger/reconciliation.ts says what each
 * then does to the credit). Every event is stored once by its key, so a retried push applies once.
 */
import type { SubscribeResult } from '../../../src/domain/contract'
import type { ConsentChange, LedgerRepository, SubscriptionRecord, WeChatConsentEvent } from '../storage'
import { creditStatements } from './credits'
import type { SqliteDatabase } from './database'
import { groupCommit } from './group-commit'
import { distinctJson } from './json-list'

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
    // The list as the outer table of a join (json-list.ts).
    'SELECT list.value AS openid, credits FROM json_each(?) AS list JOIN subscriptions ON subscriptions.openid = list.value AND template_id = ?',
  )

  // ─── pairing device reports with WeChat's events ───────────────────────────
  const awaitingEvent = db.prepare<[string, string, number], { seq: number; event_key: string }>(
    `SELECT seq, event_key FROM wechat_events WHERE openid = ? AND template_id = ? AND awaiting_report = 1 AND received_at >= ?
     ORDER BY seq LIMIT 1`,
  )
  const stopAwaiting = db.prepare('UPDATE wechat_events SET awaiting_report = 0 WHERE seq = ?')
  const startAwaiting = db.prepare('UPDATE wechat_events SET awaiting_report = 1 WHERE event_key = ?')
  const insertReport = db.prepare(
    'INSERT INTO consent_reports (openid, consent_id, template_id, state, event_key, reported_at, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  const unconfirmedReport = db.prepare<[string, string], { seq: number }>(
    `SELECT seq FROM consent_reports WHERE openid = ? AND template_id = ? AND state = 'unconfirmed' ORDER BY seq LIMIT 1`,
  )
  const confirmReport = db.prepare(`UPDATE consent_reports SET state = 'confirmed', event_key = ?, settled_at = ? WHERE seq = ?`)
  const insertEvent = db.prepare(`
    INSERT OR IGNORE INTO wechat_events (event_key, event, openid, template_id, status, popup_scene, created_at, received_at, awaiting_report)
    VALUES (@key, @event, @openid, @templateId, @status, @popupScene, @createdAt, @receivedAt, 0)
  `)
  const dueReports = db.prepare<[number, number], { seq: number; openid: string; template_id: string }>(
    `SELECT seq, openid, template_id FROM consent_reports WHERE state = 'unconfirmed' AND reported_at < ? ORDER BY reported_at, seq LIMIT ?`,
  )
  const reportById = db.prepare<[number], { openid: string; template_id: string; state: string }>(
    'SELECT openid, template_id, state FROM consent_reports WHERE seq = ?',
  )
  const withdraw = db.prepare(`UPDATE consent_reports SET state = 'withdrawn', settled_at = ? WHERE seq = ? AND state = 'unconfirmed'`)

  /** A change of a device report: paired with an event when it can be, else counted (and, when reconciled, kept unconfirmed). */
  function applyReported(openid: string, consentId: string, change: ConsentChange, now: number, pairWithinMs: number): void {
    if (change.whenPaired === undefined) {
      credits.apply(openid, change.templateId, change.credit, now, change.result)
      return
    }
    const event = awaitingEvent.get(openid, change.templateId, now - pairWithinMs)
    if (event) {
      stopAwaiting.run(event.seq)
      insertReport.run(openid, consentId, change.templateId, 'confirmed', event.event_key, now, now)
      credits.apply(openid, change.templateId, change.whenPaired, now, change.result)
    } else {
      insertReport.run(openid, consentId, change.templateId, 'unconfirmed', null, now, null)
      credits.apply(openid, change.templateId, change.credit, now, change.result)
    }
  }

  // Device reports and WeChat's events come many at once (a campaign's dialog answers): they share commits.
  const apply = groupCommit(db, (openid: string, consentId: string, changes: ConsentChange[], now: number, pairWithinMs: number) => {
    const seen = findConsent.get(openid, consentId)
    if (seen) return { credits: JSON.parse(seen.credits) as Record<string, number>, replayed: true }
    for (const change of changes) applyReported(openid, consentId, change, now, pairWithinMs)
    const after = Object.fromEntries(changes.map((change) => [change.templateId, credits.read(openid, change.templateId)]))
    const results = Object.fromEntries(changes.map((change) => [change.templateId, change.result]))
    insertConsent.run(openid, consentId, JSON.stringify(results), JSON.stringify(after), now)
    return { credits: after, replayed: false }
  })

  /** One template of an event (seen for the first time): paired with a report when it can be, else counted. */
  function applyEvent(openid: string, item: WeChatConsentEvent, now: number): boolean {
    if (item.whenPaired !== undefined) {
      const report = unconfirmedReport.get(openid, item.templateId)
      if (report) {
        confirmReport.run(item.key, now, report.seq)
        // The report recorded the answer: a paired event records nothing more.
        credits.apply(openid, item.templateId, item.whenPaired, now)
        return false
      }
    }
    credits.apply(openid, item.templateId, item.credit, now, item.result)
    // Counted on its own: a later report of the same accept pairs with it.
    return item.whenPaired !== undefined
  }

  const applyEvents = groupCommit(db, (event: string, openid: string, createdAt: number, items: WeChatConsentEvent[], now: number) => {
    const applied: string[] = []
    const duplicates: string[] = []
    for (const item of items) {
      const row = { key: item.key, event, openid, templateId: item.templateId, status: item.status, popupScene: item.popupScene ?? null, createdAt, receivedAt: now }
      if (insertEvent.run(row).changes === 0) {
        duplicates.push(item.key)
        continue
      }
      applied.push(item.key)
      if (applyEvent(openid, item, now)) startAwaiting.run(item.key)
    }
    return { applied, duplicates }
  })

  const withdrawAll = db.transaction((reports: readonly { seq: number; credit: ConsentChange['credit'] }[], now: number) => {
    let withdrawn = 0
    for (const { seq, credit } of reports) {
      const report = reportById.get(seq)
      if (!report || withdraw.run(now, seq).changes === 0) continue
      credits.apply(report.openid, report.template_id, credit, now)
      withdrawn += 1
    }
    return withdrawn
  })

  return {
    async applyConsent({ openid, consentId, changes, now, pairWithinMs = 0 }) {
      return apply(openid, consentId, changes, now.getTime(), pairWithinMs)
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
    async applyWeChatEvents({ event, openid, createdAt, items, now }) {
      return applyEvents(event, openid, createdAt.getTime(), items, now.getTime())
    },
    async listUnconfirmed(before, limit) {
      return dueReports.all(before.getTime(), limit).map((row) => ({ seq: row.seq, openid: row.openid, templateId: row.template_id }))
    },
    async withdrawReports(reports, now) {
      if (reports.length === 0) return 0
      return withdrawAll.immediate(reports, now.getTime())
    },
    async creditsOf(openids, templateId) {
      return new Map(creditsOf.all(distinctJson(openids), templateId).map((row) => [row.openid, row.credits]))
    },
  }
}
