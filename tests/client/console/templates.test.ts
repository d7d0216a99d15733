/**
 * The 模板 page's logic: keywords picked in order (at most 5), the add request checked by the
 * contract's own rule with the field at fault named in Chinese, the library store's requests, and
 * how a message's delivery reads.
 */
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createConsoleApi } from '@/console/api'
import { installConsoleContext } from '@/console/context'
import { deliveryText, keywordRuleHint } from '@/console/format'
import { useCatalogueStore } from '@/console/stores/catalogue'
import { useLibraryStore } from '@/console/stores/library'
import { addTemplateRequest, emptyAddTemplateForm, togglePick } from '@/console/template-form'
import type { PlatformRequest, PlatformResponse } from '@/platform/types'
import { TEMPLATES } from '../../support/templates'

describe('picking keywords', () => {
  it('keeps the order they were picked in, takes one out when picked again, and stops at 5', () => {
    let picked = togglePick([], 4)
    picked = togglePick(picked, 1)
    picked = togglePick(picked, 3)
    expect(picked).toEqual([4, 1, 3])
    expect(togglePick(picked, 1)).toEqual([4, 3])
    const five = [1, 2, 3, 4, 5]
    expect(togglePick(five, 6)).toEqual([1, 2, 3, 4, 5])
    expect(togglePick(five, 2)).toEqual([1, 3, 4, 5])
  })
})

describe('the add request', () => {
  const form = { ...emptyAddTemplateForm(), tid: 1435, picked: [1, 2, 4], key: ' refund_done ', category: 'payment', sceneDesc: '' }

  it('is what POST /api/templates takes: trimmed, the keywords in picking order, no empty scene', () => {
    expect(addTemplateRequest(form, TEMPLATES)).toEqual({ ok: true, request: { tid: 1435, kidList: [1, 2, 4], key: 'refund_done', category: 'payment' } })
    expect(addTemplateRequest({ ...form, sceneDesc: '退款到账' }, TEMPLATES)).toMatchObject({ ok: true, request: { sceneDesc: '退款到账' } })
  })

  it('names the field at fault, by the contract\'s rule', () => {
    expect(addTemplateRequest({ ...form, tid: null }, TEMPLATES)).toEqual({ ok: false, field: 'tid', problem: '先在公共模板库里选一个模板' })
    expect(addTemplateRequest({ ...form, picked: [1] }, TEMPLATES)).toEqual({ ok: false, field: 'kidList', problem: '选 2 到 5 个关键词' })
    expect(addTemplateRequest({ ...form, key: 'Refund-Done' }, TEMPLATES)).toMatchObject({ ok: false, field: 'key' })
    expect(addTemplateRequest({ ...form, key: '1refund' }, TEMPLATES)).toMatchObject({ ok: false, field: 'key' })
    expect(addTemplateRequest({ ...form, category: '  ' }, TEMPLATES)).toMatchObject({ ok: false, field: 'category' })
    expect(addTemplateRequest({ ...form, sceneDesc: '一二三四五六七八九十一二三四五六' }, TEMPLATES)).toEqual({ ok: false, field: 'sceneDesc', problem: '使用场景最多 15 个字' })
  })

  it('refuses a key the catalogue has already', () => {
    expect(addTemplateRequest({ ...form, key: 'order_status' }, TEMPLATES)).toEqual({ ok: false, field: 'key', problem: '目录里已有 key 为 order_status 的模板' })
  })
})

describe('the library and catalogue stores', () => {
  let requests: PlatformRequest[]
  let answers: PlatformResponse[]

  beforeEach(() => {
    setActivePinia(createPinia())
    requests = []
    answers = []
    const platform = {
      request: async (request: PlatformRequest) => {
        requests.push(request)
        return answers.shift() ?? { statusCode: 500, data: '' }
      },
      storage: { get: () => JSON.stringify({ token: 'tok-1', expiresAt: '2099-01-01T00:00:00.000Z' }), set: () => {}, remove: () => {} },
      toast: () => {},
      confirm: async () => true,
      open: () => {},
      replace: () => {},
      restart: () => {},
    }
    installConsoleContext({
      platform,
      api: createConsoleApi({ request: platform.request, baseUrl: '', getToken: () => 'tok-1' }),
      clock: { now: () => Date.parse('2026-12-01T08:00:00.000Z') },
      timers: { schedule: () => () => {} },
    })
  })

  it('browses a category by title words, a page at a time, with the operator\'s token', async () => {
    const library = useLibraryStore()
    library.categoryId = 612
    library.words = ' 退款 '
    answers.push({ statusCode: 200, data: { count: 31, titles: [{ tid: 1435, title: '退款成功通知', kind: 'one-time', categoryId: 612 }] } })
    await library.browse(30)
    expect(requests[0]).toMatchObject({ method: 'GET', url: `/api/wechat/library?ids=612&q=${encodeURIComponent('退款')}&start=30&limit=30`, header: { authorization: 'Bearer tok-1' } })
    expect(library.start).toBe(30)
    expect(library.page?.count).toBe(31)

    library.categoryId = null
    library.words = ''
    answers.push({ statusCode: 200, data: { count: 0, titles: [] } })
    await library.browse()
    expect(requests[1]!.url).toBe('/api/wechat/library?start=0&limit=30')
  })

  it('a wrong-shaped answer is an error, and the page shown stays as it was', async () => {
    const library = useLibraryStore()
    answers.push({ statusCode: 200, data: { count: 1, titles: [{ tid: '1435', title: '退款成功通知' }] } })
    await expect(library.browse()).rejects.toMatchObject({ code: 'BAD_RESPONSE' })
    expect(library.page).toBeNull()
  })

  it('adds and removes templates of the catalogue as the service answers', async () => {
    const catalogue = useCatalogueStore()
    answers.push({ statusCode: 200, data: [...TEMPLATES] })
    await catalogue.loadTemplates()
    const added = { ...TEMPLATES[0]!, id: 'new-template-id', key: 'refund_done', title: '退款成功通知' }
    answers.push({ statusCode: 201, data: added })
    await catalogue.addTemplate({ tid: 1435, kidList: [1, 2], key: 'refund_done', category: 'order' })
    expect(requests[1]).toMatchObject({ method: 'POST', url: '/api/templates', data: { tid: 1435, kidList: [1, 2], key: 'refund_done', category: 'order' } })
    expect(catalogue.templates.map((template) => template.key)).toEqual([...TEMPLATES.map((template) => template.key), 'refund_done'])
    answers.push({ statusCode: 200, data: added })
    await catalogue.removeTemplate('new-template-id')
    expect(requests[2]).toMatchObject({ method: 'DELETE', url: '/api/templates/new-template-id' })
    expect(catalogue.templates.map((template) => template.key)).toEqual(TEMPLATES.map((template) => template.key))
  })
})

describe('how the console writes a delivery and a keyword rule', () => {
  it('delivered, undelivered with what WeChat\'s ErrorStatus means, or nothing when no report came', () => {
    expect(deliveryText({ status: 'delivered', errorCode: 0, errorStatus: 'success', at: '2026-12-01T08:00:03.000Z' })).toBe('已送达')
    expect(deliveryText({ status: 'failed', errorCode: 10005, errorStatus: 'fail:user refuse', at: '2026-12-01T08:00:03.000Z' })).toBe(
      '未送达（ErrorCode 10005）：用户拒收：在服务通知里关掉了这个小程序的消息',
    )
    expect(deliveryText({ status: 'failed', errorCode: 20001, errorStatus: 'fail:something new', at: '2026-12-01T08:00:03.000Z' })).toBe('未送达（ErrorCode 20001）：fail:something new')
    expect(deliveryText(undefined)).toBeNull()
  })

  it('a library keyword\'s rule as the hint of its type; an unknown one as WeChat wrote it', () => {
    expect(keywordRuleHint('phrase')).toBe('汉字：5 个以内')
    expect(keywordRuleHint('thing_new')).toBe('thing_new')
  })
})
