/**
 * What the push endpoint checks before it believes a push, in this order:
 *
 * 1. `GET` (the URL check): `signature` over Token, timestamp, nonce; the answer is `echostr`.
 * 2. `POST` in plaintext mode (no `encrypt_type`): the same `signature`, then the body. With an
 *    EncodingAESKey configured, plaintext is refused: in compatible and secure mode WeChat always
 *    encrypts, and a plaintext signature does not cover the body (a captured URL could carry any body).
 * 3. `POST` with `encrypt_type=aes`: the outer body (XML or JSON) for `Encrypt`, then `msg_signature`
 *    over Token, timestamp, nonce and Encrypt, then AES, then the AppID inside, then the inner body.
 *    Compatible mode's plaintext fields beside `Encrypt` are never read.
 *
 * A signature or AppID that does not match is 401 INVALID_SIGNATURE; a body that does not parse, a
 * secure-mode push without WECHAT_PUSH_AES_KEY, or one that does not decrypt is 400 MALFORMED_PUSH.
 * Nothing is stored before all of it passed (the caller applies the push only after this returns).
 */
import { AppError } from '../../errors'
import { PushCryptoError, decryptPush, signatureMatches } from './crypto'
import { PushFormatError, encryptedPart, parseDocument, readPush, type PushFormat, type WeChatPush } from './message'

export interface PushSecrets {
  /** WECHAT_PUSH_TOKEN */
  token: string
  /** WECHAT_PUSH_AES_KEY; null = plaintext mode only. */
  aesKey: string | null
  /** The mini-program's AppID: an encrypted push must be for it. */
  appId: string
}

export type PushQuery = Partial<Record<'signature' | 'timestamp' | 'nonce' | 'echostr' | 'openid' | 'encrypt_type' | 'msg_signature', string>>

export interface ReceivedPush {
  push: WeChatPush
  format: PushFormat
  mode: 'plaintext' | 'aes'
}

const badSignature = (field: string, what: string): AppError => new AppError(401, 'INVALID_SIGNATURE', `${field}: ${what}`, field)
const malformed = (message: string, field?: string): AppError => new AppError(400, 'MALFORMED_PUSH', message, field)

function checkPlainSignature(secrets: PushSecrets, query: PushQuery): void {
  const { signature, timestamp, nonce } = query
  if (signature === undefined || timestamp === undefined || nonce === undefined) {
    throw badSignature('signature', '缺少 signature、timestamp 或 nonce，无法确认推送来自微信')
  }
  if (!signatureMatches(signature, secrets.token, timestamp, nonce)) throw badSignature('signature', '签名不正确（检查 WECHAT_PUSH_TOKEN 是否与微信后台的 Token 一致）')
}

/** The URL check: the `echostr` to answer with. */
export function verifyPushUrl(secrets: PushSecrets, query: PushQuery): string {
  checkPlainSignature(secrets, query)
  if (query.echostr === undefined) throw malformed('echostr: 缺少这个参数', 'echostr')
  return query.echostr
}

function parsed(text: string, options: { trusted?: boolean } = {}): { format: PushFormat; fields: Record<string, unknown> } {
  try {
    return parseDocument(text, options)
  } catch (error) {
    if (error instanceof PushFormatError) throw malformed(error.message, error.field)
    throw error
  }
}

function read(fields: Record<string, unknown>): WeChatPush {
  try {
    return readPush(fields)
  } catch (error) {
    if (error instanceof PushFormatError) throw malformed(error.message, error.field)
    throw error
  }
}

/** A push WeChat sent: checked, opened and read. Throws AppError 401 / 400 as the header says. */
export function receivePush(secrets: PushSecrets, query: PushQuery, body: Buffer): ReceivedPush {
  const encryptType = query.encrypt_type
  if (encryptType === undefined || encryptType === 'raw') {
    checkPlainSignature(secrets, query)
    if (secrets.aesKey !== null) {
      throw badSignature('encrypt_type', '已配置 WECHAT_PUSH_AES_KEY（兼容或安全模式），不接受未加密的推送')
    }
    const { format, fields } = parsed(body.toString('utf8'))
    if (encryptedPart(fields) !== undefined) throw malformed('encrypt_type: 推送是加密的，但请求没有 encrypt_type=aes', 'encrypt_type')
    return { push: read(fields), format, mode: 'plaintext' }
  }
  if (encryptType !== 'aes') throw malformed(`encrypt_type: 只支持 aes（收到 ${encryptType.slice(0, 20)}）`, 'encrypt_type')

  const outer = parsed(body.toString('utf8'))
  const encrypted = encryptedPart(outer.fields)
  if (encrypted === undefined || encrypted === '') throw malformed('Encrypt: 加密模式的推送缺少 Encrypt', 'Encrypt')
  const { msg_signature: msgSignature, timestamp, nonce } = query
  if (msgSignature === undefined || timestamp === undefined || nonce === undefined) {
    throw badSignature('msg_signature', '缺少 msg_signature、timestamp 或 nonce，无法确认推送来自微信')
  }
  if (!signatureMatches(msgSignature, secrets.token, timestamp, nonce, encrypted)) {
    throw badSignature('msg_signature', '签名不正确（检查 WECHAT_PUSH_TOKEN 是否与微信后台的 Token 一致）')
  }
  if (secrets.aesKey === null) {
    throw malformed('encrypt_type: 这是兼容或安全模式的加密推送，但服务没有配置 WECHAT_PUSH_AES_KEY', 'encrypt_type')
  }
  let opened: { message: string; appId: string }
  try {
    opened = decryptPush(secrets.aesKey, encrypted)
  } catch (error) {
    if (error instanceof PushCryptoError) throw malformed(`Encrypt: 无法解密：${error.message}`, 'Encrypt')
    throw error
  }
  if (opened.appId !== secrets.appId) throw badSignature('Encrypt', '推送是发给另一个小程序的（AppID 不一致）')
  // Opened with our key, its Encrypt covered by msg_signature: WeChat's own text, not checked again.
  const inner = parsed(opened.message, { trusted: true })
  return { push: read(inner.fields), format: outer.format, mode: 'aes' }
}
