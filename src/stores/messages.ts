/** What the service sent (or tried to send) to me: GET /api/me/messages, newest first. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { MyMessage } from '@/domain/contract'
import { useClientContext } from '@/context'

export const useMessagesStore = defineStore('messages', () => {
  const context = useClientContext()

  // state
  const messages = ref<MyMessage[]>([])
  /** ms since the epoch of the last successful refresh; null before. */
  const refreshedAt = ref<number | null>(null)
  const loading = ref(false)

  /** Reloads the list; throws `ApiError` and keeps the previous list when it fails. */
  async function refresh(): Promise<MyMessage[]> {
    loading.value = true
    try {
      messages.value = await context.api.myMessages()
      refreshedAt.value = context.clock.now()
      return messages.value
    } finally {
      loading.value = false
    }
  }

  return { messages, refreshedAt, loading, refresh }
})
