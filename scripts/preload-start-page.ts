/**
 * H5 start: the page the address opens (`#/pages/subscriptions/index`) is a chunk of its own, which uni's
 * router asks for only once the entry chunk has run, and its own imports after that: a second round
 * trip, after the entry, before the page can ask the service for anything. This Vite plugin writes into
 * index.html, in build only, a small script with each page's chunks (JS and CSS, by pages.json path)
 * that asks for the opened page's files while the entry chunk is still arriving, as `modulepreload` /
 * `preload`. The page's dynamic import then finds them in the cache. Nothing runs earlier than before,
 * and an address with no page preloads nothing.
 */
import { relative, sep } from 'node:path'
import type { Plugin } from 'vite'

/** A Rollup chunk as far as this plugin reads one (Vite's `viteMetadata` holds the CSS it imports). */
interface ChunkSeen {
  type: 'chunk'
  fileName: string
  facadeModuleId: string | null
  isDynamicEntry: boolean
  isEntry: boolean
  imports: string[]
  viteMetadata?: { importedCss: Set<string> }
}

function isChunk(value: unknown): value is ChunkSeen {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'chunk'
}

/** `src/pages/orders/index.vue` → `pages/orders/index`; null for a module that is no page. */
export function pagePathOf(moduleId: string, inputDir: string): string | null {
  const path = relative(inputDir, moduleId.split('?')[0]!).split(sep).join('/')
  const match = /^(pages\/.+)\.(?:vue|nvue)$/.exec(path)
  return match?.[1] ?? null
}

/** Each page's files: its chunk, the chunks it imports statically (but the entry, loaded anyway), and their CSS. */
export function pageFiles(bundle: Readonly<Record<string, unknown>>, inputDir: string): Record<string, string[]> {
  const chunks = new Map<string, ChunkSeen>()
  for (const item of Object.values(bundle)) if (isChunk(item)) chunks.set(item.fileName, item)
  const pages: Record<string, string[]> = {}
  for (const chunk of chunks.values()) {
    if (!chunk.isDynamicEntry || chunk.facadeModuleId === null) continue
    const page = pagePathOf(chunk.facadeModuleId, inputDir)
    if (page === null) continue
    const files = new Set<string>()
    const visit = (fileName: string): void => {
      const seen = chunks.get(fileName)
      if (seen === undefined || seen.isEntry || files.has(fileName)) return
      files.add(fileName)
      for (const css of seen.viteMetadata?.importedCss ?? []) files.add(css)
      for (const imported of seen.imports) visit(imported)
    }
    visit(chunk.fileName)
    pages[page] = [...files]
  }
  return pages
}

/**
 * The script: the opened page (the hash's path, or the first page for none) and its files, preloaded
 * relative to index.html (the router's base is `./`).
 */
export function preloadScript(pages: Readonly<Record<string, string[]>>, firstPage: string): string {
  return `<script>(function(){var p=${JSON.stringify(pages)};var r=location.hash.replace(/^#\\/?/,"").split("?")[0]||${JSON.stringify(firstPage)};(p[r]||[]).forEach(function(f){var l=document.createElement("link");if(/\\.css$/.test(f)){l.rel="preload";l.as="style"}else{l.rel="modulepreload";l.crossOrigin=""}l.href="./"+f;document.head.appendChild(l)})})()</script>`
}

export function preloadStartPage(inputDir: string, firstPage: () => string): Plugin {
  return {
    name: 'uni-subscribe:preload-start-page',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, context) {
        if (context.bundle === undefined) return html
        const script = preloadScript(pageFiles(context.bundle, inputDir), firstPage())
        // Before the entry's <script type="module">, so the page's files are asked for beside it.
        return html.replace(/<script type="module"/, `${script}\n    <script type="module"`)
      },
    },
  }
}
