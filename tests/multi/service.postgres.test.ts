/**
 * `npm run server` on PostgreSQL: server/server.ts as a real process with DATABASE_URL (and the
 * built-in sandbox WeChat), asked over HTTP as the app and an operator ask it. A person signs in,
 * subscribes, an order message goes out, WeChat (the sandbox) receives exactly it, and the rows are in
 * PostgreSQL, not in a SQLite file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterEach, describe, expect, inject, it } from 'vitest'
import type { ConsentResponse, MessageOutcome, SessionResponse } from '../../src/domain/contract'
import type { ReceivedList } from '../../src/domain/console-contract'
import { freePort, startServiceProcess, type ServiceProcess } from '../server/support/service-process'
import { templateByKey } from '../support/templates'
import { createDatabase } from '../support/servers'

const ADMIN_KEY = 'postgres-test-admin-key-0123456789'
const ORDER_STATUS = templateByKey('order_status')
const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
const running: ServiceProcess[] = []
const directories: string[] = []

afterEach(async () => {
  for (const service of running.splice(0)) await service.kill()
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

async function json<T>(response: Response): Promise<T> {
  expect(response.status, await response.clone().text()).toBeLessThan(300)
  return (await response.json()) as T
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i += 1) {
    const value = await read()
    if (done(value)) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`gave up waiting: ${what}`)
}

/** The run's server with a password in the address (trust auth accepts it): it must never be printed. */
async function databaseUrl(label: string): Promise<string> {
  const url = new URL(await createDatabase(inject('postgresUrl'), label))
  url.password = 'not-to-be-printed-7f3a'
  return url.toString()
}

describe('server.ts with DATABASE_URL', () => {
  it('serves a subscribe → send round trip on PostgreSQL, and stops cleanly', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'uni-subscribe-pg-service-'))
    directories.push(directory)
    const url = await databaseUrl('service')
    const sqliteFile = join(directory, 'unused.db')
    const service = await startServiceProcess({ DATABASE_URL: url, DATABASE: sqliteFile, ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT: 'off', PG_POOL_MAX: '4' })
    running.push(service)

    const { code } = await json<{ code: string }>(
      await fetch(`${service.url}/sandbox/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'pg-buyer' }) }),
    )
    const session = await json<SessionResponse>(
      await fetch(`${service.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) }),
    )
    const person = { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }
    const results = { [ORDER_STATUS.id]: 'accept' }
    await json(await fetch(`${service.url}/sandbox/subscriptions`, { method: 'POST', headers: person, body: JSON.stringify({ results }) }))
    const consent = await json<ConsentResponse>(
      await fetch(`${service.url}/api/consents`, { method: 'POST', headers: person, body: JSON.stringify({ consentId: 'pg-consent-1', results }) }),
    )
    expect(consent.credits).toEqual({ [ORDER_STATUS.id]: 1 })

    const data = { character_string1: 'PG20261125', phrase2: '已发货', thing3: '机械键盘', time4: '2026年11月25日 13:05', thing5: '包裹正在路上' }
    const queued = await json<MessageOutcome>(
      await fetch(`${service.url}/api/messages`, { method: 'POST', headers: admin, body: JSON.stringify({ touser: session.openid, templateId: 'order_status', data }) }),
    )
    const sent = await until(
      async () => json<{ status: string; msgid?: string }>(await fetch(`${service.url}/api/messages/${queued.id}`, { headers: admin })),
      (message) => message.status === 'sent' || message.status === 'failed',
      'the message was sent',
    )
    expect(sent.status).toBe('sent')

    const received = await json<ReceivedList>(await fetch(`${service.url}/sandbox/received`))
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({
      touser: session.openid,
      template_id: ORDER_STATUS.id,
      data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, { value }])),
      msgid: sent.msgid,
    })
    // WeChat got the keywords in the order written (a message's data is json, not jsonb).
    expect(Object.keys(received[0]?.data ?? {})).toEqual(Object.keys(data))

    // The rows are PostgreSQL's: the message sent, the credit spent, the person a user; no SQLite file made.
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const [message] = await sql<{ status: string; msgid: string }[]>`SELECT status, msgid FROM messages WHERE id = ${queued.id}`
      expect(message).toEqual({ status: 'sent', msgid: sent.msgid })
      const [subscription] = await sql<{ credits: number }[]>`SELECT credits FROM subscriptions WHERE openid = ${session.openid} AND template_id = ${ORDER_STATUS.id}`
      expect(subscription?.credits).toBe(0)
      const users = await sql<{ openid: string }[]>`SELECT openid FROM users`
      expect(users.map((user) => user.openid)).toEqual([session.openid])
    } finally {
      await sql.end()
    }
    expect(existsSync(sqliteFile)).toBe(false)

    expect(await service.stop()).toBe(0)
    running.splice(0)
    expect(service.output()).toContain('storage: PostgreSQL postgres://postgres@127.0.0.1:')
    expect(service.output()).not.toContain('not-to-be-printed-7f3a')
  })

  it('says in one line which database it could not open, without its password, and exits 1', async () => {
    const port = await freePort()
    const url = `postgres://postgres:not-to-be-printed-7f3a@127.0.0.1:${port}/nowhere`
    const failed = startServiceProcess({ DATABASE_URL: url, ADMIN_API_KEY: ADMIN_KEY })
    const error = await failed.then(
      () => null,
      (reason: unknown) => (reason instanceof Error ? reason.message : String(reason)),
    )
    expect(error).toContain('server.ts exited (1)')
    expect(error).toContain(`无法打开 PostgreSQL 数据库 postgres://postgres@127.0.0.1:${port}/nowhere（DATABASE_URL）：`)
    expect(error).toContain('ECONNREFUSED')
    expect(error).not.toContain('not-to-be-printed-7f3a')
    expect(error).not.toMatch(/\n\s+at /)
  })

  it('refuses a DATABASE_URL that is not a PostgreSQL address, without echoing it', async () => {
    const error = await startServiceProcess({ DATABASE_URL: 'mysql://root:hunter2@db/x', ADMIN_API_KEY: ADMIN_KEY }).then(
      () => null,
      (reason: unknown) => (reason instanceof Error ? reason.message : String(reason)),
    )
    expect(error).toContain('server.ts exited (78)')
    expect(error).toContain('配置错误：环境变量 DATABASE_URL 应为 PostgreSQL 连接地址')
    expect(error).not.toContain('hunter2')
  })
})
