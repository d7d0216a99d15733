/**
 * The contract in the app's builds: a Vite plugin that hands the app src/domain/contract.ts (and the
 * console's src/domain/console-contract.ts) as its
 * schemas written out as plain JSON Schema objects, evaluated when the app is built. The app checks
 * shapes against them (src/rules/shape.ts) and ships no TypeBox: its schema builders alone weigh
 * about 77 KB, against a mini-program of about 134 KB.
 *
 * - Every export keeps its name. A schema used in several places is written once and referred to, as
 *   it is one object in TypeBox (the Template inside TemplateList).
 * - Annotations (description…) are left out. Any keyword src/rules/shape.ts does not check stops the
 *   build and names the schema, so the app never takes a schema it would check only in part.
 * - A build that TypeBox reached anyway fails.
 *
 * The service, the tests and vitest use the real module: its schemas are the same JSON.
 */
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Plugin } from 'vite'

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Keywords whose value is a map of subschemas, a list of them, or one. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties'])
const SCHEMA_LISTS = new Set(['anyOf'])
const SCHEMAS = new Set(['items'])

type Schema = Record<string, unknown>

function schemaAt(value: unknown, where: string): Schema {
  if (!isObject(value)) throw new Error(`${where} 不是 schema`)
  return value
}

/** The subschemas a keyword holds, each with its key (`Template.properties.keywords`: `keywords`). */
function subschemas(keyword: string, value: unknown, where: string): Array<[string, Schema]> {
  const at = `${where}.${keyword}`
  if (SCHEMA_MAPS.has(keyword)) return Object.entries(schemaAt(value, at)).map(([key, sub]) => [key, schemaAt(sub, `${at}.${key}`)])
  if (SCHEMA_LISTS.has(keyword)) {
    if (!Array.isArray(value)) throw new Error(`${at} 不是 schema 的列表`)
    return value.map((sub, index) => [String(index), schemaAt(sub, `${at}.${index}`)])
  }
  if (SCHEMAS.has(keyword)) return [['', schemaAt(value, at)]]
  return []
}

/**
 * The text of an ES module that exports each schema of `exports` as a plain object: subschemas used
 * more than once as constants, keywords outside `checked` refused, those in `annotations` left out.
 */
export function contractModule(exports: Readonly<Record<string, unknown>>, checked: readonly string[], annotations: readonly string[]): string {
  const understood = new Set(checked)
  const dropped = new Set(annotations)
  const keywordsOf = (schema: Schema, where: string): Array<[string, unknown]> =>
    Object.entries(schema).filter(([keyword]) => {
      if (dropped.has(keyword)) return false
      if (understood.has(keyword)) return true
      throw new Error(`${where} 用了关键字 ${keyword}，src/rules/shape.ts 不检查它：先在那里支持它，再在契约里用`)
    })

  // How often each schema object is referred to; a cycle cannot be written as JSON.
  const uses = new Map<Schema, number>()
  const open = new Set<Schema>()
  function count(schema: Schema, where: string): void {
    if (open.has(schema)) throw new Error(`${where} 引用了自己：递归的 schema 写不成 JSON`)
    const seen = uses.get(schema) ?? 0
    uses.set(schema, seen + 1)
    if (seen > 0) return
    open.add(schema)
    for (const [keyword, value] of keywordsOf(schema, where)) {
      for (const [key, sub] of subschemas(keyword, value, where)) count(sub, key === '' ? `${where}.${keyword}` : `${where}.${keyword}.${key}`)
    }
    open.delete(schema)
  }
  const names = new Map<Schema, string>()
  for (const [name, value] of Object.entries(exports)) {
    const schema = schemaAt(value, name)
    if (!names.has(schema)) names.set(schema, name)
    count(schema, name)
  }
  let shared = 0
  for (const [schema, times] of uses) if (times > 1 && !names.has(schema)) names.set(schema, `shared${++shared}`)

  // Each named schema is written once, after the ones it refers to.
  const definitions: string[] = []
  const defined = new Set<Schema>()
  function text(schema: Schema, where: string): string {
    const name = names.get(schema)
    if (name !== undefined && defined.has(schema)) return name
    const entries = keywordsOf(schema, where).map(([keyword, value]) => {
      const subs = subschemas(keyword, value, where).map(([key, sub]) => [key, text(sub, `${where}.${keyword}.${key}`)] as const)
      let written = JSON.stringify(value)
      if (SCHEMA_MAPS.has(keyword)) written = `{${subs.map(([key, sub]) => `${JSON.stringify(key)}: ${sub}`).join(', ')}}`
      else if (SCHEMA_LISTS.has(keyword)) written = `[${subs.map(([, sub]) => sub).join(', ')}]`
      else if (SCHEMAS.has(keyword)) written = subs[0]?.[1] ?? written
      return `${JSON.stringify(keyword)}: ${written}`
    })
    const body = `{${entries.join(', ')}}`
    if (name === undefined) return body
    definitions.push(`const ${name} = ${body}`)
    defined.add(schema)
    return name
  }
  const exported = Object.entries(exports).map(([name, value]) => {
    const local = text(schemaAt(value, name), name)
    return local === name ? name : `${local} as ${name}`
  })
  return `${definitions.join('\n')}\nexport { ${exported.join(', ')} }\n`
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new Error(`src/rules/shape.ts 没有导出 ${name}`)
  return value
}

/**
 * The contract's modules: the app's, and the operator console's (which only console pages import,
 * so the end user's pages never download its schemas).
 */
const CONTRACT_FILES = ['src/domain/contract.ts', 'src/domain/console-contract.ts']

/** The plugin for vite.config.ts; `root` is the repository's folder. */
export function contractAsJson(root: string): Plugin {
  const contractFiles = new Set(CONTRACT_FILES.map((file) => resolve(root, file)))
  const shapeFile = resolve(root, 'src/rules/shape.ts')
  return {
    name: 'uni-subscribe:contract-as-json',
    enforce: 'pre',
    async load(id) {
      const contractFile = id.split('?')[0]!
      if (!contractFiles.has(contractFile)) return null
      const { tsImport } = await import('tsx/esm/api')
      // Each tsImport evaluates afresh, so the dev server serves the contract as it is now.
      const onImport = (url: string): void => {
        if (url.startsWith('file:')) this.addWatchFile(fileURLToPath(url))
      }
      const contract: unknown = await tsImport(pathToFileURL(contractFile).href, { parentURL: import.meta.url, onImport })
      const shape: unknown = await tsImport(pathToFileURL(shapeFile).href, import.meta.url)
      if (!isObject(contract) || !isObject(shape)) throw new Error('契约或 src/rules/shape.ts 没能载入')
      return contractModule({ ...contract }, stringList(shape.SHAPE_KEYWORDS, 'SHAPE_KEYWORDS'), stringList(shape.ANNOTATION_KEYWORDS, 'ANNOTATION_KEYWORDS'))
    },
    buildEnd(error) {
      if (error) return
      const typebox = [...this.getModuleIds()].find((id) => /[\\/]node_modules[\\/]typebox[\\/]/.test(id))
      if (typebox !== undefined) this.error(`TypeBox 进入了应用的构建（${typebox}）：应用只用契约的 JSON，见 scripts/contract-as-json.ts`)
    },
  }
}
