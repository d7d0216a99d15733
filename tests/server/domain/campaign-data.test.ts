import { describe, expect, it } from 'vitest'
import { campaignDataProblems, fillKeyword } from '../../../src/domain/campaign-data'
import { templateByKey } from '../../support/templates'

const ACTIVITY = templateByKey('activity_reminder')
const THING1 = ACTIVITY.keywords.find((keyword) => keyword.name === 'thing1')!
const GOOD = { thing1: '{{nickname}}的双11专场', date2: '2026年11月11日', thing3: '{{city|全国}}门店', thing4: '先到先得' }

describe('campaignDataProblems: the data as the service judges it when the campaign is made', () => {
  it('has none for placeholders that parse and fixed values the rules take', () => {
    expect(campaignDataProblems(ACTIVITY, GOOD)).toEqual([])
  })

  it('lists every problem in keyword order: an unknown keyword, a missing one, a broken placeholder, a rule', () => {
    expect(campaignDataProblems(ACTIVITY, { thing9: 'x', thing1: '{{nickname', date2: '明天', thing3: '门店' })).toEqual([
      { field: 'data.thing9', message: 'data.thing9: 模板「活动提醒」没有这个关键词（有：thing1、date2、thing3、thing4）' },
      { field: 'data.thing1', message: 'data.thing1: 有未闭合的 {{（占位符写作 {{名字}} 或 {{名字|默认值}}）' },
      { field: 'data.date2', message: 'data.date2: 应为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01，时间段用 ~ 连接' },
      { field: 'data.thing4', message: 'data.thing4: 缺少关键词「温馨提示」' },
    ])
  })

  it('takes a thing that is too long when it is to be shortened', () => {
    const long = { ...GOOD, thing4: '这一句温馨提示写得实在是太长了超过了二十个字' }
    expect(campaignDataProblems(ACTIVITY, long)).toEqual([{ field: 'data.thing4', message: 'data.thing4: 最多 20 个字符' }])
    expect(campaignDataProblems(ACTIVITY, long, { truncate: true })).toEqual([])
  })
})

describe('fillKeyword: one recipient’s value', () => {
  it('fills placeholders from the attributes, falls back, and checks the rule', () => {
    expect(fillKeyword(THING1, GOOD.thing1, { openid: 'o1', attributes: { nickname: '张伟' } })).toEqual({ ok: true, value: '张伟的双11专场' })
    expect(fillKeyword(THING1, GOOD.thing1, { openid: 'o1', attributes: {} })).toEqual({ ok: false, problem: '这个用户没有属性 nickname，也没有默认值' })
    expect(fillKeyword(THING1, '{{nickname}}的双11专场全场五折起快来抢购吧朋友们', { openid: 'o1', attributes: { nickname: '欧阳娜娜' } })).toEqual({ ok: false, problem: '最多 20 个字符' })
  })
})
