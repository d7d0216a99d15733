/**
 * The mini-program's pages, read from pages.json (the same file uni builds from), so a message's
 * `page` is checked before sending: WeChat answers 41030 for a page it does not know.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const DEFAULT_PAGES_JSON = fileURLToPath(new URL('../../pages.json', import.meta.url))

interface PagesJson {
  pages?: { path: string }[]
  subPackages?: { root: string; pages?: { path: string }[] }[]
  subpackages?: { root: string; pages?: { path: string }[] }[]
}

/** Every page path of pages.json, main package and sub-packages (`pages/orders/index`). */
export function readMiniProgramPages(path: string = DEFAULT_PAGES_JSON): string[] {
  const json = JSON.parse(readFileSync(path, 'utf8')) as PagesJson
  const pages = (json.pages ?? []).map((page) => page.path)
  for (const subPackage of [...(json.subPackages ?? []), ...(json.subpackages ?? [])]) {
    const root = subPackage.root.replace(/\/+$/, '')
    for (const page of subPackage.pages ?? []) pages.push(`${root}/${page.path}`)
  }
  if (pages.length === 0) throw new Error(`${path} 中没有页面（pages 为空）`)
  return pages
}

/** Whether `page` (a path with an optional query, `pages/orders/index?id=1`) is one of `pages`. */
export function isMiniProgramPage(page: string, pages: ReadonlySet<string>): boolean {
  const [path = ''] = page.split('?')
  return pages.has(path)
}
