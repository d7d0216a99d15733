/**
 * The sandbox's HTTP side: a loopback server that routes WeChat's paths to the sandbox's parts and
 * answers as WeChat does (HTTP 200 and JSON; 44002 / 47001 for a body it cannot read). A fault can
 * delay the answer, drop the connection or answer 502 instead. Bodies are JSON, or form-urlencoded
 * where WeChat asks for that (addtemplate).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fail, type WeChatAnswer } from './answers'

const MAX_BODY_BYTES = 1_048_576

/** What a route answers: WeChat's JSON, or a transport failure. */
export type RouteAnswer = WeChatAnswer | 'reset' | 502

export interface SandboxRequest {
  query: URLSearchParams
  /** The JSON body (POST); throws a BadRequest answer when it cannot be read. */
  json(): Promise<Record<string, unknown>>
  /** The form-urlencoded body (POST), or null when the request is not `application/x-www-form-urlencoded`. */
  form(): Promise<URLSearchParams | null>
}

export type SandboxRoutes = Record<string, (request: SandboxRequest) => RouteAnswer | Promise<RouteAnswer>>

/** Raised inside a route when the request cannot even be read. */
class BadRequest extends Error {
  constructor(readonly answer: WeChatAnswer) {
    super(answer.errmsg)
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > MAX_BODY_BYTES) throw new BadRequest(fail(44002, 'empty post data or post data too long'))
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams | null> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return null
  return new URLSearchParams((await readBody(request)).toString('utf8'))
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(request)
  if (body.length === 0) throw new BadRequest(fail(44002, 'empty post data'))
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw new BadRequest(fail(47001, 'data format error'))
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadRequest(fail(47001, 'data format error'))
  return parsed as Record<string, unknown>
}

export interface SandboxServer {
  listen(host: string): Promise<string>
  close(): Promise<void>
}

/** `routes` keyed `METHOD /path`; `latencyMs` is read per answer. */
export function createSandboxServer(routes: SandboxRoutes, latencyMs: () => number): SandboxServer {
  let server: Server | null = null
  let url = ''

  async function answer(request: IncomingMessage): Promise<RouteAnswer> {
    const requestUrl = new URL(request.url ?? '/', 'http://sandbox')
    const route = routes[`${request.method ?? 'GET'} ${requestUrl.pathname}`]
    if (!route) return fail(40066, 'invalid url')
    try {
      return await route({ query: requestUrl.searchParams, json: () => readJson(request), form: () => readForm(request) })
    } catch (error) {
      if (error instanceof BadRequest) return error.answer
      throw error
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const result = await answer(request)
    const delay = latencyMs()
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
    if (result === 'reset') {
      request.socket.destroy()
      return
    }
    if (result === 502) {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>')
      return
    }
    const body = JSON.stringify(result)
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body)
  }

  return {
    async listen(host) {
      if (server) return url
      const created = createServer({ keepAlive: true }, (request, response) => {
        handle(request, response).catch((error: unknown) => {
          // A bug in the sandbox itself: answer 500 so the caller sees a transport failure.
          response.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error))
        })
      })
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject)
        created.listen(0, host, () => resolve())
      })
      server = created
      const address = created.address() as AddressInfo
      url = `http://${address.address}:${address.port}`
      return url
    },
    async close() {
      const closing = server
      if (!closing) return
      server = null
      await new Promise<void>((resolve, reject) => {
        closing.close((error) => (error ? reject(error) : resolve()))
        closing.closeAllConnections()
      })
    },
  }
}
