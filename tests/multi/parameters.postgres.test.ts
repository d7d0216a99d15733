/**
 * The array parameters the PostgreSQL repositories build themselves (server/db/postgres/parameters.ts):
 * what PostgreSQL reads from them is each value as given, whatever characters a string holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresStorage } from '../../server/db/postgres/storage'
import { textArray, typedArray } from '../../server/db/postgres/parameters'
import { openPostgresStorage } from '../support/storage-engines'

describe('array parameters on PostgreSQL', () => {
  let storage: PostgresStorage
  beforeAll(async () => {
    storage = await openPostgresStorage()
  })
  afterAll(async () => {
    await storage.close()
  })

  it('reads back every string as given: quotes, backslashes, commas, braces, spaces, the word NULL, empty, non-ASCII', async () => {
    const values = ['plain', 'a"b', 'c\\d', '\\"', 'x,y', '{z}', ' padded ', 'NULL', '', '机械键盘', "it's"]
    const [row] = await storage.sql<{ values: string[] }[]>`SELECT ${textArray(storage.sql, values)}::text[] AS values`
    expect(row!.values).toEqual(values)
    const [empty] = await storage.sql<{ values: string[] }[]>`SELECT ${textArray(storage.sql, [])}::text[] AS values`
    expect(empty!.values).toEqual([])
  })

  it('reads back nulls, numbers, booleans and times by their element type', async () => {
    const sql = storage.sql
    // Each element on its own row: postgres.js reads a NULL inside a text[] it is sent back as the text "NULL".
    const texts = await sql<{ value: string | null }[]>`SELECT value FROM unnest(${typedArray(sql, ['a', null, 'NULL'], 'text')}::text[]) WITH ORDINALITY AS t (value, n) ORDER BY n`
    expect(texts.map((row) => row.value)).toEqual(['a', null, 'NULL'])
    const times = await sql<{ value: Date | null }[]>`
      SELECT value FROM unnest(${typedArray(sql, ['2026-11-25T05:00:00.123Z', null], 'timestamptz')}::timestamptz[]) WITH ORDINALITY AS t (value, n) ORDER BY n`
    expect(times.map((row) => row.value)).toEqual([new Date('2026-11-25T05:00:00.123Z'), null])
    const [row] = await sql<{ ints: number[]; big: string[]; flags: boolean[] }[]>`
      SELECT ${typedArray(sql, [1, -2, 2147483647], 'integer')}::integer[] AS ints,
        ${typedArray(sql, [1_764_000_000, 9_007_199_254_740_991], 'bigint')}::bigint[]::text[] AS big,
        ${typedArray(sql, [true, false], 'boolean')}::boolean[] AS flags`
    expect(row!.ints).toEqual([1, -2, 2147483647])
    expect(row!.big).toEqual(['1764000000', '9007199254740991'])
    expect(row!.flags).toEqual([true, false])
  })
})
