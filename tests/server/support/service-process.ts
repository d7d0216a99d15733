/**
 * `server/server.ts` in a child process, as a person or a supervisor runs it: started, asked over
 * HTTP, stopped with SIGTERM, or killed with SIGKILL as a crash would end it.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface ServiceProcess {
  /** stdout and stderr together, as a terminal or a log collector gets them. */
  output: () => string
  url: string
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL: no shutdown, as when the machine or the process dies. */
  kill(): Promise<void>
  /** Any other signal, e.g. SIGSTOP / SIGCONT to freeze the process and let it go on. */
  signal(name: NodeJS.Signals): void
}

/**
/**
 * Starts server.ts with `env` (and nothing else of this process's environment) and resolves once it
 * says it is running. `nodeArgs` go to Node before the script (the bench's `--cpu-prof --cpu-prof-dir
 * DIR`); `script` is another entry point, e.g. the bundle `npm run build:server` makes, run under
 * plain node as `npm start` runs it.
 */
export async function startServiceProcess(
  env: Record<string, string>,
  port?: number,
  options: { nodeArgs?: readonly string[]; script?: string } = {},
): Promise<ServiceProcess> {
  const listenOn = port ?? (await freePort())
  // Node itself with tsx's loader, not the tsx CLI: the CLI runs the server in a child process of its
  // own, so a SIGKILL would kill the CLI and leave the server running.
  const entry = options.script === undefined ? ['--import', 'tsx', 'server/server.ts'] : [options.script]
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', SEED_USERS: '0', ...env, PORT: String(listenOn), HOST: '127.0.0.1' },
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
    url: `http://127.0.0.1:${listenOn}`,
    async stop() {
      child.kill('SIGTERM')
      return exited
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    signal(name) {
      child.kill(name)
    },
  }
}
