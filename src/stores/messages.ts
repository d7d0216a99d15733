/**
 * What the service sent (or tried to send) to me: GET /api/me/messages, newest first. Forgotten the
 * moment someone else signs in.
 */
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import type { MyMessage, MyMessageDetail } from '@/domain/contract'
import { useClientContext } from '@/context'

export const useMessagesStore = defineStore('messages', () => {
  const context = useClientContext()

  // state
  const messages = ref<MyMessage[]>([])
  /** ms since the epoch of the last successful refresh; null before. */
  const refreshedAt = ref<number | null>(null)
  const loading = ref(false)

  watch(
    () => context.currentOpenid(),
    () => {
      messages.value = []
      refreshedAt.value = null
    },
    { flush: 'sync' },
  )

  /** Reloads the list; throws `ApiError` and keeps the previous list when it fails. */
  async function refresh(): Promise<MyMessage[]> {
    loading.value = true
    try {
      const owner = context.currentOpenid()
      const list = await context.api.myMessages()
      // Someone else signed in meanwhile: this list is not theirs.
      if (context.currentOpenid() !== owner) return messages.value
      messages.value = list
      refreshedAt.value = context.clock.now()
      return messages.value
    } finally {
      loading.value = false
    }
  }

  /** GET /api/me/messages/:id: one message with its content and history. Throws `ApiError` (NOT_FOUND for none). */
  function detail(id: string): Promise<MyMessageDetail> {
    return context.api.myMessage(id)
  }

  return { messages, refreshedAt, loading, refresh, detail }
})
