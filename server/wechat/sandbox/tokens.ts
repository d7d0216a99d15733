/**
 * The sandbox's access tokens, as WeChat keeps them: two families (`cgi-bin/token`, where each call
 * makes a new token, and `stable_token`, one shared token until 5 minutes before it expires); a
 * token replaced by a newer one of its family keeps working for 5 minutes, then answers 40001.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../types'
import { fail, ok, type WeChatAnswer } from './answers'

const TOKEN_TTL_MS = 7_200_000
/** Stable tokens are renewed this long before expiry; an old token stays valid this long after a new one. */
const TOKEN_OVERLAP_MS = 300_000

interface TokenState {
  expiresAt: number
  /** Set when a newer token of the same family replaced it: after this it answers 40001. */
  replacedUntil?: number
}

export interface SandboxTokens {
  /** `GET /cgi-bin/token` (credentials already checked). */
  token(): WeChatAnswer
  /** `POST /cgi-bin/stable_token` (credentials already checked). */
  stableToken(forceRefresh: boolean): WeChatAnswer
  /** null when `token` may call the API, else WeChat's answer (41001, 40001, 42001). */
  check(token: string | null): WeChatAnswer | null
  /** Expires every token issued so far (the next calls with them get 42001). */
  expireAll(): void
  /** New tokens issued, by either family. */
  issued(): number
}

export function createSandboxTokens(clock: Clock): SandboxTokens {
  const now = (): number => clock.now().getTime()
  const tokens = new Map<string, TokenState>()
  const newest: Record<'token' | 'stable', string | null> = { token: null, stable: null }
  let issuedCount = 0

  function issue(family: 'token' | 'stable'): WeChatAnswer {
    const at = now()
    const previous = newest[family]
    if (previous !== null) {
      const state = tokens.get(previous)
      if (state && state.replacedUntil === undefined) state.replacedUntil = Math.min(state.expiresAt, at + TOKEN_OVERLAP_MS)
    }
    const token = `${family === 'stable' ? 'S' : 'T'}_${randomBytes(48).toString('base64url')}`
    tokens.set(token, { expiresAt: at + TOKEN_TTL_MS })
    newest[family] = token
    issuedCount += 1
    return ok({ access_token: token, expires_in: TOKEN_TTL_MS / 1000 })
  }

  return {
    token: () => issue('token'),
    stableToken(forceRefresh) {
      const current = newest.stable
      const state = current === null ? undefined : tokens.get(current)
      const reusable = current !== null && state !== undefined && !forceRefresh && state.expiresAt - now() > TOKEN_OVERLAP_MS
      if (reusable) return ok({ access_token: current, expires_in: Math.floor((state.expiresAt - now()) / 1000) })
      return issue('stable')
    },
    check(token) {
      if (!token) return fail(41001, 'access_token missing')
      const state = tokens.get(token)
      const at = now()
      if (!state) return fail(40001, 'invalid credential, access_token is invalid or not latest')
      if (at >= state.expiresAt) return fail(42001, 'access_token expired')
      if (state.replacedUntil !== undefined && at >= state.replacedUntil) {
        return fail(40001, 'invalid credential, access_token is invalid or not latest')
      }
      return null
    },
    expireAll() {
      const at = now()
      for (const state of tokens.values()) state.expiresAt = Math.min(state.expiresAt, at)
    },
    issued: () => issuedCount,
  }
}
