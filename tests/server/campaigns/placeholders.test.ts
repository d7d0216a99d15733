import { describe, expect, it } from 'vitest'
import { fillValue, hasPlaceholders, parseValue, type ValuePart } from '../../../src/domain/placeholders'

function parts(value: string): ValuePart[] {
  const parsed = parseValue(value)
  if (!parsed.ok) throw new Error(parsed.problem)
  return parsed.parts
}

const zhang = { openid: 'o-zhang', attributes: { nickname: '张伟', city: '北京', level: 3 } }
const nobody = { openid: 'o-nobody', attributes: {} }

describe('campaign placeholders', () => {
  it('fill a person\'s attributes, a fallback, and the openid', () => {
    expect(fillValue(parts('{{nickname}}，您好'), zhang)).toEqual({ ok: true, value: '张伟，您好' })
    expect(fillValue(parts('{{city|全国}}专场'), zhang)).toEqual({ ok: true, value: '北京专场' })
    expect(fillValue(parts('{{city|全国}}专场'), nobody)).toEqual({ ok: true, value: '全国专场' })
    expect(fillValue(parts('会员等级 {{level}}'), zhang)).toEqual({ ok: true, value: '会员等级 3' })
    expect(fillValue(parts('{{ openid }}'), nobody)).toEqual({ ok: true, value: 'o-nobody' })
    expect(fillValue(parts('{{city|}}'), nobody)).toEqual({ ok: true, value: '' })
  })

  it('name the placeholder a person has no value for, when there is no fallback', () => {
    expect(fillValue(parts('{{nickname}}，您好'), nobody)).toEqual({ ok: false, missing: 'nickname' })
  })

  it('leave text without placeholders as it is', () => {
    const plain = parts('双十一大促')
    expect(hasPlaceholders(plain)).toBe(false)
    expect(hasPlaceholders(parts('{{nickname}}'))).toBe(true)
    expect(fillValue(plain, nobody)).toEqual({ ok: true, value: '双十一大促' })
  })

  it('refuse broken syntax, saying what is wrong', () => {
    expect(parseValue('{{nickname')).toEqual({ ok: false, problem: '有未闭合的 {{（占位符写作 {{名字}} 或 {{名字|默认值}}）' })
    expect(parseValue('你好}}')).toEqual({ ok: false, problem: '有多余的 }}（占位符写作 {{名字}} 或 {{名字|默认值}}）' })
    expect(parseValue('{{}}')).toEqual({ ok: false, problem: '占位符 {{}} 里缺少名字' })
    expect(parseValue('{{Nick Name}}')).toMatchObject({ ok: false, problem: expect.stringContaining('「Nick Name」') as string })
    expect(parseValue('{{a}}{{b')).toMatchObject({ ok: false })
  })
})
