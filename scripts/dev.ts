/**
 * `npm run dev`: the send service (SQLite + sandbox WeChat, as `npm start` runs it, without the built
 * H5 app) and uni's H5 dev server with hot reload beside it. The page calls the service across
 * origins: the dev server gets VITE_API_BASE = the service, the service gets CORS_ORIGINS = the dev
 * server. Ctrl-C (or either process ending) stops both.
 *
 * Ports: PORT (service, default 8080) and DEV_PORT (dev server, default 5173), both on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name: string): string => join(root, 'node_modules/.bin', name)

const HOST = '127.0.0.1'
const servicePort = process.env.PORT ?? '8080'
const devPort = process.env.DEV_PORT ?? '5173'
const serviceUrl = `http://${HOST}:${servicePort}`
const devUrl = `http://${HOST}:${devPort}`

const children: ChildProcess[] = []
let stopping = false

function stopAll(exitCode: number): void {
  if (stopping) return
  stopping = true
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  process.exitCode = exitCode
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): void {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
  children.push(child)
  child.on('error', (error) => {
    process.stderr.write(`${name} 无法启动：${error.message}\n`)
    stopAll(1)
  })
  child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`${name} 已退出（${signal ?? `exit ${String(code)}`}），另一个进程也一并停止\n`)
    stopAll(code ?? 0)
  })
}

start('send service', bin('tsx'), ['server/server.ts'], {
  PORT: servicePort,
  HOST,
  CORS_ORIGINS: [process.env.CORS_ORIGINS, devUrl, `http://localhost:${devPort}`].filter(Boolean).join(','),
})
start('uni H5 dev server', bin('uni'), ['--host', HOST, '--port', devPort, '--strictPort'], {
  VITE_API_BASE: serviceUrl,
})
process.stdout.write(`\nnpm run dev: H5 app with hot reload at ${devUrl}/ , send service at ${serviceUrl}\n\n`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stopAll(0))
