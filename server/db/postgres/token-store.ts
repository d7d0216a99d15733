/**
 * The shared WeChat access token in PostgreSQL, so every instance on one database (on any host) uses
 * one token, and the refresh lease: a single row with holder and expiry, taken by one compare-and-set
 * statement (`INSERT … ON CONFLICT DO UPDATE … WHERE` the lease is free, ours, or expired), so only one
 * instance at a time asks WeChat for a new token.
 *
 * Expiry is measured on the service's clock (the instances' clocks, as the token's own expiry is), so a
 * test clock moves it as it moves everything else.
 */
import type { Clock, TokenStore } from '../../wechat/types'
import type { Sql } from './connection'

export function createPostgresTokenStore(sql: Sql, clock: Clock): TokenStore {
  return {
    async read() {
      const [row] = await sql<{ token: string; expires_at: Date }[]>`SELECT token, expires_at FROM wechat_token WHERE id = 1`
      return row ? { token: row.token, expiresAt: row.expires_at } : null
    },
    async write(token, expiresAt) {
      await sql`
        INSERT INTO wechat_token (id, token, expires_at) VALUES (1, ${token}, ${expiresAt})
        ON CONFLICT (id) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
      `
    },
    async tryLease(holder, ms) {
      const now = clock.now()
      const rows = await sql`
        INSERT INTO wechat_token_lease (id, holder, expires_at) VALUES (1, ${holder}, ${new Date(now.getTime() + ms)})
        ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE wechat_token_lease.holder = excluded.holder OR wechat_token_lease.expires_at <= ${now}
        RETURNING holder
      `
      return rows.count === 1
    },
    async releaseLease(holder) {
      await sql`DELETE FROM wechat_token_lease WHERE id = 1 AND holder = ${holder}`
    },
  }
}
