/**
 * The plans PostgreSQL makes for the messages table's reads (the console's searches, the daily count,
 * the queue's depth, a campaign's counts) on a table of `count` messages in every status, each as a
 * prepared statement's generic plan (what a plan made for any parameter looks like) and a custom one.
 *   npx tsx bench/pg-plans.ts [messages=60000]
 */
import { createManualClock } from '../server/clock'
import { AT_REST } from '../server/db/postgres/campaigns'
import { createPostgresStorage } from '../server/db/postgres/storage'
import type { CampaignMessage } from '../server/db/storage'
import { startPostgres } from '../tests/support/servers'

const count = Number(process.argv[2] ?? 60_000)
const server = await startPostgres()
try {
  const T0 = new Date('2026-12-01T00:00:00.000Z')
  const storage = await createPostgresStorage(server.url, createManualClock(T0), { max: 2 })
  const { sql } = storage
  const campaigns = 6
  for (let c = 0; c < campaigns; c++) {
    const id = `c-${c}`
    const createdAt = new Date(T0.getTime() + c * 3_600_000)
    await storage.campaigns.create({ id, name: id, segmentId: 's', segmentFilter: {}, templateId: 'tpl', data: {}, urgent: false, truncate: true, status: 'running', expansionCursor: null, expanded: false, total: 0, createdAt })
    const per = count / campaigns
    for (let from = 0; from < per; from += 1000) {
      const messages: CampaignMessage[] = []
      for (let i = from; i < Math.min(per, from + 1000); i++) {
        const openid = `o-${i % 5000}`
        messages.push({ id: `${id}:${openid}:${i}`, openid: `${openid}`, templateId: i % 3 === 0 ? 'tpl-b' : 'tpl', category: 'c', data: { thing1: { value: 'x' } }, urgent: false, source: 'campaign', campaignId: id, createdAt: new Date(createdAt.getTime() + i * 10), ...(i % 40 === 0 ? { skipped: { reason: 'MUTED_CATEGORY', detail: 'x' } } : {}) })
      }
      // One message per person per campaign: the openid is unique within a page, the index i makes it unique in the campaign.
      for (const m of messages) m.openid = `${m.openid}-${c}-${Math.floor(from / 5000)}`
      await storage.campaigns.expandPage({ id, fromCursor: from === 0 ? null : String(from), toCursor: String(from + 1000), done: from + 1000 >= per, messages, now: createdAt })
    }
  }
  // Most sent, some failed, some still queued / sending / deferred (the last campaign's).
  await sql`UPDATE messages SET status = 'sent', msgid = 'm' || seq, sent_at = created_at, day_key = '2026-12-01' WHERE status = 'queued' AND campaign_id <> 'c-5'`
  await sql`UPDATE messages SET status = 'failed', reason = '43101' WHERE seq % 97 = 0 AND status = 'sent'`
  await sql`UPDATE messages SET status = 'sending', day_key = '2026-12-01', lease_expires_at = now() WHERE campaign_id = 'c-5' AND seq % 3 = 0 AND status = 'queued'`
  await sql`UPDATE messages SET status = 'deferred', deliver_after = now() WHERE campaign_id = 'c-5' AND seq % 7 = 0 AND status = 'queued'`
  await sql`INSERT INTO subscriptions (openid, template_id, credits, updated_at)
    SELECT 'o-' || i || '-' || c || '-0', t, 3, now() FROM generate_series(0, 4999) AS i, generate_series(0, 5) AS c, unnest(ARRAY['tpl', 'tpl-b']) AS t`
  await sql`VACUUM ANALYZE messages`
  await sql`VACUUM ANALYZE subscriptions`
  const [{ n }] = await sql<{ n: number }[]>`SELECT COUNT(*)::integer AS n FROM messages`
  console.log(`${n} messages`, await storage.messages.stats().then((stats) => stats.byStatus))
  // PREPARE is the session's: one connection for all of them.
  const one = await sql.reserve()
  const show = async (name: string, text: string, params: unknown[]): Promise<void> => {
    const types = params.map((p) => (Array.isArray(p) ? 'text[]' : p instanceof Date ? 'timestamptz' : typeof p === 'number' ? 'bigint' : 'text'))
    await one.unsafe(`PREPARE q ${types.length === 0 ? '' : `(${types.join(', ')})`} AS ${text}`)
    const literal = params.map((p) => (Array.isArray(p) ? `ARRAY[${p.map((v) => `'${String(v)}'`).join(',')}]::text[]` : p instanceof Date ? `'${p.toISOString()}'::timestamptz` : typeof p === 'number' ? String(p) : `'${String(p)}'`)).join(', ')
    for (const mode of ['force_generic_plan', 'force_custom_plan']) {
      await one.unsafe(`SET plan_cache_mode = ${mode}`)
      const rows = await one.unsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) EXECUTE q ${literal === '' ? '' : `(${literal})`}`)
      const lines = rows.map((row) => row['QUERY PLAN'])
      console.log(`\n── ${name} (${mode === 'force_generic_plan' ? 'generic' : 'custom'})\n${lines.filter((line) => !/^\s*(Planning|Buffers: shared hit=\d+$)/.test(line)).join('\n')}`)
    }
    await one.unsafe('DEALLOCATE q')
  }
  const SUMMARY = 'seq, id, openid, status, reason, created_at'
  await show('search: newest', `SELECT ${SUMMARY} FROM messages ORDER BY seq DESC LIMIT 51`, [])
  for (const status of ['queued', 'sending', 'deferred', 'sent', 'failed', 'skipped']) {
    await show(`search: status ${status}`, `SELECT ${SUMMARY} FROM messages WHERE status = '${status}' ORDER BY seq DESC LIMIT 51`, [])
  }
  await show('search: campaign', `SELECT ${SUMMARY} FROM messages WHERE campaign_id = $1 ORDER BY seq DESC LIMIT 51`, ['c-2'])
  await show('search: campaign + status failed', `SELECT ${SUMMARY} FROM messages WHERE campaign_id = $1 AND status = 'failed' ORDER BY seq DESC LIMIT 51`, ['c-2'])
  await show('search: openid', `SELECT ${SUMMARY} FROM messages WHERE openid = $1 ORDER BY seq DESC LIMIT 51`, ['o-7-2-0'])
  await show('search: template', `SELECT ${SUMMARY} FROM messages WHERE template_id = $1 ORDER BY seq DESC LIMIT 51`, ['tpl-b'])
  await show('search: reason', `SELECT ${SUMMARY} FROM messages WHERE reason = $1 ORDER BY seq DESC LIMIT 51`, ['43101'])
  await show('search: since/until (an hour, long ago)', `SELECT ${SUMMARY} FROM messages WHERE created_at >= $1 AND created_at < $2 ORDER BY seq DESC LIMIT 51`, [new Date(T0.getTime() + 3_600_000), new Date(T0.getTime() + 3_660_000)])
  await show('search: idempotency key', `SELECT ${SUMMARY} FROM messages WHERE idempotency_key = $1`, ['k'])
  await show('daily count (claim, countOnDay)', `SELECT COUNT(*) FROM messages WHERE openid = $1 AND day_key = $2 AND status IN ('sending', 'sent')`, ['o-7-2-0', '2026-12-01'])
  await show('depth', `SELECT (SELECT COUNT(*) FROM messages WHERE status = 'queued') AS queued, (SELECT COUNT(*) FROM messages WHERE status = 'queued' AND due_at <= $1) AS due, (SELECT COUNT(*) FROM messages WHERE status = 'deferred') AS deferred, (SELECT COUNT(*) FROM messages WHERE status = 'sending') AS sending`, [new Date()])
  // As server/db/postgres/campaigns.ts writes them (migration 7: the campaign index holds the rows at rest).
  for (const campaign of ['c-2', 'c-5']) {
    await show(`campaign counts (${campaign})`, `SELECT status, reason, COUNT(*)::integer AS count FROM messages WHERE campaign_id = $1 AND ${AT_REST} GROUP BY status, reason
      UNION ALL SELECT 'queued', NULL, COUNT(*)::integer FROM messages WHERE campaign_id = $1 AND status = 'queued'
      UNION ALL SELECT 'sending', NULL, (COUNT(*) FILTER (WHERE campaign_id = $1))::integer FROM messages WHERE status = 'sending'`, [campaign])
  }
  await show('campaigns finished', `SELECT id FROM campaigns c WHERE status = 'running' AND expanded
    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id AND m.status = 'queued')
    AND c.id NOT IN (SELECT campaign_id FROM messages WHERE status = 'sending' AND campaign_id IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id AND ${AT_REST} AND m.status = 'deferred') ORDER BY seq`, [])
  await show('campaign cancel (skipPending)', `SELECT id FROM messages WHERE campaign_id = $1 AND (status = 'queued' OR (${AT_REST} AND status = 'deferred')) ORDER BY seq`, ['c-5'])
  await show('campaign retry (retryFailed)', `SELECT id FROM messages WHERE campaign_id = $1 AND ${AT_REST} AND status = 'failed' AND reason = ANY($2) ORDER BY seq`, ['c-2', ['43101']])
  await show('lease of a campaign', `SELECT id FROM messages WHERE status = 'queued' AND due_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1) AND campaign_id = $2 ORDER BY due_at, seq LIMIT 64`, [new Date('2027-01-01T00:00:00.000Z'), 'c-5'])
  await show('lease', `SELECT id FROM messages WHERE status = 'queued' AND due_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1) AND (campaign_id IS NULL OR campaign_id <> ALL($2)) ORDER BY due_at, seq LIMIT 64`, [new Date('2027-01-01T00:00:00.000Z'), ['none']])
  await show('in doubt', `SELECT id FROM messages WHERE status = 'sending' AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= $1) ORDER BY seq`, [new Date()])
  await show('by msgid (deliveries)', `SELECT DISTINCT msgid FROM messages WHERE msgid = ANY($1)`, [['m100', 'm200']])
  const sixteen = Array.from({ length: 16 }, (_, i) => `o-${i * 7}-2-0`)
  await show('credits of a batch (ledger.creditsOf)', `SELECT openid, credits FROM subscriptions WHERE template_id = $1 AND openid = ANY($2)`, ['tpl', sixteen])
  await show('daily counts of a batch (countsOnDay)', `SELECT openid, COUNT(*) AS count FROM messages WHERE openid = ANY($1) AND day_key = $2 AND status IN ('sending', 'sent') GROUP BY openid`, [sixteen, '2026-12-01'])
  await show('jobsOf', `SELECT id, status, data FROM messages WHERE id = ANY($1)`, [['c-2:o-1:1', 'c-2:o-2:2']])
  one.release()
  await storage.close()
} finally {
  await server.stop()
}
