import { describe, expect, it } from 'vitest'
import { parseTemplateContent } from '../../../src/domain/template-content'

describe('parseTemplateContent', () => {
  it('reads name, type and label of each keyword, in order', () => {
    expect(parseTemplateContent('会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n')).toEqual([
      { name: 'date2', type: 'date', label: '会议时间' },
      { name: 'thing1', type: 'thing', label: '会议地点' },
    ])
  })

  it('takes full-width colons, spaces and types with underscores', () => {
    expect(parseTemplateContent('订单号： {{character_string1.DATA}}\r\n联系电话：{{phone_number12.DATA}}')).toEqual([
      { name: 'character_string1', type: 'character_string', label: '订单号' },
      { name: 'phone_number12', type: 'phone_number', label: '联系电话' },
    ])
  })

  it('skips lines without a placeholder and falls back to the name when there is no label', () => {
    expect(parseTemplateContent('\n说明文字\n{{amount3.DATA}}\n')).toEqual([{ name: 'amount3', type: 'amount', label: 'amount3' }])
  })

  it('names an unknown keyword type', () => {
    expect(() => parseTemplateContent('颜色:{{color4.DATA}}')).toThrow(
      '模板内容中的关键词 color4 类型 color 未知（已知：thing、number、letter、symbol、character_string、time、date、amount、phone_number、car_number、name、phrase、enum）',
    )
  })

  it('names a line it cannot read', () => {
    expect(() => parseTemplateContent('时间:{{date2.DATA}} 之前')).toThrow('无法解析模板内容这一行：「时间:{{date2.DATA}} 之前」（应为 标签:{{类型编号.DATA}}）')
  })
})
