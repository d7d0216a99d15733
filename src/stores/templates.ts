/**
 * The template catalogue (GET /api/templates), kept on the device. Pages load it before any tap that
 * subscribes, so the template ids are known by then. Persisted; a load throws `ApiError`.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { Template } from '@/domain/contract'
import { useClientContext } from '@/context'
import { isFiniteNumber, isRecord, persistedSlot } from '@/platform/persisted'
import { hasShape } from '@/rules/shape'

/**
 * How long the catalogue kept on the device is used as it is. After that a load asks the service
 * again, so templates the operator added show up and retired ones stop being offered.
 */
export const TEMPLATE_CATALOGUE_MAX_AGE_MS = 10 * 60_000

interface StoredCatalogue {
  templates: Template[]
  /** ms since the epoch; null when never loaded. */
  loadedAt: number | null
}

function parseCatalogue(data: unknown): StoredCatalogue | null {
  if (!isRecord(data) || !Array.isArray(data.templates)) return null
  // A template that cannot be read is left out, the others kept.
  const templates = data.templates.filter((template): template is Template => hasShape(Template, template))
  return { templates, loadedAt: isFiniteNumber(data.loadedAt) ? data.loadedAt : null }
}

export const useTemplatesStore = defineStore('templates', () => {
  const context = useClientContext()
  const slot = persistedSlot(context.platform.storage, 'templates', { version: 1, parse: parseCatalogue })
  const stored = slot.load()

  // state
  const templates = ref<Template[]>(stored?.templates ?? [])
  const loadedAt = ref<number | null>(stored?.loadedAt ?? null)

  // getters
  const templatesById = computed(() => new Map(templates.value.map((template) => [template.id, template])))

  function templateByKey(key: string): Template | undefined {
    return templates.value.find((template) => template.key === key)
  }

  /** The template's title, or a plain name for an id the catalogue does not know. */
  function titleOf(templateId: string): string {
    return templatesById.value.get(templateId)?.title ?? '订阅消息'
  }

  /** The GET /api/templates under way, which a second load while it runs waits for instead of asking again. */
  let pending: Promise<Template[]> | null = null

  async function fetchCatalogue(): Promise<Template[]> {
    try {
      templates.value = await context.api.templates()
      loadedAt.value = context.clock.now()
      slot.save({ templates: templates.value, loadedAt: loadedAt.value })
      return templates.value
    } finally {
      pending = null
    }
  }

  /**
   * GET /api/templates, unless the catalogue held is younger than TEMPLATE_CATALOGUE_MAX_AGE_MS (or
   * `force`); one request at a time. When the service cannot be reached it rejects and the catalogue
   * held stays.
   */
  async function load(options: { force?: boolean } = {}): Promise<Template[]> {
    const fresh = loadedAt.value !== null && context.clock.now() - loadedAt.value < TEMPLATE_CATALOGUE_MAX_AGE_MS
    if (!options.force && fresh && templates.value.length > 0) return templates.value
    pending ??= fetchCatalogue()
    return pending
  }

  return { templates, loadedAt, templatesById, templateByKey, titleOf, load }
})
