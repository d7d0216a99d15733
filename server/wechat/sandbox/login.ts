/**
 * The sandbox's sign-in: test users by name, each with a stable openid (28 characters like WeChat's),
 * and the one-use, 5-minute login codes `wx.login` would give the mini-program (`jscode2session`
 * answers 40029 for an unknown or expired code, 40163 for a used one).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Clock } from '../types'
import { fail, ok, type WeChatAnswer } from './answers'

const CODE_TTL_MS = 300_000

export interface SandboxLogin {
  openidFor(user: string): string
  issueCode(user: string): string
  /** `GET /sns/jscode2session` (credentials already checked). */
  jscode2session(code: string): WeChatAnswer
  /** Whether `openid` is one of this mini-program's users (a send to another answers 40003). */
  knows(openid: string): boolean
  /** Makes `openid` one of this mini-program's users again (a restarted sandbox, from the service's database). */
  remember(openid: string): void
}

/** A test user's openid: a hash of the AppID and the name, so the order people arrive in is not their openid order, as with WeChat's. */
export function sandboxOpenid(appId: string, user: string): string {
  return `o${createHash('sha256').update(`${appId}:${user}`).digest('base64url').slice(0, 27)}`
}

export function createSandboxLogin(appId: string, clock: Clock): SandboxLogin {
  const codes = new Map<string, { openid: string; expiresAt: number; used: boolean }>()
  const users = new Map<string, string>()
  const openids = new Set<string>()

  function openidFor(user: string): string {
    let openid = users.get(user)
    if (openid === undefined) {
      openid = sandboxOpenid(appId, user)
      users.set(user, openid)
      openids.add(openid)
    }
    return openid
  }

  return {
    openidFor,
    issueCode(user) {
      const code = randomBytes(16).toString('hex')
      codes.set(code, { openid: openidFor(user), expiresAt: clock.now().getTime() + CODE_TTL_MS, used: false })
      return code
    },
    jscode2session(code) {
      const entry = codes.get(code)
      if (!entry || clock.now().getTime() >= entry.expiresAt) return fail(40029, 'invalid code')
      if (entry.used) return fail(40163, 'code been used')
      entry.used = true
      return ok({ openid: entry.openid, session_key: randomBytes(16).toString('base64') })
    },
    knows: (openid) => openids.has(openid),
    remember: (openid) => void openids.add(openid),
  }
}
