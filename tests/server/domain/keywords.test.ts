import { describe, expect, it } from 'vitest'
import type { Keyword, KeywordType } from '../../../src/domain/contract'
import { checkKeywordValue, truncateThing, validateMessageData } from '../../../src/domain/keywords'
import { EXTRA_TEMPLATES } from '../../support/templates'

const keyword = (type: KeywordType, extra: Partial<Keyword> = {}): Keyword => ({ name: `${type}1`, type, label: type, ...extra })

/** [value, expected rule or null], per type. */
const TABLE: Record<KeywordType, [string, string | null][]> = {
  thing: [
    ['iPhone 15 256G 黑色', null],
    ['请于 3 日内取件！', null],
    ['一二三四五六七八九十一二三四五六七八九十', null],
    ['一二三四五六七八九十一二三四五六七八九十一', '最多 20 个字符'],
    ['𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇𠀈𠀉𠀊𠀋𠀌𠀍𠀎𠀏𠀐𠀑𠀒𠀓', null],
    ['第一行\n第二行', '不能包含换行或控制字符'],
    ['好评🎉', '不能包含表情符号'],
    ['', '不能为空'],
    ['   ', '不能为空'],
  ],
  number: [
    ['42', null],
    ['3.14', null],
    ['1'.repeat(32), null],
    ['1'.repeat(33), '最多 32 位数字'],
    ['12a', '只能是数字，可带小数点'],
    ['1.2.3', '只能是数字，可带小数点'],
    ['-5', '只能是数字，可带小数点'],
  ],
  letter: [
    ['abcXYZ', null],
    ['a'.repeat(33), '最多 32 个字母'],
    ['abc1', '只能是英文字母'],
    ['中文', '只能是英文字母'],
  ],
  symbol: [
    ['#', null],
    ['+-*/%', null],
    ['!!!!!!', '最多 5 个符号'],
    ['a#', '只能是符号'],
  ],
  character_string: [
    ['DD20240101-0001', null],
    ['A1_b2#c3', null],
    ['x'.repeat(32), null],
    ['x'.repeat(33), '最多 32 个字符'],
    ['订单123', '只能是数字、字母或符号，不能有汉字或空格'],
    ['AB 12', '只能是数字、字母或符号，不能有汉字或空格'],
  ],
  time: [
    ['15:01', null],
    ['9:05', null],
    ['23:59:59', null],
    ['2019年10月1日 15:01', null],
    ['2019-10-01 15:01', null],
    ['15:01~17:30', null],
    ['2019年10月1日 15:01~2019年10月1日 17:00', null],
    ['2019年10月1日 15:01~17:00', null],
    ['24:00', '应为 24 小时制时间，可带日期，如 15:01 或 2019年10月1日 15:01，时间段用 ~ 连接'],
    ['3pm', '应为 24 小时制时间，可带日期，如 15:01 或 2019年10月1日 15:01，时间段用 ~ 连接'],
    ['2019年10月1日', '应为 24 小时制时间，可带日期，如 15:01 或 2019年10月1日 15:01，时间段用 ~ 连接'],
    ['2019-02-30 10:00', '应为 24 小时制时间，可带日期，如 15:01 或 2019年10月1日 15:01，时间段用 ~ 连接'],
  ],
  date: [
    ['2019年10月1日', null],
    ['2019-10-01', null],
    ['2024/2/29', null],
    ['2019年10月1日 15:01', null],
    ['2019年10月1日~2019年10月7日', null],
    ['2023-02-29', '应为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01，时间段用 ~ 连接'],
    ['15:01', '应为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01，时间段用 ~ 连接'],
    ['明天', '应为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01，时间段用 ~ 连接'],
    ['2019-13-01', '应为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01，时间段用 ~ 连接'],
  ],
  amount: [
    ['¥100', null],
    ['￥12.50', null],
    ['$9.99', null],
    ['¥1000元', null],
    ['12.50元', null],
    ['¥1234567890', null],
    ['¥12345678901', '金额最多 10 位数字'],
    ['100', '应为金额：一个币种符号加数字，可带小数，结尾可带“元”，如 ¥12.50'],
    ['¥¥100', '应为金额：一个币种符号加数字，可带小数，结尾可带“元”，如 ¥12.50'],
    ['¥1,000', '应为金额：一个币种符号加数字，可带小数，结尾可带“元”，如 ¥12.50'],
  ],
  phone_number: [
    ['13800138000', null],
    ['+86-10-12345678', null],
    ['1'.repeat(17), null],
    ['1'.repeat(18), '最多 17 位'],
    ['138abc', '只能是数字和符号，如 +86-10-12345678'],
  ],
  car_number: [
    ['粤A12345', null],
    ['粤B1234学', null],
    ['AB12345', null],
    ['粤A123456', null],
    ['粤A1234567', '最多 8 个字符'],
    ['粤A中345', '应为车牌号：首尾可为汉字，其余为字母或数字，如 粤A12345'],
    ['粤A-1234', '应为车牌号：首尾可为汉字，其余为字母或数字，如 粤A12345'],
  ],
  name: [
    ['张三', null],
    ['欧阳娜娜', null],
    ['John Smith', null],
    ['一二三四五六七八九十', null],
    ['一二三四五六七八九十一', '最多 10 个汉字（纯字母时最多 20 个）'],
    ['张三Smith123', '只能是汉字、字母或符号'],
    ['张三Smithxyzw', '最多 10 个汉字（纯字母时最多 20 个）'],
    ['a'.repeat(20), null],
    ['a'.repeat(21), '最多 20 个字母或符号'],
  ],
  phrase: [
    ['已发货', null],
    ['等待买家付款', '最多 5 个汉字'],
    ['OK', '只能是汉字'],
    ['已 发货', '只能是汉字'],
  ],
  enum: [
    ['已发货', null],
    ['待发货', null],
    ['已取消', '只能是以下值之一：待发货、已发货'],
  ],
}

describe('checkKeywordValue', () => {
  for (const [type, rows] of Object.entries(TABLE) as [KeywordType, [string, string | null][]][]) {
    describe(type, () => {
      const kw = keyword(type, type === 'enum' ? { enumValues: ['待发货', '已发货'] } : {})
      it.each(rows)('%j → %s', (value, expected) => {
        expect(checkKeywordValue(kw, value)).toBe(expected)
      })
    })
  }

  it('refuses every value of an enum keyword that lists no values', () => {
    expect(checkKeywordValue(keyword('enum'), '已发货')).toBe('模板没有配置可选值（enumValues）')
  })
})

const ORDER_STATUS = EXTRA_TEMPLATES.shortOrderStatus

describe('validateMessageData', () => {
  const valid = { character_string1: 'DD0001', phrase2: '已发货', thing3: { value: '机械键盘' } }

  it('accepts bare values and { value } alike and returns WeChat’s shape', () => {
    expect(validateMessageData(ORDER_STATUS, valid)).toEqual({
      ok: true,
      data: { character_string1: { value: 'DD0001' }, phrase2: { value: '已发货' }, thing3: { value: '机械键盘' } },
    })
  })

  it('names the field and the rule of a value that breaks it', () => {
    expect(validateMessageData(ORDER_STATUS, { ...valid, thing3: 'x'.repeat(21) })).toEqual({
      ok: false,
      field: 'data.thing3.value',
      rule: '最多 20 个字符',
      message: 'data.thing3.value: 最多 20 个字符',
    })
    expect(validateMessageData(ORDER_STATUS, { ...valid, phrase2: { value: '' } })).toEqual({
      ok: false,
      field: 'data.phrase2.value',
      rule: '不能为空',
      message: 'data.phrase2.value: 不能为空',
    })
  })

  it('refuses a keyword the template does not have', () => {
    expect(validateMessageData(ORDER_STATUS, { ...valid, foo9: 'x' })).toEqual({
      ok: false,
      field: 'data.foo9',
      rule: '模板「订单状态通知」没有这个关键词（有：character_string1、phrase2、thing3）',
      message: 'data.foo9: 模板「订单状态通知」没有这个关键词（有：character_string1、phrase2、thing3）',
    })
  })

  it('refuses a message that leaves out a keyword of the template', () => {
    const { thing3: _left, ...rest } = valid
    expect(validateMessageData(ORDER_STATUS, rest)).toEqual({
      ok: false,
      field: 'data.thing3.value',
      rule: '缺少关键词「商品名称」',
      message: 'data.thing3.value: 缺少关键词「商品名称」',
    })
  })

  it('does not take inherited properties for keywords', () => {
    const data = Object.create({ thing3: '机械键盘' }) as Record<string, string>
    data.character_string1 = 'DD0001'
    data.phrase2 = '已发货'
    expect(validateMessageData(ORDER_STATUS, data)).toMatchObject({ ok: false, field: 'data.thing3.value' })
  })

  it('with truncate shortens a long thing to 17 characters and "..." (WxJava), leaving other types alone', () => {
    const long = '超长的商品名称一二三四五六七八九十甲乙丙丁'
    const result = validateMessageData(ORDER_STATUS, { ...valid, thing3: long }, { truncate: true })
    expect(result).toEqual({
      ok: true,
      data: { character_string1: { value: 'DD0001' }, phrase2: { value: '已发货' }, thing3: { value: '超长的商品名称一二三四五六七八九十...' } },
    })
    expect(validateMessageData(ORDER_STATUS, { ...valid, phrase2: '等待买家付款' }, { truncate: true })).toMatchObject({
      ok: false,
      message: 'data.phrase2.value: 最多 5 个汉字',
    })
  })

  it('truncates by code points, never splitting a character', () => {
    const value = '𠀀'.repeat(25)
    expect(truncateThing(value)).toBe('𠀀'.repeat(17) + '...')
    expect(Array.from(truncateThing(value))).toHaveLength(20)
    expect(truncateThing('短')).toBe('短')
  })
})
