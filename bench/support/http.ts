/** JSON over HTTP to the service (or the sandbox) with undici: a Pool, the expected status checked. */
import { Pool, request } from 'undici'

export class UnexpectedAnswer extends Error {
  override readonly name = 'UnexpectedAnswer'
}

export interface HttpClient {
  /** `authorization` (a session token or the admin key) defaults to the client's own. */
  call<T>(method: 'POST' | 'PUT' | 'GET', path: string, expected: number, body?: unknown, authorization?: string): Promise<T>
  close(): Promise<void>
}

export function httpClient(base: string, connections: number, bearer?: string): HttpClient {
  const dispatcher = new Pool(base, { connections, pipelining: 1 })
  return {
    async call<T>(method: 'POST' | 'PUT' | 'GET', path: string, expected: number, body?: unknown, authorization = bearer): Promise<T> {
      const headers: Record<string, string> = {}
      if (body !== undefined) headers['content-type'] = 'application/json'
      if (authorization !== undefined) headers.authorization = `Bearer ${authorization}`
      const response = await request(`${base}${path}`, {
        dispatcher,
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      })
      const text = await response.body.text()
      if (response.statusCode !== expected) {
        throw new UnexpectedAnswer(`${method} ${path} 应返回 ${expected}，实际 ${response.statusCode}：${text.slice(0, 300)}`)
      }
      return JSON.parse(text) as T
    },
    close: () => dispatcher.close(),
  }
}
