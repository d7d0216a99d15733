/**
 * What an answer of WeChat's subscribe dialog (`requestSubscribeMessage`) means, for the app and the
 * service alike. Every answer that starts with `accept` is an accept: `accept`, `acceptWithAudio`,
 * and the undocumented 强提醒 answers seen in the field (`acceptWithAlert`, `acceptWithForcePush`).
 */
import type { SubscribeResult } from './contract'

export function isAccept(result: SubscribeResult): boolean {
  return result.startsWith('accept')
}
