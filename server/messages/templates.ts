/**
 * The templates the service knows (loaded from the catalogue at start), found by WeChat's id or by
 * the catalogue key the code uses (`order_status`).
 */
import type { Template } from '../../src/domain/contract'

export interface TemplateDirectory {
  list(): readonly Template[]
  /** By priTmplId or by catalogue key. */
  find(idOrKey: string): Template | undefined
  /** By priTmplId only (what the subscribe dialog answers with). */
  byId(id: string): Template | undefined
}

export function createTemplateDirectory(templates: readonly Template[]): TemplateDirectory {
  const byId = new Map(templates.map((template) => [template.id, template]))
  const byKey = new Map(templates.map((template) => [template.key, template]))
  return {
    list: () => templates,
    find: (idOrKey) => byId.get(idOrKey) ?? byKey.get(idOrKey),
    byId: (id) => byId.get(id),
  }
}
