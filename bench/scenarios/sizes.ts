/**
 * Scenario 4: what the client weighs. The H5 build (dist/build/h5) and the mini-program build
 * (dist/build/mp-weixin), built first if missing, in bytes and gzipped (node:zlib, default level 6,
 * file by file as a server would send them).
 *
 * The H5 entry chunk holds both the app and uni's runtime, so the split comes from a second H5 build
 * with source maps, made in bench/.build/ (dist/ is left as it is): every byte of its JS is
 * attributed to the source file its mapping points at (node:module's SourceMap). That build is reused
 * while its chunks have the same names and sizes as dist/build/h5's, and made again otherwise.
 * In the mini-program, uni's runtime is common/vendor.js; everything else is the app's own.
 *
 * The end user's H5 JS (`appJs`, the figure the ≤ 300 KB target reads) is every chunk reachable from
 * the entry index.html loads, following static and dynamic imports but never into a console page's
 * chunk (`pages-console-*`): the JS the end user's app can load. What only console pages reach
 * (`consoleJs`: their pages, use-console-page, Chart.js) is left out, and a chunk of the app's set
 * whose name says console is an error (the console must be in chunks of its own).
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { SourceMap, type SourceMapPayload } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { gzipSync } from 'node:zlib'
import { PROJECT_ROOT } from '../support/server-control'

const H5_DIR = resolve(PROJECT_ROOT, 'dist/build/h5')
const MP_DIR = resolve(PROJECT_ROOT, 'dist/build/mp-weixin')
const ATTRIBUTION_DIR = resolve(PROJECT_ROOT, 'bench/.build/h5')
/** Where uni puts the maps of a `--sourcemap` build: `<outDir>/../.sourcemap/h5`. */
const ATTRIBUTION_MAPS = resolve(PROJECT_ROOT, 'bench/.build/.sourcemap/h5')
const BUILD_TIMEOUT_MS = 120_000

export interface Weight {
  bytes: number
  gzipBytes: number
  files: number
}

/** Where the bytes of the H5 JavaScript come from (raw bytes; gzip cannot be split by source). */
export interface H5Split {
  /** The JS of the source-mapped build that was split. */
  js: Weight
  /** src/: pages, components, stores, platform, domain. */
  appBytes: number
  /** node_modules: uni's runtime with its Vue build, vue-router and Pinia. */
  runtimeBytes: number
  /** The runtime per package (`@dcloudio/uni-h5`, `pinia`…). */
  runtimeByPackage: Record<string, number>
  /** Bytes no mapping points at (chunk glue the bundler wrote). */
  unmappedBytes: number
  /** Whether the source-mapped build has the same chunks (names and sizes) as dist/build/h5. */
  matchesDist: boolean
}

export interface SizeResult {
  h5: { total: Weight; js: Weight; appJs: Weight; consoleJs: Weight; css: Weight; split: H5Split; builtNow: boolean }
  mpWeixin: { total: Weight; vendor: Weight; app: Weight; appJs: Weight; builtNow: boolean }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
}

function weigh(files: readonly string[]): Weight {
  let bytes = 0
  let gzipBytes = 0
  for (const file of files) {
    const content = readFileSync(file)
    bytes += content.length
    gzipBytes += gzipSync(content).length
  }
  return { bytes, gzipBytes, files: files.length }
}

/** Runs the project's own `uni` CLI; rejects with the tail of its output when it fails. */
function uniBuild(args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(resolve(PROJECT_ROOT, 'node_modules/.bin/uni'), ['build', ...args], {
      cwd: PROJECT_ROOT,
      // A production build whatever the caller's environment says (vitest, for one, sets NODE_ENV=test,
      // and uni then builds Vue's development runtime into the app).
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: BUILD_TIMEOUT_MS,
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise()
      else reject(new Error(`uni build ${args.join(' ')} 失败（${signal ?? `退出码 ${code}`}）：\n${output.slice(-2000)}`))
    })
  })
}

/** The JS chunks of an H5 build by name without its content hash (`index`, `pages-orders-orders`…) → size. */
function chunkSizes(dir: string): Map<string, number> {
  const sizes = new Map<string, number>()
  const assets = join(dir, 'assets')
  if (!existsSync(assets)) return sizes
  for (const file of readdirSync(assets)) {
    if (!file.endsWith('.js')) continue
    sizes.set(file.replace(/[.-][A-Za-z0-9_-]{8}\.js$/, ''), statSync(join(assets, file)).size)
  }
  return sizes
}

function sameChunks(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size > 0 && a.size === b.size && [...a].every(([name, size]) => b.get(name) === size)
}

/** The package a node_modules path belongs to (`@dcloudio/uni-h5`, `pinia`). */
function packageOf(source: string): string | null {
  const parts = source.split('/')
  const at = parts.lastIndexOf('node_modules')
  if (at < 0) return null
  const name = parts[at + 1] ?? ''
  return name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name
}

function utf8Length(codeUnit: number): number {
  if (codeUnit < 0x80) return 1
  if (codeUnit < 0x800) return 2
  // A surrogate pair is 4 bytes in UTF-8: 2 for each half.
  if (codeUnit >= 0xd800 && codeUnit <= 0xdfff) return 2
  return 3
}

/** The H5 JS files the end user's app loads (see the header) and those only console pages reach. */
function endUserChunks(dir: string): { app: string[]; console: string[] } {
  const assets = join(dir, 'assets')
  const entry = /<script[^>]+src="\.\/assets\/([^"]+\.js)"/.exec(readFileSync(join(dir, 'index.html'), 'utf8'))?.[1]
  if (entry === undefined) throw new Error('dist/build/h5/index.html 没有入口脚本')
  const reached = new Set<string>()
  const queue = [entry]
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (reached.has(file)) continue
    reached.add(file)
    const code = readFileSync(join(assets, file), 'utf8')
    for (const match of code.matchAll(/(?:from|import)\s*\(?\s*"\.\/([^"]+\.js)"/g)) {
      const target = match[1]!
      if (!target.startsWith('pages-console')) queue.push(target)
    }
  }
  const leaked = [...reached].filter((file) => /console/i.test(file))
  if (leaked.length > 0) throw new Error(`最终用户的 H5 页面会加载运营后台的代码：${leaked.join(', ')}`)
  const all = readdirSync(assets).filter((file) => file.endsWith('.js'))
  return { app: all.filter((file) => reached.has(file)).map((file) => join(assets, file)), console: all.filter((file) => !reached.has(file)).map((file) => join(assets, file)) }
}

/** Attributes every byte of the source-mapped build's JS to a package or to the app. */
function splitH5(matchesDist: boolean): H5Split {
  const assets = join(ATTRIBUTION_DIR, 'assets')
  const files = readdirSync(assets).filter((name) => name.endsWith('.js'))
  const js = weigh(files.map((file) => join(assets, file)))
  const split: H5Split = { js, appBytes: 0, runtimeBytes: 0, runtimeByPackage: {}, unmappedBytes: 0, matchesDist }
  for (const file of files) {
    const code = readFileSync(join(assets, file), 'utf8')
    const mapFile = join(ATTRIBUTION_MAPS, 'assets', `${file}.map`)
    if (!existsSync(mapFile)) throw new Error(`${relative(PROJECT_ROOT, mapFile)} 不存在：uni 的 --sourcemap 构建没有生成 ${file} 的 source map`)
    const payload = JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload
    const map = new SourceMap(payload)
    // Sources are relative to the map's own folder.
    const origin = new Map<string, string>()
    const sourceOf = (original: string): string => {
      let found = origin.get(original)
      if (found === undefined) {
        found = resolve(dirname(mapFile), original).split(sep).join('/')
        origin.set(original, found)
      }
      return found
    }
    const lines = code.split('\n')
    for (let line = 0; line < lines.length; line += 1) {
      const text = lines[line]!
      for (let column = 0; column < text.length; column += 1) {
        const bytes = utf8Length(text.charCodeAt(column))
        const entry = map.findEntry(line, column) as Partial<{ originalSource: string }>
        if (entry.originalSource === undefined) {
          split.unmappedBytes += bytes
          continue
        }
        const pkg = packageOf(sourceOf(entry.originalSource))
        if (pkg === null) split.appBytes += bytes
        else {
          split.runtimeBytes += bytes
          split.runtimeByPackage[pkg] = (split.runtimeByPackage[pkg] ?? 0) + bytes
        }
      }
      if (line < lines.length - 1) split.unmappedBytes += 1
    }
  }
  return split
}

export async function benchSizes(): Promise<SizeResult> {
  const h5Built = !existsSync(join(H5_DIR, 'index.html'))
  if (h5Built) await uniBuild([])
  const mpBuilt = !existsSync(join(MP_DIR, 'common/vendor.js'))
  if (mpBuilt) await uniBuild(['-p', 'mp-weixin'])

  const distChunks = chunkSizes(H5_DIR)
  let matchesDist = sameChunks(distChunks, chunkSizes(ATTRIBUTION_DIR)) && existsSync(ATTRIBUTION_MAPS)
  if (!matchesDist) {
    rmSync(resolve(PROJECT_ROOT, 'bench/.build'), { recursive: true, force: true })
    await uniBuild(['--sourcemap', '--outDir', relative(PROJECT_ROOT, ATTRIBUTION_DIR)])
    // dist/build/h5 may be older than the sources (built before the last change): the split is then of the sources as they are.
    matchesDist = sameChunks(distChunks, chunkSizes(ATTRIBUTION_DIR))
  }

  const h5Files = filesUnder(H5_DIR)
  const mpFiles = filesUnder(MP_DIR)
  const vendor = join(MP_DIR, 'common/vendor.js')
  const mpApp = mpFiles.filter((file) => file !== vendor)
  const chunks = endUserChunks(H5_DIR)
  return {
    h5: {
      total: weigh(h5Files),
      js: weigh(h5Files.filter((file) => file.endsWith('.js'))),
      appJs: weigh(chunks.app),
      consoleJs: weigh(chunks.console),
      css: weigh(h5Files.filter((file) => file.endsWith('.css'))),
      split: splitH5(matchesDist),
      builtNow: h5Built,
    },
    mpWeixin: {
      total: weigh(mpFiles),
      vendor: weigh([vendor]),
      app: weigh(mpApp),
      appJs: weigh(mpApp.filter((file) => file.endsWith('.js'))),
      builtNow: mpBuilt,
    },
  }
}
