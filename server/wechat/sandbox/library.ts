/**
 * The sandbox's public template library (公共模板库) and the mini-program's own templates (我的模板),
 * as WeChat's template-management calls answer them:
 *
 * - `getcategory`: the mini-program's categories;
 * - `getpubtemplatetitles?ids&start&limit`: the titles of those categories, `limit` at most 30
 *   (200016 bad start, 200017 bad limit, 200018 no ids, 200019 ids not the mini-program's);
 * - `getpubtemplatekeywords?tid`: a title's keywords (200014 unknown tid);
 * - `addtemplate` (form-urlencoded, as WeChat's current doc asks; JSON answers 200014 "missing
 *   parameter tid", as WeChat does): 2–5 keyword ids in display order (200020), a scene of at most
 *   15 characters (200021), at most 25 templates (200012). The new template's keyword names are the
 *   rule and the keyword id (`thing3`), which callers must read from `gettemplate`'s content;
 * - `deltemplate` (JSON `priTmplId`; 20002 for an id it does not have).
 *
 * The titles, keywords and examples look like WeChat's: order status, shipping, payment, refunds,
 * activity reminders, bookings, and one long-term title (account changes) of a bank category.
 */
import { randomBytes } from 'node:crypto'
import type { Keyword, KeywordType, Template } from '../../../src/domain/contract'
import { fail, ok, type WeChatAnswer } from './answers'

interface LibraryKeyword {
  kid: number
  name: string
  example: string
  rule: KeywordType
}

interface LibraryTitle {
  tid: number
  title: string
  /** 2 one-time, 3 long-term. */
  type: 2 | 3
  categoryId: number
  keywords: LibraryKeyword[]
}

export const SANDBOX_CATEGORIES: ReadonlyArray<{ id: number; name: string }> = [
  { id: 612, name: '电商平台' },
  { id: 307, name: '快递、物流' },
  { id: 411, name: '活动、报名' },
  { id: 508, name: '预约服务' },
  { id: 1046, name: '银行' },
]

const k = (kid: number, name: string, rule: KeywordType, example: string): LibraryKeyword => ({ kid, name, rule, example })

const ORDER_NUMBER = k(1, '订单号', 'character_string', 'DD20261125001')

/** A public title: one-time (2) unless `type` says long-term (3). */
const publicTitle = (tid: number, name: string, categoryId: number, keywords: LibraryKeyword[], type: 2 | 3 = 2): LibraryTitle => ({ tid, title: name, type, categoryId, keywords })

export const SANDBOX_LIBRARY: readonly LibraryTitle[] = [
  publicTitle(1476, '订单状态通知', 612, [ORDER_NUMBER, k(2, '订单状态', 'phrase', '已发货'), k(3, '商品名称', 'thing', '机械键盘'), k(4, '更新时间', 'time', '2026年11月25日 13:00'), k(5, '备注', 'thing', '商家正在备货'), k(6, '订单金额', 'amount', '128.00元')]),
  publicTitle(855, '订单发货提醒', 612, [ORDER_NUMBER, k(2, '商品名称', 'thing', '机械键盘'), k(3, '快递公司', 'thing', '顺丰速运'), k(4, '快递单号', 'character_string', 'SF1234567890'), k(5, '发货时间', 'date', '2026年11月25日')]),
  publicTitle(1221, '支付成功通知', 612, [ORDER_NUMBER, k(2, '支付金额', 'amount', '128.00元'), k(3, '商品名称', 'thing', '机械键盘'), k(4, '支付时间', 'time', '2026年11月25日 13:00'), k(5, '支付方式', 'phrase', '微信支付')]),
  publicTitle(1435, '退款成功通知', 612, [ORDER_NUMBER, k(2, '退款金额', 'amount', '128.00元'), k(3, '退款原因', 'thing', '商品缺货'), k(4, '到账时间', 'time', '2026年11月26日 10:00')]),
  publicTitle(4210, '快递签收提醒', 307, [k(1, '快递单号', 'character_string', 'SF1234567890'), k(2, '签收人', 'name', '张三'), k(3, '签收时间', 'time', '2026年11月27日 09:30'), k(4, '快递柜地址', 'thing', '西湖区文三路 88 号')]),
  publicTitle(4211, '物流状态更新通知', 307, [k(1, '快递单号', 'character_string', 'SF1234567890'), k(2, '物流状态', 'phrase', '运输中'), k(3, '当前位置', 'thing', '杭州转运中心'), k(4, '更新时间', 'time', '2026年11月26日 18:20')]),
  publicTitle(1630, '活动开始提醒', 411, [k(1, '活动名称', 'thing', '双十二会员日'), k(2, '活动时间', 'date', '2026年12月12日'), k(3, '活动地点', 'thing', '线上商城'), k(4, '温馨提示', 'thing', '会员专享八折')]),
  publicTitle(1702, '报名成功通知', 411, [k(1, '活动名称', 'thing', '城市夜跑'), k(2, '报名人', 'name', '李四'), k(3, '活动时间', 'time', '2026年12月5日 19:00'), k(4, '联系电话', 'phone_number', '0571-88886666')]),
  publicTitle(2311, '预约成功通知', 508, [k(1, '预约项目', 'thing', '到店取件'), k(2, '预约时间', 'time', '2026年11月28日 14:00'), k(3, '门店地址', 'thing', '西湖区文三路 88 号'), k(4, '预约人', 'name', '王五'), k(5, '备注', 'thing', '请提前 10 分钟到店')]),
  publicTitle(2312, '预约到期提醒', 508, [k(1, '预约项目', 'thing', '到店取件'), k(2, '预约时间', 'time', '2026年11月28日 14:00'), k(3, '温馨提示', 'thing', '预约将在 1 小时后开始')]),
  publicTitle(6107, '账户变动提醒', 1046, [k(1, '变动类型', 'phrase', '转账支出'), k(2, '变动金额', 'amount', '¥500.00'), k(3, '变动时间', 'time', '2026年11月25日 13:00'), k(4, '账户余额', 'amount', '¥1280.00')], 3),
]

/** How many templates a mini-program may have (WeChat's 200012). */
const MY_TEMPLATE_LIMIT = 25
const SCENE_DESC_MAX = 15

export interface SandboxLibrary {
  categories(): WeChatAnswer
  titles(query: URLSearchParams): WeChatAnswer
  keywords(query: URLSearchParams): WeChatAnswer
  /** `form` is null when the body was not form-urlencoded. */
  add(form: URLSearchParams | null): WeChatAnswer
  remove(body: Record<string, unknown>): WeChatAnswer
}

const DIGITS = /^(0|[1-9][0-9]{0,8})$/

/** `templates`: the mini-program's own templates (我的模板), shared with send and gettemplate. */
export function createSandboxLibrary(templates: Map<string, Template>): SandboxLibrary {
  const categoryIds = new Set(SANDBOX_CATEGORIES.map((category) => category.id))
  const byTid = new Map(SANDBOX_LIBRARY.map((title) => [title.tid, title]))
  const titleOf = (tid: string | null): LibraryTitle | undefined => (tid !== null && DIGITS.test(tid) ? byTid.get(Number(tid)) : undefined)

  return {
    categories: () => ok({ data: SANDBOX_CATEGORIES.map((category) => ({ ...category })) }),

    titles(query) {
      const ids = query.get('ids')
      if (ids === null || ids === '') return fail(200018, 'missing parameter ids')
      const wanted = ids.replace(/^"|"$/g, '').split(',')
      if (!wanted.every((id) => DIGITS.test(id) && categoryIds.has(Number(id)))) return fail(200019, 'invalid parameter ids')
      const start = query.get('start')
      if (start === null || !DIGITS.test(start)) return fail(200016, 'invalid parameter start')
      const limit = query.get('limit')
      if (limit === null || !DIGITS.test(limit) || Number(limit) < 1 || Number(limit) > 30) return fail(200017, 'invalid parameter limit')
      const matching = SANDBOX_LIBRARY.filter((title) => wanted.includes(String(title.categoryId)))
      const page = matching.slice(Number(start), Number(start) + Number(limit))
      return ok({
        count: matching.length,
        data: page.map(({ tid, title, type, categoryId }) => ({ tid, title, type, categoryId: String(categoryId) })),
      })
    },

    keywords(query) {
      const title = titleOf(query.get('tid'))
      if (!title) return fail(200014, 'invalid parameter tid')
      return ok({ count: title.keywords.length, data: title.keywords.map(({ kid, name, example, rule }) => ({ kid, name, example, rule })) })
    },

    add(form) {
      if (form === null || !form.has('tid')) return fail(200014, 'missing parameter tid')
      const title = titleOf(form.get('tid'))
      if (!title) return fail(200014, 'tid does not exist')
      const kids = form.getAll('kidList')
      const chosen = kids.map((kid) => (DIGITS.test(kid) ? title.keywords.find((keyword) => keyword.kid === Number(kid)) : undefined))
      if (kids.length < 2 || kids.length > 5 || new Set(kids).size !== kids.length || chosen.some((keyword) => keyword === undefined)) {
        return fail(200020, 'invalid parameter kidList')
      }
      const scene = form.get('sceneDesc') ?? ''
      if ([...scene].length > SCENE_DESC_MAX) return fail(200021, 'invalid parameter sceneDesc')
      if (templates.size >= MY_TEMPLATE_LIMIT) return fail(200012, 'template count reach limit')
      const priTmplId = randomBytes(32).toString('base64url').slice(0, 43)
      const keywords = (chosen as LibraryKeyword[]).map((keyword): Keyword => ({ name: `${keyword.rule}${keyword.kid}`, type: keyword.rule, label: keyword.name }))
      templates.set(priTmplId, {
        id: priTmplId,
        key: `library_${title.tid}`,
        title: title.title,
        kind: title.type === 2 ? 'one-time' : 'long-term',
        category: 'other',
        keywords,
      })
      return ok({ priTmplId })
    },

    remove(body) {
      const id = body.priTmplId
      if (typeof id !== 'string' || !templates.delete(id)) return fail(20002, 'invalid parameter priTmplId')
      return ok()
    },
  }
}
