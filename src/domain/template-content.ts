/**
 * Reads a template's keywords out of the `content` that `wxaapi/newtmpl/gettemplate` returns:
 * `会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n` → date2 (date, 会议时间), thing1 (thing, 会议地点).
 */
import type { KeywordType } from './contract'

export interface ParsedKeyword {
  /** `thing1`: the key in `data`. */
  name: string
  type: KeywordType
  /** The text before the colon: 会议时间. */
  label: string
}

const KEYWORD_TYPES: readonly KeywordType[] = [
  'thing', 'number', 'letter', 'symbol', 'character_string', 'time', 'date', 'amount',
  'phone_number', 'car_number', 'name', 'phrase', 'enum',
]

/** `label:{{name.DATA}}` with an ASCII or full-width colon; the label may be missing. */
const LINE = /^\s*(?:(.*?)\s*[:：])?\s*\{\{\s*([a-z_]+?)([0-9]+)\.DATA\s*\}\}\s*$/

function isKeywordType(type: string): type is KeywordType {
  return (KEYWORD_TYPES as readonly string[]).includes(type)
}

/**
 * The keywords of a template `content`, in their order. Lines without a placeholder are skipped;
 * a placeholder of a type this project does not know is an error that names it.
 */
export function parseTemplateContent(content: string): ParsedKeyword[] {
  const keywords: ParsedKeyword[] = []
  for (const line of content.split(/\r?\n/)) {
    if (!line.includes('{{')) continue
    const match = LINE.exec(line)
    if (!match) throw new Error(`无法解析模板内容这一行：「${line.trim()}」（应为 标签:{{类型编号.DATA}}）`)
    const type = match[2]!
    const name = `${type}${match[3]!}`
    if (!isKeywordType(type)) {
      throw new Error(`模板内容中的关键词 ${name} 类型 ${type} 未知（已知：${KEYWORD_TYPES.join('、')}）`)
    }
    const label = match[1]?.trim() || name
    keywords.push({ name, type, label })
  }
  return keywords
}
