/**
 * WeChat's push cryptography against known answers. The vectors were computed once with Node's
 * crypto alone (createCipheriv('aes-256-cbc') with the padding off and PKCS#7 to 32 bytes done by
 * hand, createHash('sha1')), apart from server/wechat/push/crypto.ts, and are kept here as text. The
 * first is also the figure WxJava's WxCryptUtilTest publishes for the same inputs.
 */
import { describe, expect, it } from 'vitest'
import { PushCryptoError, decryptPush, encryptPush, pushSignature, signatureMatches } from '../../../server/wechat/push/crypto'

/** WxJava's vector: key, AppID, random and message as its test has them. */
const WXJAVA = {
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wxb11529c136998cb6',
  random: 'aaaabbbbccccdddd',
  message: '我是中文abcd123',
  encrypted: 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
}

/** A popup event, encrypted for this project's sandbox AppID, with its msg_signature. */
const POPUP = {
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wx5a4db0c0ffee0000',
  random: '0123456789abcdef',
  token: 'Kav0Token0123',
  timestamp: '1764648000',
  nonce: 'n0nce42',
  message:
    '<xml><ToUserName><![CDATA[gh_3f2b1c0ffee0]]></ToUserName><FromUserName><![CDATA[oKav0000000000000000000000aa]]></FromUserName>' +
    '<CreateTime>1764648000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>' +
    '<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[oy3ZKav0TemplateForTheVector]]></TemplateId>' +
    '<SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>',
  encrypted:
    'Q3stYC6hdFzMh9T8HCvyDLPzygMCtjztTZFH1V2jZiV5ujPppMUT9cxJzmWUCDg1edDb5CON+Jgml656psSNCliX9aV+gIE+G//4MUz2TGqsm0aAiKxNsz8oN0nYgKDQ1YNSQJao1jHuVykLaSIsVwjRSDL7NHB2lSh8IWh60tAvtcIqG/ABSeeWIo4rMxS5UMdv51S49WUjjijAJzJuEGV0cP7yvPLnYqCiRViyL0PZxrZ5CyZI/LaAlL8OD5EpfUt0NWqQmkr9eWgRHPSU9pIyBRQCAkFUBIqMFPqP8LWimYiODhYB8ILOwBqZjwhzZNcjpXeibi2hQ1dLpx4f7diFz1ieiW4sNyQNvR5k0vH7bLhMXmtEwVsJffEFtM8XAMZIbIYOgZyjUeXYg8La+Yv50J8Td5kT1nFtIhQhYUXPAbclcOgr6n8+VYtrmzKZq4d+Tl44OFBMVcyteBe7yn8Jlvi7V8bElhqFSqhR+lIfQqiRnNHI3tpqez7F+Mi9MHW07nVmjOyIBBu43ePT/5trB0SzKKWyE6cseMYbJoG6b/lVajuWbBl2pefTnws670DUQAVL8SEehhLVRzbmg32ovKETX/q5gyod0xuiQxWvj65xnHxfgZi67zu2h87zdjroCCdgP2U0r2F9yUuZCzkuRF5lhTLtxR91unBTccI=',
  msgSignature: '6b0aa02ef16427de581ae004bfabe8f7d3b3bb01',
  signature: 'dced58361927f544eb1ba974cba9defba05c8eba',
}

describe('push cryptography, known answers', () => {
  it('encrypts as WeChat does (WxJava\'s published vector) and decrypts it back with the AppID', () => {
    expect(encryptPush(WXJAVA.aesKey, WXJAVA.message, WXJAVA.appId, Buffer.from(WXJAVA.random))).toBe(WXJAVA.encrypted)
    expect(decryptPush(WXJAVA.aesKey, WXJAVA.encrypted)).toEqual({ message: WXJAVA.message, appId: WXJAVA.appId })
  })

  it('a popup event: the ciphertext, its msg_signature and the URL signature', () => {
    expect(encryptPush(POPUP.aesKey, POPUP.message, POPUP.appId, Buffer.from(POPUP.random))).toBe(POPUP.encrypted)
    expect(decryptPush(POPUP.aesKey, POPUP.encrypted)).toEqual({ message: POPUP.message, appId: POPUP.appId })
    expect(pushSignature(POPUP.token, POPUP.timestamp, POPUP.nonce, POPUP.encrypted)).toBe(POPUP.msgSignature)
    expect(pushSignature(POPUP.token, POPUP.timestamp, POPUP.nonce)).toBe(POPUP.signature)
    // The order of the parts does not matter: they are sorted. sha1("abc"), as silenceper/wechat's test has it.
    expect(pushSignature('c', 'a', 'b')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d')
  })

  it('a signature matches only itself', () => {
    expect(signatureMatches(POPUP.msgSignature, POPUP.token, POPUP.timestamp, POPUP.nonce, POPUP.encrypted)).toBe(true)
    expect(signatureMatches(POPUP.msgSignature.toUpperCase(), POPUP.token, POPUP.timestamp, POPUP.nonce, POPUP.encrypted)).toBe(false)
    expect(signatureMatches(POPUP.signature, POPUP.token, POPUP.timestamp, POPUP.nonce, POPUP.encrypted)).toBe(false)
    expect(signatureMatches('', POPUP.token, POPUP.timestamp, POPUP.nonce)).toBe(false)
  })

  it('pads to 32 bytes: a plaintext of exactly 32 bytes gets a whole block of padding', () => {
    // 16 random + 4 length + 9 message + 3 AppID = 32 bytes, so 32 bytes of padding (value 32): 64 in all.
    const encrypted = encryptPush(WXJAVA.aesKey, 'message09', 'wx1', Buffer.alloc(16, 7))
    expect(Buffer.from(encrypted, 'base64')).toHaveLength(64)
    expect(decryptPush(WXJAVA.aesKey, encrypted)).toEqual({ message: 'message09', appId: 'wx1' })
  })

  it.each([
    ['another key', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg', WXJAVA.encrypted],
    ['not base64', WXJAVA.aesKey, 'not*base64'],
    ['not whole blocks', WXJAVA.aesKey, WXJAVA.encrypted.slice(0, 40)],
  ])('refuses what does not decrypt (%s)', (_case, key, encrypted) => {
    expect(() => decryptPush(key, encrypted)).toThrow(PushCryptoError)
  })
})
