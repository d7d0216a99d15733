/**
 * The template fixtures of every test and test double, in one place:
 *
 * - `TEMPLATES`: the catalogue the service ships (config/templates.json), checked the way the service
 *   checks it at start (imported as JSON, so it loads alike under node and jsdom). Tests find a
 *   template with `templateByKey('order_status')`, never by a written-out id.
 * - `sampleData(key)`: values that pass every keyword rule of that template (`sampleKeywordValues`
 *   gives them in WeChat's `{ value }` shape).
 * - `EXTRA_TEMPLATES`, `RETIRED_TEMPLATE_ID`: what the catalogue does not have, for tests about a
 *   catalogue that changes (a template added after the app loaded it, one retired since).
 *
 * Everything here is frozen: a test that wants another catalogue copies it.
 */
import catalogueFile from '../../config/templates.json'
import type { Template } from '../../src/domain/contract'
import { validateMessageData } from '../../src/domain/keywords'
import { parseCatalogue } from '../../server/templates/catalogue'

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** The catalogue the service ships, in its order, checked as the service checks it at start. */
export const TEMPLATES: readonly Template[] = deepFreeze(parseCatalogue(catalogueFile, 'config/templates.json'))

export function templateByKey(key: string): Template {
  const found = TEMPLATES.find((template) => template.key === key)
  if (!found) throw new Error(`config/templates.json has no "${key}" template`)
  return found
}

/** Per catalogue key: a value for each keyword that WeChat's keyword rules accept. */
const SAMPLE_DATA: Readonly<Record<string, Readonly<Record<string, string>>>> = deepFreeze({
  order_status: {
    character_string1: 'DD20261125001',
    phrase2: '已发货',
    thing3: '机械键盘',
    time4: '2026年11月25日 13:05',
    thing5: '包裹正在路上',
  },
  shipping: {
    character_string1: 'DD20261125001',
    thing2: '机械键盘',
    thing3: '顺丰速运',
    character_string4: 'SF1234567890',
    date5: '2026年11月25日',
  },
  payment: { character_string1: 'DD20261125001', amount2: '¥128.00', thing3: '机械键盘', time4: '2026年11月25日 13:05' },
  activity_reminder: { thing1: '双十一', date2: '2026年11月11日', thing3: '线上', thing4: '记得准时参加' },
  account_security: { thing1: '新设备登录', time2: '2026年11月25日 13:05', enum3: '中' },
})

/** Valid data for the template with `key`, as `{ keyword: value }` (a fresh copy). */
export function sampleData(key: string): Record<string, string> {
  const data = SAMPLE_DATA[key]
  if (!data) throw new Error(`no sample data for the "${key}" template`)
  return { ...data }
}

/** Valid data for the template with `key` in WeChat's shape, `{ keyword: { value } }`. */
export function sampleKeywordValues(key: string): Record<string, { value: string }> {
  return Object.fromEntries(Object.entries(sampleData(key)).map(([name, value]) => [name, { value }]))
}

// A catalogue edit that the samples no longer fit fails here, once, instead of in scattered tests.
for (const template of TEMPLATES) {
  const checked = validateMessageData(template, sampleData(template.key))
  if (!checked.ok) throw new Error(`sample data of "${template.key}" breaks its keyword rules: ${checked.message}`)
}

/**
 * Templates config/templates.json does not have: one added to the catalogue while the app runs, and
 * a three-keyword order-status template for keyword-rule tests that list every keyword.
 */
export const EXTRA_TEMPLATES = deepFreeze({
  delivery: {
    id: 'EXTRA_DELIVERY_NOTICE',
    key: 'delivery',
    title: '送达通知',
    kind: 'one-time',
    category: 'order',
    keywords: [{ name: 'character_string1', type: 'character_string', label: '订单号' }],
  },
  shortOrderStatus: {
    id: 'EXTRA_SHORT_ORDER_STATUS',
    key: 'short_order_status',
    title: '订单状态通知',
    kind: 'one-time',
    category: 'order',
    keywords: [
      { name: 'character_string1', type: 'character_string', label: '订单号' },
      { name: 'phrase2', type: 'phrase', label: '订单状态' },
      { name: 'thing3', type: 'thing', label: '商品名称' },
    ],
  },
} satisfies Record<string, Template>)

/** A template id that is in no catalogue: a template retired after the app stored an answer for it. */
export const RETIRED_TEMPLATE_ID = 'RETIRED_TEMPLATE_ID'
