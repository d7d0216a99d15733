/**
 * Makes sure a `dist/build/<platform>` is a build of the current sources before tests load it: runs
 * `uni build` when the build is missing or older than anything it is built from. (`npm test` builds
 * both first anyway; this keeps `npx vitest run --project mp|e2e` honest on its own.)
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** What the app is built from. */
const SOURCES = ['src', 'manifest.json', 'pages.json', 'vite.config.ts', 'scripts/contract-as-json.ts', 'package.json']

function newestModification(path: string): number {
  const stats = statSync(path)
  if (!stats.isDirectory()) return stats.mtimeMs
  let newest = stats.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestModification(join(path, entry)))
  return newest
}

/**
 * The environment for a `uni build` started from inside vitest. vitest sets `VITEST*` variables and
 * NODE_ENV=test; with them uni builds Vue's development runtime (measured: 460 KB instead of 360 KB for
 * dist/build/h5). The tests must exercise the build people get, so those variables are left out.
 */
export function productionBuildEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')))
  return { ...env, NODE_ENV: 'production' }
}

export interface EnsureUniBuildOptions {
  platform: 'h5' | 'mp-weixin'
  /** A file the build writes (its modification time is the build's). */
  marker: string
  /** Extra build-time variables (VITE_API_BASE…). */
  env?: NodeJS.ProcessEnv
}

export function ensureUniBuild({ platform, marker, env = {} }: EnsureUniBuildOptions): void {
  if (existsSync(marker)) {
    const builtAt = statSync(marker).mtimeMs
    if (SOURCES.every((source) => newestModification(join(ROOT, source)) <= builtAt)) return
  }
  const args = platform === 'h5' ? ['build'] : ['build', '-p', platform]
  const result = spawnSync(join(ROOT, 'node_modules/.bin/uni'), args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...productionBuildEnv(), ...env },
  })
  if (result.status !== 0) {
    throw new Error(`uni ${args.join(' ')} failed (exit ${String(result.status)}):\n${result.stdout}\n${result.stderr}`)
  }
}
