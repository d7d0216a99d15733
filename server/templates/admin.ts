/**
 * Template management for operators (the admin API and `npm run templates`): WeChat's public template
 * library, and the catalogue it feeds.
 *
 * The catalogue stays one file (`TEMPLATES`, default config/templates.json), the one operators read,
 * edit and commit. Each change reads the file as it is now (hand edits included), changes WeChat,
 * writes the file (validated, atomically) and makes the service's template directory what it wrote,
 * so GET /api/templates and every send see the change at once, without a restart. Changes run one at
 * a time in this process.
 *
 * - library: WeChat's pages of public titles; a search by title (`q`, which WeChat lacks) reads the
 *   categories' titles page by page and matches them here;
 * - add: `addtemplate`, then the new template's keyword names and types from its `content` in
 *   `gettemplate` (they are not the kids), under the operator's key and category;
 * - remove: `deltemplate` (a template WeChat no longer has is removed from the catalogue too), then
 *   the catalogue; messages still queued for it fail UNKNOWN_TEMPLATE when their turn comes;
 * - sync: the catalogue after `gettemplate` (mergeCatalogue: known ids keep key and category).
 *
 * A WeChat errcode becomes the admin API's answer by src/domain/wechat-errcodes.ts (`templateErrcodeRule`).
 */
import type {
  AddTemplateRequest,
  CatalogueSyncReport,
  LibraryKeywordList,
  LibraryPage,
  LibraryQuery,
  LibraryTitle,
  Template,
  WeChatCategoryList,
} from '../../src/domain/contract'
import { templateErrcodeRule, type TemplateApi, type TemplateParam } from '../../src/domain/wechat-errcodes'
import { AppError } from '../errors'
import type { MutableTemplateDirectory } from '../messages/templates'
import { isWeChatError, type WeChatClient } from '../wechat/types'
import { CatalogueError, catalogueComment, loadCatalogue, mergeCatalogue, templateFromWeChat, writeCatalogue } from './catalogue'

/** How the admin API names each WeChat parameter, per call. */
export type ParamFields = Partial<Record<TemplateParam, string>>

export interface TemplateAdmin {
  categories(): Promise<WeChatCategoryList>
  library(query: LibraryQuery): Promise<LibraryPage>
  keywords(tid: number): Promise<LibraryKeywordList>
  /** Throws 409 ALREADY_EXISTS for a key the catalogue has, or WeChat's refusal. */
  add(request: AddTemplateRequest): Promise<Template>
  /** By id or key; 404 when the catalogue has neither. */
  remove(idOrKey: string): Promise<Template>
  sync(): Promise<CatalogueSyncReport>
}

export interface TemplateAdminOptions {
  wechat: WeChatClient
  templates: MutableTemplateDirectory
  /** The catalogue file written after each change. */
  file: string
}

const LIBRARY_PAGE = 30
/** How many titles a title search reads at most (WeChat's categories hold hundreds; 34 calls). */
const SEARCHED_TITLES = 1020
/** WeChat's answer to deltemplate for a template it does not have. */
const NOT_IN_WECHAT = 20002

/** WeChat's refusal as the admin API's error, naming the request field it is about. */
function refusal(api: TemplateApi, error: unknown, fields: ParamFields): unknown {
  if (!isWeChatError(error)) return error
  const rule = templateErrcodeRule(api, error.errcode)
  const field = rule.param === undefined ? undefined : fields[rule.param]
  const message = `${field === undefined ? '' : `${field}: `}微信拒绝了请求（错误码 ${error.errcode}）：${rule.message}`
  if (rule.status === 502) return new AppError(502, 'WECHAT_UNAVAILABLE', message, field)
  return new AppError(rule.status, 'WECHAT_REFUSED', message, field)
}

async function calling<T>(api: TemplateApi, fields: ParamFields, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw refusal(api, error, fields)
  }
}

export function createTemplateAdmin(options: TemplateAdminOptions): TemplateAdmin {
  const { wechat, templates, file } = options
  let queue: Promise<unknown> = Promise.resolve()

  /** Runs catalogue changes one after another. */
  function serially<T>(change: () => Promise<T>): Promise<T> {
    const next = queue.then(change, change)
    queue = next.catch(() => undefined)
    return next
  }

  /** The catalogue file as it is now; a file edited into something invalid stops the change. */
  function current(): Template[] {
    try {
      return loadCatalogue(file)
    } catch (error) {
      if (error instanceof CatalogueError) throw new AppError(422, 'VALIDATION_FAILED', `模板目录文件有误，修正后再试：${error.message}`)
      throw error
    }
  }

  function save(next: Template[]): void {
    writeCatalogue(file, next, catalogueComment(file))
    templates.replace(next)
  }

  return {
    categories: () => calling('getcategory', {}, () => wechat.getCategories()),

    async library(query) {
      const fields: ParamFields = { ids: 'querystring.ids', start: 'querystring.start', limit: 'querystring.limit' }
      const ids = query.ids !== undefined ? query.ids.split(',').map(Number) : (await calling('getcategory', {}, () => wechat.getCategories())).map((category) => category.id)
      if (ids.length === 0) return { count: 0, titles: [] }
      const titlesAt = async (start: number, limit: number): Promise<{ count: number; titles: LibraryTitle[] }> => {
        const page = await calling('getpubtemplatetitles', fields, () => wechat.getPublicTemplateTitles({ ids, start, limit }))
        return { count: page.count, titles: page.titles.map((title) => ({ tid: title.tid, title: title.title, kind: title.type === 3 ? 'long-term' : 'one-time', categoryId: title.categoryId })) }
      }
      const start = query.start ?? 0
      const limit = query.limit ?? LIBRARY_PAGE
      if (query.q === undefined) return titlesAt(start, limit)
      // WeChat has no search: read the categories' titles (30 a call, up to SEARCHED_TITLES) and match here.
      const text = query.q.trim().toLowerCase()
      const matches: LibraryTitle[] = []
      let read = 0
      let count = Infinity
      while (read < count && read < SEARCHED_TITLES) {
        const page = await titlesAt(read, LIBRARY_PAGE)
        count = page.count
        if (page.titles.length === 0) break
        read += page.titles.length
        matches.push(...page.titles.filter((title) => title.title.toLowerCase().includes(text)))
      }
      return { count: matches.length, titles: matches.slice(start, start + limit), ...(read < count && { partial: true }) }
    },

    keywords: (tid) => calling('getpubtemplatekeywords', { tid: 'params.tid' }, () => wechat.getPublicTemplateKeywords(tid)),

    add: (request) =>
      serially(async () => {
        const catalogue = current()
        if (catalogue.some((template) => template.key === request.key)) {
          throw new AppError(409, 'ALREADY_EXISTS', `key: 模板目录里已有 key 为 ${request.key} 的模板`, 'key')
        }
        const fields: ParamFields = { tid: 'tid', kidList: 'kidList', sceneDesc: 'sceneDesc' }
        const id = await calling('addtemplate', fields, () =>
          wechat.addTemplate({ tid: request.tid, kidList: request.kidList, ...(request.sceneDesc !== undefined && { sceneDesc: request.sceneDesc }) }),
        )
        const remote = (await calling('gettemplate', {}, () => wechat.getTemplateList())).find((entry) => entry.priTmplId === id)
        if (!remote) {
          throw new AppError(502, 'WECHAT_UNAVAILABLE', `微信已添加模板 ${id}，但它的模板列表里还没有它：稍后运行 npm run templates -- sync 把它写进模板目录`)
        }
        let template: Template
        try {
          template = templateFromWeChat(remote, request.key, request.category)
        } catch (error) {
          // Its content names a keyword type this project does not know: it could never be sent.
          await wechat.deleteTemplate(id).catch(() => undefined)
          throw new AppError(502, 'WECHAT_REFUSED', `微信添加的模板 ${id} 无法使用，已从微信删除：${error instanceof Error ? error.message : String(error)}`)
        }
        save([...catalogue, template])
        return template
      }),

    remove: (idOrKey) =>
      serially(async () => {
        const catalogue = current()
        const template = catalogue.find((entry) => entry.id === idOrKey) ?? catalogue.find((entry) => entry.key === idOrKey)
        if (!template) throw new AppError(404, 'NOT_FOUND', `模板目录里没有这个模板（${idOrKey}）`)
        try {
          await wechat.deleteTemplate(template.id)
        } catch (error) {
          if (!isWeChatError(error) || error.errcode !== NOT_IN_WECHAT) throw refusal('deltemplate', error, { priTmplId: 'id' })
        }
        save(catalogue.filter((entry) => entry.id !== template.id))
        return template
      }),

    sync: () =>
      serially(async () => {
        const merge = mergeCatalogue(current(), await calling('gettemplate', {}, () => wechat.getTemplateList()))
        save(merge.templates)
        return merge
      }),
  }
}
