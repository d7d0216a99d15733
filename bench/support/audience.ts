/**
 * A large audience made fast, before the service starts: users with tags and attributes, and the
 * credits of one template, written into the service's database file with the service's own SQLite
 * code (`users.put` in batches of 10,000; the credits through the engine's credit primitive, the
 * one consents and sends change them with, in one transaction), while the sandbox
 * WeChat (another process) is told the same openids and quota (the `audience` control call), as a
 * restarted sandbox is told the database's users. Going through the HTTP API would take minutes:
 * a sign-in and a consent per person.
 */
import { performance } from 'node:perf_hooks'
import type { Template } from '../../src/domain/contract'
import { creditStatements } from '../../server/db/sqlite/credits'
import { createSqliteStorage } from '../../server/db/sqlite/storage'
import { demoPerson } from '../../server/demo/people'
import { systemClock } from '../../server/wechat/types'
import type { ServerProcess } from './server-control'

const PUT_BATCH = 10_000

export interface AudiencePlan {
  /** Test users `<prefix>000001`…: the sandbox's names for them. */
  prefix: string
  count: number
  template: Template
  /** Credits (and the sandbox's quota) of `template` each person holds. */
  credits: number
  /** The tags of person number `index` (from 0). */
  tagsOf: (index: number) => string[]
}

export interface PreparedAudience {
  openids: string[]
  /** How long the database and the sandbox took, in ms. */
  setupMs: number
}

export async function prepareAudience(sandbox: ServerProcess, databasePath: string, plan: AudiencePlan): Promise<PreparedAudience> {
  const started = performance.now()
  const { openids } = await sandbox.control('audience', { prefix: plan.prefix, count: plan.count, quota: { [plan.template.id]: plan.credits } })
  const storage = createSqliteStorage(databasePath, systemClock)
  try {
    const now = systemClock.now()
    for (let start = 0; start < openids.length; start += PUT_BATCH) {
      const batch = openids.slice(start, start + PUT_BATCH).map((openid, offset) => {
        const index = start + offset
        // The demo people's nicknames and cities: what the campaign's placeholders fill in.
        const { nickname, city } = demoPerson(index + 1, []).attributes
        return { openid, tags: plan.tagsOf(index), attributes: { nickname: nickname!, city: city! } }
      })
      await storage.users.put(batch, now)
    }
    const credit = { type: 'add' as const, amount: plan.credits }
    const credits = creditStatements(storage.db)
    const at = now.getTime()
    storage.db.transaction(() => {
      for (const openid of openids) credits.apply(openid, plan.template.id, credit, at, 'accept')
    }).immediate()
  } finally {
    storage.close()
  }
  return { openids, setupMs: performance.now() - started }
}
