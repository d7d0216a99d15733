/**
 * The app's pages as a link names them: the tab pages (pages.json `tabBar`), and what a message's
 * `page` (`pages/orders/index?id=…`) opens. A tab page takes a query only when the page stack starts
 * afresh (reLaunch), so a link says whether it is one. Pure.
 */

/** pages.json's tabBar list, in its order (tests/mp/tabbar.test.ts holds the built app.json to it). */
export const TAB_PAGES: readonly string[] = ['pages/orders/index', 'pages/subscriptions/index', 'pages/messages/index', 'pages/preferences/index']

export interface PageLink {
  /** `/pages/orders/index?id=…`, as uni's navigation takes it. */
  url: string
  tab: boolean
}

/** A message's `page` as a link into the app, or null for nothing to open (none, or not a page path). */
export function pageLink(page: string | undefined): PageLink | null {
  if (page === undefined) return null
  const trimmed = page.replace(/^\/+/, '')
  const path = trimmed.split('?')[0] ?? ''
  if (!/^pages\/[A-Za-z0-9_/-]+$/.test(path)) return null
  return { url: `/${trimmed}`, tab: TAB_PAGES.includes(path) }
}

/** The order a link opens (`pages/orders/index?id=…`), or null. */
export function orderIdOf(page: string | undefined): string | null {
  const match = /^\/?pages\/orders\/index\?(?:.*&)?id=([^&]+)/.exec(page ?? '')
  return match?.[1] === undefined ? null : decodeURIComponent(match[1])
}

/** H5's page for an address the app has no page for, naming what was asked (`/pages/nope`). */
export const NOT_FOUND_PAGE = 'pages/not-found/index'

/** The link to the not-found page for `path`, the route uni did not know. */
export function notFoundLink(path: string): string {
  return `/${NOT_FOUND_PAGE}?path=${encodeURIComponent(path)}`
}
