/**
 * The templates the service knows (loaded from the catalogue at start), found by WeChat's id or by
 * the catalogue key the code uses (`order_status`). Template management (server/templates/admin.ts)
 * replaces the whole list when it adds, removes or syncs templates; every reader looks templates up
 * when it needs one, so the change is seen at once.
 */
import type { Template } from '../../src/domain/contract'

export interface TemplateDirectory {
  list(): readonly Template[]
  /** By priTmplId or by catalogue key. */
  find(idOrKey: string): Template | undefined
  /** By priTmplId only (what the subscribe dialog answers with). */
  byId(id: string): Template | undefined
}

export interface MutableTemplateDirectory extends TemplateDirectory {
  /** The catalogue from now on (already validated and written by the caller). */
  replace(templates: readonly Template[]): void
}

export function createTemplateDirectory(initial: readonly Template[]): MutableTemplateDirectory {
  let templates = initial
  let byId = new Map<string, Template>()
  let byKey = new Map<string, Template>()
  function replace(next: readonly Template[]): void {
    templates = next
    byId = new Map(next.map((template) => [template.id, template]))
    byKey = new Map(next.map((template) => [template.key, template]))
  }
  replace(initial)
  return {
    list: () => templates,
    find: (idOrKey) => byId.get(idOrKey) ?? byKey.get(idOrKey),
    byId: (id) => byId.get(id),
    replace,
  }
}
