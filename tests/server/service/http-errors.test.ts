/**
 * Every answer is the contract's ErrorBody with a Chinese message, including those Fastify and Node
 * would give themselves: bad percent-encoding, a wrong method, non-JSON bodies, refused JSON keys,
 * invalid UTF-8, and (on a real socket) requests Node's HTTP parser refuses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ORDER_STATUS, adminHeaders, errorOf, signIn, startFakeService, testConfig, type FakeService } from '../support/service'

let service: FakeService
let alice: { authorization: string; openid: string; token: string }

beforeEach(async () => {
  service = await startFakeService({
    config: testConfig({ WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef' }),
  })
  alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
})
afterEach(async () => service.close())

const json = { 'content-type': 'application/json' }

describe('paths and methods', () => {
  it('with the H5 app served, a page address without its hash is sent to the same page with it; other unknown paths stay JSON 404', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uni-subscribe-h5-'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>uni-subscribe</title>')
    const withApp = await startFakeService({ extra: { staticDir: dir } })
    try {
      const page = await withApp.app.inject({ method: 'GET', url: '/pages/orders/detail?id=o-1&from=mail' })
      expect(page.statusCode).toBe(302)
      expect(page.headers.location).toBe('/#/pages/orders/detail?id=o-1&from=mail')
      expect((await withApp.app.inject({ method: 'HEAD', url: '/pages/nope' })).headers.location).toBe('/#/pages/nope')
      const index = await withApp.app.inject({ method: 'GET', url: '/' })
      expect([index.statusCode, index.body]).toEqual([200, '<!doctype html><title>uni-subscribe</title>'])
      expect(errorOf(await withApp.app.inject({ method: 'GET', url: '/api/nothing' }), 404)).toEqual({ code: 'NOT_FOUND', message: '没有这个接口：GET /api/nothing' })
    } finally {
      await withApp.close()
      rmSync(dir, { recursive: true, force: true })
    }
    // Without the H5 app there is no page to send it to.
    expect(errorOf(await service.app.inject({ method: 'GET', url: '/pages/orders/index' }), 404)).toEqual({ code: 'NOT_FOUND', message: '没有这个接口：GET /pages/orders/index' })
  })

  it('a path with bad percent-encoding is 400 BAD_REQUEST in Chinese, not Fastify’s FST_ERR_BAD_URL', async () => {
    const reply = await service.app.inject({ method: 'GET', url: '/api/me/%zz?limit=1' })
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(errorOf(reply, 400)).toEqual({
      code: 'BAD_REQUEST',
      message: '请求路径中的百分号编码不合法（% 后应为两位十六进制数字，解码后应为合法的 UTF-8）：/api/me/%zz',
    })
    expect(reply.body).not.toContain('FST_ERR')
  })

  it('a method the path does not have is 405 with Allow listing the ones it has', async () => {
    const cases = [
      ['PUT', '/api/templates', 'GET, HEAD, POST', 'GET、HEAD、POST'],
      ['GET', '/api/consents', 'POST', 'POST'],
      ['POST', '/api/me/preferences', 'GET, HEAD, PUT', 'GET、HEAD、PUT'],
      ['PATCH', '/api/messages/m-1?x=1', 'GET, HEAD', 'GET、HEAD'],
      ['OPTIONS', '/healthz', 'GET, HEAD', 'GET、HEAD'],
    ] as const
    for (const [method, url, allow, listed] of cases) {
      const reply = await service.app.inject({ method, url })
      expect(reply.headers.allow, `${method} ${url}`).toBe(allow)
      expect(errorOf(reply, 405)).toEqual({
        code: 'METHOD_NOT_ALLOWED',
        message: `${url.split('?')[0]} 不支持 ${method} 请求，只支持 ${listed}`,
      })
    }
  })

  it('a path no method has is still 404', async () => {
    const reply = await service.app.inject({ method: 'DELETE', url: '/api/nothing' })
    expect(reply.headers.allow).toBeUndefined()
    expect(errorOf(reply, 404)).toEqual({ code: 'NOT_FOUND', message: '没有这个接口：DELETE /api/nothing' })
  })
})

describe('request bodies', () => {
  it('text/plain (which a browser sends across origins without asking) is 415, not a string for the schema', async () => {
    const reply = await service.app.inject({ method: 'POST', url: '/api/session', payload: '{"code":"x"}', headers: { 'content-type': 'text/plain' } })
    expect(errorOf(reply, 415)).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: '只接受 application/json 请求体，收到的是 text/plain' })
    const form = await service.app.inject({ method: 'POST', url: '/api/session', payload: 'code=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(errorOf(form, 415).message).toBe('只接受 application/json 请求体，收到的是 application/x-www-form-urlencoded')
    const none = await service.app.inject({ method: 'POST', url: '/api/session', payload: Buffer.from('{"code":"x"}'), headers: { 'content-type': '' } })
    expect(errorOf(none, 415).message).toBe('只接受 application/json 请求体，这个请求没有声明 Content-Type')
  })

  it('JSON with a charset parameter is still JSON', async () => {
    const code = service.wechat.issueCode('bob')
    const reply = await service.app.inject({ method: 'POST', url: '/api/session', payload: JSON.stringify({ code }), headers: { 'content-type': 'application/json; charset=utf-8' } })
    expect(reply.statusCode).toBe(200)
  })

  it('a __proto__ or constructor.prototype key is refused by name and place, not as “not JSON”', async () => {
    const post = (payload: string) => service.app.inject({ method: 'POST', url: '/api/session', payload, headers: json })
    expect(errorOf(await post('{"code":"x","__proto__":{"admin":true}}'), 400)).toEqual({
      code: 'FORBIDDEN_KEY',
      message: '请求体含有不允许的键 __proto__',
      field: '__proto__',
    })
    // Escaped, it is the same key once parsed.
    expect(errorOf(await post('{"code":"x","\\u005f_proto__":{}}'), 400).field).toBe('__proto__')
    expect(errorOf(await post('{"code":"x","constructor":{"prototype":{"admin":true}}}'), 400)).toEqual({
      code: 'FORBIDDEN_KEY',
      message: '请求体含有不允许的键 constructor.prototype',
      field: 'constructor.prototype',
    })
    const nested = await service.app.inject({
      method: 'POST',
      url: '/api/messages',
      headers: { ...json, ...adminHeaders },
      payload: `{"touser":"${alice.openid}","templateId":"${ORDER_STATUS.id}","data":{"list":[1,{"__proto__":{}}]}}`,
    })
    expect(errorOf(nested, 400)).toEqual({ code: 'FORBIDDEN_KEY', message: '请求体含有不允许的键 data.list.1.__proto__', field: 'data.list.1.__proto__' })
    // A key named constructor without a prototype is just a key: the schema decides.
    expect(errorOf(await post('{"code":"x","constructor":1}'), 401).code).toBe('INVALID_CODE')
  })

  it('U+0000 in a key or a value is 400 naming its place, and nothing is written', async () => {
    const put = (payload: string) =>
      service.app.inject({ method: 'PUT', url: '/api/users/o-nul-test', payload, headers: { ...json, ...adminHeaders } })
    expect(errorOf(await put('{"tags":["vip","a\\u0000b"]}'), 400)).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'tags.1 含有空字符（U+0000），请删除后重试',
      field: 'tags.1',
    })
    expect(errorOf(await put('{"attributes":{"city":"上\\u0000海"}}'), 400).field).toBe('attributes.city')
    expect(errorOf(await put('{"attributes":{"ci\\u0000ty":"上海"}}'), 400).field).toBe('attributes.ci\u0000ty')
    expect((await service.app.inject({ method: 'GET', url: '/api/users/o-nul-test', headers: adminHeaders })).statusCode).toBe(404)
    // Written as an escape of the backslash, it is two ordinary characters.
    expect((await put('{"attributes":{"note":"a\\\\u0000b"}}')).statusCode).toBe(200)
  })

  it('bytes that are not UTF-8 are said to be so, not a Content-Length mismatch', async () => {
    const payload = Buffer.concat([Buffer.from('{"code":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])
    const reply = await service.app.inject({ method: 'POST', url: '/api/session', payload, headers: json })
    expect(errorOf(reply, 400)).toEqual({ code: 'MALFORMED_JSON', message: '请求体不是合法的 UTF-8' })
  })

  it('an empty JSON body and a real Content-Length mismatch keep their own messages', async () => {
    const empty = await service.app.inject({ method: 'POST', url: '/api/session', payload: '', headers: json })
    expect(errorOf(empty, 400)).toEqual({ code: 'MALFORMED_JSON', message: '请求体为空，但声明了 application/json' })
    const short = await service.app.inject({ method: 'POST', url: '/api/session', payload: '{"code":"x"}', headers: { ...json, 'content-length': '40' } })
    expect(errorOf(short, 400)).toEqual({ code: 'BAD_REQUEST', message: 'Content-Length 与请求体长度不符' })
  })

  it('a body over the limit says the limit', async () => {
    const reply = await service.app.inject({ method: 'POST', url: '/api/session', payload: JSON.stringify({ code: 'x'.repeat(70_000) }), headers: json })
    expect(errorOf(reply, 413)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: '请求体太大：最多 64 KiB' })
  })
})

describe('validation of a union', () => {
  const send = (data: unknown) =>
    service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: ORDER_STATUS.id, data } })

  it('names the rule of the branch the value has the shape of', async () => {
    expect(errorOf(await send({ thing1: 'x'.repeat(201) }), 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'data.thing1', message: 'data.thing1: 最多 200 个字符' })
    expect(errorOf(await send({ thing1: { value: 'x'.repeat(201) } }), 400)).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'data.thing1.value',
      message: 'data.thing1.value: 最多 200 个字符',
    })
    expect(errorOf(await send({ thing1: {} }), 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'data.thing1.value', message: 'data.thing1.value: 缺少这个字段' })
    expect(errorOf(await send({ thing1: { value: 7 } }), 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'data.thing1.value', message: 'data.thing1.value: 应为字符串' })
  })

  it('lists the shapes when the value has none of them', async () => {
    expect(errorOf(await send({ thing1: 7 }), 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'data.thing1', message: 'data.thing1: 应为对象或字符串' })
  })
})

describe('on a real socket', () => {
  async function listening(): Promise<number> {
    const address = await service.app.listen({ port: 0, host: '127.0.0.1' })
    return Number(new URL(address).port)
  }

  /** Writes `request` on a fresh connection; resolves with everything read until the server closes it. */
  function exchange(port: number, request: string | Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(request))
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.on('error', reject)
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
    })
  }

  function parse(raw: string): { status: string; headers: Record<string, string>; body: unknown } {
    const [head = '', body = ''] = raw.split('\r\n\r\n')
    const [status = '', ...lines] = head.split('\r\n')
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
    expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body))
    return { status, headers, body: JSON.parse(body) }
  }

  it('a request Node cannot parse gets a raw HTTP/1.1 400 with an ErrorBody, and the connection closes', async () => {
    const port = await listening()
    const answer = parse(await exchange(port, 'THIS IS NOT HTTP\r\n\r\n'))
    expect(answer.status).toBe('HTTP/1.1 400 Bad Request')
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(answer.headers.connection).toBe('close')
    expect(answer.body).toEqual({ error: { code: 'BAD_REQUEST', message: '请求不是合法的 HTTP/1.1 请求，连接已关闭' } })
    expect(service.logs.join('')).toContain('malformed request refused')
  })

  it('headers over Node’s limit are 431 with an ErrorBody', async () => {
    const port = await listening()
    const answer = parse(await exchange(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`))
    expect(answer.status).toBe('HTTP/1.1 431 Request Header Fields Too Large')
    expect(answer.body).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: '请求头太大：所有请求头加起来最多 16 KiB，连接已关闭' } })
  })

  it('bad percent-encoding and a header secret: the log keeps neither the raw packet nor the token', async () => {
    const port = await listening()
    const raw = await exchange(port, `GET /api/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${alice.token}\r\nConnection: close\r\n\r\n`)
    expect(raw.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true)
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'BAD_REQUEST', message: '请求路径中的百分号编码不合法（% 后应为两位十六进制数字，解码后应为合法的 UTF-8）：/api/%E0%A4%A' },
    })
    // A header name Node's parser refuses: a clientError whose raw packet holds the token.
    const refused = parse(await exchange(port, `GET /healthz HTTP/1.1\r\nAuthorization: Bearer ${alice.token}\r\nX-Bad\u0001: 1\r\n\r\n`))
    expect(refused.body).toEqual({ error: { code: 'BAD_REQUEST', message: '请求不是合法的 HTTP/1.1 请求，连接已关闭' } })
    expect(service.logs.join('')).toContain('"code":"HPE_INVALID_HEADER_TOKEN"')
    expect(service.logs.join('')).not.toContain(alice.token)
  })
})
