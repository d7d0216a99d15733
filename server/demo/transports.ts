/** The two ways the seed reaches the service: in process (`app.inject`, the first start) and over HTTP (`npm run seed`). */
import type { FastifyInstance } from 'fastify'
import { request as httpRequest, type Dispatcher } from 'undici'
import type { SeedRequest, SeedTransport } from './seed'

function headersOf(request: SeedRequest): Record<string, string> {
  const headers: Record<string, string> = {}
  if (request.body !== undefined) headers['content-type'] = 'application/json'
  if (request.bearer !== undefined) headers.authorization = `Bearer ${request.bearer}`
  return headers
}

const parsed = (text: string): unknown => (text === '' ? null : (JSON.parse(text) as unknown))

export function injectTransport(app: FastifyInstance): SeedTransport {
  return async (request) => {
    const reply = await app.inject({
      method: request.method,
      url: request.path,
      headers: headersOf(request),
      ...(request.body !== undefined && { payload: JSON.stringify(request.body) }),
    })
    return { status: reply.statusCode, body: parsed(reply.body) }
  }
}

/** Requests to `baseUrl` (`http://127.0.0.1:8080`), without an Origin header: the sandbox's origin guard lets them through as any script. */
export function httpTransport(baseUrl: string, dispatcher?: Dispatcher): SeedTransport {
  return async (request) => {
    const reply = await httpRequest(new URL(request.path, baseUrl), {
      method: request.method,
      headers: headersOf(request),
      ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
      ...(dispatcher && { dispatcher }),
    })
    return { status: reply.statusCode, body: parsed(await reply.body.text()) }
  }
}
