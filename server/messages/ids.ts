/**
 * Message ids: UUID version 7 (RFC 9562), a millisecond timestamp then random bits. Ids made one after
 * another sort together, so a message's row, its history and its attempts land next to the rows
 * written just before them in every index keyed by id, instead of at random places in a large file
 * (what random v4 ids cost SQLite's page cache, and PostgreSQL's, once the table outgrows it).
 */
import { randomBytes } from 'node:crypto'

export function newMessageId(now: number = Date.now()): string {
  const bytes = randomBytes(16)
  bytes.writeUIntBE(now, 0, 6)
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
