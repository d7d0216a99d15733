/** Operator (console) sessions in PostgreSQL: stored by the hash of their token, with their expiry. */
import type { Sql } from './connection'
import type { OperatorSessionRepository } from '../storage'

export function createPostgresOperatorSessionRepository(sql: Sql): OperatorSessionRepository {
  return {
    async create(session) {
      await sql`INSERT INTO operator_sessions (token_hash, created_at, expires_at)
        VALUES (${session.tokenHash}, ${session.createdAt}, ${session.expiresAt})`
    },
    async expiry(tokenHash) {
      const [row] = await sql<{ expires_at: Date }[]>`SELECT expires_at FROM operator_sessions WHERE token_hash = ${tokenHash}`
      return row === undefined ? null : row.expires_at
    },
    async delete(tokenHash) {
      return (await sql`DELETE FROM operator_sessions WHERE token_hash = ${tokenHash}`).count > 0
    },
    async deleteExpired(before) {
      // As SQLite's: a session expiring at `before` is gone too.
      return (await sql`DELETE FROM operator_sessions WHERE expires_at <= ${before}`).count
    },
  }
}
