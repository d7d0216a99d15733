/**
 * One service instance's share of a claim race, as a process of its own: opens the database, leases
 * `count` due messages as `owner`, says `ready`, waits for `go` on stdin (so every process claims at
 * the same moment), claims them all at once and prints the outcomes as one JSON line.
 *
 *   node --import tsx tests/multi/support/claim-worker.ts <DATABASE_URL> <owner> <count>
 */
import { createInterface } from 'node:readline'
import { createPostgresStorage } from '../../../server/db/postgres/storage'
import { systemClock } from '../../../server/wechat/types'

const [url, owner, count] = process.argv.slice(2)
if (url === undefined || owner === undefined || count === undefined) throw new Error('usage: claim-worker.ts <DATABASE_URL> <owner> <count>')

const storage = await createPostgresStorage(url, systemClock, { max: 10 })
const now = new Date()
const leaseUntil = new Date(now.getTime() + 120_000)
const { jobs } = await storage.messages.leaseDue({ owner, now, until: leaseUntil, limit: Number(count), scope: { exceptCampaigns: [] } })
process.stdout.write(`ready ${jobs.length}\n`)
const lines = createInterface({ input: process.stdin })
for await (const line of lines) if (line === 'go') break
const outcomes = await Promise.all(
  jobs.map((job) => storage.messages.claimForSend({ id: job.id, owner, leaseUntil, spendCredit: true, dayKey: '2026-11-25', dailyLimit: 1000, now: new Date() })),
)
process.stdout.write(`${JSON.stringify({ leased: jobs.map((job) => job.id), outcomes: outcomes.map((outcome) => outcome.outcome) })}\n`)
lines.close()
await storage.close()
