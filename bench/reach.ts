/**
 * `npx tsx bench/reach.ts [--users 10000,100000]`: how long a segment's reach takes on SQLite (a
 * temporary file) with N users, each with 3 tags and 4 attributes; 60 % have credits of the template,
 * 30 % saved preferences (muted, quiet hours, a daily limit of 1), 10 % a message sent today (their limit). Prints ms per
 * reach for everyone ({}) and for a tag + attribute filter. Not part of `npm run bench`: a quick
 * measurement, with no checks beyond the counts adding up.
 */
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import type { SegmentFilter } from '../src/domain/contract'
import { localDayKey } from '../src/domain/quiet-hours'
import { createAudience } from '../server/audience/audience'
import { createManualClock } from '../server/clock'
import { createSqliteStorage } from '../server/db/sqlite/storage'
import { createLedger } from '../server/ledger/ledger'
import { createTemplateDirectory } from '../server/messages/templates'
import { createPreferencesService } from '../server/preferences/preferences'
import { loadCatalogue } from '../server/templates/catalogue'

const TIME_ZONE = 'Asia/Shanghai'
const BATCH = 5000
const CITIES = ['北京', '上海', '广州', '深圳']

async function measure(count: number): Promise<void> {
  const path = join(tmpdir(), `uni-subscribe-reach-${randomUUID()}.db`)
  const clock = createManualClock(new Date('2026-11-25T05:00:00.000Z'))
  const storage = createSqliteStorage(path, clock)
  try {
    const templates = createTemplateDirectory(loadCatalogue('config/templates.json'))
    const template = templates.find('order_status')!
    const ledger = createLedger({ storage, templates, clock })
    const preferences = createPreferencesService({ repository: storage.preferences, templates, clock })
    const { segments } = createAudience({ storage, ledger, preferences, templates, clock, timeZone: TIME_ZONE })

    const sentToday = storage.db.prepare(
      `INSERT INTO messages (id, openid, template_id, category, data, urgent, source, status, day_key, created_at, updated_at)
       VALUES (?, ?, ?, 'order', '{}', 0, 'admin', 'sent', ?, ?, ?)`,
    )
    const filling = performance.now()
    for (let start = 0; start < count; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, count - start) }, (_, offset) => {
        const index = start + offset
        return {
          openid: `o${String(index).padStart(27, '0')}`,
          tags: ['demo', index % 5 === 0 ? 'vip' : 'regular', `c${index % 4}`],
          attributes: { nickname: `用户${index}`, city: CITIES[index % 4]!, level: 1 + (Math.floor(index / 7) % 5), orderCount: index % 60 },
        }
      })
      await storage.users.put(batch, clock.now())
      // Consents and preferences go through their repositories, which group-commit the calls of one turn:
      // awaited here, so the reach below reads them (and nothing is still being written when the file closes).
      const written: Promise<unknown>[] = []
      for (const [offset, user] of batch.entries()) {
        const index = start + offset
        if (index % 5 < 3) {
          written.push(
            storage.ledger.applyConsent({
              openid: user.openid,
              consentId: `c-${index}`,
              changes: [{ templateId: template.id, result: 'accept', credit: { type: 'add', amount: 1 + (index % 3) } }],
              now: clock.now(),
            }),
          )
        }
        if (index % 5 === 1) {
          written.push(
            storage.preferences.put(
              user.openid,
              index % 10 === 1
                ? { quietHours: null, dailyLimit: 20, mutedCategories: ['order'] }
                : { quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] },
              clock.now(),
            ),
          )
        }
        if (index % 10 === 2) {
          written.push(storage.preferences.put(user.openid, { quietHours: null, dailyLimit: 1, mutedCategories: [] }, clock.now()))
          sentToday.run(randomUUID(), user.openid, template.id, localDayKey(clock.now(), TIME_ZONE), clock.now().getTime(), clock.now().getTime())
        }
      }
      await Promise.all(written)
    }
    const filled = performance.now() - filling

    const filters: [string, SegmentFilter][] = [
      ['everyone {}', {}],
      ['vip in 北京, level ≥ 3', { tagsAll: ['vip'], attributes: { city: { eq: '北京' }, level: { gte: 3 } } }],
    ]
    process.stdout.write(`\n${count.toLocaleString('en')} users (filled in ${filled.toFixed(0)} ms)\n`)
    for (const [name, filter] of filters) {
      const { id } = await segments.create({ name, filter })
      const times: number[] = []
      let reach = await segments.reach(id, template.id)
      for (let run = 0; run < 3; run += 1) {
        const started = performance.now()
        reach = await segments.reach(id, template.id)
        times.push(performance.now() - started)
      }
      const best = Math.min(...times)
      process.stdout.write(`  ${name.padEnd(24)} ${best.toFixed(0).padStart(6)} ms (best of 3)   ${JSON.stringify(reach)}\n`)
    }
  } finally {
    storage.close()
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  }
}

const { values } = parseArgs({ options: { users: { type: 'string', default: '10000,100000' } } })
for (const count of values.users.split(',').map(Number)) await measure(count)
