/**
 * Consents and credits in PostgreSQL, as in SQLite (server/db/sqlite/ledger.ts): a consent is applied
 * in one transaction; a consentId seen before returns the credits stored with it; a new one applies
 * its changes (decided by the ledger) and is stored with the credits that resulted.
 *
 * Where SQLite's single writer serialised them, a person's consents and consent events take that
 * person's advisory lock first (./locks.ts): a consent sent twice at once applies once, and a device
 * report and WeChat's event arriving together on two instances still pair with each other.
 */
import type { SubscribeResult } from '../../../src/domain/contract'
import type { CreditChange } from '../../ledger/rules'
import type { ConsentChange, LedgerRepository, SubscriptionRecord, WeChatConsentEvent } from '../storage'
import { inTransaction, type Queries, type Sql } from './connection'
import { jsonText, textArray } from './parameters'
import { applyCredit, readCredits } from './credits'
import { LOCK, lockPeople } from './locks'

/** A change of a device report: paired with an event when it can be, else counted (and, when reconciled, kept unconfirmed). */
async function applyReported(tx: Queries, openid: string, consentId: string, change: ConsentChange, now: Date, pairWithinMs: number): Promise<void> {
  if (change.whenPaired === undefined) {
    await applyCredit(tx, openid, change.templateId, change.credit, now, change.result)
    return
  }
  const [event] = await tx<{ seq: number; event_key: string }[]>`
    SELECT seq, event_key FROM wechat_events
    WHERE openid = ${openid} AND template_id = ${change.templateId} AND awaiting_report
      AND received_at >= ${new Date(now.getTime() - pairWithinMs)}
    ORDER BY seq LIMIT 1
  `
  if (event) {
    await tx`UPDATE wechat_events SET awaiting_report = false WHERE seq = ${event.seq}`
    await tx`
      INSERT INTO consent_reports (openid, consent_id, template_id, state, event_key, reported_at, settled_at)
      VALUES (${openid}, ${consentId}, ${change.templateId}, 'confirmed', ${event.event_key}, ${now}, ${now})
    `
    await applyCredit(tx, openid, change.templateId, change.whenPaired, now, change.result)
  } else {
    await tx`
      INSERT INTO consent_reports (openid, consent_id, template_id, state, event_key, reported_at, settled_at)
      VALUES (${openid}, ${consentId}, ${change.templateId}, 'unconfirmed', NULL, ${now}, NULL)
    `
    await applyCredit(tx, openid, change.templateId, change.credit, now, change.result)
  }
}

/** One template of an event (seen for the first time): paired with a report when it can be, else counted. True: it waits for a report. */
async function applyEvent(tx: Queries, openid: string, item: WeChatConsentEvent, now: Date): Promise<boolean> {
  if (item.whenPaired !== undefined) {
    const [report] = await tx<{ seq: number }[]>`
      SELECT seq FROM consent_reports
      WHERE openid = ${openid} AND template_id = ${item.templateId} AND state = 'unconfirmed'
      ORDER BY seq LIMIT 1
    `
    if (report) {
      await tx`UPDATE consent_reports SET state = 'confirmed', event_key = ${item.key}, settled_at = ${now} WHERE seq = ${report.seq}`
      // The report recorded the answer: a paired event records nothing more.
      await applyCredit(tx, openid, item.templateId, item.whenPaired, now)
      return false
    }
  }
  await applyCredit(tx, openid, item.templateId, item.credit, now, item.result)
  // Counted on its own: a later report of the same accept pairs with it.
  return item.whenPaired !== undefined
}

export function createPostgresLedgerRepository(sql: Sql): LedgerRepository {
  return {
    async applyConsent({ openid, consentId, changes, now, pairWithinMs = 0 }) {
      return inTransaction(sql, async (tx) => {
        await lockPeople(tx, LOCK.ledger, [openid])
        const [seen] = await tx<{ credits: Record<string, number> }[]>`
          SELECT credits FROM consents WHERE openid = ${openid} AND consent_id = ${consentId}
        `
        if (seen) return { credits: seen.credits, replayed: true }
        for (const change of changes) await applyReported(tx, openid, consentId, change, now, pairWithinMs)
        const after: Record<string, number> = {}
        for (const change of changes) after[change.templateId] = await readCredits(tx, openid, change.templateId)
        const results = Object.fromEntries(changes.map((change) => [change.templateId, change.result]))
        await tx`
          INSERT INTO consents (openid, consent_id, results, credits, created_at)
          VALUES (${openid}, ${consentId}, ${jsonText(tx, results)}::json, ${jsonText(tx, after)}::json, ${now})
        `
        return { credits: after, replayed: false }
      })
    },
    async listSubscriptions(openid) {
      const rows = await sql<{ template_id: string; credits: number; last_result: string | null; updated_at: Date }[]>`
        SELECT template_id, credits, last_result, updated_at FROM subscriptions WHERE openid = ${openid}
        ORDER BY template_id COLLATE "C"
      `
      return rows.map(
        (row): SubscriptionRecord => ({
          templateId: row.template_id,
          credits: row.credits,
          lastResult: row.last_result as SubscribeResult | null,
          updatedAt: row.updated_at,
        }),
      )
    },
    async credits(openid, templateId) {
      return readCredits(sql, openid, templateId)
    },
    async creditsOf(openids, templateId) {
      if (openids.length === 0) return new Map()
      const rows = await sql<{ openid: string; credits: number }[]>`
        SELECT openid, credits FROM subscriptions WHERE template_id = ${templateId} AND openid = ANY(${textArray(sql, openids)})
      `
      return new Map(rows.map((row) => [row.openid, row.credits]))
    },
    async applyWeChatEvents({ event, openid, createdAt, items, now }) {
      return inTransaction(sql, async (tx) => {
        await lockPeople(tx, LOCK.ledger, [openid])
        const applied: string[] = []
        const duplicates: string[] = []
        for (const item of items) {
          const inserted = await tx`
            INSERT INTO wechat_events (event_key, event, openid, template_id, status, popup_scene, created_at, received_at, awaiting_report)
            VALUES (${item.key}, ${event}, ${openid}, ${item.templateId}, ${item.status}, ${item.popupScene ?? null}, ${createdAt}, ${now}, false)
            ON CONFLICT (event_key) DO NOTHING
            RETURNING seq
          `
          if (inserted.count === 0) {
            duplicates.push(item.key)
            continue
          }
          applied.push(item.key)
          if (await applyEvent(tx, openid, item, now)) await tx`UPDATE wechat_events SET awaiting_report = true WHERE event_key = ${item.key}`
        }
        return { applied, duplicates }
      })
    },
    async listUnconfirmed(before, limit) {
      const rows = await sql<{ seq: number; openid: string; template_id: string }[]>`
        SELECT seq, openid, template_id FROM consent_reports
        WHERE state = 'unconfirmed' AND reported_at < ${before} ORDER BY reported_at, seq LIMIT ${limit}
      `
      return rows.map((row) => ({ seq: row.seq, openid: row.openid, templateId: row.template_id }))
    },
    async withdrawReports(reports, now) {
      if (reports.length === 0) return 0
      return inTransaction(sql, async (tx) => {
        let withdrawn = 0
        for (const { seq, credit } of reports) withdrawn += await withdrawOne(tx, seq, credit, now)
        return withdrawn
      })
    },
  }
}

async function withdrawOne(tx: Queries, seq: number, credit: CreditChange, now: Date): Promise<number> {
  const [report] = await tx<{ openid: string; template_id: string }[]>`
    UPDATE consent_reports SET state = 'withdrawn', settled_at = ${now} WHERE seq = ${seq} AND state = 'unconfirmed'
    RETURNING openid, template_id
  `
  if (!report) return 0
  await applyCredit(tx, report.openid, report.template_id, credit, now)
  return 1
}
