/**
 * The SQLite storage alone on the campaign's path, in the order and batch sizes the embedded dispatcher
 * runs it (server/dispatch/embedded.ts, worker.ts): a page of 250 recipients read from `users` and
 * written (`expandPage`) for every ~9 batches of 28 sends, each batch leased (`rates`, `leaseDue`), its
 * facts read (`preferences.getMany`, `countsOnDay`, `creditsOf`), claimed (`claimForSends`) and ended
 * (`finishSends`). The audience (users with tags and attributes, credits) is written first as the
 * `campaign` scenario writes it. CPU time of this process per message, by phase. Not part of
 * `npm run bench`: a tool to weigh one storage change against another without the HTTP around it.
 *   npx tsx bench/sqlite-storage.ts [messages=20000] [people=100000] [batch=28]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { creditStatements } from '../server/db/sqlite/credits'
import { createSqliteStorage } from '../server/db/sqlite/storage'
import type { CampaignMessage } from '../server/db/storage'
import { newMessageId } from '../server/messages/ids'
import { sandboxOpenid } from '../server/wechat/sandbox/login'
import { systemClock } from '../server/wechat/types'

const total = Number(process.argv[2] ?? 20_000)
const people = Number(process.argv[3] ?? 100_000)
const batch = Number(process.argv[4] ?? 28)
const PAGE = 250
const TEMPLATE = 'activity_reminder'

const dir = mkdtempSync(join(tmpdir(), 'sqlite-storage-'))
const path = join(dir, 'bench.db')
try {
  const storage = createSqliteStorage(path, systemClock)
  // The sandbox's openids, as in the campaign scenario: hashes, so the order people arrive in (the rows'
  // insertion order) is not the order a campaign walks them in (by openid).
  const openids = Array.from({ length: people }, (_, i) => sandboxOpenid('wx-bench', `bench-${i}`))
  const start = new Date()
  for (let from = 0; from < people; from += 10_000) {
    await storage.users.put(
      openids.slice(from, from + 10_000).map((openid, i) => ({ openid, tags: [(from + i) % 2 === 0 ? 'vip' : 'all', 'all2'], attributes: { nickname: `n${i}`, city: '上海' } })),
      start,
    )
  }
  const credits = creditStatements(storage.db)
  storage.db.transaction(() => {
    for (const openid of openids) credits.apply(openid, TEMPLATE, { type: 'add', amount: 1000 }, start.getTime(), 'accept')
  }).immediate()

  const id = 'c-bench'
  await storage.campaigns.create({
    id, name: id, segmentId: 's', segmentFilter: {}, templateId: TEMPLATE, data: {}, urgent: false, truncate: true,
    status: 'running', expansionCursor: null, expanded: false, total: 0, createdAt: start,
  })
  const phases: Record<string, number> = { expand: 0, lease: 0, facts: 0, claim: 0, finish: 0 }
  let phaseStart = process.cpuUsage()
  const tick = (name: string): void => {
    const used = process.cpuUsage(phaseStart)
    phases[name]! += used.user + used.system
    phaseStart = process.cpuUsage()
  }
  let cursor: string | null = null
  let expanded = false
  let written = 0
  let sent = 0
  const owner = 'bench'
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  let batches = 0
  while (sent < total) {
    if (!expanded && (batches % Math.round(PAGE / batch) === 0 || written - sent < batch)) {
      phaseStart = process.cpuUsage()
      const now = new Date()
      const { openids: page, next } = await storage.users.page({ filter: { tagsAll: ['all2'] }, limit: PAGE, now, ...(cursor === null ? {} : { after: cursor }) })
      const details = await storage.users.details(page)
      const done = next === null || written + page.length >= total
      const messages: CampaignMessage[] = details.map((user) => ({
        id: newMessageId(now.getTime()), openid: user.openid, templateId: TEMPLATE, category: 'activity',
        data: { thing1: { value: `${String(user.attributes.nickname)}的会员日` }, thing2: { value: `${String(user.attributes.city)}各门店` } },
        urgent: false, source: 'campaign', campaignId: id, createdAt: now,
      }))
      const result = await storage.campaigns.expandPage({ id, fromCursor: cursor, toCursor: page.at(-1) ?? cursor, done, messages, now })
      written += result?.written ?? 0
      cursor = page.at(-1) ?? cursor
      expanded = done
      tick('expand')
    }
    batches += 1
    const now = new Date()
    phaseStart = process.cpuUsage()
    const rates = await storage.campaigns.rates()
    const { jobs } = await storage.messages.leaseDue({ owner, now, until: new Date(now.getTime() + 60_000), limit: batch, scope: { exceptCampaigns: rates.map((rate) => rate.id) } })
    tick('lease')
    if (jobs.length === 0) break
    const who = [...new Set(jobs.map((job) => job.openid))]
    await storage.preferences.getMany(who)
    await storage.messages.countsOnDay(who, '2026-12-03')
    await storage.ledger.creditsOf(who, TEMPLATE)
    tick('facts')
    const claimed = await storage.messages.claimForSends(
      jobs.map((job) => ({ id: job.id, owner, leaseUntil: new Date(now.getTime() + 60_000), spendCredit: true, dayKey: '2026-12-03', dailyLimit: 1000 })),
      now,
    )
    tick('claim')
    await storage.messages.finishSends(
      jobs.filter((_, i) => claimed[i]!.outcome === 'claimed').map((job) => ({
        id: job.id, attempts: [{ at: now, errcode: 0, errmsg: 'ok' }], ending: { status: 'sent' as const, msgid: `m${job.id}` },
        credit: { type: 'none' as const }, creditHeld: true,
      })),
      new Date(),
    )
    tick('finish')
    sent += jobs.length
  }
  const cpu = process.cpuUsage(cpu0)
  const per = (us: number): number => Math.round((us / sent) * 10) / 10
  console.log(JSON.stringify({
    sent, people, batch, cpuUs: per(cpu.user + cpu.system), wallUs: per((performance.now() - wall0) * 1000),
    phases: Object.fromEntries(Object.entries(phases).map(([name, us]) => [name, per(us)])),
    rssMB: Math.round(process.memoryUsage().rss / 1e5) / 10,
  }))
  storage.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
