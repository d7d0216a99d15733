/**
 * Group commit for SQLite writes that arrive one by one (concurrent admin sends, WeChat's push events):
 * the calls made in one turn of the event loop share one `BEGIN IMMEDIATE` transaction, since the
 * commit (its WAL frames), not the rows, is most of what a small write costs. Each call is a
 * savepoint of its own inside it, so one that throws (a constraint) is rolled back alone and fails
 * only its caller. A caller waits at most until the loop's next check phase.
 */
import type { SqliteDatabase } from './database'

interface Pending<A extends unknown[], R> {
  args: A
  resolve: (result: R) => void
  reject: (error: unknown) => void
}

type Outcome<R> = { ok: true; result: R } | { ok: false; error: unknown }

export function groupCommit<A extends unknown[], R>(db: SqliteDatabase, write: (...args: A) => R): (...args: A) => Promise<R> {
  // Nested in the batch's transaction, better-sqlite3 runs each as a savepoint.
  const one = db.transaction(write)
  const batch = db.transaction((entries: readonly Pending<A, R>[]) =>
    entries.map((entry): Outcome<R> => {
      try {
        return { ok: true, result: one(...entry.args) }
      } catch (error) {
        return { ok: false, error }
      }
    }),
  )
  let pending: Pending<A, R>[] = []

  function flush(): void {
    const entries = pending
    pending = []
    let outcomes: Outcome<R>[]
    try {
      outcomes = batch.immediate(entries)
    } catch (error) {
      // BEGIN or COMMIT failed (the database busy past its timeout, the disk full): nothing was written.
      for (const entry of entries) entry.reject(error)
      return
    }
    outcomes.forEach((outcome, index) => {
      const entry = entries[index]!
      if (outcome.ok) entry.resolve(outcome.result)
      else entry.reject(outcome.error)
    })
  }

  return (...args) =>
    new Promise<R>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush)
      pending.push({ args, resolve, reject })
    })
}
