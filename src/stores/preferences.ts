/**
 * Notification preferences kept by the service: quiet hours, daily limit, muted categories.
 * `load()` = GET /api/me/preferences, `save(p)` = PUT. Throws `ApiError` (a VALIDATION_FAILED one
 * names the field); never toasts. Forgotten the moment someone else signs in.
 */
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import type { Preferences } from '@/domain/contract'
import { useClientContext } from '@/context'

export const usePreferencesStore = defineStore('preferences', () => {
  const context = useClientContext()

  // state
  /** null until loaded. */
  const preferences = ref<Preferences | null>(null)
  const loading = ref(false)
  const saving = ref(false)

  watch(
    () => context.currentOpenid(),
    () => {
      preferences.value = null
    },
    { flush: 'sync' },
  )

  async function load(): Promise<Preferences> {
    loading.value = true
    try {
      const owner = context.currentOpenid()
      const loaded = await context.api.getPreferences()
      // Someone else signed in meanwhile: these are not theirs.
      if (context.currentOpenid() === owner) preferences.value = loaded
      return loaded
    } finally {
      loading.value = false
    }
  }

  async function save(next: Preferences): Promise<Preferences> {
    saving.value = true
    try {
      preferences.value = await context.api.putPreferences(next)
      return preferences.value
    } finally {
      saving.value = false
    }
  }

  return { preferences, loading, saving, load, save }
})
