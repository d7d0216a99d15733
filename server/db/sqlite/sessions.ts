/** Sessions in SQLite: stored by the hash of their token, looked up while unexpired. */
import type { SessionRepository } from '../storage'
import type { SqliteDatabase } from './database'

export function createSqliteSessionRepository(db: SqliteDatabase): SessionRepository {
  const insert = db.prepare('INSERT INTO sessions (token_hash, openid, created_at, expires_at) VALUES (?, ?, ?, ?)')
  const find = db.prepare<[string, number], { openid: string }>(
    'SELECT openid FROM sessions WHERE token_hash = ? AND expires_at > ?',
  )
  const purge = db.prepare('DELETE FROM sessions WHERE expires_at <= ?')
  // Sessions made in the same millisecond are ordered by insertion (rowid).
  const trim = db.prepare(`DELETE FROM sessions WHERE openid = ? AND token_hash NOT IN (
    SELECT token_hash FROM sessions WHERE openid = ? ORDER BY created_at DESC, rowid DESC LIMIT ?
  )`)
  return {
    async create(session) {
      insert.run(session.tokenHash, session.openid, session.createdAt.getTime(), session.expiresAt.getTime())
    },
    async findOpenid(tokenHash, now) {
      return find.get(tokenHash, now.getTime())?.openid ?? null
    },
    async deleteExpired(now) {
      return purge.run(now.getTime()).changes
    },
    async deleteAllButNewest(openid, keep) {
      return trim.run(openid, openid, keep).changes
    },
  }
}
