/**
 * Per-person content in a campaign's data: a keyword value may hold placeholders that each recipient's
 * own values replace. `{{nickname}}` is the user's attribute `nickname`; `{{city|全国}}` falls back to
 * 全国 when the user has no `city`; `{{openid}}` is the recipient's openid. Pure.
 */

export type ValuePart = { text: string } | { placeholder: string; fallback?: string }

export type ParsedValue = { ok: true; parts: ValuePart[] } | { ok: false; problem: string }

/** What a placeholder may name: `openid`, or an attribute key (as users carry them). */
const NAME = /^[a-z][a-zA-Z0-9_]{0,31}$/
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g

/** The parts of `value`, or what is wrong with its placeholders, in Chinese. */
export function parseValue(value: string): ParsedValue {
  const parts: ValuePart[] = []
  let at = 0
  for (const match of value.matchAll(PLACEHOLDER)) {
    const before = value.slice(at, match.index)
    if (before.includes('{{') || before.includes('}}')) return { ok: false, problem: unbalanced(before) }
    if (before !== '') parts.push({ text: before })
    const inner = match[1]!
    const bar = inner.indexOf('|')
    const name = (bar < 0 ? inner : inner.slice(0, bar)).trim()
    if (!NAME.test(name)) {
      return { ok: false, problem: name === '' ? '占位符 {{}} 里缺少名字' : `占位符「${name}」的名字不对：应为 openid 或用户属性名（小写字母开头，字母、数字或下划线）` }
    }
    parts.push(bar < 0 ? { placeholder: name } : { placeholder: name, fallback: inner.slice(bar + 1) })
    at = match.index + match[0].length
  }
  const rest = value.slice(at)
  if (rest.includes('{{') || rest.includes('}}')) return { ok: false, problem: unbalanced(rest) }
  if (rest !== '') parts.push({ text: rest })
  return { ok: true, parts }
}

function unbalanced(text: string): string {
  return text.includes('{{') ? '有未闭合的 {{（占位符写作 {{名字}} 或 {{名字|默认值}}）' : '有多余的 }}（占位符写作 {{名字}} 或 {{名字|默认值}}）'
}

/** Whether the parts hold any placeholder (a value without one is the same for everyone). */
export function hasPlaceholders(parts: readonly ValuePart[]): boolean {
  return parts.some((part) => 'placeholder' in part)
}

export interface Recipient {
  openid: string
  attributes: Readonly<Record<string, string | number>>
}

export type FilledValue = { ok: true; value: string } | { ok: false; missing: string }

/** The value for `recipient`, or the first placeholder it has no value and no fallback for. */
export function fillValue(parts: readonly ValuePart[], recipient: Recipient): FilledValue {
  let value = ''
  for (const part of parts) {
    if ('text' in part) {
      value += part.text
      continue
    }
    const own = part.placeholder === 'openid' ? recipient.openid : recipient.attributes[part.placeholder]
    if (own !== undefined && own !== '') value += String(own)
    else if (part.fallback !== undefined) value += part.fallback
    else return { ok: false, missing: part.placeholder }
  }
  return { ok: true, value }
}
