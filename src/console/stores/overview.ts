/** 概览: the service's health and the outcomes over time. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { ServiceHealth, Timeline, TimelineRange } from '@/domain/console-contract'
import { useConsole } from '../context'

export const useOverviewStore = defineStore('console-overview', () => {
  const health = ref<ServiceHealth | null>(null)
  const timeline = ref<Timeline | null>(null)
  const range = ref<TimelineRange>('24h')

  async function load(): Promise<void> {
    const { api } = useConsole()
    const [nextHealth, nextTimeline] = await Promise.all([api.health(), api.timeline(range.value)])
    health.value = nextHealth
    timeline.value = nextTimeline
  }

  async function showRange(next: TimelineRange): Promise<void> {
    range.value = next
    timeline.value = await useConsole().api.timeline(next)
  }

  return { health, timeline, range, load, showRange }
})
