/**
 * `npm run server` as a person starts it, in a child process: sandbox mode without ADMIN_API_KEY.
 * The admin key goes to a file beside the database (mode 0600) and is reused on the next start;
 * stdout and stderr name that file and never contain the key, not even after requests that carry it.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const tsx = join(root, 'node_modules/.bin/tsx')

/** A port nobody listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

interface Run {
  /** stdout and stderr together, as a terminal or a log collector gets them. */
  output: () => string
  url: string
  stop(): Promise<number | null>
}

/** Starts server.ts and resolves once it says it is running. */
async function startServer(env: Record<string, string>): Promise<Run> {
  const port = await freePort()
  const child = spawn(tsx, ['server/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SEED_USERS: '0', ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8')
      if (output.includes('uni-subscribe is running')) resolve()
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    void exited.then((code) => reject(new Error(`server.ts exited (${String(code)}) before it was running:\n${output}`)))
  })
  return {
    output: () => output,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
  }
}

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
