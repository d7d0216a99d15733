/**
 * Parameters postgres.js would otherwise guess wrong. JSON for a `json` column goes as text, cast in
 * the query (`${jsonText(sql, x)}::json`), kept as written (a JS string bound to a json parameter
 * would be encoded a second time). An empty array has no element to infer a type from: `textArray`
 * says text[].
 */
import type postgres from 'postgres'
import type { Sql } from './connection'

const TEXT_OID = 25
const JSON_OID = 114

type Queries = Sql | postgres.TransactionSql

export function jsonText(sql: Queries, value: unknown): postgres.Parameter<string> {
  return sql.typed(JSON.stringify(value), TEXT_OID)
}

/** A list of rows for `json_to_recordset`, as json (not jsonb), so the objects inside keep their key order. */
export function jsonRows<T>(sql: Queries, rows: readonly T[]): postgres.Parameter<readonly T[]> {
  return sql.typed(rows, JSON_OID)
}

/** The array types of the element types the repositories send arrays of. */
const ARRAY_OF = { text: 1009, timestamptz: 1185, boolean: 1000, integer: 1007, bigint: 1016 } as const

/**
 * A PostgreSQL array literal (`{"a","b",NULL}`), built in one pass. postgres.js would escape each
 * element with two regular expressions and a closure: for the dispatch path's arrays (a batch's ids,
 * owners, day keys… a dozen arrays a message) that was ~4 % of a service instance's CPU in the
 * cluster bench. Strings are quoted (a quote or backslash in one escaped); numbers and booleans as
 * PostgreSQL reads them.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | boolean | null>): string {
  let text = '{'
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!
    if (index > 0) text += ','
    if (value === null) text += 'NULL'
    else if (typeof value === 'string') text += `"${value.includes('"') || value.includes('\\') ? value.replace(/["\\]/g, '\\$&') : value}"`
    else text += String(value)
  }
  return `${text}}`
}

/** An array parameter of `type` (sent as its literal: postgres.js passes a string given for an array type through). */
export function typedArray(sql: Queries, values: ReadonlyArray<string | number | boolean | null>, type: keyof typeof ARRAY_OF): postgres.Parameter<string> {
  return sql.typed(arrayLiteral(values), ARRAY_OF[type])
}

export function textArray(sql: Queries, values: readonly string[]): postgres.Parameter<string> {
  return typedArray(sql, values, 'text')
}
