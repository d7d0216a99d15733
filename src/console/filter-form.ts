/**
 * The segment filter builder's form and the filter it stands for: tags typed as lists, a number of
 * days, attribute conditions one row each. Pure, so the page and its tests share it.
 */
import type { AttributeCondition, AttributeValue, SegmentFilter } from '@/domain/contract'

export type ConditionOperator = 'eq' | 'in' | 'gte' | 'lte'

export interface AttributeRow {
  key: string
  operator: ConditionOperator
  /** As typed: `上海`, `3`, `beijing, shanghai` for `in`. */
  value: string
}

export interface FilterForm {
  tagsAll: string
  tagsAny: string
  tagsNone: string
  activeWithinDays: string
  attributes: AttributeRow[]
}

export const OPERATOR_NAMES: Readonly<Record<ConditionOperator, string>> = { eq: '等于', in: '属于其中之一', gte: '≥', lte: '≤' }

export function emptyFilterForm(): FilterForm {
  return { tagsAll: '', tagsAny: '', tagsNone: '', activeWithinDays: '', attributes: [] }
}

/** `vip, beijing，new` → ['vip', 'beijing', 'new'] (ASCII or full-width commas, spaces). */
export function listOf(text: string): string[] {
  return [...new Set(text.split(/[,，\s]+/).map((part) => part.trim()).filter((part) => part !== ''))]
}

/** A typed value: a number when it reads as one (`3`, `4.5`), else the text. */
function valueOf(text: string): AttributeValue {
  const trimmed = text.trim()
  return /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/.test(trimmed) ? Number(trimmed) : trimmed
}

export type FilterFromForm = { ok: true; filter: SegmentFilter } | { ok: false; problem: string }

/** The filter the form stands for, or what keeps it from being one (in Chinese). */
export function filterFromForm(form: FilterForm): FilterFromForm {
  const filter: SegmentFilter = {}
  const all = listOf(form.tagsAll)
  const any = listOf(form.tagsAny)
  const none = listOf(form.tagsNone)
  if (all.length > 0) filter.tagsAll = all
  if (any.length > 0) filter.tagsAny = any
  if (none.length > 0) filter.tagsNone = none
  if (form.activeWithinDays.trim() !== '') {
    const days = Number(form.activeWithinDays)
    if (!Number.isInteger(days) || days < 1 || days > 3650) return { ok: false, problem: '活跃天数为 1 到 3650 的整数' }
    filter.activeWithinDays = days
  }
  const attributes: Record<string, AttributeCondition> = {}
  for (const row of form.attributes) {
    const key = row.key.trim()
    if (key === '' && row.value.trim() === '') continue
    if (!/^[a-z][a-zA-Z0-9_]{0,31}$/.test(key)) return { ok: false, problem: `属性名「${key}」不对：小写字母开头，字母、数字或下划线` }
    if (row.value.trim() === '') return { ok: false, problem: `属性「${key}」还没有填值` }
    const condition: AttributeCondition = attributes[key] ?? {}
    if (row.operator === 'in') condition.in = listOf(row.value).map(valueOf)
    else if (row.operator === 'eq') condition.eq = valueOf(row.value)
    else {
      const bound = valueOf(row.value)
      if (typeof bound !== 'number') return { ok: false, problem: `属性「${key}」的${OPERATOR_NAMES[row.operator]}要填数字` }
      condition[row.operator] = bound
    }
    attributes[key] = condition
  }
  if (Object.keys(attributes).length > 0) filter.attributes = attributes
  return { ok: true, filter }
}

/** A saved filter in words: `标签全有 vip · 活跃 30 天内 · level ≥ 4`. */
export function describeFilter(filter: SegmentFilter): string {
  const parts: string[] = []
  if (filter.tagsAll?.length) parts.push(`标签全有 ${filter.tagsAll.join('、')}`)
  if (filter.tagsAny?.length) parts.push(`标签有其一 ${filter.tagsAny.join('、')}`)
  if (filter.tagsNone?.length) parts.push(`没有标签 ${filter.tagsNone.join('、')}`)
  if (filter.activeWithinDays !== undefined) parts.push(`活跃 ${filter.activeWithinDays} 天内`)
  for (const [key, condition] of Object.entries(filter.attributes ?? {})) {
    if (condition.eq !== undefined) parts.push(`${key} = ${String(condition.eq)}`)
    if (condition.in !== undefined) parts.push(`${key} ∈ ${condition.in.join('、')}`)
    if (condition.gte !== undefined) parts.push(`${key} ≥ ${condition.gte}`)
    if (condition.lte !== undefined) parts.push(`${key} ≤ ${condition.lte}`)
  }
  return parts.length === 0 ? '全部用户' : parts.join(' · ')
}
