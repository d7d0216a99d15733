/**
 * The template catalogue: the JSON file operators edit (`TEMPLATES`, default config/templates.json),
 * one entry per template added in WeChat's console, with the key the code uses and the category a
 * person can mute. Loaded and validated at start; template management (server/templates/admin.ts:
 * the admin API and `npm run templates`) adds, removes and syncs entries and writes it back.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { Template, type Keyword, type TemplateKind } from '../../src/domain/contract'
import { parseTemplateContent } from '../../src/domain/template-content'
import type { WeChatTemplate } from '../wechat/types'

/** The file: `{ "templates": [ Template, … ] }` (a `$comment` for the people who edit it is allowed). */
export const CatalogueFile = Type.Object({
  $comment: Type.Optional(Type.String()),
  templates: Type.Array(Template),
})

export class CatalogueError extends Error {
  override readonly name = 'CatalogueError'
}

type ValidationError = ReturnType<typeof Value.Errors>[number]

/** `/templates/1/keywords/0/type` → `keywords[0].type` (relative to the template). */
function fieldOf(segments: string[]): string {
  return segments.reduce((field, segment) => (/^\d+$/.test(segment) ? `${field}[${segment}]` : field ? `${field}.${segment}` : segment), '')
}

/** The literal values a union schema allows, found from the error's `schemaPath` (`#/properties/…`). */
function allowedLiterals(schemaPath: string): string[] {
  const schema = valueAt(CatalogueFile, schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean))
  const anyOf = typeof schema === 'object' && schema !== null ? (schema as { anyOf?: unknown }).anyOf : undefined
  if (!Array.isArray(anyOf)) return []
  return anyOf.flatMap((member: unknown) =>
    typeof member === 'object' && member !== null && 'const' in member ? [String((member as { const: unknown }).const)] : [],
  )
}

function describeProblem(error: ValidationError, value: unknown): string {
  const shown = value === undefined ? '' : `（现在是 ${JSON.stringify(value)}）`
  switch (error.keyword) {
    case 'required':
      return `缺少字段 ${error.params.requiredProperties.join('、')}`
    case 'type':
      return `应为 ${[error.params.type].flat().join(' 或 ')}${shown}`
    case 'minLength':
      return error.params.limit === 1 ? `不能为空${shown}` : `至少 ${error.params.limit} 个字符${shown}`
    case 'pattern':
      return `格式不对，应匹配 ${String(error.params.pattern)}${shown}`
    case 'minItems':
      return `至少要有 ${error.params.limit} 项`
    case 'const':
    case 'anyOf': {
      const allowed = allowedLiterals(error.keyword === 'const' ? error.schemaPath.replace(/\/anyOf\/\d+$/, '') : error.schemaPath)
      return allowed.length > 0 ? `应为 ${allowed.join('、')} 之一${shown}` : `不符合要求${shown}`
    }
    default:
      return `${error.message}${shown}`
  }
}

function valueAt(root: unknown, segments: string[]): unknown {
  let value = root
  for (const segment of segments) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<string, unknown>)[segment]
  }
  return value
}

/** "第 2 个模板（shipping）" for a path inside `templates`, from whatever the entry already has. */
function entryName(root: unknown, index: number): string {
  const entry = valueAt(root, ['templates', String(index)])
  const record = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {}
  const name = [record.key, record.id].find((part) => typeof part === 'string' && part !== '')
  return `第 ${index + 1} 个模板${name === undefined ? '' : `（${String(name)}）`}`
}

/** The first schema problem, in Chinese, naming the entry and the field. */
function schemaProblem(file: string, json: unknown): string | null {
  const errors = Value.Errors(CatalogueFile, json)
  if (errors.length === 0) return null
  // The most specific path first: the deepest one among the errors.
  const first = [...errors].sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length)[0]!
  const segments = first.instancePath.split('/').slice(1)
  const problem = describeProblem(first, valueAt(json, segments))
  if (segments[0] === 'templates' && segments[1] !== undefined && /^\d+$/.test(segments[1])) {
    const field = fieldOf(segments.slice(2))
    return `模板目录 ${file}：${entryName(json, Number(segments[1]))}${field ? ` 的 ${field}` : ''} ${problem}`
  }
  const field = fieldOf(segments)
  return `模板目录 ${file}：${field ? `${field} ` : '文件内容'}${problem}`
}

/** Rules the schema cannot say: unique ids and keys, keyword names that match their types, enums with values. */
function catalogueProblem(file: string, templates: Template[]): string | null {
  const ids = new Map<string, number>()
  const keys = new Map<string, number>()
  for (const [index, template] of templates.entries()) {
    const entry = `模板目录 ${file}：第 ${index + 1} 个模板（${template.key}）`
    const sameId = ids.get(template.id)
    if (sameId !== undefined) return `${entry} 的 id ${template.id} 与第 ${sameId + 1} 个模板重复`
    const sameKey = keys.get(template.key)
    if (sameKey !== undefined) return `${entry} 的 key ${template.key} 与第 ${sameKey + 1} 个模板重复`
    ids.set(template.id, index)
    keys.set(template.key, index)
    const names = new Set<string>()
    for (const [k, keyword] of template.keywords.entries()) {
      const field = `${entry} 的 keywords[${k}]`
      if (names.has(keyword.name)) return `${field}.name ${keyword.name} 重复`
      names.add(keyword.name)
      if (keyword.name.replace(/[0-9]+$/, '') !== keyword.type) {
        return `${field}.name ${keyword.name} 与类型 ${keyword.type} 不符（应为 ${keyword.type} 加编号，如 ${keyword.type}1）`
      }
      if (keyword.type === 'enum' && (keyword.enumValues === undefined || keyword.enumValues.length === 0)) {
        return `${field}.enumValues 缺失：enum 类型的关键词必须列出可选值`
      }
      if (keyword.type !== 'enum' && keyword.enumValues !== undefined) {
        return `${field}.enumValues 只能用于 enum 类型的关键词（这里是 ${keyword.type}）`
      }
    }
  }
  return null
}

/** Validates parsed JSON as a catalogue; `file` names it in the message of a `CatalogueError`. */
export function parseCatalogue(json: unknown, file: string): Template[] {
  const problem = schemaProblem(file, json)
  if (problem !== null) throw new CatalogueError(problem)
  const templates = Value.Clone((json as { templates: Template[] }).templates)
  const rule = catalogueProblem(file, templates)
  if (rule !== null) throw new CatalogueError(rule)
  return templates
}

/** Reads and validates the catalogue file; throws `CatalogueError` with a message naming the file, entry and field. */
export function loadCatalogue(path: string): Template[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new CatalogueError(`模板目录 ${path} 读取失败${code === 'ENOENT' ? '：文件不存在（用环境变量 TEMPLATES 指定路径）' : `：${code ?? String(error)}`}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new CatalogueError(`模板目录 ${path} 不是有效的 JSON：${error instanceof Error ? error.message : String(error)}`)
  }
  return parseCatalogue(json, path)
}

/** JSON on one line with a space after `{`, `[`, `:` and `,`: `{ "name": "thing1", "type": "thing" }`. */
const inline = (value: unknown): string => JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ')

/** The catalogue as operators read it: one template field per line, one keyword per line. */
export function formatCatalogue(templates: Template[], comment?: string): string {
  const lines = ['{']
  if (comment !== undefined) lines.push(`  "$comment": ${JSON.stringify(comment)},`)
  lines.push('  "templates": [')
  templates.forEach((template, index) => {
    const { keywords, ...fields } = template
    lines.push('    {')
    for (const [name, value] of Object.entries(fields)) lines.push(`      ${JSON.stringify(name)}: ${JSON.stringify(value)},`)
    lines.push('      "keywords": [')
    keywords.forEach((keyword, k) => lines.push(`        ${inline(keyword)}${k < keywords.length - 1 ? ',' : ''}`))
    lines.push('      ]')
    lines.push(`    }${index < templates.length - 1 ? ',' : ''}`)
  })
  lines.push('  ]', '}', '')
  return lines.join('\n')
}

/**
 * Writes the catalogue (validated first), keeping any `$comment`: into a file beside it, then renamed
 * over it, so a reader (or a crash) never meets half a file.
 */
export function writeCatalogue(path: string, templates: Template[], comment?: string): void {
  parseCatalogue(comment === undefined ? { templates } : { $comment: comment, templates }, path)
  const next = `${path}.${process.pid}.tmp`
  writeFileSync(next, formatCatalogue(templates, comment), 'utf8')
  renameSync(next, path)
}

/** The `$comment` of the catalogue file at `path`, if it has one (read again before each write). */
export function catalogueComment(path: string): string | undefined {
  const comment = (JSON.parse(readFileSync(path, 'utf8')) as { $comment?: unknown }).$comment
  return typeof comment === 'string' ? comment : undefined
}

// ─── sync from WeChat ────────────────────────────────────────────────────────

export interface CatalogueMerge {
  templates: Template[]
  /** Ids new in WeChat's list, given a generated key and the category `other`: edit them. */
  added: string[]
  /** Ids whose title, kind or keywords WeChat now describes differently. */
  changed: string[]
  /** Ids no longer in WeChat's list (deleted in the console): dropped. */
  removed: string[]
}

const KIND_OF_TYPE: Record<WeChatTemplate['type'], TemplateKind> = { 2: 'one-time', 3: 'long-term' }

/** A template of WeChat's gettemplate list as a catalogue entry under `key` and `category`. */
export function templateFromWeChat(remote: WeChatTemplate, key: string, category: string): Template {
  return { id: remote.priTmplId, key, title: remote.title, kind: KIND_OF_TYPE[remote.type], category, keywords: keywordsOf(remote) }
}

function keywordsOf(remote: WeChatTemplate): Keyword[] {
  const enums = new Map((remote.keywordEnumValueList ?? []).map((entry) => [entry.keywordCode.replace(/\.DATA$/, ''), entry.enumValueList]))
  return parseTemplateContent(remote.content).map(({ name, type, label }) => {
    const enumValues = enums.get(name)
    return type === 'enum' && enumValues !== undefined ? { name, type, label, enumValues } : { name, type, label }
  })
}

function generatedKey(id: string, taken: Set<string>): string {
  const base = `template_${id.replace(/[^A-Za-z0-9]/g, '').slice(0, 8).toLowerCase()}`
  let key = base
  for (let n = 2; taken.has(key); n += 1) key = `${base}_${n}`
  return key
}

/**
 * The catalogue after WeChat's `gettemplate` list: WeChat decides which templates exist and their
 * title, kind and keywords; the catalogue keeps its own key and category for ids it already had.
 */
export function mergeCatalogue(existing: Template[], remote: WeChatTemplate[]): CatalogueMerge {
  const known = new Map(existing.map((template) => [template.id, template]))
  const remoteIds = new Set(remote.map((template) => template.priTmplId))
  const taken = new Set(existing.filter((template) => remoteIds.has(template.id)).map((template) => template.key))
  const merge: CatalogueMerge = { templates: [], added: [], changed: [], removed: [] }

  for (const entry of remote) {
    const before = known.get(entry.priTmplId)
    if (before) {
      const template = templateFromWeChat(entry, before.key, before.category)
      if (!Value.Equal(template, before)) merge.changed.push(before.id)
      merge.templates.push(template)
    } else {
      const key = generatedKey(entry.priTmplId, taken)
      taken.add(key)
      merge.templates.push(templateFromWeChat(entry, key, 'other'))
      merge.added.push(entry.priTmplId)
    }
  }
  merge.removed = existing.filter((template) => !remoteIds.has(template.id)).map((template) => template.id)
  return merge
}
