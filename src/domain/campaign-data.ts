/**
 * Whether a campaign's data can work, keyword by keyword, as the service judges it when the campaign
 * is made (server/campaigns/campaigns.ts) and as the console shows it while the operator types: the
 * template's keywords exactly, placeholders that parse, and a value without placeholders that its
 * keyword's rule takes (after shortening, with `truncate`). A value with placeholders is checked per
 * recipient once it is filled (`filledValueProblem`).
 */
import type { Keyword, Template } from './contract'
import { checkKeywordValue, truncateThing } from './keywords'
import { fillValue, hasPlaceholders, parseValue, type Recipient } from './placeholders'

export interface DataProblem {
  /** `data.thing1`. */
  field: string
  /** `data.thing1: 最多 20 个字符`. */
  message: string
}

/** Every problem of `data`, in the template's keyword order (an unknown keyword first). */
export function campaignDataProblems(template: Template, data: Readonly<Record<string, string>>, options: { truncate?: boolean } = {}): DataProblem[] {
  const problems: DataProblem[] = []
  const problem = (field: string, text: string): void => void problems.push({ field, message: `${field}: ${text}` })
  const names = new Set(template.keywords.map((keyword) => keyword.name))
  for (const name of Object.keys(data)) {
    if (!names.has(name)) problem(`data.${name}`, `模板「${template.title}」没有这个关键词（有：${[...names].join('、')}）`)
  }
  for (const keyword of template.keywords) {
    const field = `data.${keyword.name}`
    const value = Object.hasOwn(data, keyword.name) ? data[keyword.name] : undefined
    if (value === undefined) {
      problem(field, `缺少关键词「${keyword.label}」`)
      continue
    }
    const parsed = parseValue(value)
    if (!parsed.ok) problem(field, parsed.problem)
    else if (!hasPlaceholders(parsed.parts)) {
      const broken = checkKeywordValue(keyword, options.truncate === true && keyword.type === 'thing' ? truncateThing(value) : value)
      if (broken !== null) problem(field, broken)
    }
  }
  return problems
}

export type FilledKeyword = { ok: true; value: string } | { ok: false; problem: string }

/** One keyword's value for one recipient, checked as the campaign's expansion checks it. */
export function fillKeyword(keyword: Keyword, value: string, recipient: Recipient, options: { truncate?: boolean } = {}): FilledKeyword {
  const parsed = parseValue(value)
  if (!parsed.ok) return { ok: false, problem: parsed.problem }
  const filled = fillValue(parsed.parts, recipient)
  if (!filled.ok) return { ok: false, problem: `这个用户没有属性 ${filled.missing}，也没有默认值` }
  const text = options.truncate === true && keyword.type === 'thing' ? truncateThing(filled.value) : filled.value
  const broken = checkKeywordValue(keyword, text)
  return broken === null ? { ok: true, value: text } : { ok: false, problem: broken }
}
