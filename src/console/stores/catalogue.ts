/**
 * What most console pages look things up in: the template catalogue and the saved segments; and
 * the catalogue's changes (a public template added, one removed, a sync with WeChat).
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { CatalogueSyncReport, Segment, SegmentPreview, SegmentReach, TemplateList } from '@/domain/console-contract'
import type { AddTemplateRequest, SegmentFilter, SegmentRequest, Template } from '@/domain/contract'
import { useConsole } from '../context'

export const useCatalogueStore = defineStore('console-catalogue', () => {
  const templates = ref<TemplateList>([])
  const segments = ref<Segment[]>([])
  const templatesLoaded = ref(false)

  /** The catalogue once per page load (`force` to read it again). */
  async function loadTemplates(force = false): Promise<void> {
    if (templatesLoaded.value && !force) return
    templates.value = await useConsole().api.templates()
    templatesLoaded.value = true
  }

  async function addTemplate(request: AddTemplateRequest): Promise<Template> {
    const added = await useConsole().api.addTemplate(request)
    templates.value = [...templates.value, added]
    return added
  }

  async function removeTemplate(id: string): Promise<Template> {
    const removed = await useConsole().api.removeTemplate(id)
    templates.value = templates.value.filter((one) => one.id !== removed.id)
    return removed
  }

  async function syncTemplates(): Promise<CatalogueSyncReport> {
    const report = await useConsole().api.syncTemplates()
    templates.value = report.templates
    templatesLoaded.value = true
    return report
  }

  async function loadSegments(): Promise<void> {
    segments.value = await useConsole().api.segments()
  }

  function template(idOrKey: string): Template | null {
    return templates.value.find((one) => one.id === idOrKey || one.key === idOrKey) ?? null
  }

  async function createSegment(request: SegmentRequest): Promise<Segment> {
    const segment = await useConsole().api.createSegment(request)
    segments.value = [...segments.value, segment]
    return segment
  }

  async function deleteSegment(id: string): Promise<void> {
    await useConsole().api.deleteSegment(id)
    segments.value = segments.value.filter((segment) => segment.id !== id)
  }

  const preview = (filter: SegmentFilter): Promise<SegmentPreview> => useConsole().api.previewSegment(filter)
  const reach = (segmentId: string, template: string): Promise<SegmentReach> => useConsole().api.reach(segmentId, template)

  return { templates, segments, loadTemplates, addTemplate, removeTemplate, syncTemplates, loadSegments, template, createSegment, deleteSegment, preview, reach }
})
