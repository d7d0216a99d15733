/** Sessions in PostgreSQL: stored by the hash of their token, looked up while unexpired. */
import type { SessionRepository } from '../storage'
import type { Sql } from './connection'

export function createPostgresSessionRepository(sql: Sql): SessionRepository {
  return {
    async create(session) {
      await sql`
        INSERT INTO sessions (token_hash, openid, created_at, expires_at)
        VALUES (${session.tokenHash}, ${session.openid}, ${session.createdAt}, ${session.expiresAt})
      `
    },
    async findOpenid(tokenHash, now) {
      const [row] = await sql<{ openid: string }[]>`
        SELECT openid FROM sessions WHERE token_hash = ${tokenHash} AND expires_at > ${now}
      `
      return row?.openid ?? null
    },
    async deleteExpired(now) {
      return (await sql`DELETE FROM sessions WHERE expires_at <= ${now}`).count
    },
    async deleteAllButNewest(openid, keep) {
      // Sessions made in the same millisecond are ordered by insertion (seq), as SQLite's rowid.
      const rows = await sql`
        DELETE FROM sessions WHERE openid = ${openid} AND token_hash NOT IN (
          SELECT token_hash FROM sessions WHERE openid = ${openid} ORDER BY created_at DESC, seq DESC LIMIT ${keep}
        )
      `
      return rows.count
    },
  }
}
