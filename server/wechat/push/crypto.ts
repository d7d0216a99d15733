/**
 * WeChat's message-push cryptography (消息推送, compatible and secure mode), as its documentation
 * describes it:
 *
 * - signatures: `sha1(sort([Token, timestamp, nonce, …]).join(''))` in hex, compared in constant time;
 * - the AES key is base64(EncodingAESKey + '='), 32 bytes; AES-256-CBC with the key's first 16 bytes as
 *   IV and PKCS#7 padding to a 32-byte block (the cipher's own padding off);
 * - the plaintext is random(16) ‖ uint32 big-endian length of the message ‖ the message ‖ the AppID.
 *
 * Used by the push endpoint to check and open pushes, and by the sandbox WeChat to make them.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto'

const PAD_BLOCK = 32
const RANDOM_BYTES = 16
const LENGTH_BYTES = 4

/** `sha1` of the parts sorted and joined, in hex: WeChat's `signature` and `msg_signature`. */
export function pushSignature(...parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join(''), 'utf8').digest('hex')
}

/** Whether `given` is the signature of `parts`, compared in constant time (case as WeChat writes it: lower). */
export function signatureMatches(given: string, ...parts: string[]): boolean {
  const expected = Buffer.from(pushSignature(...parts), 'utf8')
  const actual = Buffer.from(given, 'utf8')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** A push that cannot be opened: what is wrong with it, in Chinese, for the 400/401 answer. */
export class PushCryptoError extends Error {
  override readonly name = 'PushCryptoError'
}

function keyOf(encodingAesKey: string): { key: Buffer; iv: Buffer } {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64')
  if (key.length !== 32) throw new PushCryptoError('EncodingAESKey 应为 43 个字符（解码后 32 字节）')
  return { key, iv: key.subarray(0, 16) }
}

/** Random prefixes cut from 4 KiB drawn at once: `randomBytes(16)` per push is a trip into OpenSSL each. */
let randomPool: Buffer = Buffer.alloc(0)
let randomAt = 0
function freshRandom(): Buffer {
  if (randomAt + RANDOM_BYTES > randomPool.length) {
    randomPool = randomBytes(4096)
    randomAt = 0
  }
  randomAt += RANDOM_BYTES
  return randomPool.subarray(randomAt - RANDOM_BYTES, randomAt)
}

/** Encrypts `message` for `appId` as WeChat does; `random` (16 bytes) is for known-answer tests. */
export function encryptPush(encodingAesKey: string, message: string, appId: string, random: Buffer = freshRandom()): string {
  if (random.length !== RANDOM_BYTES) throw new RangeError(`random 应为 ${RANDOM_BYTES} 字节`)
  const { key, iv } = keyOf(encodingAesKey)
  const body = Buffer.from(message, 'utf8')
  const length = Buffer.alloc(LENGTH_BYTES)
  length.writeUInt32BE(body.length)
  const plain = Buffer.concat([random, length, body, Buffer.from(appId, 'utf8')])
  const pad = PAD_BLOCK - (plain.length % PAD_BLOCK)
  const cipher = createCipheriv('aes-256-cbc', key, iv)
  cipher.setAutoPadding(false)
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64')
}

/** Opens an `Encrypt` value: the message and the AppID it was made for. Throws PushCryptoError. */
export function decryptPush(encodingAesKey: string, encrypted: string): { message: string; appId: string } {
  const { key, iv } = keyOf(encodingAesKey)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted)) throw new PushCryptoError('Encrypt 不是 base64')
  const data = Buffer.from(encrypted, 'base64')
  if (data.length === 0 || data.length % 16 !== 0) throw new PushCryptoError('Encrypt 的长度不是 AES 块的整数倍')
  const decipher = createDecipheriv('aes-256-cbc', key, iv)
  decipher.setAutoPadding(false)
  const plain = Buffer.concat([decipher.update(data), decipher.final()])
  const pad = plain[plain.length - 1]!
  if (pad < 1 || pad > PAD_BLOCK || pad > plain.length || !plain.subarray(plain.length - pad).every((byte) => byte === pad)) {
    throw new PushCryptoError('解密后的填充不正确（EncodingAESKey 可能与微信后台的不一致）')
  }
  const content = plain.subarray(0, plain.length - pad)
  if (content.length < RANDOM_BYTES + LENGTH_BYTES) throw new PushCryptoError('解密后的内容太短')
  const length = content.readUInt32BE(RANDOM_BYTES)
  const start = RANDOM_BYTES + LENGTH_BYTES
  if (length > content.length - start) throw new PushCryptoError('解密后的消息长度不正确（EncodingAESKey 可能与微信后台的不一致）')
  return {
    message: content.subarray(start, start + length).toString('utf8'),
    appId: content.subarray(start + length).toString('utf8'),
  }
}
