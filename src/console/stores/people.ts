/** 用户: search by openid or tag, one user with credits, preferences and messages, their tags and attributes edited. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { MessageSearchResult, User, UserDetail } from '@/domain/console-contract'
import type { UserChanges } from '@/domain/contract'
import { useConsole } from '../context'

export const usePeopleStore = defineStore('console-people', () => {
  const results = ref<User[]>([])
  const nextCursor = ref<string | null>(null)
  const user = ref<UserDetail | null>(null)
  const messages = ref<MessageSearchResult['items']>([])

  /** `text`: an openid or its beginning; `tag`: a tag they have. */
  async function search(query: { q?: string; tag?: string }, more = false): Promise<void> {
    const page = await useConsole().api.users({ ...query, limit: 50, ...(more && nextCursor.value !== null && { cursor: nextCursor.value }) })
    results.value = more ? [...results.value, ...page.items] : page.items
    nextCursor.value = page.nextCursor
  }

  async function load(openid: string): Promise<void> {
    const { api } = useConsole()
    const [detail, theirs] = await Promise.all([api.user(openid), api.messages({ touser: openid, limit: 20 })])
    user.value = detail
    messages.value = theirs.items
  }

  async function save(openid: string, changes: UserChanges): Promise<void> {
    const saved = await useConsole().api.putUser(openid, changes)
    if (user.value?.openid === openid) user.value = { ...user.value, ...saved }
  }

  return { results, nextCursor, user, messages, search, load, save }
})
