/**
 * Makes sure dist/build/h5 is a build of the current sources before the journeys load it: runs
 * `uni build` when the build is missing or older than anything it is built from. (`npm test` builds
 * it first anyway; this keeps `npx vitest run --project e2e` honest on its own.) Also checks that the
 * browser is there, with the way to install it.
 */
import { spawnSync } from 'node:child_process'
import { productionBuildEnv } from '../../support/build-env'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CHROMIUM_PATH } from './browser'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const H5_INDEX = join(root, 'dist/build/h5/index.html')

/** What the H5 app is built from. */
const SOURCES = ['src', 'manifest.json', 'pages.json', 'vite.config.ts', 'package.json']

function newestModification(path: string): number {
  const stats = statSync(path)
  if (!stats.isDirectory()) return stats.mtimeMs
  let newest = stats.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestModification(join(path, entry)))
  return newest
}

function buildIsFresh(): boolean {
  if (!existsSync(H5_INDEX)) return false
  const builtAt = statSync(H5_INDEX).mtimeMs
  return SOURCES.every((source) => newestModification(join(root, source)) <= builtAt)
}

export default function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install chromium fonts-noto-cjk (or set CHROMIUM_PATH)`)
  }
  if (buildIsFresh()) return
  // Same origin: the journeys' service serves the app and the API from one address.
  const env = { ...productionBuildEnv(), VITE_API_BASE: '' }
  const result = spawnSync(join(root, 'node_modules/.bin/uni'), ['build'], { cwd: root, encoding: 'utf8', env })
  if (result.status !== 0) {
    throw new Error(`uni build failed (exit ${String(result.status)}):\n${result.stdout}\n${result.stderr}`)
  }
}
