/** Operator (console) sessions in SQLite: stored by the hash of their token, with their expiry. */
import type { OperatorSessionRepository } from '../storage'
import type { SqliteDatabase } from './database'

export function createSqliteOperatorSessionRepository(db: SqliteDatabase): OperatorSessionRepository {
  const insert = db.prepare('INSERT INTO operator_sessions (token_hash, created_at, expires_at) VALUES (?, ?, ?)')
  const find = db.prepare<[string], { expires_at: number }>('SELECT expires_at FROM operator_sessions WHERE token_hash = ?')
  const remove = db.prepare('DELETE FROM operator_sessions WHERE token_hash = ?')
  const purge = db.prepare('DELETE FROM operator_sessions WHERE expires_at <= ?')
  return {
    async create(session) {
      insert.run(session.tokenHash, session.createdAt.getTime(), session.expiresAt.getTime())
    },
    async expiry(tokenHash) {
      const row = find.get(tokenHash)
      return row === undefined ? null : new Date(row.expires_at)
    },
    async delete(tokenHash) {
      return remove.run(tokenHash).changes > 0
    },
    async deleteExpired(before) {
      return purge.run(before.getTime()).changes
    },
  }
}
