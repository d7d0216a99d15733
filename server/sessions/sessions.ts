/**
 * Sign-in: a WeChat login code becomes a session for the openid WeChat knows it by. WeChat's
 * answers to a bad login are read in src/domain/wechat-errcodes.ts and become the caller's errors
 * here. A session token is 32 random bytes; only its hash is stored, with an expiry.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { SessionResponse } from '../../src/domain/contract'
import { loginErrcodeRule } from '../../src/domain/wechat-errcodes'
import type { Activity } from '../audience/activity'
import type { SessionRepository } from '../db/storage'
import { AppError } from '../errors'
import { isWeChatError, type Clock, type WeChatClient, type WeChatError } from '../wechat/types'

const HOUR_MS = 3_600_000

export interface SessionService {
  /** Throws AppError: 401 INVALID_CODE, 429 RATE_LIMITED, 403 FORBIDDEN, 502 WECHAT_UNAVAILABLE. */
  signIn(code: string): Promise<SessionResponse>
  /** The openid of an unexpired session with this token, or null. Using a session counts as activity. */
  openidOf(token: string): Promise<string | null>
}

/** Only this digest of a token is stored: a leaked database gives no usable token. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

/** A new session token: 32 random bytes, base64url. */
export const newToken = (): string => randomBytes(32).toString('base64url')

/** WeChat's answer to a bad login, as the caller's error. */
function signInError(error: WeChatError): AppError {
  const { failure, message } = loginErrcodeRule(error.errcode)
  switch (failure) {
    case 'invalid-code':
      return new AppError(401, 'INVALID_CODE', message, 'code')
    case 'rate-limited':
      return new AppError(429, 'RATE_LIMITED', message)
    case 'refused':
      return new AppError(403, 'FORBIDDEN', message)
    case 'unavailable':
      return new AppError(502, 'WECHAT_UNAVAILABLE', message)
  }
}

export function createSessionService(options: {
  repository: SessionRepository
  wechat: WeChatClient
  clock: Clock
  ttlHours: number
  /** Live sessions kept per person; signing in again removes the oldest beyond this. */
  perUser: number
  /** Who signed in is a user, active now; a session in use keeps them active (written at most every 5 minutes). */
  activity: Activity
}): SessionService {
  const { repository, wechat, clock, ttlHours, perUser, activity } = options
  return {
    async signIn(code) {
      let openid: string
      try {
        ;({ openid } = await wechat.code2Session(code))
      } catch (error) {
        throw isWeChatError(error) ? signInError(error) : error
      }
      const token = newToken()
      const now = clock.now()
      const expiresAt = new Date(now.getTime() + ttlHours * HOUR_MS)
      await repository.deleteExpired(now)
      await repository.create({ tokenHash: hashToken(token), openid, createdAt: now, expiresAt })
      await repository.deleteAllButNewest(openid, perUser)
      await activity.signedIn(openid)
      return { token, openid, expiresAt: expiresAt.toISOString() }
    },
    async openidOf(token) {
      const openid = await repository.findOpenid(hashToken(token), clock.now())
      if (openid !== null) await activity.seen(openid)
      return openid
    },
  }
}
