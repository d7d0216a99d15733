import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import type { Template } from '../../../src/domain/contract'
import { CatalogueError, formatCatalogue, loadCatalogue, mergeCatalogue, parseCatalogue } from '../../../server/templates/catalogue'
import { createTemplateDirectory } from '../../../server/messages/templates'
import { createTemplateAdmin } from '../../../server/templates/admin'
import { createWeChatClient } from '../../../server/wechat/client'
import { createMemoryTokenStore } from '../../../server/wechat/memory-token-store'
import { createSandboxWeChat, type SandboxWeChat } from '../../../server/wechat/sandbox'
import { APP_ID, manualClock, PAGES, SECRET } from './support'

const SHIPPED = fileURLToPath(new URL('../../../config/templates.json', import.meta.url))
const shipped = (): Template[] => loadCatalogue(SHIPPED)
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

/** The message a catalogue with `templates` (as raw JSON) is refused with. */
function refusal(templates: unknown): string {
  try {
    parseCatalogue({ templates }, 'config/templates.json')
  } catch (error) {
    if (error instanceof CatalogueError) return error.message
    throw error
  }
  throw new Error('the catalogue was accepted')
}

describe('the shipped catalogue', () => {
  it('has the demo templates the client uses, one-time, plus one long-term', () => {
    const templates = shipped()
    expect(templates.map((t) => [t.key, t.title, t.kind, t.category])).toEqual([
      ['order_status', '订单状态通知', 'one-time', 'order'],
      ['shipping', '发货通知', 'one-time', 'order'],
      ['payment', '支付成功通知', 'one-time', 'payment'],
      ['activity_reminder', '活动提醒', 'one-time', 'marketing'],
      ['account_security', '账户安全提醒', 'long-term', 'security'],
    ])
    for (const template of templates) expect(template.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(templates[0]!.keywords.map((k) => `${k.name}:${k.label}`)).toEqual([
      'character_string1:订单号',
      'phrase2:订单状态',
      'thing3:商品名称',
      'time4:更新时间',
      'thing5:备注',
    ])
    expect(templates.find((t) => t.key === 'payment')!.keywords.some((k) => k.type === 'amount')).toBe(true)
  })

  it('is in the writer’s own format, so a sync without changes leaves it byte for byte', () => {
    const text = readFileSync(SHIPPED, 'utf8')
    expect(formatCatalogue(shipped(), (JSON.parse(text) as { $comment: string }).$comment)).toBe(text)
  })
})

describe('catalogue validation', () => {
  it('names the file, the entry and the field of a schema problem', () => {
    const templates = clone(shipped())
    ;(templates[1]!.keywords[2] as { type: string }).type = 'text'
    expect(refusal(templates)).toBe(
      '模板目录 config/templates.json：第 2 个模板（shipping） 的 keywords[2].type 应为 thing、number、letter、symbol、character_string、time、date、amount、phone_number、car_number、name、phrase、enum 之一（现在是 "text"）',
    )
  })

  it('names a missing field and a bad key', () => {
    const templates = clone(shipped()) as Partial<Template>[]
    delete templates[2]!.category
    expect(refusal(templates)).toBe('模板目录 config/templates.json：第 3 个模板（payment） 缺少字段 category')
    const badKey = clone(shipped())
    badKey[0]!.key = 'Order-Status'
    expect(refusal(badKey)).toBe(
      '模板目录 config/templates.json：第 1 个模板（Order-Status） 的 key 格式不对，应匹配 ^[a-z][a-z0-9_]*$（现在是 "Order-Status"）',
    )
  })

  it('refuses a file without a templates list', () => {
    expect(() => parseCatalogue([], 'a.json')).toThrow('模板目录 a.json：文件内容应为 object')
    expect(() => parseCatalogue({}, 'a.json')).toThrow('模板目录 a.json：文件内容缺少字段 templates')
  })

  it('refuses duplicate ids and keys', () => {
    const sameId = clone(shipped())
    sameId[3]!.id = sameId[0]!.id
    expect(refusal(sameId)).toBe(`模板目录 config/templates.json：第 4 个模板（activity_reminder） 的 id ${sameId[0]!.id} 与第 1 个模板重复`)
    const sameKey = clone(shipped())
    sameKey[2]!.key = 'shipping'
    expect(refusal(sameKey)).toBe('模板目录 config/templates.json：第 3 个模板（shipping） 的 key shipping 与第 2 个模板重复')
  })

  it('needs enumValues on enum keywords, only there, and names that match their types', () => {
    const noValues = clone(shipped())
    delete noValues[4]!.keywords[2]!.enumValues
    expect(refusal(noValues)).toBe('模板目录 config/templates.json：第 5 个模板（account_security） 的 keywords[2].enumValues 缺失：enum 类型的关键词必须列出可选值')
    const misplaced = clone(shipped())
    misplaced[0]!.keywords[1]!.enumValues = ['已发货']
    expect(refusal(misplaced)).toBe('模板目录 config/templates.json：第 1 个模板（order_status） 的 keywords[1].enumValues 只能用于 enum 类型的关键词（这里是 phrase）')
    const mismatch = clone(shipped())
    mismatch[0]!.keywords[2]!.type = 'phrase'
    expect(refusal(mismatch)).toBe('模板目录 config/templates.json：第 1 个模板（order_status） 的 keywords[2].name thing3 与类型 phrase 不符（应为 phrase 加编号，如 phrase1）')
  })

  it('names the file when it is missing or not JSON', () => {
    expect(() => loadCatalogue('/nonexistent/templates.json')).toThrow('模板目录 /nonexistent/templates.json 读取失败：文件不存在（用环境变量 TEMPLATES 指定路径）')
    const dir = mkdtempSync(join(tmpdir(), 'catalogue-'))
    try {
      writeFileSync(join(dir, 'broken.json'), '{ "templates": [ ')
      expect(() => loadCatalogue(join(dir, 'broken.json'))).toThrow(`模板目录 ${join(dir, 'broken.json')} 不是有效的 JSON：`)
    } finally {
      rmSync(dir, { recursive: true })
    }
  })
})

describe('mergeCatalogue', () => {
  it('keeps keys and categories of known ids, takes WeChat’s title, kind and keywords, adds and drops', () => {
    const [orderStatus, shipping] = shipped() as [Template, Template]
    const merge = mergeCatalogue([orderStatus, shipping], [
      {
        priTmplId: orderStatus.id,
        title: '订单状态更新提醒',
        content: '订单号:{{character_string1.DATA}}\n订单状态:{{phrase2.DATA}}\n',
        example: '订单号：DD001\n订单状态：已发货\n',
        type: 2,
      },
      {
        priTmplId: 'Bq7mR2xLw9cNvT4kPz8sYd1fHj6gUa3eXo5iKr0Wn2E',
        title: '预约结果通知',
        content: '预约项目:{{thing1.DATA}}\n预约结果:{{enum2.DATA}}\n',
        example: '',
        type: 3,
        keywordEnumValueList: [{ keywordCode: 'enum2.DATA', enumValueList: ['成功', '失败'] }],
      },
    ])
    expect(merge.templates).toEqual([
      {
        id: orderStatus.id,
        key: 'order_status',
        title: '订单状态更新提醒',
        kind: 'one-time',
        category: 'order',
        keywords: [
          { name: 'character_string1', type: 'character_string', label: '订单号' },
          { name: 'phrase2', type: 'phrase', label: '订单状态' },
        ],
      },
      {
        id: 'Bq7mR2xLw9cNvT4kPz8sYd1fHj6gUa3eXo5iKr0Wn2E',
        key: 'template_bq7mr2xl',
        title: '预约结果通知',
        kind: 'long-term',
        category: 'other',
        keywords: [
          { name: 'thing1', type: 'thing', label: '预约项目' },
          { name: 'enum2', type: 'enum', label: '预约结果', enumValues: ['成功', '失败'] },
        ],
      },
    ])
    expect(merge).toMatchObject({ added: ['Bq7mR2xLw9cNvT4kPz8sYd1fHj6gUa3eXo5iKr0Wn2E'], changed: [orderStatus.id], removed: [shipping.id] })
  })
})

describe('sync (template management) through the WeChat client', () => {
  let sandbox: SandboxWeChat
  let pool: Pool
  let dir: string
  beforeEach(async () => {
    const clock = manualClock()
    const remote = clone(shipped())
    remote[0]!.title = '订单状态变更通知'
    sandbox = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: remote.slice(0, 4), pages: PAGES, clock })
    await sandbox.listen()
    pool = new Pool(sandbox.url)
    dir = mkdtempSync(join(tmpdir(), 'catalogue-'))
  })
  afterEach(async () => {
    await pool.close()
    await sandbox.close()
    rmSync(dir, { recursive: true })
  })

  it('writes the catalogue from gettemplate, keeps its $comment, replaces the directory and reports what changed', async () => {
    const path = join(dir, 'templates.json')
    writeFileSync(path, readFileSync(SHIPPED))
    const clock = manualClock()
    const wechat = createWeChatClient({ baseUrl: sandbox.url, appId: APP_ID, secret: SECRET, dispatcher: pool, tokenStore: createMemoryTokenStore(clock), clock })
    const templates = createTemplateDirectory(shipped())
    const report = await createTemplateAdmin({ wechat, templates, file: path }).sync()
    const account = shipped()[4]!
    expect(report).toMatchObject({ added: [], changed: [shipped()[0]!.id], removed: [account.id] })
    const written = loadCatalogue(path)
    expect(written.map((t) => t.key)).toEqual(['order_status', 'shipping', 'payment', 'activity_reminder'])
    expect(written[0]!.title).toBe('订单状态变更通知')
    expect(written.slice(1)).toEqual(shipped().slice(1, 4))
    expect(templates.list()).toEqual(written)
    expect(templates.byId(account.id)).toBeUndefined()
    expect((JSON.parse(readFileSync(path, 'utf8')) as { $comment?: string }).$comment).toContain('npm run templates')
  })
})
