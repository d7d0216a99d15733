import { describe, expect, it } from 'vitest'
import { Type } from 'typebox'
import * as contract from '@/domain/contract'
import { ANNOTATION_KEYWORDS, SHAPE_KEYWORDS } from '@/rules/shape'
import { contractModule } from '../../../scripts/contract-as-json'

/** Runs the module text as the bundler would and gives its exports (tests may generate code; the app may not). */
function evaluate(code: string): Record<string, unknown> {
  const body = code.replace(/^export \{ (.*) \}$/m, (_, names: string) => `return { ${names.replace(/(\w+) as (\w+)/g, '$2: $1')} }`)
  return new Function(body)() as Record<string, unknown>
}

function build(exports: Record<string, unknown>): Record<string, unknown> {
  return evaluate(contractModule(exports, SHAPE_KEYWORDS, ANNOTATION_KEYWORDS))
}

describe('the contract as the app gets it', () => {
  it('is every schema of the contract as plain JSON, annotations left out', () => {
    const built = build({ ...contract })
    expect(Object.keys(built)).toEqual(Object.keys(contract))
    const withoutAnnotations = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value, (key, item: unknown) => (key === 'description' ? undefined : item)))
    for (const [name, schema] of Object.entries(contract)) expect(built[name], name).toEqual(withoutAnnotations(schema))
  })

  it('writes a schema used in several places once, as TypeBox holds it', () => {
    const built = build({ ...contract }) as { Template: unknown; TemplateList: { items: unknown }; EventRequest: unknown; OrderStatusChanged: unknown }
    expect(built.TemplateList.items).toBe(built.Template)
    expect(built.EventRequest).toBe(built.OrderStatusChanged)
    const Inner = Type.String({ minLength: 1 })
    const code = contractModule({ Pair: Type.Object({ a: Inner, b: Inner }) }, SHAPE_KEYWORDS, ANNOTATION_KEYWORDS)
    expect(code).toBe('const shared1 = {"type": "string", "minLength": 1}\nconst Pair = {"type": "object", "required": ["a","b"], "properties": {"a": shared1, "b": shared1}}\nexport { Pair }\n')
  })

  it('refuses a keyword the app does not check, naming where it is', () => {
    const Odd = Type.Object({ when: Type.String({ format: 'date-time' }) })
    expect(() => contractModule({ Odd }, SHAPE_KEYWORDS, ANNOTATION_KEYWORDS)).toThrow('Odd.properties.when 用了关键字 format，src/rules/shape.ts 不检查它')
  })
})
