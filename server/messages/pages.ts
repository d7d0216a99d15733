/**
 * The mini-program's pages, read from pages.json (the same file uni builds from), so a message's
 * `page` is checked before sending: WeChat answers 41030 for a page it does not know.
 *
 * pages.json is read as uni's mp-weixin build reads it: its conditional compilation applied (an
 * `// #ifdef H5` block, the operator console, is no page of the mini-program; `#ifdef MP-WEIXIN` is),
 * then comments and the commas a left-out block leaves dangling removed.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const DEFAULT_PAGES_JSON = fileURLToPath(new URL('../../pages.json', import.meta.url))

interface PagesJson {
  pages?: { path: string }[]
  subPackages?: { root: string; pages?: { path: string }[] }[]
  subpackages?: { root: string; pages?: { path: string }[] }[]
}

/** The names uni defines for an mp-weixin build, as `#ifdef` tests them. */
const MINI_PROGRAM_NAMES: ReadonlySet<string> = new Set(['MP-WEIXIN', 'MP', 'VUE3'])

const DIRECTIVE = /^\s*(?:\/\/|\/\*)\s*#(ifdef|ifndef|endif)\b\s*([^*]*?)\s*(?:\*\/)?\s*$/

/** Whether `#ifdef`'s condition (`H5`, `MP-WEIXIN || H5`) holds for the mini-program. */
function holds(condition: string): boolean {
  return condition.split('||').some((name) => MINI_PROGRAM_NAMES.has(name.trim()))
}

/** The lines of `text` the mp-weixin build keeps: those outside blocks whose condition fails; directives dropped. */
function keptLines(text: string, path: string): string[] {
  const open: boolean[] = []
  const kept: string[] = []
  for (const line of text.split(/\r?\n/)) {
    const directive = DIRECTIVE.exec(line)
    if (directive === null) {
      if (open.every(Boolean)) kept.push(line)
      continue
    }
    const [, kind, condition = ''] = directive
    if (kind === 'endif') {
      if (open.pop() === undefined) throw new Error(`${path}：多余的 #endif`)
    } else open.push(kind === 'ifdef' ? holds(condition) : !holds(condition))
  }
  if (open.length > 0) throw new Error(`${path}：#ifdef / #ifndef 缺少 #endif`)
  return kept
}

/** JSON with comments and trailing commas → JSON: both removed outside strings. */
function plainJson(text: string): string {
  let out = ''
  for (let at = 0; at < text.length; at += 1) {
    const char = text[at]!
    if (char === '"') {
      const end = stringEnd(text, at)
      out += text.slice(at, end)
      at = end - 1
    } else if (char === '/' && text[at + 1] === '/') {
      const lineEnd = text.indexOf('\n', at)
      at = lineEnd === -1 ? text.length : lineEnd - 1
    } else if (char === '/' && text[at + 1] === '*') {
      const close = text.indexOf('*/', at + 2)
      at = close === -1 ? text.length : close + 1
    } else if (char === ',' && /^\s*(?:\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*[\]}]/.test(text.slice(at + 1))) {
      // A comma before the closing bracket (a left-out block was the last entry): dropped.
    } else out += char
  }
  return out
}

/** The index just after the string that starts at `start` (a `"`). */
function stringEnd(text: string, start: number): number {
  for (let at = start + 1; at < text.length; at += 1) {
    if (text[at] === '\\') at += 1
    else if (text[at] === '"') return at + 1
  }
  return text.length
}

/** pages.json as the mp-weixin build reads it (see the header), parsed. */
export function parseMiniProgramPagesJson(text: string, path = 'pages.json'): unknown {
  return JSON.parse(plainJson(keptLines(text, path).join('\n')))
}

/** Every page path of pages.json, main package and sub-packages (`pages/orders/index`). */
export function readMiniProgramPages(path: string = DEFAULT_PAGES_JSON): string[] {
  const json = parseMiniProgramPagesJson(readFileSync(path, 'utf8'), path) as PagesJson
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
