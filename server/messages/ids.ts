/**
 * Message ids: UUID version 7 (RFC 9562), a millisecond timestamp then random bits. Ids made one after
 * another sort together, so a message's row, its history and its attempts land next to the rows
 * written just before them in every index keyed by id, instead of at random places in a large file
 * (what random v4 ids cost SQLite's page cache, and PostgreSQL's, once the table outgrows it).
 *
 * The random bits are a v4 UUID's: `randomUUID` draws from an entropy cache Node refills in bulk,
 * where `randomBytes(16)` per id is a trip into OpenSSL each, about 8 µs (a profile of the admin send
 * path put the service's `randomBytes` calls at 7 % of its CPU).
 */
import { randomUUID } from 'node:crypto'

export function newMessageId(now: number = Date.now()): string {
  const time = now.toString(16).padStart(12, '0')
  // A v4 UUID is xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: keep its 74 random bits (rand_a, variant, rand_b)
  // and put the 48-bit time and version 7 in front of them.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`
}
