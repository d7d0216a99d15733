/**
 * The demo people: test user `demo-00001`… of the sandbox WeChat, each the same on every run (a
 * generator seeded by their number): a nickname (张伟, 李娜…), a city with its tag, a level 1–5 and an
 * order count, the tags vip / new, what they answered in the subscribe dialog, and sometimes
 * preferences (quiet hours, a daily limit, marketing muted). Pure: the seed (seed.ts) plays it.
 */
import type { Preferences, SubscribeResult, Template, UserAttributes } from '../../src/domain/contract'

const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗']
const GIVEN_NAMES = ['伟', '娜', '芳', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明', '超', '秀英', '丽', '浩', '婷']
const CITIES = [
  { tag: 'beijing', name: '北京' },
  { tag: 'shanghai', name: '上海' },
  { tag: 'guangzhou', name: '广州' },
  { tag: 'shenzhen', name: '深圳' },
  { tag: 'hangzhou', name: '杭州' },
  { tag: 'chengdu', name: '成都' },
]
/** Every demo person has it, so a segment can take them (or leave them out). */
export const DEMO_TAG = 'demo'
/** Most one-time templates allowed in one dialog (WeChat's own limit), never mixed with long-term ones. */
const IDS_PER_DIALOG = 3

export interface DemoPerson {
  tags: string[]
  attributes: UserAttributes
  /** Each dialog's answers, in order: up to 3 one-time templates, or the long-term ones on their own. */
  dialogs: Record<string, SubscribeResult>[]
  preferences: Preferences | null
}

/** mulberry32: small, fast and the same everywhere. */
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!

/** How many times a person accepted a one-time template: none 35 %, once 35 %, twice 20 %, three times 10 %. */
function acceptsOf(random: () => number): number {
  const roll = random()
  return roll < 0.35 ? 0 : roll < 0.7 ? 1 : roll < 0.9 ? 2 : 3
}

function dialogsOf(random: () => number, templates: readonly Template[]): Record<string, SubscribeResult>[] {
  const accepts = templates.filter((template) => template.kind === 'one-time').map((template) => ({ id: template.id, times: acceptsOf(random) }))
  const dialogs: Record<string, SubscribeResult>[] = []
  for (let round = 0; round < 3; round += 1) {
    const ids = accepts.filter((accept) => accept.times > round).map((accept) => accept.id)
    for (let start = 0; start < ids.length; start += IDS_PER_DIALOG) {
      dialogs.push(Object.fromEntries(ids.slice(start, start + IDS_PER_DIALOG).map((id) => [id, 'accept' as const])))
    }
  }
  const longTerm: Record<string, SubscribeResult> = {}
  for (const template of templates.filter((one) => one.kind === 'long-term')) {
    const roll = random()
    if (roll < 0.5) longTerm[template.id] = 'accept'
    else if (roll < 0.65) longTerm[template.id] = 'reject'
  }
  if (Object.keys(longTerm).length > 0) dialogs.push(longTerm)
  return dialogs
}

function preferencesOf(random: () => number, templates: readonly Template[]): Preferences | null {
  const roll = random()
  const hasMarketing = templates.some((template) => template.category === 'marketing')
  if (roll < 0.1 && hasMarketing) return { quietHours: null, dailyLimit: 20, mutedCategories: ['marketing'] }
  if (roll < 0.25) return { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 20, mutedCategories: [] }
  if (roll < 0.3) return { quietHours: null, dailyLimit: 3, mutedCategories: [] }
  return null
}

/** The sandbox test user of demo person number `index`: `demo-00001`. */
export const demoUserName = (index: number): string => `demo-${String(index).padStart(5, '0')}`

/** Demo person number `index` (1-based), for the catalogue `templates`. */
export function demoPerson(index: number, templates: readonly Template[]): DemoPerson {
  const random = generator(index)
  const city = pick(random, CITIES)
  const level = 1 + Math.floor(random() * 5)
  const orderCount = Math.floor(random() * random() * 60)
  const tags = [DEMO_TAG, city.tag]
  if (level >= 4) tags.push('vip')
  if (orderCount < 3) tags.push('new')
  return {
    tags,
    attributes: { nickname: `${pick(random, SURNAMES)}${pick(random, GIVEN_NAMES)}`, city: city.name, level, orderCount },
    dialogs: dialogsOf(random, templates),
    preferences: preferencesOf(random, templates),
  }
}
