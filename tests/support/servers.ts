/**
 * Throwaway PostgreSQL and Redis servers for a test run: real Debian packages, started on free loopback
 * ports in temporary folders, stopped at the end. No mocks of either engine.
 *
 * `tests/support/servers.global.ts` starts one of each per run and hands their URLs to the `multi`
 * project; a test file then takes a database of its own (`createDatabase`) and a Redis key prefix of its
 * own (`uniquePrefix`), so files never see each other's data.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

const POSTGRES_BIN = '/usr/lib/postgresql/15/bin'
const REDIS_SERVER = '/usr/bin/redis-server'
const REDIS_CLI = '/usr/bin/redis-cli'

/** What the machine has: the `multi` project runs only where both are installed. */
export function serversInstalled(): { postgres: boolean; redis: boolean } {
  return {
    postgres: existsSync(join(POSTGRES_BIN, 'initdb')) && existsSync(join(POSTGRES_BIN, 'pg_ctl')),
    redis: existsSync(REDIS_SERVER) && existsSync(REDIS_CLI),
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface RunningServer {
  url: string
  stop(): Promise<void>
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0

/** PostgreSQL refuses to run as root: as root the cluster is the `postgres` user's. */
async function asPostgresUser(command: string, args: string[]): Promise<void> {
  if (!isRoot) {
    await run(command, args)
    return
  }
  const quoted = [command, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ')
  await run('su', ['postgres', '-s', '/bin/sh', '-c', quoted])
}

/** initdb into a temporary folder, then a server on a free port with fsync off (a test run's data is thrown away). */
export async function startPostgres(): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'uni-subscribe-pg-'))
  if (isRoot) {
    const owner = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    const group = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
    await chown(dir, Number(owner.stdout.trim()), Number(group.stdout.trim()))
  }
  await chmod(dir, 0o700)
  const data = join(dir, 'data')
  const port = await freePort()
  await asPostgresUser(join(POSTGRES_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale'])
  const options = [
    `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=off',
    '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=300',
  ].join(' ')
  await asPostgresUser(join(POSTGRES_BIN, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'])
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await asPostgresUser(join(POSTGRES_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** redis-server on a free port, nothing persisted. */
export async function startRedis(): Promise<RunningServer> {
  const port = await freePort()
  await run(REDIS_SERVER, [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
    '--dir', tmpdir(), '--logfile', '',
  ])
  // --daemonize returns before the socket accepts: wait for PONG.
  for (let attempt = 0; ; attempt++) {
    const ping = await run(REDIS_CLI, ['-p', String(port), 'ping']).then((r) => r.stdout.trim(), () => '')
    if (ping === 'PONG') break
    if (attempt > 100) throw new Error(`redis-server on port ${port} did not answer PING`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await run(REDIS_CLI, ['-p', String(port), 'shutdown', 'nosave']).catch(() => undefined)
    },
  }
}

/** A fresh, empty database on the run's server, for one test file (or one test). */
export async function createDatabase(serverUrl: string, label = 'test'): Promise<string> {
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`
  const url = new URL(serverUrl)
  await run(join(POSTGRES_BIN, 'psql'), [
    '-h', url.hostname, '-p', url.port, '-U', url.username || 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1',
    '-q', '-c', `CREATE DATABASE ${name}`,
  ])
  url.pathname = `/${name}`
  return url.toString()
}

/** A key prefix of its own on the run's Redis, for one test file (or one test). */
export function uniquePrefix(label = 'test'): string {
  return `${label}-${randomBytes(4).toString('hex')}`
}
