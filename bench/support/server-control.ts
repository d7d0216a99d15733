/**
 * Starts `server-process.ts` in a child process (IPC channel) and talks to it.
 *
 * The process runs the service compiled ahead, as `npm start` runs it (`npm run build:server`):
 * `server-process.ts` and the service's code bundled by esbuild into `bench/.build/server-process.mjs`
 * (npm packages stay outside, as in the service's own bundle), under plain `node`. Run through tsx
 * instead, each process carries tsx's loader thread and its transformed sources, about 45 MB of RSS
 * the service in production does not have. With `--cpu-prof` it runs through tsx, so that the
 * profile names each source file rather than one bundle.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { SERVER_BUNDLE_OPTIONS } from '../../scripts/build-server'
import type { ControlCalls, ControlRequest, ControlType, ServerMessage, ServerReady, ServerRole, ServiceSetup } from './protocol'

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))

const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000

export interface ServerProcess {
  readonly ready: ServerReady
  control<K extends ControlType>(call: K, request: ControlCalls[K]['request']): Promise<ControlCalls[K]['result']>
  /** Disconnects; the process closes its servers and database and exits (killed if it has not after 10 s). */
  stop(): Promise<void>
}

/** The address of the sandbox WeChat `server` runs (a `sandbox` process, or a `service` with its own). */
export function sandboxUrlOf(server: ServerProcess): string {
  if (server.ready.sandboxUrl === null) throw new Error('这个进程没有沙箱微信：场景需要以 sandbox 角色启动的进程（或自带沙箱的 service）')
  return server.ready.sandboxUrl
}

export interface StartOptions {
  setup?: ServiceSetup
  /** Writes a V8 CPU profile of the process into this folder when it ends (`node --cpu-prof`). */
  cpuProfileDir?: string
}

const SOURCE = fileURLToPath(new URL('./server-process.ts', import.meta.url))
const BUNDLE = fileURLToPath(new URL('../.build/server-process.mjs', import.meta.url))
let bundled: Promise<unknown> | null = null

/** Bundles server-process.ts once per bench run (about 0.3 s), from the sources as they are now. */
function bundle(): Promise<unknown> {
  bundled ??= build({ ...SERVER_BUNDLE_OPTIONS, entryPoints: [SOURCE], outfile: BUNDLE })
  return bundled
}

export async function startServerProcess(role: ServerRole, options: StartOptions = {}): Promise<ServerProcess> {
  const profileDir = options.cpuProfileDir
  if (profileDir === undefined) await bundle()
  const execArgv = profileDir === undefined ? [] : ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', profileDir]
  const child: ChildProcess = fork(profileDir === undefined ? BUNDLE : SOURCE, [role, JSON.stringify(options.setup ?? {})], {
    cwd: PROJECT_ROOT,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>()
  let nextId = 1
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  const ready = await new Promise<ServerReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`基准测试的${role}进程 ${START_TIMEOUT_MS / 1000} 秒内没有就绪`)), START_TIMEOUT_MS)
    child.on('message', (received: unknown) => {
      // Only server-process.ts is on the other end of this channel.
      const message = received as ServerMessage
      switch (message.type) {
        case 'ready':
          clearTimeout(timer)
          resolve(message)
          break
        case 'failed':
          clearTimeout(timer)
          reject(new Error(`基准测试的${role}进程启动失败：${message.message}`))
          break
        case 'reply':
        case 'error': {
          const call = pending.get(message.id)
          pending.delete(message.id)
          if (message.type === 'reply') call?.resolve(message.result)
          else call?.reject(new Error(`基准测试的${role}进程拒绝了控制请求：${message.message}`))
          break
        }
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`基准测试的${role}进程意外退出（退出码 ${code ?? '无'}）`))
      for (const call of pending.values()) call.reject(new Error(`基准测试的${role}进程已退出，控制请求没有回答`))
      pending.clear()
    })
  }).catch((error: unknown) => {
    child.kill('SIGKILL')
    throw error
  })

  return {
    ready,
    control(call, request) {
      const id = nextId
      nextId += 1
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (result: unknown) => void, reject })
        child.send({ type: 'control', id, call, ...request } as ControlRequest)
      })
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.disconnect()
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    },
  }
}
