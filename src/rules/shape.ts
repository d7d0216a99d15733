/**
 * Whether a value has the shape one of the contract's schemas (src/domain/contract.ts) describes: for
 * the service's answers (src/api/client.ts) and for what the stores read back from storage.
 *
 * It interprets the schema as JSON Schema, keyword by keyword; no code is generated (mini-programs
 * forbid eval and `new Function`). It checks the keywords TypeBox writes for the contract
 * (SHAPE_KEYWORDS) and no others. The app's builds get the contract as plain JSON
 * (scripts/contract-as-json.ts), and that build stops at any other keyword, so none goes unchecked.
 */
import type { Static, TSchema } from 'typebox'

/** The keywords this file checks. */
export const SHAPE_KEYWORDS: readonly string[] = [
  'type', 'const', 'enum', 'anyOf',
  'properties', 'required', 'patternProperties', 'additionalProperties', 'minProperties', 'maxProperties',
  'items', 'minItems', 'maxItems', 'uniqueItems',
  'minLength', 'maxLength', 'pattern', 'minimum', 'maximum',
]

/** Keywords that speak to a reader and say nothing about the shape. */
export const ANNOTATION_KEYWORDS: readonly string[] = ['description', 'title', 'examples', 'default', '$comment']

interface ShapeProblem {
  /** Where, named as the service names fields: `keywords.0.type`; '' for the value itself. */
  path: string
  /** What is wrong there, for a developer's log. */
  problem: string
}

type Schema = Readonly<Record<string, unknown>>

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function has(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key)
}

function asSchema(value: unknown): Schema {
  if (!isObject(value)) throw new TypeError(`not a schema: ${JSON.stringify(value)}`)
  return value
}

const patterns = new Map<string, RegExp>()

function regex(source: string): RegExp {
  let compiled = patterns.get(source)
  if (compiled === undefined) {
    compiled = new RegExp(source)
    patterns.set(source, compiled)
  }
  return compiled
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => equal(item, b[index]))
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => has(b, key) && equal(a[key], b[key]))
  }
  return false
}

function isType(type: unknown, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(value)
    case 'array':
      return Array.isArray(value)
    case 'string':
      return typeof value === 'string'
    case 'integer':
      return Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'null':
      return value === null
    default:
      return false
  }
}

function at(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)

function stringProblem(schema: Schema, value: string): string | null {
  const length = Array.from(value).length
  const min = num(schema.minLength)
  const max = num(schema.maxLength)
  if (min !== undefined && length < min) return `shorter than ${min}`
  if (max !== undefined && length > max) return `longer than ${max}`
  if (typeof schema.pattern === 'string' && !regex(schema.pattern).test(value)) return `does not match ${schema.pattern}`
  return null
}

function numberProblem(schema: Schema, value: number): string | null {
  const min = num(schema.minimum)
  const max = num(schema.maximum)
  if (min !== undefined && value < min) return `less than ${min}`
  if (max !== undefined && value > max) return `more than ${max}`
  return null
}

function arrayProblem(schema: Schema, value: readonly unknown[], path: string): ShapeProblem | null {
  const min = num(schema.minItems)
  const max = num(schema.maxItems)
  if (min !== undefined && value.length < min) return { path, problem: `fewer than ${min} items` }
  if (max !== undefined && value.length > max) return { path, problem: `more than ${max} items` }
  if (schema.uniqueItems === true) {
    const twice = value.findIndex((item, index) => value.findIndex((other) => equal(other, item)) !== index)
    if (twice >= 0) return { path: at(path, twice), problem: 'appears twice' }
  }
  if (schema.items === undefined) return null
  const items = asSchema(schema.items)
  for (const [index, item] of value.entries()) {
    const problem = problemIn(items, item, at(path, index))
    if (problem !== null) return problem
  }
  return null
}

/** A key neither `properties` nor `patternProperties` names, when `additionalProperties: false` forbids such keys. */
function extraKey(schema: Schema, value: Readonly<Record<string, unknown>>): string | null {
  const { additionalProperties } = schema
  if (additionalProperties === undefined || additionalProperties === true) return null
  if (additionalProperties !== false) throw new TypeError('additionalProperties is checked as true or false only')
  const named = isObject(schema.properties) ? schema.properties : {}
  const keyPatterns = isObject(schema.patternProperties) ? Object.keys(schema.patternProperties) : []
  return Object.keys(value).find((key) => !has(named, key) && !keyPatterns.some((pattern) => regex(pattern).test(key))) ?? null
}

function objectProblem(schema: Schema, value: Readonly<Record<string, unknown>>, path: string): ShapeProblem | null {
  const present = (key: string): boolean => has(value, key) && value[key] !== undefined
  const count = Object.keys(value).length
  const min = num(schema.minProperties)
  const max = num(schema.maxProperties)
  if (min !== undefined && count < min) return { path, problem: `fewer than ${min} properties` }
  if (max !== undefined && count > max) return { path, problem: `more than ${max} properties` }
  const extra = extraKey(schema, value)
  if (extra !== null) return { path: at(path, extra), problem: 'not allowed here' }
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) {
      if (typeof key === 'string' && !present(key)) return { path: at(path, key), problem: 'missing' }
    }
  }
  if (isObject(schema.properties)) {
    for (const [key, property] of Object.entries(schema.properties)) {
      if (!present(key)) continue
      const problem = problemIn(asSchema(property), value[key], at(path, key))
      if (problem !== null) return problem
    }
  }
  if (isObject(schema.patternProperties)) {
    for (const [pattern, property] of Object.entries(schema.patternProperties)) {
      for (const key of Object.keys(value)) {
        if (!regex(pattern).test(key)) continue
        const problem = problemIn(asSchema(property), value[key], at(path, key))
        if (problem !== null) return problem
      }
    }
  }
  return null
}

function problemIn(schema: Schema, value: unknown, path: string): ShapeProblem | null {
  const { type } = schema
  if (type !== undefined && !(Array.isArray(type) ? type.some((one) => isType(one, value)) : isType(type, value))) {
    return { path, problem: `not ${Array.isArray(type) ? type.join(' or ') : String(type)}` }
  }
  if (has(schema, 'const') && !equal(schema.const, value)) return { path, problem: `not ${JSON.stringify(schema.const)}` }
  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => equal(allowed, value))) {
    return { path, problem: 'not one of the allowed values' }
  }
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((option) => problemIn(asSchema(option), value, path) === null)) {
    return { path, problem: 'none of the allowed shapes' }
  }
  let problem: string | null = null
  if (typeof value === 'string') problem = stringProblem(schema, value)
  else if (typeof value === 'number') problem = numberProblem(schema, value)
  else if (Array.isArray(value)) return arrayProblem(schema, value, path)
  else if (isObject(value)) return objectProblem(schema, value, path)
  return problem === null ? null : { path, problem }
}

/** The first place where `value` does not have the shape `schema` describes, or null when it has it. */
export function shapeProblem(schema: TSchema, value: unknown): ShapeProblem | null {
  return problemIn(asSchema(schema), value, '')
}

export function hasShape<S extends TSchema>(schema: S, value: unknown): value is Static<S> {
  return shapeProblem(schema, value) === null
}
