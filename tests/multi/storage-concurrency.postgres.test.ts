/**
 * What several instances on one PostgreSQL database do at the same moment: real parallel
 * connections (a pool per instance, as each service process has) and, for the credit race, real
 * processes. The answers are counted exactly: no credit spent twice, no message leased twice, one
 * winner of the token lease, recovery message by message.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createManualClock } from '../../server/clock'
import { inOneRoundTrip, inTransaction } from '../../server/db/postgres/connection'
import { LOCK, lockPeople } from '../../server/db/postgres/locks'
import { migrate, MIGRATIONS } from '../../server/db/postgres/migrations'
import { createPostgresStorage, type PostgresStorage } from '../../server/db/postgres/storage'
import { createDatabase } from '../support/servers'
import { newMessage, T0 } from '../support/storage-contract'

const root = fileURLToPath(new URL('../..', import.meta.url))
const opened: PostgresStorage[] = []
const clock = createManualClock(T0)

afterEach(async () => {
  clock.set(T0)
  await Promise.all(opened.splice(0).map((storage) => storage.close()))
})

/** `count` instances on one fresh database, each with its own pool. */
async function instances(count: number, label: string): Promise<{ url: string; all: PostgresStorage[] }> {
  const url = await createDatabase(inject('postgresUrl'), label)
  const all = await Promise.all(Array.from({ length: count }, () => createPostgresStorage(url, clock, { max: 5 })))
  opened.push(...all)
  return { url, all }
}

interface WorkerResult {
  leased: string[]
  outcomes: string[]
}

/** claim-worker.ts as a process: resolves `ready` once it holds its leases, `result` after `go()`. */
function claimWorker(url: string, owner: string, count: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/multi/support/claim-worker.ts', url, owner, String(count)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  let errors = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const match = /^ready (\d+)$/m.exec(output)
      if (match) resolve(Number(match[1]))
    })
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')))
    void exited.then((code) => reject(new Error(`claim worker ${owner} exited (${String(code)}):\n${errors}`)))
  })
  return {
    ready,
    go: (): void => void child.stdin.write('go\n'),
    result: async (): Promise<WorkerResult> => {
      const code = await exited
      if (code !== 0) throw new Error(`claim worker ${owner} exited (${String(code)}):\n${errors}`)
      const line = output.split('\n').find((entry) => entry.startsWith('{'))
      if (line === undefined) throw new Error(`claim worker ${owner} printed no result:\n${output}`)
      return JSON.parse(line) as WorkerResult
    },
  }
}

describe('several instances on one PostgreSQL database', () => {
  it('apply the migrations once when they all start at the same moment', async () => {
    const url = await createDatabase(inject('postgresUrl'), 'migrate')
    const pools = await Promise.all(Array.from({ length: 6 }, () => createPostgresStorage(url, clock, { max: 1 }).then((storage) => (opened.push(storage), storage))))
    const [first] = pools
    if (first === undefined) throw new Error('no pool')
    const rows = await first.sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version))
    expect(await migrate(first.sql)).toEqual([])
  })

  it('count every outcome once when 4 instances record them in the same seconds, and fold them once when they compact at once', async () => {
    const { all } = await instances(4, 'outcomes')
    const [first] = all
    if (first === undefined) throw new Error('no storage')
    const ids = Array.from({ length: 240 }, (_, i) => `m-${i}`)
    for (const id of ids) await first.messages.insert(newMessage(id, { openid: `o-${id}` }))
    // Each instance moves a quarter, 20 at a time, in seconds 0-2 of two minutes: the same counts upserted at once.
    const second = (i: number): Date => new Date(T0.getTime() + (i % 2) * 60_000 + (i % 3) * 1_000 + 250)
    await Promise.all(
      all.map(async (storage, n) => {
        const mine = ids.filter((_, i) => i % all.length === n)
        for (let start = 0; start < mine.length; start += 20) {
          await Promise.all(
            mine.slice(start, start + 20).map((id) => {
              const i = Number(id.slice(2))
              return storage.messages.transition(id, ['queued'], i % 5 === 0 ? { status: 'failed', reason: '43101' } : { status: 'skipped', reason: 'MUTED_CATEGORY' }, second(i))
            }),
          )
        }
      }),
    )
    const byMinute = { from: T0, to: new Date(T0.getTime() + 120_000), bucketMs: 60_000 }
    const counted = await first.outcomes.overTime(byMinute)
    expect(counted).toEqual([
      { index: 0, byStatus: { failed: 24, skipped: 96 }, byErrcode: {} },
      { index: 1, byStatus: { failed: 24, skipped: 96 }, byErrcode: {} },
    ])
    // 2 minutes × 3 seconds × 2 statuses = 12 per-second counts, folded once whoever gets them.
    const folded = await Promise.all(all.map((storage) => storage.outcomes.compact(new Date(T0.getTime() + 120_000))))
    expect(folded.reduce((sum, n) => sum + n, 0)).toBe(12)
    expect(await first.outcomes.overTime(byMinute)).toEqual(counted)
  })

  it('spend exactly 50 credits when 4 processes make 200 claims on them at once', async () => {
    const { url, all } = await instances(1, 'credits')
    const [storage] = all
    if (storage === undefined) throw new Error('no storage')
    const now = new Date()
    for (let batch = 0; batch < 4; batch += 1) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => storage.messages.insert(newMessage(`m-${batch}-${i}`, { createdAt: now }))))
    }
    await storage.ledger.applyConsent({ openid: 'o-alice', consentId: 'fifty', changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 50 } }], now })
    const workers = Array.from({ length: 4 }, (_, i) => claimWorker(url, `process-${i}`, 50))
    expect(await Promise.all(workers.map((worker) => worker.ready))).toEqual([50, 50, 50, 50])
    for (const worker of workers) worker.go()
    const results = await Promise.all(workers.map((worker) => worker.result()))
    const outcomes = results.flatMap((result) => result.outcomes)
    expect(outcomes).toHaveLength(200)
    expect(new Set(results.flatMap((result) => result.leased)).size).toBe(200)
    expect(outcomes.filter((outcome) => outcome === 'claimed')).toHaveLength(50)
    expect(outcomes.filter((outcome) => outcome === 'no-credit')).toHaveLength(150)
    expect(await storage.ledger.credits('o-alice', 'tpl-order')).toBe(0)
    expect(await storage.messages.depth(new Date())).toEqual({ queued: 150, due: 150, deferred: 0, sending: 50 })
    expect(await storage.messages.countOnDay('o-alice', '2026-11-25')).toBe(50)
  })

  it('never pass a person’s daily limit, claiming that person’s messages on five instances at once', async () => {
    const { all } = await instances(5, 'daily')
    const [first] = all
    if (first === undefined) throw new Error('no storage')
    for (let i = 0; i < 20; i += 1) await first.messages.insert(newMessage(`m${i}`))
    await first.ledger.applyConsent({ openid: 'o-alice', consentId: 'many', changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 20 } }], now: T0 })
    const leaseUntil = new Date(T0.getTime() + 60_000)
    const leased = await Promise.all(all.map((storage, i) => storage.messages.leaseDue({ owner: `i${i}`, now: T0, until: leaseUntil, limit: 4, scope: { exceptCampaigns: [] } })))
    const results = await Promise.all(
      all.map((storage, i) =>
        storage.messages.claimForSends(
          (leased[i]?.jobs ?? []).map((job) => ({ id: job.id, owner: `i${i}`, leaseUntil, spendCredit: true, dayKey: '2026-11-25', dailyLimit: 3 })),
          T0,
        ),
      ),
    )
    const outcomes = results.flat().map((result) => result.outcome)
    expect(outcomes).toHaveLength(20)
    expect(outcomes.filter((outcome) => outcome === 'claimed')).toHaveLength(3)
    expect(outcomes.filter((outcome) => outcome === 'daily-limit-reached')).toHaveLength(17)
    expect(await first.ledger.credits('o-alice', 'tpl-order')).toBe(17)
  })

  it('make a claim wait for the person’s daily-count lock, and count the send the lock’s holder made meanwhile', async () => {
    const { all } = await instances(2, 'daily-lock')
    const [holder, claimer] = all
    if (holder === undefined || claimer === undefined) throw new Error('no storage')
    await holder.messages.insert(newMessage('m-held'))
    await holder.messages.insert(newMessage('m-claimed'))
    await holder.ledger.applyConsent({ openid: 'o-alice', consentId: 'two', changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 2 } }], now: T0 })
    const leaseUntil = new Date(T0.getTime() + 60_000)
    const leased = await claimer.messages.leaseDue({ owner: 'claimer', now: T0, until: leaseUntil, limit: 1, scope: { exceptCampaigns: [] } })
    expect(leased.jobs.map((job) => job.id)).toEqual(['m-held'])
    // Another instance holds alice's daily-count lock and has made a send of hers count for today.
    let release = (): void => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    let locked = (): void => {}
    const holding = new Promise<void>((resolve) => (locked = resolve))
    const held = inTransaction(holder.sql, async (tx) => {
      await lockPeople(tx, LOCK.dailyCount, ['o-alice'])
      await tx`UPDATE messages SET status = 'sending', day_key = '2026-11-25' WHERE id = 'm-claimed'`
      locked()
      await released
    })
    await holding
    const claim = claimer.messages.claimForSends([{ id: 'm-held', owner: 'claimer', leaseUntil, spendCredit: true, dayKey: '2026-11-25', dailyLimit: 1 }], T0)
    // The claim either finishes (it did not wait for the lock) or is still waiting when the holder commits.
    await Promise.race([claim, new Promise((resolve) => setTimeout(resolve, 500))])
    release()
    await held
    expect((await claim).map((result) => result.outcome)).toEqual(['daily-limit-reached'])
    expect(await claimer.ledger.credits('o-alice', 'tpl-order')).toBe(2)
  })

  it('never lease one message to two instances: six leasing in parallel share 400 messages without overlap', async () => {
    const { all } = await instances(6, 'leases')
    const [first] = all
    if (first === undefined) throw new Error('no storage')
    for (let batch = 0; batch < 8; batch += 1) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => first.messages.insert(newMessage(`m-${batch}-${i}`, { openid: `o-${i}`, createdAt: new Date(T0.getTime() + batch) }))))
    }
    const until = new Date(T0.getTime() + 60_000)
    const now = new Date(T0.getTime() + 10)
    const leasedBy = await Promise.all(
      all.map(async (storage, i) => {
        const mine: string[] = []
        for (;;) {
          // Two leases in flight per instance, as a dispatcher's campaign and general leases can be.
          const pair = await Promise.all([0, 1].map(() => storage.messages.leaseDue({ owner: `i${i}`, now, until, limit: 7, scope: { exceptCampaigns: [] } })))
          const got = pair.flatMap((lease) => lease.jobs.map((job) => job.id))
          if (got.length === 0) return mine
          mine.push(...got)
        }
      }),
    )
    const everything = leasedBy.flat()
    expect(everything).toHaveLength(400)
    expect(new Set(everything).size).toBe(400)
    // Every instance took part (the race was real), and the table agrees with what each was given.
    expect(leasedBy.every((mine) => mine.length > 0)).toBe(true)
    for (const [i, mine] of leasedBy.entries()) {
      const rows = await first.sql<{ id: string }[]>`SELECT id FROM messages WHERE lease_owner = ${`i${i}`} ORDER BY id`
      expect(rows.map((row) => row.id)).toEqual([...mine].sort())
    }
  })

  it('recover a gone instance’s messages one by one as their leases run out, never all of its messages at another’s start', async () => {
    const { all } = await instances(3, 'recovery')
    const [gone, second, third] = all
    if (gone === undefined || second === undefined || third === undefined) throw new Error('no storage')
    for (let i = 0; i < 10; i += 1) await gone.messages.insert(newMessage(`m${i}`))
    await gone.ledger.applyConsent({ openid: 'o-alice', consentId: 'ten', changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 10 } }], now: T0 })
    const { jobs } = await gone.messages.leaseDue({ owner: 'gone', now: T0, until: new Date(T0.getTime() + 30_000), limit: 10, scope: { exceptCampaigns: [] } })
    expect(jobs).toHaveLength(10)
    const claims = await gone.messages.claimForSends(
      ['m0', 'm1', 'm2'].map((id, n) => ({ id, owner: 'gone', leaseUntil: new Date(T0.getTime() + 20_000 + n * 5000), spendCredit: true, dayKey: '2026-11-25', dailyLimit: 100 })),
      T0,
    )
    expect(claims.map((claim) => claim.outcome)).toEqual(['claimed', 'claimed', 'claimed'])
    expect(await gone.ledger.credits('o-alice', 'tpl-order')).toBe(7)
    await gone.close()
    opened.splice(opened.indexOf(gone), 1)

    // Another instance starting 10 s later: the leases still run, nothing is taken from the gone one.
    const early = new Date(T0.getTime() + 10_000)
    expect(await second.messages.listInDoubt({ now: early, owner: 'second', otherOwners: false })).toEqual([])
    expect((await second.messages.leaseDue({ owner: 'second', now: early, until: new Date(early.getTime() + 60_000), limit: 10, scope: { exceptCampaigns: [] } })).jobs).toEqual([])

    // At 25 s: m0's lease ran out (20 s), m1's (25 s) too, m2's (30 s) not yet.
    const later = new Date(T0.getTime() + 25_000)
    expect(await second.messages.listInDoubt({ now: later, owner: 'second', otherOwners: false })).toEqual([
      { id: 'm0', creditSpent: true },
      { id: 'm1', creditSpent: true },
    ])
    // Two instances settle the same doubt at once: each message is settled once, its credit given back once.
    const settle = (storage: PostgresStorage) =>
      storage.messages.finishSends(
        ['m0', 'm1'].map((id) => ({ id, attempts: [], ending: { status: 'failed', reason: 'INTERRUPTED' }, credit: { type: 'add', amount: 1 }, creditHeld: false })),
        later,
      )
    const [a, b] = await Promise.all([settle(second), settle(third)])
    expect([...(a?.notSending ?? []), ...(b?.notSending ?? [])].sort()).toEqual(['m0', 'm1'])
    expect(await second.ledger.credits('o-alice', 'tpl-order')).toBe(9)
    expect((await second.messages.get('m0'))?.history.map((change) => [change.status, change.reason])).toEqual([['queued', undefined], ['sending', undefined], ['failed', 'INTERRUPTED']])

    // At 30 s the queued ones' leases (30 s) and m2's ran out: reclaimed by whoever leases next.
    const expired = new Date(T0.getTime() + 30_000)
    const reclaimed = await third.messages.leaseDue({ owner: 'third', now: expired, until: new Date(expired.getTime() + 60_000), limit: 20, scope: { exceptCampaigns: [] } })
    expect(reclaimed.jobs.map((job) => job.id).sort()).toEqual(['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'])
    expect(await third.messages.listInDoubt({ now: expired, owner: 'third', otherOwners: false })).toEqual([{ id: 'm2', creditSpent: true }])
  })

  it('give the token’s refresh lease to exactly one of 30 instances asking at once', async () => {
    const { all } = await instances(5, 'token')
    const attempts = await Promise.all(Array.from({ length: 30 }, (_, i) => all[i % all.length]!.tokens.tryLease(`holder-${i}`, 15_000)))
    expect(attempts.filter(Boolean)).toHaveLength(1)
    const winner = `holder-${attempts.indexOf(true)}`
    const [row] = await all[0]!.sql<{ holder: string }[]>`SELECT holder FROM wechat_token_lease`
    expect(row?.holder).toBe(winner)
    // Everyone else still waits; once the winner gives it back, exactly one other gets it.
    expect(await all[1]!.tokens.tryLease('late', 15_000)).toBe(false)
    await all[2]!.tokens.releaseLease(winner)
    const again = await Promise.all(Array.from({ length: 10 }, (_, i) => all[i % all.length]!.tokens.tryLease(`second-${i}`, 15_000)))
    expect(again.filter(Boolean)).toHaveLength(1)
  })

  it('apply a consent sent to several instances at once exactly once', async () => {
    const { all } = await instances(5, 'consent')
    const answers = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        all[i % all.length]!.ledger.applyConsent({
          openid: 'o-alice',
          consentId: 'same-consent',
          changes: [{ templateId: 'tpl-order', result: 'accept', credit: { type: 'add', amount: 1 } }],
          now: T0,
        }),
      ),
    )
    expect(answers.filter((answer) => !answer.replayed)).toHaveLength(1)
    expect(answers.every((answer) => answer.credits['tpl-order'] === 1)).toBe(true)
    expect(await all[0]!.ledger.credits('o-alice', 'tpl-order')).toBe(1)
  })

  it('run a transaction again, from the start, when PostgreSQL broke a deadlock by aborting it', async () => {
    const { all } = await instances(2, 'deadlock')
    const [one, two] = all
    if (one === undefined || two === undefined) throw new Error('no storage')
    await one.ledger.applyConsent({ openid: 'o-a', consentId: 'a', changes: [{ templateId: 't', result: 'accept', credit: { type: 'add', amount: 1 } }], now: T0 })
    await one.ledger.applyConsent({ openid: 'o-b', consentId: 'b', changes: [{ templateId: 't', result: 'accept', credit: { type: 'add', amount: 1 } }], now: T0 })
    // Each takes its first row, waits until the other has taken its own, then wants the other's: a deadlock.
    let firstRows = 0
    let bothHoldOne: () => void = () => {}
    const holding = new Promise<void>((resolve) => (bothHoldOne = resolve))
    const runs = { one: 0, two: 0 }
    const addBoth = (storage: PostgresStorage, name: 'one' | 'two', first: string, second: string) =>
      inTransaction(storage.sql, async (tx) => {
        runs[name] += 1
        await tx`UPDATE subscriptions SET credits = credits + 1 WHERE openid = ${first}`
        if (runs[name] === 1) {
          firstRows += 1
          if (firstRows === 2) bothHoldOne()
          await holding
        }
        await tx`UPDATE subscriptions SET credits = credits + 1 WHERE openid = ${second}`
        return name
      })
    expect(await Promise.all([addBoth(one, 'one', 'o-a', 'o-b'), addBoth(two, 'two', 'o-b', 'o-a')])).toEqual(['one', 'two'])
    // One of them was aborted once and ran again; each added exactly once to each row.
    expect(runs.one + runs.two).toBe(3)
    expect(await one.ledger.credits('o-a', 't')).toBe(3)
    expect(await one.ledger.credits('o-b', 't')).toBe(3)
  })

  it('run a transaction sent in one round trip all or nothing, and again from the start after a deadlock', async () => {
    const { all } = await instances(2, 'round-trip')
    const [one, two] = all
    if (one === undefined || two === undefined) throw new Error('no storage')
    for (const openid of ['o-a', 'o-b']) {
      await one.ledger.applyConsent({ openid, consentId: openid, changes: [{ templateId: 't', result: 'accept', credit: { type: 'add', amount: 1 } }], now: T0 })
    }
    const add = (tx: Parameters<Parameters<typeof inOneRoundTrip>[1]>[0], openid: string) => tx`UPDATE subscriptions SET credits = credits + 1 WHERE openid = ${openid}`.execute()

    // A statement that fails: the one before it is rolled back with it, and its error is the answer.
    const failed = await inOneRoundTrip(one.sql, (tx) => Promise.all([add(tx, 'o-a'), tx`SELECT 1 / 0 AS never`.execute()])).catch((error: unknown) => error)
    expect((failed as { code?: string }).code).toBe('22012')
    expect(await one.ledger.credits('o-a', 't')).toBe(1)
    expect(await inOneRoundTrip(one.sql, (tx) => Promise.all([add(tx, 'o-a'), add(tx, 'o-b')]).then(() => 'done'))).toBe('done')
    expect([await one.ledger.credits('o-a', 't'), await one.ledger.credits('o-b', 't')]).toEqual([2, 2])

    // The other transaction holds o-a; the round trip takes o-b and waits for o-a; then the other wants o-b.
    let holdsA: () => void = () => {}
    const aHeld = new Promise<void>((resolve) => (holdsA = resolve))
    let roundTrips = 0
    let others = 0
    const other = inTransaction(two.sql, async (tx) => {
      others += 1
      await tx`UPDATE subscriptions SET credits = credits + 1 WHERE openid = 'o-a'`
      if (others === 1) {
        holdsA()
        // Until the round trip waits for o-a (it holds o-b by then).
        while ((await tx`SELECT 1 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'`).count === 0) await tx`SELECT pg_sleep(0.01)`
      }
      await tx`UPDATE subscriptions SET credits = credits + 1 WHERE openid = 'o-b'`
      return 'other'
    })
    await aHeld
    const roundTrip = inOneRoundTrip(one.sql, (tx) => {
      roundTrips += 1
      return Promise.all([add(tx, 'o-b'), add(tx, 'o-a')]).then(() => 'round trip')
    })
    expect(await Promise.all([roundTrip, other])).toEqual(['round trip', 'other'])
    // PostgreSQL aborted one of the two once; it ran again, and each added exactly once to each row.
    expect(roundTrips + others).toBe(3)
    expect([await one.ledger.credits('o-a', 't'), await one.ledger.credits('o-b', 't')]).toEqual([4, 4])
  })
})
