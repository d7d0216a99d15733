/**
 * The PostgreSQL storage alone on the dispatch path (campaign expansion → lease → claim → ending), in
 * batches as the BullMQ engine runs it, against a throwaway PostgreSQL 15: wall time and PostgreSQL's
 * own CPU (every process of the server, from /proc) per message, and pg_stat_statements when it is
 * loadable. Not part of `npm run bench`: a tool to weigh one storage change against another.
 *   npx tsx bench/pg-storage.ts [messages=6000] [batch=16]
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync } from 'node:fs'
import postgres from 'postgres'
import { createManualClock } from '../server/clock'
import { createPostgresStorage } from '../server/db/postgres/storage'
import type { CampaignMessage } from '../server/db/storage'
import { startPostgres } from '../tests/support/servers'
import { processes } from './support/proc'

const total = Number(process.argv[2] ?? 6000)
const batch = Number(process.argv[3] ?? 16)
/** CPU seconds of PostgreSQL's processes (the postmaster's children) by kind (backend, autovacuum, walwriter…), from their titles. */
function cpuByKind(root: number): Record<string, number> {
  const kinds: Record<string, number> = {}
  for (const process of processes()) {
    if (process.ppid !== root) continue
    const kind = /postgres: (autovacuum|walwriter|checkpointer|background writer|logical|archiver|stats)/.exec(process.command)?.[1] ?? 'backend'
    kinds[kind] = (kinds[kind] ?? 0) + process.ownSeconds
  }
  return kinds
}

/** CPU seconds of the postmaster and its children, their own time each. */
function cpuOfTree(root: number): number {
  return processes()
    .filter((process) => process.pid === root || process.ppid === root)
    .reduce((seconds, process) => seconds + process.ownSeconds, 0)
}

const server = await startPostgres()
try {
  const T0 = new Date('2026-12-01T00:00:00.000Z')
  const clock = createManualClock(T0)
  // pg_stat_statements must be preloaded: set it and restart the throwaway server once.
  const first = postgres(server.url, { max: 1, onnotice: () => {} })
  const [{ dir }] = await first<{ dir: string }[]>`SELECT setting AS dir FROM pg_settings WHERE name = 'data_directory'`
  await first.unsafe(`ALTER SYSTEM SET shared_preload_libraries = pg_stat_statements${process.env.AUTO_EXPLAIN === undefined ? '' : ', auto_explain'}`)
  await first.end()
  try {
    execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', `/usr/lib/postgresql/15/bin/pg_ctl -D ${dir} -m fast -w restart -l ${dir}/../log2 >/dev/null`])
  } catch (error) {
    console.error(readFileSync(`${dir}/../log2`, 'utf8'))
    throw error
  }
  const storage = await createPostgresStorage(server.url, clock, { max: 4 })
  const { sql } = storage
  const postmaster = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0])
  const stats = await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`.then(() => true, () => false)
  if (stats) await sql`ALTER SYSTEM SET pg_stat_statements.track_planning = on`.then(() => sql`SELECT pg_reload_conf()`)
  if (process.env.AUTO_EXPLAIN !== undefined) {
    // Every statement's plan with its timings into the server's log (for a small run).
    await sql`ALTER SYSTEM SET auto_explain.log_min_duration = 0`
    await sql`ALTER SYSTEM SET auto_explain.log_analyze = on`
    await sql`ALTER SYSTEM SET auto_explain.log_nested_statements = on`
    await sql`SELECT pg_reload_conf()`
  }
  await sql`INSERT INTO subscriptions (openid, template_id, credits, updated_at)
    SELECT 'o-' || i, 'tpl', 1000, now() FROM generate_series(1, ${total}) AS i`
  let now = T0.getTime()
  const rounds = 3
  const perRound = Math.floor(total / rounds)
  const results: Array<{ round: number; wallUs: number; cpuUs: number; phases: Record<string, number> }> = []
  for (let round = 0; round < rounds; round++) {
    const id = `c-${round}`
    await storage.campaigns.create({
      id, name: id, segmentId: 's', segmentFilter: {}, templateId: 'tpl', data: {}, urgent: false, truncate: true,
      status: 'running', expansionCursor: null, expanded: false, total: 0, createdAt: new Date(now),
    })
    if (stats) await sql`SELECT pg_stat_statements_reset()`
    const [{ lsn: lsn0 }] = await sql<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`
    const cpu0 = cpuOfTree(postmaster)
    const kinds0 = cpuByKind(postmaster)
    const wall0 = performance.now()
    const phases: Record<string, number> = { expand: 0, lease: 0, claim: 0, finish: 0 }
    const tick = (name: string, started: number) => { phases[name]! += performance.now() - started }
    let t = performance.now()
    for (let from = 0; from < perRound; from += 1000) {
      const messages: CampaignMessage[] = []
      for (let i = from; i < Math.min(perRound, from + 1000); i++) {
        const openid = `o-${round * perRound + i + 1}`
        messages.push({ id: `${id}:${openid}`, openid, templateId: 'tpl', category: 'c', data: { thing1: { value: `hello ${i}` }, time2: { value: '2026-12-01 10:00' } },
          urgent: false, source: 'campaign', campaignId: id, createdAt: new Date(now), ...(i % 50 === 0 ? { skipped: { reason: 'MUTED_CATEGORY', detail: 'x' } } : {}) })
      }
      await storage.campaigns.expandPage({ id, fromCursor: from === 0 ? null : String(from), toCursor: String(from + 1000), done: from + 1000 >= perRound, messages, now: new Date(now) })
    }
    tick('expand', t)
    for (;;) {
      now += 7
      t = performance.now()
      const { jobs } = await storage.messages.leaseDue({ owner: 'feeder', now: new Date(now), until: new Date(now + 10_000), limit: batch, scope: { campaignId: id } })
      tick('lease', t)
      if (jobs.length === 0) break
      t = performance.now()
      const claimed = await storage.messages.claimForSends(jobs.map((job) => ({ id: job.id, owner: 'feeder', leaseUntil: new Date(now + 60_000), spendCredit: true, dayKey: '2026-12-01', dailyLimit: 100 })), new Date(now))
      tick('claim', t)
      t = performance.now()
      await storage.messages.finishSends(jobs.filter((_, i) => claimed[i]!.outcome === 'claimed').map((job, i) => ({
        id: job.id, attempts: [{ at: new Date(now), errcode: i % 97 === 0 ? 43101 : 0, errmsg: 'ok' }],
        ending: i % 97 === 0 ? { status: 'failed' as const, reason: '43101' as const } : { status: 'sent' as const, msgid: `m-${job.id}` },
        credit: { type: 'none' as const }, creditHeld: true,
      })), new Date(now))
      tick('finish', t)
    }
    const wall = performance.now() - wall0
    const cpu = cpuOfTree(postmaster) - cpu0
    const [{ wal }] = await sql<{ wal: number }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn0}::pg_lsn)::float8 AS wal`
    const kinds1 = cpuByKind(postmaster)
    const byKind = Object.fromEntries(Object.entries(kinds1).map(([kind, seconds]) => [kind, Math.round(((seconds - (kinds0[kind] ?? 0)) * 1e6) / perRound)]))
    const row = { round, byKind, walBytes: Math.round(wal / perRound), wallUs: Math.round((wall * 1000) / perRound), cpuUs: Math.round((cpu * 1e6) / perRound), phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round((v * 1000) / perRound)])) }
    results.push(row)
    console.log(JSON.stringify(row))
    if (stats && round === rounds - 1) {
      const top = await sql<{ calls: number; ms: number; plan_ms: number; query: string }[]>`
        SELECT calls, round(total_exec_time::numeric, 1)::float8 AS ms, round(total_plan_time::numeric, 1)::float8 AS plan_ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 8`
      for (const s of top) console.log(`  ${String(s.ms).padStart(8)} ms (+${s.plan_ms} planning) ${String(s.calls).padStart(6)}×  ${s.query}`)
    }
  }
  const [{ size }] = await sql<{ size: string }[]>`SELECT pg_size_pretty(pg_total_relation_size('messages')) AS size`
  console.log('messages total size', size, '; stats', (await storage.messages.stats()).byErrcode)
  await storage.close()
  // A backend reports its table counts as it ends (before it leaves pg_stat_activity): read them once the storage's are gone.
  const after = postgres(server.url, { max: 1, onnotice: () => {} })
  while ((await after<{ n: number }[]>`SELECT COUNT(*)::integer AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`)[0]!.n > 0) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  for (const row of await after<{ relname: string; upd: number; hot: number }[]>`
    SELECT relname, n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE n_tup_upd > 0 ORDER BY relname`) {
    console.log(`${row.relname}: ${row.upd} updates, ${row.hot} HOT`)
  }
  await after.end()
  if (process.env.AUTO_EXPLAIN !== undefined) {
    copyFileSync(`${dir}/../log2`, process.env.AUTO_EXPLAIN)
    console.log(`plans in ${process.env.AUTO_EXPLAIN}`)
  }
} finally {
  await server.stop()
}
