/**
 * WeChat's keyword value rules (`data.<type><n>.value`), checked before any credit is touched.
 *
 * The service validates with these rules, and the sandbox WeChat answers 47003 with the same ones,
 * so a value refused here is a value WeChat would refuse. Lengths count code points (an emoji or a
 * rare CJK character outside the BMP is one character, as WeChat counts it).
 * The rules are WeChat's published ones for each keyword type (thing ≤ 20 characters, phrase ≤ 5 汉字…).
 */
import type { Keyword, KeywordType, Template } from './contract'

/** What the caller may pass per keyword: the bare value or WeChat's `{ value }` shape. */
export type KeywordInput = string | { value: string }

export type MessageDataResult =
  | { ok: true; data: Record<string, { value: string }> }
  /** `message` = `field: rule`, e.g. `data.thing1.value: 最多 20 个字符`. */
  | { ok: false; field: string; rule: string; message: string }

export interface ValidateMessageDataOptions {
  /** Shorten `thing` values that are too long, as WxJava does (17 characters + "..."). */
  truncate?: boolean
}

const THING_MAX_LENGTH = 20
/** WxJava's cut: 17 characters and an ellipsis, 20 in all. */
const THING_TRUNCATED_LENGTH = 17
const ELLIPSIS = '...'

const HAN = /^\p{Script=Han}$/u
const ASCII_LETTER = /^[A-Za-z]$/
const ASCII_DIGIT = /^[0-9]$/
/** Punctuation or symbols, ASCII or full-width, but not emoji. */
const SYMBOL = /^[\p{P}\p{S}]$/u
const EMOJI = /\p{Extended_Pictographic}/u
/** Line breaks, tabs and other invisible control or format characters. */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u
/** Half of a UTF-16 surrogate pair without its other half: no character at all (JSON can carry one as `\ud800`). */
const LONE_SURROGATE = /\p{Surrogate}/u

const chars = (value: string): string[] => Array.from(value)
const isHan = (c: string): boolean => HAN.test(c)
const isLetter = (c: string): boolean => ASCII_LETTER.test(c)
const isDigit = (c: string): boolean => ASCII_DIGIT.test(c)
const isSymbol = (c: string): boolean => SYMBOL.test(c) && !EMOJI.test(c)

// ─── dates and times ─────────────────────────────────────────────────────────

/** 24-hour clock time, seconds optional: 9:05, 15:01, 23:59:59. */
const CLOCK = /^([01]?[0-9]|2[0-3]):([0-5][0-9])(:[0-5][0-9])?$/
/** 2019年10月1日, 2019-10-01, 2019/10/1, 2019.10.01 (and without the year: 10月1日). */
const DATE_PATTERNS: RegExp[] = [
  /^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2})$/,
  /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/,
  /^(\d{4})\.(\d{1,2})\.(\d{1,2})$/,
]

function isCalendarDate(text: string): boolean {
  for (const pattern of DATE_PATTERNS) {
    const match = pattern.exec(text)
    if (!match) continue
    // A year-less date is checked against a leap year, so 2月29日 passes.
    const year = match[1] === undefined ? 2000 : Number(match[1])
    const month = Number(match[2])
    const day = Number(match[3])
    if (month < 1 || month > 12 || day < 1) return false
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
    return day <= daysInMonth
  }
  return false
}

/** A date with an optional time (`2019年10月1日 15:01`, `2019-10-01 15:01`, `2019年10月1日15:01`). */
function isDateWithOptionalTime(text: string): boolean {
  const trimmed = text.trim()
  if (isCalendarDate(trimmed)) return true
  const spaced = /^(\S+)\s+(\S+)$/.exec(trimmed)
  if (spaced) return isCalendarDate(spaced[1]!) && CLOCK.test(spaced[2]!)
  const glued = /^(.+日)(\d{1,2}:\d{2}(?::\d{2})?)$/.exec(trimmed)
  if (glued) return isCalendarDate(glued[1]!) && CLOCK.test(glued[2]!)
  return false
}

/** A time with an optional date before it. */
function isTimeWithOptionalDate(text: string): boolean {
  const trimmed = text.trim()
  if (CLOCK.test(trimmed)) return true
  return isDateWithOptionalTime(trimmed) && !isCalendarDate(trimmed)
}

/** `a` or a range `a~b` (also the full-width `～`); the end of a range may leave out the date. */
function isRangeOf(value: string, part: (text: string) => boolean): boolean {
  const parts = value.split(/[~～]/)
  if (parts.length === 1) return part(parts[0]!)
  if (parts.length !== 2) return false
  const [from, to] = parts as [string, string]
  return part(from) && (part(to) || CLOCK.test(to.trim()))
}

// ─── the rule per type ───────────────────────────────────────────────────────

type Rule = (value: string, keyword: Keyword) => string | null

const RULES: Record<KeywordType, Rule> = {
  thing(value) {
    const cs = chars(value)
    if (cs.length > THING_MAX_LENGTH) return `最多 ${THING_MAX_LENGTH} 个字符`
    if (CONTROL.test(value)) return '不能包含换行或控制字符'
    if (EMOJI.test(value)) return '不能包含表情符号'
    return null
  },
  number(value) {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) return '只能是数字，可带小数点'
    if (chars(value).length > 32) return '最多 32 位数字'
    return null
  },
  letter(value) {
    const cs = chars(value)
    if (!cs.every(isLetter)) return '只能是英文字母'
    if (cs.length > 32) return '最多 32 个字母'
    return null
  },
  symbol(value) {
    const cs = chars(value)
    if (!cs.every(isSymbol)) return '只能是符号'
    if (cs.length > 5) return '最多 5 个符号'
    return null
  },
  character_string(value) {
    const cs = chars(value)
    if (!cs.every((c) => isLetter(c) || isDigit(c) || (c.charCodeAt(0) < 0x7f && isSymbol(c)))) {
      return '只能是数字、字母或符号，不能有汉字或空格'
    }
    if (cs.length > 32) return '最多 32 个字符'
    return null
  },
  time(value) {
    if (!isRangeOf(value, isTimeWithOptionalDate)) {
      return '应为 24 小时制时间，可带日期，如 15:01 或 2019年10月1日 15:01，时间段用 ~ 连接'
    }
    return null
  },
  date(value) {
    if (!isRangeOf(value, isDateWithOptionalTime)) {
      return '应为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01，时间段用 ~ 连接'
    }
    return null
  },
  amount(value) {
    const match = /^([¥￥$€£])?([0-9]+)(?:\.([0-9]+))?(元)?$/.exec(value)
    if (!match || (match[1] === undefined && match[4] === undefined)) {
      return '应为金额：一个币种符号加数字，可带小数，结尾可带“元”，如 ¥12.50'
    }
    const digits = match[2]!.length + (match[3]?.length ?? 0)
    if (digits > 10) return '金额最多 10 位数字'
    return null
  },
  phone_number(value) {
    const cs = chars(value)
    if (!cs.every((c) => isDigit(c) || (c.charCodeAt(0) < 0x7f && isSymbol(c)))) {
      return '只能是数字和符号，如 +86-10-12345678'
    }
    if (cs.length > 17) return '最多 17 位'
    return null
  },
  car_number(value) {
    const cs = chars(value)
    if (cs.length > 8) return '最多 8 个字符'
    const alnum = (c: string): boolean => isLetter(c) || isDigit(c)
    const ends = (c: string): boolean => alnum(c) || isHan(c)
    const ok = cs.every((c, i) => (i === 0 || i === cs.length - 1 ? ends(c) : alnum(c)))
    if (!ok) return '应为车牌号：首尾可为汉字，其余为字母或数字，如 粤A12345'
    return null
  },
  name(value) {
    const cs = chars(value)
    const allowed = (c: string): boolean => isHan(c) || isLetter(c) || isSymbol(c) || c === ' '
    if (!cs.every(allowed)) return '只能是汉字、字母或符号'
    if (cs.some(isHan)) {
      if (cs.length > 10) return '最多 10 个汉字（纯字母时最多 20 个）'
    } else if (cs.length > 20) {
      return '最多 20 个字母或符号'
    }
    return null
  },
  phrase(value) {
    const cs = chars(value)
    if (!cs.every(isHan)) return '只能是汉字'
    if (cs.length > 5) return '最多 5 个汉字'
    return null
  },
  enum(value, keyword) {
    const allowed = keyword.enumValues ?? []
    if (allowed.length === 0) return '模板没有配置可选值（enumValues）'
    if (!allowed.includes(value)) return `只能是以下值之一：${allowed.join('、')}`
    return null
  },
}

/**
 * Checks one value against its keyword's rule. Returns null when WeChat would accept it, else the
 * rule it breaks, in Chinese (`最多 20 个字符`).
 */
export function checkKeywordValue(keyword: Keyword, value: string): string | null {
  if (value.trim() === '') return '不能为空'
  return unpairedSurrogateProblem(value) ?? RULES[keyword.type](value, keyword)
}

/** Null for text made of whole characters; else why not (JSON can carry half of a surrogate pair as `\ud800`). */
export function unpairedSurrogateProblem(value: string): string | null {
  return LONE_SURROGATE.test(value) ? '含有无效的字符（不成对的代理项，不是完整的 Unicode 字符）' : null
}

/** WxJava's sanitising of a `thing` value: 17 characters and "..." when it is longer than 20. */
export function truncateThing(value: string): string {
  const cs = chars(value)
  if (cs.length <= THING_MAX_LENGTH) return value
  return cs.slice(0, THING_TRUNCATED_LENGTH).join('') + ELLIPSIS
}

function failure(field: string, rule: string): MessageDataResult {
  return { ok: false, field, rule, message: `${field}: ${rule}` }
}

/**
 * Checks a message's `data` against its template: every key must be a keyword of the template,
 * every keyword must be present and follow its type's rule. Returns the data in WeChat's
 * `{ key: { value } }` shape, or the first problem with the field it concerns.
 */
export function validateMessageData(
  template: Template,
  data: Record<string, KeywordInput>,
  options: ValidateMessageDataOptions = {},
): MessageDataResult {
  const keywords = new Map(template.keywords.map((keyword) => [keyword.name, keyword]))

  for (const name of Object.keys(data)) {
    if (!keywords.has(name)) {
      const field = `data.${name}`
      const known = template.keywords.map((keyword) => keyword.name).join('、')
      return failure(field, `模板「${template.title}」没有这个关键词（有：${known}）`)
    }
  }

  const checked: Record<string, { value: string }> = {}
  for (const keyword of template.keywords) {
    const field = `data.${keyword.name}.value`
    const input = Object.hasOwn(data, keyword.name) ? data[keyword.name] : undefined
    if (input === undefined) {
      return failure(field, `缺少关键词「${keyword.label}」`)
    }
    let value = typeof input === 'string' ? input : input.value
    if (typeof value !== 'string') {
      return failure(field, '应为字符串')
    }
    if (options.truncate && keyword.type === 'thing') value = truncateThing(value)
    const broken = checkKeywordValue(keyword, value)
    if (broken !== null) return failure(field, broken)
    checked[keyword.name] = { value }
  }
  return { ok: true, data: checked }
}
