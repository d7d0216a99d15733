import { describe, expect, it } from 'vitest'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import * as contract from '@/domain/contract'
import { ANNOTATION_KEYWORDS, SHAPE_KEYWORDS, hasShape, shapeProblem } from '@/rules/shape'
import { TEMPLATES } from '../../support/templates'

const [template] = TEMPLATES
if (template === undefined) throw new Error('the catalogue has templates')

/** Every keyword a schema and its subschemas use. */
function keywordsOf(schema: unknown, into = new Set<string>()): Set<string> {
  if (typeof schema !== 'object' || schema === null) return into
  for (const [keyword, value] of Object.entries(schema)) {
    into.add(keyword)
    if (keyword === 'properties' || keyword === 'patternProperties') for (const sub of Object.values(value as object)) keywordsOf(sub, into)
    else if (keyword === 'anyOf') for (const sub of value as unknown[]) keywordsOf(sub, into)
    else if (keyword === 'items') keywordsOf(value, into)
  }
  return into
}

/** Values of each schema, valid and not: the checker must say what TypeBox (the service's check) says. */
const CASES: Array<[name: string, schema: TSchema, values: unknown[]]> = [
  ['Template', contract.Template, [
    template,
    { ...template, keywords: [] },
    { ...template, key: 'Order' },
    { ...template, title: '' },
    { ...template, kind: 'forever' },
    { ...template, keywords: [{ name: 'thing1', type: 'thing' }] },
    { ...template, keywords: [{ name: 'thing', type: 'thing', label: '名' }] },
    { ...template, keywords: [{ name: 'thing1', type: 'things', label: '名' }] },
    { ...template, keywords: [{ name: 'enum1', type: 'enum', label: '名', enumValues: ['a', 1] }] },
    { ...template, extra: true },
    [template],
    null,
  ]],
  ['TemplateList', contract.TemplateList, [TEMPLATES, [], [{}], {}]],
  ['Preferences', contract.Preferences, [
    { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 20, mutedCategories: ['marketing'] },
    { quietHours: null, dailyLimit: 0, mutedCategories: [] },
    { quietHours: { start: '24:00', end: '08:00' }, dailyLimit: 20, mutedCategories: [] },
    { quietHours: { start: '22:00' }, dailyLimit: 20, mutedCategories: [] },
    { quietHours: null, dailyLimit: 101, mutedCategories: [] },
    { quietHours: null, dailyLimit: -1, mutedCategories: [] },
    { quietHours: null, dailyLimit: 1.5, mutedCategories: [] },
    { quietHours: null, dailyLimit: '5', mutedCategories: [] },
    { quietHours: null, dailyLimit: 5, mutedCategories: ['order', 'order'] },
    { quietHours: null, dailyLimit: 5, mutedCategories: [''] },
    { quietHours: null, dailyLimit: 5, mutedCategories: ['x'.repeat(33)] },
    { quietHours: null, dailyLimit: 5, mutedCategories: ['😀'.repeat(32)] },
    { quietHours: null, dailyLimit: 5, mutedCategories: Array.from({ length: 21 }, (_, index) => `c${index}`) },
    { dailyLimit: 5, mutedCategories: [] },
  ]],
  ['MyMessageList', contract.MyMessageList, [
    [{ id: 'm1', templateId: 'T', status: 'failed', reason: 'NO_CREDIT', createdAt: '2026-11-25T04:30:00.000Z' }],
    [{ id: 'm1', templateId: 'T', status: 'failed', reason: '43101', createdAt: '2026-11-25T04:30:00.000Z' }],
    [{ id: 'm1', templateId: 'T', status: 'failed', reason: '-1', createdAt: '2026-11-25T04:30:00.000Z' }],
    [{ id: 'm1', templateId: 'T', status: 'failed', reason: 'SOMETHING', createdAt: '2026-11-25T04:30:00.000Z' }],
    [{ id: 'm1', templateId: 'T', status: 'failed', reason: '043101', createdAt: '2026-11-25T04:30:00.000Z' }],
    [{ id: 'm1', templateId: 'T', status: 'lost', createdAt: '2026-11-25T04:30:00.000Z' }],
    [{ id: 'm1', templateId: 'T', status: 'sent' }],
  ]],
  ['ConsentResponse', contract.ConsentResponse, [{ credits: { T: 1 } }, { credits: {} }, { credits: { T: -1 } }, { credits: { T: '1' } }, { credits: [] }, {}]],
  ['EventResponse', contract.EventResponse, [
    { message: { id: 'm', templateId: 'T', status: 'deferred', deliverAfter: '2026-11-26T00:00:00.000Z' } },
    { message: { id: 'm', status: 'sent' } },
    { message: null },
  ]],
  ['ServiceInfo', contract.ServiceInfo, [{ sandbox: true, miniprogramState: 'developer' }, { sandbox: 'yes', miniprogramState: 'developer' }, { sandbox: true, miniprogramState: 'beta' }]],
  ['ErrorBody', contract.ErrorBody, [{ error: { code: 'NOT_FOUND', message: '没有' } }, { error: { code: 'not-found', message: '没有' } }, { error: { code: 'X', message: 1 } }, '<html>']],
  ['SubscribeResult', contract.SubscribeResult, ['accept', 'acceptWithAudio', 'filter', 'acceptWithAlert', 1, undefined]],
  ['UserChanges', contract.UserChanges, [
    {},
    { tags: ['vip', '北京'], attributes: { nickname: '张伟', level: 3 } },
    { tag: ['vip'] },
    { attributes: { Nickname: '张伟' } },
    { attributes: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, index])) },
    { attributes: { vip: true } },
  ]],
  ['SegmentFilter', contract.SegmentFilter, [
    {},
    { tagsAll: ['vip'], activeWithinDays: 30, attributes: { level: { gte: 3, lte: 5 }, city: { in: ['北京', 1] } } },
    { colour: 'red' },
    { attributes: { level: {} } },
    { attributes: { level: { gt: 3 } } },
    { attributes: { level: { gte: '3' } } },
    { attributes: { city: { in: [] } } },
  ]],
  ['UserList', contract.UserList, [
    { items: [{ openid: 'o1', tags: ['vip'], attributes: { level: 3 }, lastActiveAt: null }], nextCursor: null },
    { items: [{ openid: 'o1', tags: [], attributes: { level: true }, lastActiveAt: null }], nextCursor: null },
    { items: [], nextCursor: 1 },
  ]],
]

describe('shapes, as the contract describes them', () => {
  it('checks every keyword the contract uses (the others only annotate)', () => {
    const used = new Set<string>()
    for (const schema of Object.values(contract)) keywordsOf(schema, used)
    const understood = new Set([...SHAPE_KEYWORDS, ...ANNOTATION_KEYWORDS])
    expect([...used].filter((keyword) => !understood.has(keyword))).toEqual([])
  })

  it.each(CASES)('%s: valid exactly when TypeBox says so', (_, schema, values) => {
    const verdicts = values.map((value) => [value, hasShape(schema, value)])
    expect(verdicts).toEqual(values.map((value) => [value, Value.Check(schema, value)]))
    // Each case list has both kinds, so the comparison means something.
    expect(new Set(verdicts.map(([, valid]) => valid))).toEqual(new Set([true, false]))
  })

  it('names the first place that is wrong, as the service names fields', () => {
    const broken = [template, { ...template, keywords: [template.keywords[0], { name: 'thing2', type: 'things', label: '名' }] }]
    expect(shapeProblem(contract.TemplateList, broken)).toEqual({ path: '1.keywords.1.type', problem: 'none of the allowed shapes' })
    expect(shapeProblem(contract.Preferences, { quietHours: null, mutedCategories: [] })).toEqual({ path: 'dailyLimit', problem: 'missing' })
    expect(shapeProblem(contract.Preferences, { quietHours: null, dailyLimit: 5, mutedCategories: ['a', 'b', 'a'] })).toEqual({ path: 'mutedCategories.2', problem: 'appears twice' })
    expect(shapeProblem(contract.ConsentResponse, { credits: { T: 1.5 } })).toEqual({ path: 'credits.T', problem: 'not integer' })
    expect(shapeProblem(contract.ServiceInfo, '<html>')).toEqual({ path: '', problem: 'not object' })
    expect(shapeProblem(contract.TemplateList, TEMPLATES)).toBeNull()
    expect(shapeProblem(contract.SegmentFilter, { tagsAll: [], colour: 'red' })).toEqual({ path: 'colour', problem: 'not allowed here' })
    expect(shapeProblem(contract.SegmentFilter, { attributes: { level: {} } })).toEqual({ path: 'attributes.level', problem: 'fewer than 1 properties' })
    expect(shapeProblem(contract.UserChanges, { attributes: { Level: 1 } })).toEqual({ path: 'attributes.Level', problem: 'not allowed here' })
  })
})
