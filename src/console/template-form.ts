/**
 * The 模板 page's form for adding a public template: the keywords picked (in the order they were
 * picked, which is the order the message shows them), and the request they make. Whether a request
 * is one the service takes is the contract's rule (AddTemplateRequest, checked by src/rules/shape.ts);
 * this module only says, in Chinese, which field is at fault. Pure.
 */
import { AddTemplateRequest, type Template } from '@/domain/console-contract'
import { shapeProblem } from '@/rules/shape'

/** WeChat takes 2 to 5 keywords per template (the contract's kidList). */
export const MOST_KEYWORDS = 5

export interface AddTemplateForm {
  tid: number | null
  /** Keyword ids, in the order picked. */
  picked: number[]
  key: string
  category: string
  sceneDesc: string
}

export const emptyAddTemplateForm = (): AddTemplateForm => ({ tid: null, picked: [], key: '', category: '', sceneDesc: '' })

/** `picked` with `kid` added at the end, or taken out if it was in; at most MOST_KEYWORDS. */
export function togglePick(picked: readonly number[], kid: number): number[] {
  if (picked.includes(kid)) return picked.filter((one) => one !== kid)
  if (picked.length >= MOST_KEYWORDS) return [...picked]
  return [...picked, kid]
}

const FIELD_PROBLEMS: Readonly<Record<string, string>> = {
  tid: '先在公共模板库里选一个模板',
  kidList: '选 2 到 5 个关键词',
  key: 'key 以小写字母开头，只用小写字母、数字和下划线，最多 64 个字符',
  category: '填写类别（最多 32 个字符），如 order',
  sceneDesc: '使用场景最多 15 个字',
}

export type AddTemplateCheck = { ok: true; request: AddTemplateRequest } | { ok: false; field: keyof AddTemplateRequest; problem: string }

/** The request the form stands for, or the first field at fault (a key the catalogue has is one). */
export function addTemplateRequest(form: AddTemplateForm, catalogue: readonly Template[]): AddTemplateCheck {
  const sceneDesc = form.sceneDesc.trim()
  const request = {
    tid: form.tid ?? 0,
    kidList: form.picked,
    key: form.key.trim(),
    category: form.category.trim(),
    ...(sceneDesc !== '' && { sceneDesc }),
  }
  const problem = shapeProblem(AddTemplateRequest, request)
  if (problem !== null) {
    const field = (problem.path.split('.')[0] ?? '') as keyof AddTemplateRequest
    return { ok: false, field, problem: FIELD_PROBLEMS[field] ?? `${problem.path}: ${problem.problem}` }
  }
  if (catalogue.some((template) => template.key === request.key)) {
    return { ok: false, field: 'key', problem: `目录里已有 key 为 ${request.key} 的模板` }
  }
  return { ok: true, request }
}
