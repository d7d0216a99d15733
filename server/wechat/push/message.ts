/**
 * WeChat's push bodies, XML or JSON, read into one shape and written back (for the sandbox WeChat).
 *
 * - XML: `<xml><ToUserName><![CDATA[…]]></ToUserName>…</xml>`, every value read as text (fast-xml-parser
 *   with value parsing off, so a 64-bit MsgID keeps all its digits), entities not expanded.
 * - JSON: the same names; a MsgID written as a bare number keeps its digits too (it is read as text
 *   before JSON.parse could round it).
 * - `List` is an object for one template and an array for several, in both formats. It sits under the
 *   event's element (`SubscribeMsgPopupEvent`…) in XML; JSON pushes have been seen with it there and at
 *   the top level: both are read.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'

export const POPUP_EVENT = 'subscribe_msg_popup_event'
export const CHANGE_EVENT = 'subscribe_msg_change_event'
export const SENT_EVENT = 'subscribe_msg_sent_event'

export type PushFormat = 'xml' | 'json'

/** The parts every push has. */
export interface PushEnvelope {
  /** The mini-program's original id (gh_…). */
  toUserName: string
  /** The person's openid. */
  fromUserName: string
  /** Seconds since the epoch, WeChat's clock. */
  createTime: number
}

export interface PopupItem {
  templateId: string
  /** `accept` or `reject` (any `accept…` is an accept). */
  status: string
  /** 0 from a mini-program page, 1 after payment, 2 other. */
  popupScene: string
}

export interface ChangeItem {
  templateId: string
  /** Only `reject` is pushed: the person turned the template off. */
  status: string
}

export interface SentItem {
  templateId: string
  /** As WeChat wrote it (64 bits: never a JS number). */
  msgid: string
  /** 0 = delivered. */
  errorCode: number
  /** `success`, `fail:user refuse`, `fail:system error`. */
  errorStatus: string
}

/** A subscription-message event, or any other push (answered `success` and left alone). */
export type WeChatPush =
  | (PushEnvelope & { event: typeof POPUP_EVENT; items: PopupItem[] })
  | (PushEnvelope & { event: typeof CHANGE_EVENT; items: ChangeItem[] })
  | (PushEnvelope & { event: typeof SENT_EVENT; items: SentItem[] })
  | { event: 'other'; msgType: string; name: string }

export type SubscriptionPush = Exclude<WeChatPush, { event: 'other' }>

/** A body that is not a push WeChat could have sent: what is wrong, in Chinese, naming the field. */
export class PushFormatError extends Error {
  override readonly name = 'PushFormatError'
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

/** Each event's element and the fields of one template in its `List`, in WeChat's order. */
const EVENTS = {
  [POPUP_EVENT]: { element: 'SubscribeMsgPopupEvent', fields: ['TemplateId', 'SubscribeStatusString', 'PopupScene'] },
  [CHANGE_EVENT]: { element: 'SubscribeMsgChangeEvent', fields: ['TemplateId', 'SubscribeStatusString'] },
  [SENT_EVENT]: { element: 'SubscribeMsgSentEvent', fields: ['TemplateId', 'MsgID', 'ErrorCode', 'ErrorStatus'] },
} as const

type Fields = Record<string, unknown>

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  processEntities: false,
  trimValues: true,
  ignoreDeclaration: true,
  // No callbacks read the tag path: without this, every text node turns it into a string.
  jPath: false,
})

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The document's fields (the children of `<xml>`, or the JSON object) and its format. XML is checked
 * to be well formed first, so a bad body is refused as such; `trusted` skips that check for a message
 * just decrypted with the service's own key under a signature that matched: WeChat's own text.
 */
export function parseDocument(text: string, options: { trusted?: boolean } = {}): { format: PushFormat; fields: Fields } {
  const trimmed = text.trim()
  if (trimmed.startsWith('<')) {
    if (options.trusted !== true && XMLValidator.validate(trimmed) !== true) throw new PushFormatError('请求体不是合法的 XML')
    let document: unknown
    try {
      document = xmlParser.parse(trimmed)
    } catch {
      // Unchecked text the parser cannot read is refused as such, never a 500.
      throw new PushFormatError('请求体不是合法的 XML')
    }
    const root = isFields(document) ? document.xml : undefined
    if (!isFields(root)) throw new PushFormatError('XML 推送的根元素应为 <xml>')
    return { format: 'xml', fields: root }
  }
  if (trimmed.startsWith('{')) {
    let parsed: unknown
    try {
      // A bare-number MsgID would lose digits in JSON.parse: read it as text first.
      parsed = JSON.parse(trimmed.replace(/"MsgID"\s*:\s*(-?\d+)/g, '"MsgID":"$1"'))
    } catch {
      throw new PushFormatError('请求体不是合法的 JSON')
    }
    if (!isFields(parsed)) throw new PushFormatError('JSON 推送应为一个对象')
    return { format: 'json', fields: parsed }
  }
  throw new PushFormatError('请求体既不是 XML 也不是 JSON')
}

/** A field as text: strings as they are, numbers in decimal; anything else is absent. */
function textOf(fields: Fields, name: string): string | undefined {
  const value = fields[name]
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

function required(fields: Fields, name: string, where = name): string {
  const value = textOf(fields, name)
  if (value === undefined || value === '') throw new PushFormatError(`${where}: 缺少这个字段`, where)
  return value
}

/** The `Encrypt` field of a compatible/secure-mode body, if there is one. */
export function encryptedPart(fields: Fields): string | undefined {
  return textOf(fields, 'Encrypt')
}

/** `List` as an array, wherever the body put it, object or array. */
function listOf(fields: Fields, element: string): Fields[] {
  const holder = isFields(fields[element]) ? (fields[element] as Fields) : fields
  const list = holder.List
  const entries = Array.isArray(list) ? list : list === undefined ? [] : [list]
  if (entries.length === 0) throw new PushFormatError(`${element}.List: 缺少模板列表`, `${element}.List`)
  return entries.map((entry, index) => {
    if (!isFields(entry)) throw new PushFormatError(`${element}.List.${index}: 应为一个模板的字段`, `${element}.List.${index}`)
    return entry
  })
}

/** The push a document says, in one shape; throws PushFormatError for a subscription event it cannot read. */
export function readPush(fields: Fields): WeChatPush {
  const msgType = textOf(fields, 'MsgType') ?? ''
  const name = textOf(fields, 'Event') ?? ''
  if (msgType !== 'event' || !Object.hasOwn(EVENTS, name)) return { event: 'other', msgType, name }
  const event = name as keyof typeof EVENTS
  const createTime = required(fields, 'CreateTime')
  if (!/^\d{1,12}$/.test(createTime)) throw new PushFormatError('CreateTime: 应为秒数', 'CreateTime')
  const envelope: PushEnvelope = {
    toUserName: required(fields, 'ToUserName'),
    fromUserName: required(fields, 'FromUserName'),
    createTime: Number(createTime),
  }
  const { element } = EVENTS[event]
  const entries = listOf(fields, element).map((entry, index) => ({ entry, at: `${element}.List.${index}` }))
  const field = (entry: Fields, at: string, fieldName: string): string => required(entry, fieldName, `${at}.${fieldName}`)
  switch (event) {
    case POPUP_EVENT:
      return {
        ...envelope,
        event,
        items: entries.map(({ entry, at }) => ({
          templateId: field(entry, at, 'TemplateId'),
          status: field(entry, at, 'SubscribeStatusString'),
          popupScene: textOf(entry, 'PopupScene') ?? '',
        })),
      }
    case CHANGE_EVENT:
      return {
        ...envelope,
        event,
        items: entries.map(({ entry, at }) => ({ templateId: field(entry, at, 'TemplateId'), status: field(entry, at, 'SubscribeStatusString') })),
      }
    case SENT_EVENT:
      return {
        ...envelope,
        event,
        items: entries.map(({ entry, at }) => {
          const errorCode = field(entry, at, 'ErrorCode')
          if (!/^-?\d{1,10}$/.test(errorCode)) throw new PushFormatError(`${at}.ErrorCode: 应为整数`, `${at}.ErrorCode`)
          const msgid = field(entry, at, 'MsgID')
          if (!/^\d{1,24}$/.test(msgid)) throw new PushFormatError(`${at}.MsgID: 应为数字`, `${at}.MsgID`)
          return { templateId: field(entry, at, 'TemplateId'), msgid, errorCode: Number(errorCode), errorStatus: textOf(entry, 'ErrorStatus') ?? '' }
        }),
      }
  }
}

// ─── writing (what the sandbox WeChat posts) ─────────────────────────────────

/** The values of one `List` entry, in WeChat's field order. */
function itemValues(push: SubscriptionPush): Array<Array<[string, string]>> {
  switch (push.event) {
    case POPUP_EVENT:
      return push.items.map((item) => [['TemplateId', item.templateId], ['SubscribeStatusString', item.status], ['PopupScene', item.popupScene]])
    case CHANGE_EVENT:
      return push.items.map((item) => [['TemplateId', item.templateId], ['SubscribeStatusString', item.status]])
    case SENT_EVENT:
      return push.items.map((item) => [
        ['TemplateId', item.templateId],
        ['MsgID', item.msgid],
        ['ErrorCode', String(item.errorCode)],
        ['ErrorStatus', item.errorStatus],
      ])
  }
}

/** Numbers WeChat writes without CDATA in XML. */
const BARE_XML_FIELDS = new Set(['CreateTime', 'PopupScene', 'MsgID', 'ErrorCode'])

const cdata = (value: string): string => `<![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
const xmlElement = (name: string, value: string): string => `<${name}>${BARE_XML_FIELDS.has(name) ? value : cdata(value)}</${name}>`

/**
 * The push as WeChat writes it: XML with CDATA, or JSON (`List` an object for one template, an array
 * for several). With `encrypted`, compatible mode's body: the plaintext fields and `Encrypt` beside them.
 */
export function writePush(push: SubscriptionPush, format: PushFormat, encrypted?: string): string {
  const head: Array<[string, string]> = [
    ['ToUserName', push.toUserName],
    ['FromUserName', push.fromUserName],
    ['CreateTime', String(push.createTime)],
    ['MsgType', 'event'],
    ['Event', push.event],
  ]
  if (encrypted !== undefined) head.push(['Encrypt', encrypted])
  const items = itemValues(push)
  const { element } = EVENTS[push.event]
  if (format === 'xml') {
    const lists = items.map((item) => `<List>${item.map(([name, value]) => xmlElement(name, value)).join('')}</List>`).join('')
    return `<xml>${head.map(([name, value]) => xmlElement(name, value)).join('')}<${element}>${lists}</${element}></xml>`
  }
  const entries = items.map((item) => Object.fromEntries(item))
  return JSON.stringify({ ...Object.fromEntries(head), List: entries.length === 1 ? entries[0] : entries })
}

/** The body of a compatible/secure-mode push: the mini-program's id and the encrypted push. */
export function writeEncryptedEnvelope(toUserName: string, encrypted: string, format: PushFormat): string {
  return format === 'xml'
    ? `<xml>${xmlElement('ToUserName', toUserName)}${xmlElement('Encrypt', encrypted)}</xml>`
    : JSON.stringify({ ToUserName: toUserName, Encrypt: encrypted })
}
