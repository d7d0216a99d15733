/**
 * Template management through the admin API, in sandbox mode: the real WeChat client against the
 * sandbox WeChat's public library (server/wechat/sandbox/library.ts), the catalogue written to the
 * service's own file, GET /api/templates changed without a restart. And `npm run templates` on top.
 */
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Template } from '../../../src/domain/contract'
import { loadCatalogue, writeCatalogue } from '../../../server/templates/catalogue'
import { EXIT, templatesCli } from '../../../scripts/templates-cli'
import { ADMIN_KEY, TEMPLATES, adminHeaders, errorOf, signIn, startSandboxService, type SandboxService } from '../support/service'

let service: SandboxService
beforeEach(async () => {
  service = await startSandboxService()
})
afterEach(async () => service.close())

const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  service.app.inject({ method, url, headers: adminHeaders, ...(payload !== undefined && { payload }) })

const ORDER_PROGRESS = { tid: 1476, kidList: [1, 2, 3, 4], sceneDesc: '订单进度', key: 'order_progress', category: 'order' }

describe('the public library', () => {
  it('GET /api/wechat/categories: the mini-program\'s categories', async () => {
    const reply = await admin('GET', '/api/wechat/categories')
    expect(reply.json()).toEqual([
      { id: 612, name: '电商平台' },
      { id: 307, name: '快递、物流' },
      { id: 411, name: '活动、报名' },
      { id: 508, name: '预约服务' },
      { id: 1046, name: '银行' },
    ])
  })

  it('GET /api/wechat/library: titles of the given categories, paged; without ids, of all of them', async () => {
    const page = await admin('GET', '/api/wechat/library?ids=612&start=1&limit=2')
    expect(page.json()).toEqual({
      count: 4,
      titles: [
        { tid: 855, title: '订单发货提醒', kind: 'one-time', categoryId: 612 },
        { tid: 1221, title: '支付成功通知', kind: 'one-time', categoryId: 612 },
      ],
    })
    const all = (await admin('GET', '/api/wechat/library')).json<{ count: number; titles: Array<{ tid: number; kind: string }> }>()
    expect(all.count).toBe(11)
    expect(all.titles.find((title) => title.tid === 6107)).toMatchObject({ kind: 'long-term' })
  })

  it('GET /api/wechat/library?q=: the titles that contain it, of the given categories or all, paged among the matches', async () => {
    expect((await admin('GET', `/api/wechat/library?q=${encodeURIComponent('通知')}`)).json()).toEqual({
      count: 6,
      titles: [
        { tid: 1476, title: '订单状态通知', kind: 'one-time', categoryId: 612 },
        { tid: 1221, title: '支付成功通知', kind: 'one-time', categoryId: 612 },
        { tid: 1435, title: '退款成功通知', kind: 'one-time', categoryId: 612 },
        { tid: 4211, title: '物流状态更新通知', kind: 'one-time', categoryId: 307 },
        { tid: 1702, title: '报名成功通知', kind: 'one-time', categoryId: 411 },
        { tid: 2311, title: '预约成功通知', kind: 'one-time', categoryId: 508 },
      ],
    })
    expect((await admin('GET', `/api/wechat/library?ids=612&q=${encodeURIComponent('成功')}&start=1&limit=1`)).json()).toEqual({
      count: 2,
      titles: [{ tid: 1435, title: '退款成功通知', kind: 'one-time', categoryId: 612 }],
    })
    expect((await admin('GET', `/api/wechat/library?q=${encodeURIComponent('积分')}`)).json()).toEqual({ count: 0, titles: [] })
    expect(errorOf(await admin('GET', `/api/wechat/library?q=${'长'.repeat(31)}`), 400).field).toBe('querystring.q')
  })

  it('a limit above 30 is refused before WeChat is asked; categories not the mini-program\'s are WeChat\'s 200019 on querystring.ids', async () => {
    expect(errorOf(await admin('GET', '/api/wechat/library?limit=31'), 400)).toMatchObject({ code: 'VALIDATION_FAILED', field: 'querystring.limit' })
    expect(errorOf(await admin('GET', '/api/wechat/library?ids=612,999'), 400)).toEqual({
      code: 'WECHAT_REFUSED',
      field: 'querystring.ids',
      message: 'querystring.ids: 微信拒绝了请求（错误码 200019）：类目 ids 不合法：不是本小程序的类目（用 GET /api/wechat/categories 查看）',
    })
  })

  it('GET /api/wechat/library/:tid/keywords: kid, name, example, rule; an unknown tid is 200014 on params.tid', async () => {
    const keywords = (await admin('GET', '/api/wechat/library/855/keywords')).json()
    expect(keywords).toEqual([
      { kid: 1, name: '订单号', example: 'DD20261125001', rule: 'character_string' },
      { kid: 2, name: '商品名称', example: '机械键盘', rule: 'thing' },
      { kid: 3, name: '快递公司', example: '顺丰速运', rule: 'thing' },
      { kid: 4, name: '快递单号', example: 'SF1234567890', rule: 'character_string' },
      { kid: 5, name: '发货时间', example: '2026年11月25日', rule: 'date' },
    ])
    expect(errorOf(await admin('GET', '/api/wechat/library/9/keywords'), 400)).toMatchObject({ code: 'WECHAT_REFUSED', field: 'params.tid' })
  })

  it('needs the admin key', async () => {
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/api/wechat/categories' }), 401).code).toBe('UNAUTHORIZED')
    const wrong = await service.app.inject({ method: 'POST', url: '/api/templates', headers: { authorization: 'Bearer not-the-admin-key-at-all' }, payload: ORDER_PROGRESS })
    expect(errorOf(wrong, 403).code).toBe('FORBIDDEN')
  })
})

describe('POST /api/templates', () => {
  it('adds it in WeChat and to the catalogue with keywords from WeChat\'s content; GET /api/templates has it at once, and it sends', async () => {
    const reply = await admin('POST', '/api/templates', { ...ORDER_PROGRESS, kidList: [4, 1, 3] })
    expect(reply.statusCode, reply.body).toBe(201)
    const added = reply.json<Template>()
    expect(added).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string,
      key: 'order_progress',
      title: '订单状态通知',
      kind: 'one-time',
      category: 'order',
      // In the order of kidList, named as WeChat's content names them.
      keywords: [
        { name: 'time4', type: 'time', label: '更新时间' },
        { name: 'character_string1', type: 'character_string', label: '订单号' },
        { name: 'thing3', type: 'thing', label: '商品名称' },
      ],
    })
    expect(loadCatalogue(service.templatesFile)).toEqual([...TEMPLATES, added])
    expect(readFileSync(service.templatesFile, 'utf8')).toContain('"key": "order_progress"')

    const person = await signIn(service.app, (user) => service.sandbox.issueCode(user), 'alice')
    const listed = await service.app.inject({ method: 'GET', url: '/api/templates', headers: { authorization: person.authorization } })
    expect(listed.json<Template[]>().map((template) => template.key)).toContain('order_progress')

    service.sandbox.grant(person.openid, { [added.id]: 'accept' })
    await service.settled()
    const send = await admin('POST', '/api/messages?wait=true', {
      touser: person.openid,
      templateId: 'order_progress',
      data: { time4: '2026年11月25日 13:00', character_string1: 'DD20261125001', thing3: '机械键盘' },
    })
    expect(send.json()).toMatchObject({ status: 'sent' })
  })

  it.each([
    ['one keyword', { ...ORDER_PROGRESS, kidList: [1] }, 'kidList'],
    ['six keywords', { ...ORDER_PROGRESS, kidList: [1, 2, 3, 4, 5, 6] }, 'kidList'],
    ['a keyword twice', { ...ORDER_PROGRESS, kidList: [1, 1] }, 'kidList'],
    ['a scene of 16 characters', { ...ORDER_PROGRESS, sceneDesc: '一二三四五六七八九十一二三四五六' }, 'sceneDesc'],
    ['a key the code could not use', { ...ORDER_PROGRESS, key: 'Order Progress' }, 'key'],
    ['no category', { tid: 1476, kidList: [1, 2], key: 'order_progress' }, 'category'],
  ])('%s is 400 VALIDATION_FAILED on the field, and WeChat is not asked', async (_case, body, field) => {
    expect(errorOf(await admin('POST', '/api/templates', body), 400)).toMatchObject({ code: 'VALIDATION_FAILED', field })
    expect(loadCatalogue(service.templatesFile)).toEqual([...TEMPLATES])
  })

  it('what WeChat refuses names the field: a keyword the title does not have (200020), an unknown tid (200014)', async () => {
    expect(errorOf(await admin('POST', '/api/templates', { ...ORDER_PROGRESS, kidList: [1, 9] }), 400)).toEqual({
      code: 'WECHAT_REFUSED',
      field: 'kidList',
      message: 'kidList: 微信拒绝了请求（错误码 200020）：关键词列表 kidList 不正确：应为 2 到 5 个这个模板的关键词 id，不能重复',
    })
    expect(errorOf(await admin('POST', '/api/templates', { ...ORDER_PROGRESS, tid: 9 }), 400)).toMatchObject({ code: 'WECHAT_REFUSED', field: 'tid' })
    expect(loadCatalogue(service.templatesFile)).toEqual([...TEMPLATES])
  })

  it('a key the catalogue has is 409 ALREADY_EXISTS on key, before WeChat is asked', async () => {
    expect(errorOf(await admin('POST', '/api/templates', { ...ORDER_PROGRESS, key: 'order_status' }), 409)).toEqual({
      code: 'ALREADY_EXISTS',
      field: 'key',
      message: 'key: 模板目录里已有 key 为 order_status 的模板',
    })
  })

  it('WeChat\'s limit of 25 templates is 409 WECHAT_REFUSED (200012)', async () => {
    for (let n = TEMPLATES.length; n < 25; n += 1) {
      expect((await admin('POST', '/api/templates', { ...ORDER_PROGRESS, key: `order_progress_${n}` })).statusCode).toBe(201)
    }
    expect(errorOf(await admin('POST', '/api/templates', { ...ORDER_PROGRESS, key: 'one_too_many' }), 409)).toMatchObject({ code: 'WECHAT_REFUSED' })
    expect(loadCatalogue(service.templatesFile)).toHaveLength(25)
  })
})

describe('DELETE /api/templates/:id and POST /api/templates/sync', () => {
  it('deletes by key or id, in WeChat and from the catalogue; an unknown one is 404', async () => {
    const added = (await admin('POST', '/api/templates', ORDER_PROGRESS)).json<Template>()
    const removed = await admin('DELETE', '/api/templates/order_progress')
    expect(removed.json()).toEqual(added)
    expect(loadCatalogue(service.templatesFile)).toEqual([...TEMPLATES])
    // WeChat no longer lists it: a sync keeps it out.
    expect((await admin('POST', '/api/templates/sync')).json()).toMatchObject({ added: [], changed: [], removed: [] })
    expect(errorOf(await admin('DELETE', `/api/templates/${added.id}`), 404).code).toBe('NOT_FOUND')
  })

  it('sync starts from the file as edited by hand; one only WeChat has gets a generated key and the category other', async () => {
    const added = await admin('POST', '/api/templates', ORDER_PROGRESS)
    const id = added.json<Template>().id
    // By hand: the entry is dropped from the file (WeChat still has it) and shipping gets another category.
    const edited = loadCatalogue(service.templatesFile)
      .filter((template) => template.id !== id)
      .map((template) => (template.key === 'shipping' ? { ...template, category: 'logistics' } : template))
    writeCatalogue(service.templatesFile, edited)
    const report = (await admin('POST', '/api/templates/sync')).json<{ added: string[]; templates: Template[] }>()
    expect(report.added).toEqual([id])
    expect(report.templates.find((template) => template.id === id)).toMatchObject({ key: expect.stringMatching(/^template_/) as string, category: 'other' })
    const person = await signIn(service.app, (user) => service.sandbox.issueCode(user), 'alice')
    const listed = (await service.app.inject({ method: 'GET', url: '/api/templates', headers: { authorization: person.authorization } })).json<Template[]>()
    expect(listed.find((template) => template.key === 'shipping')?.category).toBe('logistics')
  })
})

/** `fetch` as the CLI calls it, answered by the service through app.inject. */
function fetchThrough(app: FastifyInstance): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input))
    const reply = await app.inject({
      method: (init?.method ?? 'GET') as 'GET',
      url: `${url.pathname}${url.search}`,
      headers: init?.headers as Record<string, string>,
      ...(typeof init?.body === 'string' && { payload: init.body }),
    })
    return new Response(reply.body, { status: reply.statusCode })
  }
}

describe('npm run templates', () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = []
    const err: string[] = []
    const code = await templatesCli(argv, { env: { ADMIN_API_KEY: ADMIN_KEY }, fetch: fetchThrough(service.app), out: (line) => out.push(line), err: (line) => err.push(line) })
    return { code, out, err }
  }

  it('categories, search and keywords print the library', async () => {
    expect((await cli('categories')).out).toEqual(['612  电商平台', '307  快递、物流', '411  活动、报名', '508  预约服务', '1046  银行'])
    expect((await cli('search', '通知')).out).toEqual([
      '1476  「订单状态通知」 一次性  电商平台',
      '1221  「支付成功通知」 一次性  电商平台',
      '1435  「退款成功通知」 一次性  电商平台',
      '4211  「物流状态更新通知」 一次性  快递、物流',
      '1702  「报名成功通知」 一次性  活动、报名',
      '2311  「预约成功通知」 一次性  预约服务',
    ])
    expect((await cli('search', '天气')).out).toEqual(['公共模板库里没有标题含「天气」的模板'])
    expect((await cli('keywords', '2312')).out).toEqual([
      '1  预约项目（thing）  例：到店取件',
      '2  预约时间（time）  例：2026年11月28日 14:00',
      '3  温馨提示（thing）  例：预约将在 1 小时后开始',
    ])
  })

  it('add, remove and sync change the catalogue', async () => {
    const added = await cli('add', '2311', '1,2,4', '--key', 'booking', '--category', 'service', '--scene', '预约提醒')
    expect(added.code).toBe(EXIT.ok)
    expect(added.out.slice(1, 5)).toEqual([
      expect.stringMatching(/^\S{43}  key booking  「预约成功通知」 一次性  分类 service$/) as string,
      '  thing1  预约项目（thing）',
      '  time2  预约时间（time）',
      '  name4  预约人（name）',
    ])
    expect(loadCatalogue(service.templatesFile).map((template) => template.key)).toContain('booking')
    expect((await cli('remove', 'booking')).out[0]).toMatch(/^已从微信和模板目录删除 \S{43}（booking「预约成功通知」）$/)
    expect((await cli('sync')).out).toEqual(['模板目录已按微信的模板列表更新：5 个模板'])
  })

  it('says what went wrong, with an exit code for each kind of failure', async () => {
    expect(await cli('add', '2311', '1,9', '--key', 'booking', '--category', 'service')).toEqual({
      code: EXIT.refused,
      out: [],
      err: ['失败（HTTP 400）：kidList: 微信拒绝了请求（错误码 200020）：关键词列表 kidList 不正确：应为 2 到 5 个这个模板的关键词 id，不能重复'],
    })
    const usage = await cli('add', '2311')
    expect(usage.code).toBe(EXIT.usage)
    expect(usage.err[0]).toMatch(/^add 需要关键词 id/)
    expect((await cli('launch')).err[0]).toMatch(/^没有这个命令：launch/)
    const noKey = await templatesCli(['categories'], { env: { DATABASE: '/nowhere/us.db' }, fetch: fetchThrough(service.app), out: () => {}, err: () => {}, readFile: () => { throw new Error('ENOENT') } })
    expect(noKey).toBe(EXIT.config)
    const down = await templatesCli(['categories'], { env: { ADMIN_API_KEY: ADMIN_KEY }, fetch: async () => { throw new TypeError('fetch failed') }, out: () => {}, err: () => {} })
    expect(down).toBe(EXIT.unavailable)
  })
})
