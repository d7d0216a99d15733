/**
 * How template ids go into `requestSubscribeMessage` calls: at most 3 per call, and never one-time
 * and long-term templates in the same call (WeChat answers 20003 and 20002).
 *
 * Decision: one tap can open one dialog only (a second call made after the first dialog closes is no
 * longer inside the tap), so `subscribe()` never splits on its own. It checks the ids with
 * `consentBatchProblem` and rejects a call WeChat would refuse with a clear `SubscribeError` before
 * calling WeChat. Pages that want to ask for more than one call's worth use `planConsentBatches` to
 * get the calls, and give each its own button.
 *
 * Pure: no uni, no HTTP.
 */
import type { Template, TemplateKind } from '@/domain/contract'
import { SubscribeError } from './subscribe-errors'

/** WeChat's limit per call (the newest docs say 5 and are not confirmed: 3 works everywhere). */
export const MAX_TEMPLATES_PER_CALL = 3

export type TemplateKindInfo = Pick<Template, 'id' | 'kind'>

/** The ids in first-seen order, each once. */
export function uniqueTemplateIds(templateIds: readonly string[]): string[] {
  return [...new Set(templateIds)]
}

function kindsById(templates: readonly TemplateKindInfo[]): Map<string, TemplateKind> {
  return new Map(templates.map((template) => [template.id, template.kind]))
}

/**
 * Why these ids cannot go into one call, or null when they can. Ids whose kind is not known are let
 * through: WeChat itself then answers (20001 for an unknown template).
 */
export function consentBatchProblem(
  templateIds: readonly string[],
  templates: readonly TemplateKindInfo[],
): SubscribeError | null {
  const ids = uniqueTemplateIds(templateIds)
  if (ids.length === 0) return new SubscribeError('EMPTY_TEMPLATE_IDS')
  if (ids.length > MAX_TEMPLATES_PER_CALL) return new SubscribeError('TOO_MANY_TEMPLATES')
  const kinds = kindsById(templates)
  const known = new Set(ids.map((id) => kinds.get(id)).filter((kind) => kind !== undefined))
  if (known.size > 1) return new SubscribeError('KINDS_MIXED')
  return null
}

/**
 * Splits template ids into calls WeChat accepts: grouped by kind (one-time first, then long-term, then
 * ids of unknown kind), each group cut into calls of at most 3, order kept within a group.
 */
export function planConsentBatches(
  templateIds: readonly string[],
  templates: readonly TemplateKindInfo[],
): string[][] {
  const kinds = kindsById(templates)
  const groups: Record<TemplateKind | 'unknown', string[]> = { 'one-time': [], 'long-term': [], unknown: [] }
  for (const id of uniqueTemplateIds(templateIds)) groups[kinds.get(id) ?? 'unknown'].push(id)
  const batches: string[][] = []
  for (const group of [groups['one-time'], groups['long-term'], groups.unknown]) {
    for (let start = 0; start < group.length; start += MAX_TEMPLATES_PER_CALL) {
      batches.push(group.slice(start, start + MAX_TEMPLATES_PER_CALL))
    }
  }
  return batches
}
