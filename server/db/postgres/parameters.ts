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

export function textArray(sql: Queries, values: readonly string[]): postgres.ArrayParameter<string[]> {
  return sql.array([...values], TEXT_OID)
}
