/**
 * The shared WeChat access token in SQLite, so every process on one database uses one token, and
 * the refresh lease: a single row with holder and expiry, taken in one write transaction, so only
 * one process at a time asks WeChat for a new token.
 */
import type { Clock, TokenStore } from '../../wechat/types'
import type { SqliteDatabase } from './database'

export function createSqliteTokenStore(db: SqliteDatabase, clock: Clock): TokenStore {
  const readToken = db.prepare<[], { token: string; expires_at: number }>(
    'SELECT token, expires_at FROM wechat_token WHERE id = 1',
  )
  const writeToken = db.prepare(`
    INSERT INTO wechat_token (id, token, expires_at) VALUES (1, ?, ?)
    ON CONFLICT (id) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
  `)
  const readLease = db.prepare<[], { holder: string; expires_at: number }>(
    'SELECT holder, expires_at FROM wechat_token_lease WHERE id = 1',
  )
  const writeLease = db.prepare(`
    INSERT INTO wechat_token_lease (id, holder, expires_at) VALUES (1, ?, ?)
    ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
  `)
  const deleteLease = db.prepare('DELETE FROM wechat_token_lease WHERE id = 1 AND holder = ?')

  const tryLease = db.transaction((holder: string, ms: number): boolean => {
    const now = clock.now().getTime()
    const lease = readLease.get()
    if (lease && lease.holder !== holder && lease.expires_at > now) return false
    writeLease.run(holder, now + ms)
    return true
  })

  // better-sqlite3 answers synchronously; the Promises are the interface's (see TokenStore).
  return {
    async read() {
      const row = readToken.get()
      return row ? { token: row.token, expiresAt: new Date(row.expires_at) } : null
    },
    async write(token, expiresAt) {
      writeToken.run(token, expiresAt.getTime())
    },
    async tryLease(holder, ms) {
      return tryLease.immediate(holder, ms)
    },
    async releaseLease(holder) {
      deleteLease.run(holder)
    },
  }
}
