/**
 * `npx tsx bench/profile.ts FILE.cpuprofile [--top N]`: what a V8 CPU profile (`node --cpu-prof`,
 * e.g. from `npm run bench -- --cpu-prof DIR`) spent its time on: self time by function and by
 * source (a file of the project, or an npm package), as shares of all samples.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** `node_modules/@scope/name/…` → `@scope/name`, a project file → its path, Node's own → `node:…`. */
function sourceOf(url: string): string {
  if (url === '') return '(native / idle)'
  if (url.startsWith('node:')) return url
  const path = url.replace(/^file:\/\//, '')
  const at = path.lastIndexOf('/node_modules/')
  if (at >= 0) {
    const parts = path.slice(at + '/node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  const project = path.indexOf('/server/') >= 0 ? path.indexOf('/server/') : path.indexOf('/src/')
  return project >= 0 ? path.slice(project + 1) : path
}

function top(totals: Map<string, number>, all: number, count: number): string[] {
  return [...totals]
    .sort(([, a], [, b]) => b - a)
    .slice(0, count)
    .map(([name, micros]) => `${((micros / all) * 100).toFixed(1).padStart(5)} %  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`)
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
const file = positionals[0]
if (file === undefined) {
  process.stderr.write('用法：npx tsx bench/profile.ts FILE.cpuprofile [--top N]\n')
  process.exit(64)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const byFunction = new Map<string, number>()
const bySource = new Map<string, number>()
let all = 0
for (let i = 0; i < profile.samples.length; i += 1) {
  const node = byId.get(profile.samples[i]!)
  const micros = profile.timeDeltas[i] ?? 0
  if (!node) continue
  const { functionName, url, lineNumber } = node.callFrame
  if (functionName === '(idle)') continue
  all += micros
  const source = sourceOf(url)
  const name = `${functionName || '(anonymous)'}  ${source}${url === '' ? '' : `:${lineNumber + 1}`}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros)
  bySource.set(source, (bySource.get(source) ?? 0) + micros)
}
const count = Number(values.top)
process.stdout.write(`${file}: ${(all / 1000).toFixed(0)} ms busy (idle left out)\n\nself time by source\n`)
process.stdout.write(`${top(bySource, all, count).join('\n')}\n\nself time by function\n${top(byFunction, all, count).join('\n')}\n`)
