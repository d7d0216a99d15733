/** 消息: search by user, status, template, campaign, reason and time; one message with every attempt; retry. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { MessageDetail, MessageOutcome, MessageSearchResult } from '@/domain/console-contract'
import type { MessageSearchQuery } from '@/domain/contract'
import { useConsole } from '../context'

export const useMessagesStore = defineStore('console-messages', () => {
  const items = ref<MessageSearchResult['items']>([])
  const nextCursor = ref<string | null>(null)
  const current = ref<MessageDetail | null>(null)

  async function search(query: Omit<MessageSearchQuery, 'cursor'>, more = false): Promise<void> {
    const page = await useConsole().api.messages({ limit: 50, ...query, ...(more && nextCursor.value !== null && { cursor: nextCursor.value }) })
    items.value = more ? [...items.value, ...page.items] : page.items
    nextCursor.value = page.nextCursor
  }

  async function load(id: string): Promise<void> {
    current.value = await useConsole().api.message(id)
  }

  /** Back in the queue; rejects with ApiError NOT_RETRYABLE (409) saying why not. */
  async function retry(id: string): Promise<MessageOutcome> {
    const outcome = await useConsole().api.retryMessage(id)
    await load(id)
    return outcome
  }

  return { items, nextCursor, current, search, load, retry }
})
