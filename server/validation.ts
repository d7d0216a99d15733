/**
 * How requests are checked against their TypeBox schemas. Bodies are never converted ("1" is not 1).
 * A query string or path parameter arrives as text: it becomes a number only when it is written as
 * one in plain decimal (`limit=20`; not `1.5` for an integer, `true`, `0x3`, `1e1` or ` 5`), and a
 * boolean only as `true` / `false`; anything else stays text, so the schema refuses it naming the
 * field, instead of quietly reading `0x3` as 3.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'

const DECIMAL_INTEGER = /^-?(?:0|[1-9][0-9]*)$/
const DECIMAL_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/

function convertText(schema: unknown, text: string): unknown {
  if (typeof schema !== 'object' || schema === null) return text
  const type = (schema as { type?: unknown }).type
  if (type === 'integer') return DECIMAL_INTEGER.test(text) ? Number(text) : text
  if (type === 'number') return DECIMAL_NUMBER.test(text) ? Number(text) : text
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text
  return text
}

/** The query string or params, with each text value converted only where its schema asks for a plain number or boolean. */
function convertStrictly(schema: TSchema, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, unknown> }).properties
  if (properties === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const converted: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  for (const [name, text] of Object.entries(converted)) {
    if (typeof text === 'string' && Object.hasOwn(properties, name)) converted[name] = convertText(properties[name], text)
  }
  return converted
}

export const strictValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema)
  return (input: unknown) => {
    const value = httpPart === 'body' ? input : convertStrictly(schema, input)
    if (validator.Check(value)) return { value }
    return { error: validator.Errors(value) as unknown as FastifySchemaValidationError[] }
  }
}
