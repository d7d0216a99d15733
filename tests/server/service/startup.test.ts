/**
 * `npm run server` as a person starts it, in a child process: sandbox mode without ADMIN_API_KEY.
 * The admin key goes to a file beside the database (mode 0600) and is reused on the next start;
 * stdout and stderr name that file and never contain the key, not even after requests that carry it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterEach, describe, expect, it } from 'vitest'
import { SERVER_BUNDLE, SERVER_BUNDLE_OPTIONS } from '../../../scripts/build-server'
import { startServiceProcess as startServer } from '../support/service-process'

const directories: string[] = []
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

describe('server.ts without ADMIN_API_KEY', () => {
  it('keeps the admin key in a 0600 file beside the database, prints only its path, and reuses it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'uni-subscribe-start-'))
    directories.push(directory)
    const database = join(directory, 'data', 'us.db')
    const keyFile = join(directory, 'data', 'admin-api-key')

    const first = await startServer({ DATABASE: database })
    const key = readFileSync(keyFile, 'utf8').trim()
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    // The key works, and the request that carries it is logged without it.
    const stats = await fetch(`${first.url}/api/stats`, { headers: { authorization: `Bearer ${key}` } })
    expect(stats.status).toBe(200)
    const guess = await fetch(`${first.url}/api/stats`, { headers: { authorization: `Bearer ${key.slice(0, 20)}-wrong-guess` } })
    expect(guess.status).toBe(403)
    expect(await first.stop()).toBe(0)
    expect(first.output()).toContain(`ADMIN_API_KEY not set: admin key in ${keyFile}`)
    expect(first.output()).toContain('"url":"/api/stats"')
    expect(first.output()).not.toContain(key)
    expect(first.output()).not.toContain(key.slice(0, 20))

    const second = await startServer({ DATABASE: database })
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(key)
    expect((await fetch(`${second.url}/api/stats`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    expect(await second.stop()).toBe(0)
    expect(second.output()).toContain(`ADMIN_API_KEY not set: admin key in ${keyFile}`)
    expect(second.output()).not.toContain(key)
  }, 60_000)
})

describe('the service compiled ahead (npm run build:server, as npm start runs it)', () => {
  it('starts under plain node from dist/server/server.mjs, finds pages.json, signs a person in and answers the admin API', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'uni-subscribe-bundle-'))
    directories.push(directory)
    await build({ ...SERVER_BUNDLE_OPTIONS, entryPoints: ['server/server.ts'], outfile: SERVER_BUNDLE })
    const server = await startServer({ DATABASE: join(directory, 'us.db'), ADMIN_API_KEY: 'bundle-test-admin-key-0123' }, undefined, { script: SERVER_BUNDLE })
    const { code } = (await (await fetch(`${server.url}/sandbox/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"bundle"}' })).json()) as { code: string }
    const session = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })
    expect(session.status).toBe(200)
    expect(((await session.json()) as { openid: string }).openid).toMatch(/^o/)
    // The send page is checked against pages.json, which the bundle reads from the project folder.
    const send = await fetch(`${server.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bundle-test-admin-key-0123' },
      body: JSON.stringify({ touser: 'o-nobody', templateId: 'order_status', data: {}, page: 'pages/nope/index' }),
    })
    expect(send.status).toBe(400)
    expect(((await send.json()) as { error: { code: string } }).error.code).toBe('INVALID_PAGE')
    expect(await server.stop()).toBe(0)
  }, 60_000)
})
