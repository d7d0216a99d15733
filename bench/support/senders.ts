/**
 * The same send (`subscribeMessage.send` of one message) made three ways, for the reference rows:
 * the bare undici Pool (one request and its JSON read, nothing else: the ceiling), and the peer SDK,
 * node-easywechat 3.6.2 (axios underneath), pointed at the sandbox with `http: { baseURL }`. The
 * peer gets its best case: the access token kept in memory (its default keeps it in a file it reads
 * on every call), the stable token (as the service uses: no other caller's token is replaced), and a
 * keep-alive agent with as many sockets as the Pool has connections.
 */
import { Agent } from 'node:http'
import { MiniApp, type CacheInterface } from 'node-easywechat'
import { Pool } from 'undici'
import type { SubscribeMessage } from '../../server/wechat/types'

/** One send; resolves whether WeChat answered errcode 0. */
export interface Sender {
  send(): Promise<boolean>
  close(): Promise<void>
}

export function barePoolSender(options: { baseUrl: string; connections: number; accessToken: string; message: SubscribeMessage }): Sender {
  const pool = new Pool(options.baseUrl, { connections: options.connections, pipelining: 1 })
  const path = `/cgi-bin/message/subscribe/send?access_token=${encodeURIComponent(options.accessToken)}`
  const body = JSON.stringify(options.message)
  return {
    async send() {
      const response = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const answer = JSON.parse(await response.body.text()) as { errcode?: unknown }
      return response.statusCode === 200 && answer.errcode === 0
    },
    close: () => pool.close(),
  }
}

/** node-easywechat's CacheInterface in memory (lifetimes in seconds, as it gives them). */
class MemoryCache implements CacheInterface {
  private readonly entries = new Map<string, { data: unknown; expiresAt: number }>()

  private live(key: string): { data: unknown } | undefined {
    const entry = this.entries.get(key)
    if (entry && entry.expiresAt <= Date.now()) this.entries.delete(key)
    return this.entries.get(key)
  }

  async get(key: string): Promise<unknown> {
    return this.live(key)?.data ?? null
  }

  async has(key: string): Promise<boolean> {
    return this.live(key) !== undefined
  }

  async set(key: string, data?: unknown, lifetime = 0): Promise<boolean> {
    this.entries.set(key, { data, expiresAt: lifetime > 0 ? Date.now() + lifetime * 1000 : Number.POSITIVE_INFINITY })
    return true
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key)
  }
}

export function easyWeChatSender(options: { baseUrl: string; connections: number; appId: string; secret: string; message: SubscribeMessage }): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
  const app = new MiniApp({
    app_id: options.appId,
    secret: options.secret,
    use_stable_access_token: true,
    http: { baseURL: `${options.baseUrl}/`, httpAgent: agent, throw: false },
  })
  app.setCache(new MemoryCache())
  const client = app.getClient()
  return {
    async send() {
      const response = await client.postJson('cgi-bin/message/subscribe/send', options.message)
      return response.toObject<{ errcode?: number }>().errcode === 0
    },
    async close() {
      agent.destroy()
    },
  }
}
