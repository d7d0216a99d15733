/**
 * `npm run server` as a person starts it, in a child process: sandbox mode without ADMIN_API_KEY.
 * The admin key goes to a file beside the database (mode 0600) and is reused on the next start;
 * stdout and stderr name that file and never contain the key, not even after requests that carry it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
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
