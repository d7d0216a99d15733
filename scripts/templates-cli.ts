/**
 * `npm run templates -- <command>`: template management from the terminal, through the running
 * service's admin API (the one place that holds the WeChat token and writes the catalogue while it
 * runs; so the change is in GET /api/templates at once, in sandbox mode against the sandbox's
 * public library too).
 *
 *   categories                         the mini-program's categories (GET /api/wechat/categories)
 *   search WORD                        public templates whose title has WORD, all categories
 *   keywords TID                       a public template's keywords (kid, name, type, example)
 *   add TID KID,KID[,…] --key KEY --category CATEGORY [--scene 描述]
 *                                      adds it in WeChat and to the catalogue (POST /api/templates)
 *   remove ID|KEY                      deletes it in WeChat and from the catalogue
 *   sync                               the catalogue after WeChat's template list (POST /api/templates/sync)
 *
 * The service is SERVICE_URL (default http://127.0.0.1:$PORT, PORT 8080); the admin key is
 * ADMIN_API_KEY, else the key file the service made beside DATABASE (sandbox mode). Every answer is
 * checked against the contract. Exit codes: 0 done, 1 the service refused (its message is printed),
 * 64 wrong usage, 69 the service cannot be reached, 78 no admin key.
 */
import { readFileSync } from 'node:fs'
import type { TSchema, Static } from 'typebox'
import { Value } from 'typebox/value'
import {
  CatalogueSyncReport,
  ErrorBody,
  LibraryKeywordList,
  LibraryPage,
  Template,
  WeChatCategoryList,
  type LibraryTitle,
} from '../src/domain/contract'
import { adminKeyPath } from '../server/config'

export interface CliIo {
  env: Record<string, string | undefined>
  fetch: typeof fetch
  out(line: string): void
  err(line: string): void
  /** Reads the admin key file (default: from disk). */
  readFile?(path: string): string
}

export const EXIT = { ok: 0, refused: 1, usage: 64, unavailable: 69, config: 78 } as const

const USAGE = [
  '用法：npm run templates -- <命令>',
  '  categories                                   本小程序可用的类目',
  '  search 关键字                                 在公共模板库里按标题搜索',
  '  keywords TID                                 公共模板的关键词（kid、名称、类型、示例）',
  '  add TID KID,KID[,…] --key KEY --category 分类 [--scene 服务场景]',
  '                                               在微信添加模板并写入模板目录',
  '  remove 模板ID或key                            在微信删除模板并移出模板目录',
  '  sync                                         按微信的模板列表更新模板目录',
].join('\n')

class CliFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

const usage = (problem: string): CliFailure => new CliFailure(EXIT.usage, `${problem}\n${USAGE}`)

function adminKey(io: CliIo): string {
  const given = io.env.ADMIN_API_KEY?.trim()
  if (given) return given
  const path = adminKeyPath(io.env.DATABASE?.trim() || 'data/uni-subscribe.db')
  try {
    return (io.readFile ?? ((file) => readFileSync(file, 'utf8')))(path).trim()
  } catch {
    throw new CliFailure(EXIT.config, `没有管理密钥：设置 ADMIN_API_KEY，或先在沙箱模式下启动服务（它会生成 ${path}）`)
  }
}

interface Api {
  call<S extends TSchema>(schema: S, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Static<S>>
}

function apiOf(io: CliIo): Api {
  const base = (io.env.SERVICE_URL?.trim() || `http://127.0.0.1:${io.env.PORT?.trim() || '8080'}`).replace(/\/+$/, '')
  const key = adminKey(io)
  return {
    async call(schema, method, path, body) {
      let response: Response
      try {
        response = await io.fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        })
      } catch (error) {
        throw new CliFailure(EXIT.unavailable, `连不上服务 ${base}（${error instanceof Error ? error.message : String(error)}）：先用 npm start 或 npm run server 启动它，或设置 SERVICE_URL`)
      }
      const text = await response.text()
      let answer: unknown
      try {
        answer = JSON.parse(text)
      } catch {
        throw new CliFailure(EXIT.refused, `服务的回答不是 JSON（HTTP ${response.status}）`)
      }
      if (!response.ok) {
        const message = Value.Check(ErrorBody, answer) ? answer.error.message : `HTTP ${response.status}`
        throw new CliFailure(EXIT.refused, `失败（HTTP ${response.status}）：${message}`)
      }
      if (!Value.Check(schema, answer)) throw new CliFailure(EXIT.refused, `服务的回答不符合约定（${method} ${path}）`)
      return answer
    },
  }
}

const KIND_LABELS = { 'one-time': '一次性', 'long-term': '长期' } as const

function templateLines(template: Template): string[] {
  return [
    `${template.id}  key ${template.key}  「${template.title}」 ${KIND_LABELS[template.kind]}  分类 ${template.category}`,
    ...template.keywords.map((keyword) => `  ${keyword.name}  ${keyword.label}（${keyword.type}）`),
  ]
}

/** Every public title of every category, page by page (30 a page, WeChat's most). */
/** Every title that has `word`, as the service's search (`q`) finds them, page after page. */
async function titlesWith(api: Api, word: string): Promise<{ titles: LibraryTitle[]; partial: boolean }> {
  const titles: LibraryTitle[] = []
  for (let start = 0; ; start += 30) {
    const page = await api.call(LibraryPage, 'GET', `/api/wechat/library?q=${encodeURIComponent(word)}&start=${start}&limit=30`)
    titles.push(...page.titles)
    if (page.titles.length === 0 || titles.length >= page.count) return { titles, partial: page.partial === true }
  }
}

/** `--name value` flags and the positional arguments. */
function parseArgs(args: readonly string[]): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = []
  const flags = new Map<string, string>()
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!
    if (!arg.startsWith('--')) {
      positional.push(arg)
      continue
    }
    const value = args[index + 1]
    if (value === undefined || value.startsWith('--')) throw usage(`${arg} 后面缺少值`)
    flags.set(arg.slice(2), value)
    index += 1
  }
  return { positional, flags }
}

const positiveInteger = (text: string | undefined, what: string): number => {
  if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) throw usage(`${what} 应为正整数${text === undefined ? '' : `（收到 ${text}）`}`)
  return Number(text)
}

async function run(argv: readonly string[], io: CliIo): Promise<void> {
  const [command, ...rest] = argv
  const { positional, flags } = parseArgs(rest)
  switch (command) {
    case 'categories': {
      const api = apiOf(io)
      for (const category of await api.call(WeChatCategoryList, 'GET', '/api/wechat/categories')) io.out(`${category.id}  ${category.name}`)
      return
    }
    case 'search': {
      const word = positional.join(' ').trim()
      if (word === '') throw usage('search 需要一个关键字')
      const api = apiOf(io)
      const names = new Map((await api.call(WeChatCategoryList, 'GET', '/api/wechat/categories')).map((category) => [category.id, category.name]))
      const { titles: found, partial } = await titlesWith(api, word)
      if (found.length === 0) io.out(`公共模板库里没有标题含「${word}」的模板`)
      for (const title of found) {
        io.out(`${title.tid}  「${title.title}」 ${KIND_LABELS[title.kind]}  ${names.get(title.categoryId) ?? title.categoryId}`)
      }
      if (partial) io.out('（类目里的模板太多，只搜索了前面一部分：换个类目或关键字再试）')
      return
    }
    case 'keywords': {
      const tid = positiveInteger(positional[0], 'TID')
      const keywords = await apiOf(io).call(LibraryKeywordList, 'GET', `/api/wechat/library/${tid}/keywords`)
      for (const keyword of keywords) io.out(`${keyword.kid}  ${keyword.name}（${keyword.rule}）  例：${keyword.example}`)
      return
    }
    case 'add': {
      const tid = positiveInteger(positional[0], 'TID')
      const kids = positional[1]
      if (kids === undefined) throw usage('add 需要关键词 id，用逗号分隔，如 1,2,3')
      const kidList = kids.split(',').map((kid) => positiveInteger(kid.trim(), '关键词 id'))
      const key = flags.get('key')
      const category = flags.get('category')
      if (key === undefined || category === undefined) throw usage('add 需要 --key 和 --category')
      const scene = flags.get('scene')
      const body = { tid, kidList, key, category, ...(scene !== undefined && { sceneDesc: scene }) }
      const added = await apiOf(io).call(Template, 'POST', '/api/templates', body)
      io.out('已添加到微信和模板目录：')
      for (const line of templateLines(added)) io.out(line)
      return
    }
    case 'remove': {
      const id = positional[0]
      if (id === undefined) throw usage('remove 需要模板 ID 或 key')
      const removed = await apiOf(io).call(Template, 'DELETE', `/api/templates/${encodeURIComponent(id)}`)
      io.out(`已从微信和模板目录删除 ${removed.id}（${removed.key}「${removed.title}」）`)
      return
    }
    case 'sync': {
      const report = await apiOf(io).call(CatalogueSyncReport, 'POST', '/api/templates/sync')
      io.out(`模板目录已按微信的模板列表更新：${report.templates.length} 个模板`)
      for (const template of report.templates.filter((entry) => report.added.includes(entry.id))) {
        io.out(`  新增 ${template.id}「${template.title}」→ key ${template.key}，分类 other：请改成代码使用的 key 和分类`)
      }
      for (const id of report.changed) io.out(`  更新 ${id}（标题、类型或关键词有变化）`)
      for (const id of report.removed) io.out(`  移除 ${id}（微信的模板列表里已没有它）`)
      return
    }
    default:
      throw usage(command === undefined ? '缺少命令' : `没有这个命令：${command}`)
  }
}

/** Runs one command; returns the exit code. */
export async function templatesCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await run(argv, io)
    return EXIT.ok
  } catch (error) {
    if (!(error instanceof CliFailure)) throw error
    io.err(error.message)
    return error.code
  }
}
