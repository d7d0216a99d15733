/**
 * Makes sure dist/build/mp-weixin is a build of the current sources before the mp tests load it:
 * runs `uni build -p mp-weixin` when the build is missing or older than anything it is built from.
 * (`npm test` builds it first anyway; this keeps `npx vitest run --project mp` honest on its own.)
 */
import { spawnSync } from 'node:child_process'
import { productionBuildEnv } from '../../support/build-env'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))
export const MP_BUILD_DIR = join(root, 'dist/build/mp-weixin')

/** What the mini-program is built from. */
const SOURCES = ['src', 'manifest.json', 'pages.json', 'vite.config.ts', 'package.json']

function newestModification(path: string): number {
  const stats = statSync(path)
  if (!stats.isDirectory()) return stats.mtimeMs
  let newest = stats.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestModification(join(path, entry)))
  return newest
}

function buildIsFresh(): boolean {
  const marker = join(MP_BUILD_DIR, 'app.json')
  if (!existsSync(marker)) return false
  const builtAt = statSync(marker).mtimeMs
  return SOURCES.every((source) => newestModification(join(root, source)) <= builtAt)
}

export default function setup(): void {
  if (buildIsFresh()) return
  const uni = join(root, 'node_modules/.bin/uni')
  const result = spawnSync(uni, ['build', '-p', 'mp-weixin'], {
    cwd: root,
    encoding: 'utf8',
    env: productionBuildEnv(),
  })
  if (result.status !== 0) {
    throw new Error(`uni build -p mp-weixin failed (exit ${String(result.status)}):\n${result.stdout}\n${result.stderr}`)
  }
}
