/**
 * What an answer of WeChat's subscribe dialog (`requestSubscribeMessage`) means, for the app and the
 * service alike. Every answer that starts with `accept` is an accept: `accept`, `acceptWithAudio`,
 * and the undocumented 强提醒 answers seen in the field (`acceptWithAlert`, `acceptWithForcePush`).
 * An answer of no known form is kept as `unrecognized:<answer>`: recorded, never an accept.
 */
import type { SubscribeResult } from './contract'

const UNRECOGNIZED = 'unrecognized:'
/** How much of an unknown answer is kept. */
const UNRECOGNIZED_KEPT = 40

export function isAccept(result: SubscribeResult): boolean {
  return result.startsWith('accept')
}

export function isUnrecognized(result: SubscribeResult): result is `unrecognized:${string}` {
  return result.startsWith(UNRECOGNIZED)
}

/**
 * One value of WeChat's answer (`res[tmplId]`) as the answer recorded: a known one as it is, any
 * `accept…` word as it is, anything else (another word, a number, an object) as `unrecognized:…`.
 */
export function subscribeResultFrom(value: unknown): SubscribeResult {
  if (value === 'reject' || value === 'ban' || value === 'filter') return value
  if (typeof value === 'string' && /^accept[A-Za-z]{0,40}$/.test(value)) return value as `accept${string}`
  let raw = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  if (raw === '') raw = '""'
  return `${UNRECOGNIZED}${raw.slice(0, UNRECOGNIZED_KEPT)}`
}
