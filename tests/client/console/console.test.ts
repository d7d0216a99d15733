import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createConsoleApi, queryString } from '@/console/api'
import { installConsoleContext } from '@/console/context'
import { describeFilter, emptyFilterForm, filterFromForm } from '@/console/filter-form'
import { useOperatorSessionStore } from '@/console/stores/operator-session'
import type { PlatformRequest, PlatformResponse } from '@/platform/types'

describe('the filter builder’s form', () => {
  it('becomes the filter it stands for: lists split on commas, numbers typed, attribute operators combined', () => {
    const form = { ...emptyFilterForm(), tagsAll: 'vip，beijing', tagsNone: 'new', activeWithinDays: '30' }
    form.attributes = [
      { key: 'level', operator: 'gte', value: '4' },
      { key: 'level', operator: 'lte', value: '5' },
      { key: 'city', operator: 'in', value: '北京, 上海' },
    ]
    const built = filterFromForm(form)
    expect(built).toEqual({
      ok: true,
      filter: { tagsAll: ['vip', 'beijing'], tagsNone: ['new'], activeWithinDays: 30, attributes: { level: { gte: 4, lte: 5 }, city: { in: ['北京', '上海'] } } },
    })
    expect(built.ok && describeFilter(built.filter)).toBe('标签全有 vip、beijing · 没有标签 new · 活跃 30 天内 · level ≥ 4 · level ≤ 5 · city ∈ 北京、上海')
  })

  it('says what keeps it from being a filter', () => {
    expect(filterFromForm({ ...emptyFilterForm(), activeWithinDays: '0' })).toEqual({ ok: false, problem: '活跃天数为 1 到 3650 的整数' })
    expect(filterFromForm({ ...emptyFilterForm(), attributes: [{ key: 'level', operator: 'gte', value: '高' }] })).toEqual({ ok: false, problem: '属性「level」的≥要填数字' })
    expect(filterFromForm(emptyFilterForm())).toEqual({ ok: true, filter: {} })
  })
})

describe('the operator session', () => {
  let requests: PlatformRequest[]
  let answer: PlatformResponse
  let now: number
  const stored = new Map<string, string>()

  beforeEach(() => {
    setActivePinia(createPinia())
    requests = []
    stored.clear()
    now = Date.parse('2026-12-01T08:00:00.000Z')
    answer = { statusCode: 201, data: { token: 'tok-abc', expiresAt: '2026-12-01T20:00:00.000Z' } }
    const platform = {
      request: async (request: PlatformRequest) => (requests.push(request), answer),
      storage: { get: (key: string) => stored.get(key) ?? null, set: (key: string, value: string) => void stored.set(key, value), remove: (key: string) => void stored.delete(key) },
      toast: () => {},
      confirm: async () => true,
      open: () => {},
      replace: () => {},
      restart: () => {},
    }
    installConsoleContext({
      platform,
      api: createConsoleApi({ request: platform.request, baseUrl: '', getToken: () => useOperatorSessionStore().validToken() }),
      clock: { now: () => now },
      timers: { schedule: () => () => {} },
    })
  })

  it('keeps the token it got for the key, never the key, and sends the token after', async () => {
    const session = useOperatorSessionStore()
    await session.signIn('the-admin-key-0123456789')
    expect(requests[0]).toMatchObject({ url: '/api/admin/session', method: 'POST', data: { key: 'the-admin-key-0123456789' } })
    expect(requests[0]!.header?.authorization).toBeUndefined()
    expect([...stored.values()]).toEqual([JSON.stringify({ token: 'tok-abc', expiresAt: '2026-12-01T20:00:00.000Z' })])
    answer = { statusCode: 204, data: '' }
    await session.signOut()
    expect(requests[1]).toMatchObject({ url: '/api/admin/session', method: 'DELETE', header: { authorization: 'Bearer tok-abc' } })
    expect(stored.size).toBe(0)
    expect(session.endedBecause).toBeNull()
  })

  it('ends itself once it expired by the clock, saying so', async () => {
    const session = useOperatorSessionStore()
    await session.signIn('the-admin-key-0123456789')
    now = Date.parse('2026-12-01T20:00:00.000Z')
    expect(session.validToken()).toBeNull()
    expect(session.endedBecause).toBe('登录已过期，请重新输入管理密钥登录')
    expect(stored.size).toBe(0)
  })
})

describe('queryString', () => {
  it('writes the values given, encoded, and nothing for none', () => {
    expect(queryString({ touser: 'o-1', reason: '-1', status: undefined, q: '' })).toBe('?touser=o-1&reason=-1')
    expect(queryString({ template: '活动 提醒' })).toBe('?template=%E6%B4%BB%E5%8A%A8%20%E6%8F%90%E9%86%92')
    expect(queryString({})).toBe('')
  })
})
