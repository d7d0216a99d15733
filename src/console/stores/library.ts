/** 模板: WeChat's public template library as the operator browses it (by category, by title), a title's keywords. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { LibraryKeywordList, LibraryPage } from '@/domain/console-contract'
import type { LibraryTitle, WeChatCategoryList } from '@/domain/contract'
import { useConsole } from '../context'

/** Titles per page (WeChat's most). */
export const LIBRARY_PAGE_SIZE = 30

export const useLibraryStore = defineStore('console-library', () => {
  const categories = ref<WeChatCategoryList>([])
  /** null: every category of the mini-program. */
  const categoryId = ref<number | null>(null)
  /** The title search; '' lists every title. */
  const words = ref('')
  const start = ref(0)
  const page = ref<LibraryPage | null>(null)
  const chosen = ref<LibraryTitle | null>(null)
  const keywords = ref<LibraryKeywordList>([])

  async function loadCategories(): Promise<void> {
    if (categories.value.length === 0) categories.value = await useConsole().api.wechatCategories()
  }

  /** The page of titles at `from` for the category and words as they are now. */
  async function browse(from = 0): Promise<void> {
    const q = words.value.trim()
    const next = await useConsole().api.library({
      ...(categoryId.value !== null && { ids: String(categoryId.value) }),
      ...(q !== '' && { q }),
      start: from,
      limit: LIBRARY_PAGE_SIZE,
    })
    page.value = next
    start.value = from
  }

  /** Picks a title: its keywords are read (what can be picked for a template of it). */
  async function choose(title: LibraryTitle): Promise<void> {
    const read = await useConsole().api.libraryKeywords(title.tid)
    chosen.value = title
    keywords.value = read
  }

  function forget(): void {
    chosen.value = null
    keywords.value = []
  }

  const categoryName = (id: number): string => categories.value.find((category) => category.id === id)?.name ?? String(id)

  return { categories, categoryId, words, start, page, chosen, keywords, loadCategories, browse, choose, forget, categoryName }
})
