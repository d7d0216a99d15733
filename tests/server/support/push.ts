/**
 * Pushes as WeChat posts them to /wechat/push, written out by hand (not with the service's own
 * writer): XML with CDATA or JSON, `List` an object for one template and an array for several,
 * signed with sha1 over the sorted Token, timestamp, nonce (and Encrypt). Encryption uses the
 * service's `encryptPush`, which push-crypto.test.ts holds to a known-answer vector computed apart.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { encryptPush } from '../../../server/wechat/push/crypto'

export const PUSH_TOKEN = 'PushToken2026'
export const PUSH_AES_KEY = 'Q2xvdWRzQW5kUmFpbkFuZFN1bnNoaW5lMjAyNjEyMDI'
export const PUSH_APPID = 'wx0123456789abcdef'
export const GH_ID = 'gh_3f2b1c0ffee0'
export const TIMESTAMP = '1764648000'
export const NONCE = '20261202'

export const sha1Signature = (...parts: string[]): string => createHash('sha1').update([...parts].sort().join('')).digest('hex')

export type Format = 'xml' | 'json'
type Fields = Record<string, string | number>

export interface Push {
  openid: string
  createTime: number
  event: 'subscribe_msg_popup_event' | 'subscribe_msg_change_event' | 'subscribe_msg_sent_event'
  items: Fields[]
  /** JSON only: put `List` under the event's element instead of at the top level. */
  wrapped?: boolean
}

const ELEMENTS = {
  subscribe_msg_popup_event: 'SubscribeMsgPopupEvent',
  subscribe_msg_change_event: 'SubscribeMsgChangeEvent',
  subscribe_msg_sent_event: 'SubscribeMsgSentEvent',
} as const

const xmlValue = (value: string | number): string => (typeof value === 'number' ? String(value) : `<![CDATA[${value}]]>`)
const xmlFields = (fields: Fields): string => Object.entries(fields).map(([name, value]) => `<${name}>${xmlValue(value)}</${name}>`).join('')

/** The push's body in `format`. */
export function pushBody(push: Push, format: Format): string {
  const head = { ToUserName: GH_ID, FromUserName: push.openid, CreateTime: push.createTime, MsgType: 'event', Event: push.event }
  const element = ELEMENTS[push.event]
  if (format === 'xml') {
    const lists = push.items.map((item) => `\n    <List>${xmlFields(item)}</List>`).join('')
    return `<xml>\n  ${xmlFields(head)}\n  <${element}>${lists}\n  </${element}>\n</xml>`
  }
  const list = push.items.length === 1 ? push.items[0] : push.items
  return JSON.stringify(push.wrapped ? { ...head, [element]: { List: list } } : { ...head, List: list })
}

export const popup = (openid: string, createTime: number, ...answers: Array<[string, string]>): Push => ({
  openid,
  createTime,
  event: 'subscribe_msg_popup_event',
  items: answers.map(([templateId, status]) => ({ TemplateId: templateId, SubscribeStatusString: status, PopupScene: 0 })),
})

export const change = (openid: string, createTime: number, ...templateIds: string[]): Push => ({
  openid,
  createTime,
  event: 'subscribe_msg_change_event',
  items: templateIds.map((templateId) => ({ TemplateId: templateId, SubscribeStatusString: 'reject' })),
})

export const sent = (openid: string, createTime: number, templateId: string, msgid: string, errorCode = 0, errorStatus = 'success'): Push => ({
  openid,
  createTime,
  event: 'subscribe_msg_sent_event',
  items: [{ TemplateId: templateId, MsgID: msgid, ErrorCode: errorCode, ErrorStatus: errorStatus }],
})

export interface PostOptions {
  format?: Format
  /** Plaintext (default), or encrypted: secure mode (only ToUserName and Encrypt) or compatible (plaintext fields beside it). */
  mode?: 'plaintext' | 'secure' | 'compatible'
  /** Overrides of the query's values (a wrong signature…). */
  query?: Record<string, string>
  /** Encrypt for another AppID. */
  appId?: string
  token?: string
  contentType?: string
}

/** The request WeChat would make for `push`. */
export function pushRequest(push: Push, options: PostOptions = {}): { url: string; body: string; contentType: string } {
  const format = options.format ?? 'xml'
  const token = options.token ?? PUSH_TOKEN
  const contentType = options.contentType ?? (format === 'xml' ? 'text/xml' : 'application/json')
  const query: Record<string, string> = { signature: sha1Signature(token, TIMESTAMP, NONCE), timestamp: TIMESTAMP, nonce: NONCE, openid: push.openid }
  let body = pushBody(push, format)
  if (options.mode === 'secure' || options.mode === 'compatible') {
    const encrypted = encryptPush(PUSH_AES_KEY, body, options.appId ?? PUSH_APPID)
    query.encrypt_type = 'aes'
    query.msg_signature = sha1Signature(token, TIMESTAMP, NONCE, encrypted)
    if (options.mode === 'secure') {
      body = format === 'xml' ? `<xml><ToUserName><![CDATA[${GH_ID}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` : JSON.stringify({ ToUserName: GH_ID, Encrypt: encrypted })
    } else {
      body = format === 'xml' ? body.replace('</xml>', `<Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`) : JSON.stringify({ ...(JSON.parse(body) as object), Encrypt: encrypted })
    }
  }
  return { url: `/wechat/push?${new URLSearchParams({ ...query, ...options.query }).toString()}`, body, contentType }
}

export async function postPush(app: FastifyInstance, push: Push, options: PostOptions = {}): Promise<LightMyRequestResponse> {
  const { url, body, contentType } = pushRequest(push, options)
  return app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: body })
}

/** A raw body with a good plaintext signature (for bodies that are not pushes at all). */
export function postRaw(app: FastifyInstance, body: string, contentType = 'text/xml'): Promise<LightMyRequestResponse> {
  const query = new URLSearchParams({ signature: sha1Signature(PUSH_TOKEN, TIMESTAMP, NONCE), timestamp: TIMESTAMP, nonce: NONCE })
  return app.inject({ method: 'POST', url: `/wechat/push?${query.toString()}`, headers: { 'content-type': contentType }, payload: body })
}
