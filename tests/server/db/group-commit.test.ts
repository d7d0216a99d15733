/**
 * Group commit (server/db/sqlite/group-commit.ts): writes asked for in one turn of the event loop
 * share one transaction, and each still answers for itself: one that throws is rolled back alone.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openSqliteDatabase, type SqliteDatabase } from '../../../server/db/sqlite/database'
import { groupCommit } from '../../../server/db/sqlite/group-commit'
import { removeDatabase, tempDatabasePath } from '../support/service'

const opened: { db: SqliteDatabase; path: string }[] = []
afterEach(() => {
  for (const { db, path } of opened.splice(0)) {
    db.close()
    removeDatabase(path)
  }
})

function open(): SqliteDatabase {
  const path = tempDatabasePath()
  const db = openSqliteDatabase(path, [])
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE); CREATE TABLE log (text TEXT NOT NULL)')
  opened.push({ db, path })
  return db
}

/** WAL frames a write leaves (one per page per commit), from an emptied log. */
async function framesOf(db: SqliteDatabase, write: () => Promise<unknown>): Promise<number> {
  db.pragma('wal_checkpoint(TRUNCATE)')
  await write()
  return (db.pragma('wal_checkpoint(PASSIVE)', { simple: false }) as Array<{ log: number }>)[0]!.log
}

describe('group commit', () => {
  it('writes the calls of one turn in one transaction: far fewer WAL frames than a commit each', async () => {
    const db = open()
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)')
    const note = groupCommit(db, (text: string) => Number(insert.run(text).lastInsertRowid))
    const together = await framesOf(db, () => Promise.all(Array.from({ length: 40 }, (_, i) => note(`together-${i}`))))
    let apart = 0
    for (let i = 0; i < 40; i += 1) apart += await framesOf(db, () => note(`apart-${i}`))
    expect(apart).toBeGreaterThanOrEqual(40)
    expect(together).toBeLessThanOrEqual(3)
    expect(db.prepare('SELECT COUNT(*) AS n FROM notes').get()).toEqual({ n: 80 })
  })

  it('answers each caller with its own result, and rolls back only the call that threw, with all it wrote', async () => {
    const db = open()
    const insert = db.prepare('INSERT INTO notes (text) VALUES (?)')
    const log = db.prepare('INSERT INTO log (text) VALUES (?)')
    const note = groupCommit(db, (text: string) => {
      log.run(`writing ${text}`)
      return Number(insert.run(text).lastInsertRowid)
    })
    await note('taken')
    const answers = await Promise.allSettled([note('a'), note('taken'), note('b')])
    expect(answers[0]).toEqual({ status: 'fulfilled', value: 2 })
    expect(answers[1]).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_UNIQUE' } })
    expect(answers[2]).toEqual({ status: 'fulfilled', value: 3 })
    expect(db.prepare('SELECT text FROM notes ORDER BY id').pluck().all()).toEqual(['taken', 'a', 'b'])
    // The failed call's own first write went with it.
    expect(db.prepare('SELECT text FROM log ORDER BY rowid').pluck().all()).toEqual(['writing taken', 'writing a', 'writing b'])
  })
})
