/**
 * Operator sessions for the console: the admin key, given once at sign-in, becomes a session token
 * that the console keeps instead of the key. A token is 32 random bytes; only its hash is stored,
 * with an expiry (OPERATOR_SESSION_TTL). Signing out ends it. An expired session is told apart from
 * an unknown token, so the console can say why it is signed out.
 */
import type { OperatorSession } from '../../src/domain/console-contract'
import { adminKeyCheck } from '../auth'
import type { OperatorSessionRepository } from '../db/storage'
import { AppError } from '../errors'
import { hashToken, newToken } from '../sessions/sessions'
import type { Clock } from '../wechat/types'

const HOUR_MS = 3_600_000
/** Expired sessions are kept this long, so a console coming back after expiry hears "expired", not "unknown". */
const EXPIRED_KEPT_MS = 7 * 24 * HOUR_MS

/** What a bearer token is to the operator guard. */
export type OperatorTokenState = 'valid' | 'expired' | 'unknown'

export interface OperatorSessionService {
  /** Throws AppError 403 FORBIDDEN for a wrong key. */
  signIn(key: string): Promise<OperatorSession>
  /** Whether `token` is a live operator session, one that expired, or neither. */
  check(token: string): Promise<OperatorTokenState>
  /** Ends the session of `token`; false when there was none. */
  signOut(token: string): Promise<boolean>
}

export function createOperatorSessionService(options: {
  repository: OperatorSessionRepository
  adminApiKey: string
  clock: Clock
  ttlHours: number
}): OperatorSessionService {
  const { repository, clock, ttlHours } = options
  const isAdminKey = adminKeyCheck(options.adminApiKey)
  return {
    async signIn(key) {
      if (!isAdminKey(key)) throw new AppError(403, 'FORBIDDEN', '管理密钥不正确', 'key')
      const token = newToken()
      const now = clock.now()
      const expiresAt = new Date(now.getTime() + ttlHours * HOUR_MS)
      await repository.deleteExpired(new Date(now.getTime() - EXPIRED_KEPT_MS))
      await repository.create({ tokenHash: hashToken(token), createdAt: now, expiresAt })
      return { token, expiresAt: expiresAt.toISOString() }
    },
    async check(token) {
      const expiresAt = await repository.expiry(hashToken(token))
      if (expiresAt === null) return 'unknown'
      return expiresAt.getTime() > clock.now().getTime() ? 'valid' : 'expired'
    },
    signOut: (token) => repository.delete(hashToken(token)),
  }
}
