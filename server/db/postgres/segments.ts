/** Segments in PostgreSQL: a name (unique) and its filter, kept as written (json); the filter is turned into SQL when used (audience-sql.ts). */
import type { Sql } from './connection'
import { jsonText } from './parameters'
import type { SegmentFilter } from '../../../src/domain/contract'
import type { SegmentRecord, SegmentRepository } from '../storage'

interface SegmentRow {
  id: string
  name: string
  filter: SegmentFilter
  created_at: Date
}

const recordOf = (row: SegmentRow): SegmentRecord => ({ id: row.id, name: row.name, filter: row.filter, createdAt: row.created_at })

export function createPostgresSegmentRepository(sql: Sql): SegmentRepository {
  return {
    async create(segment) {
      // ON CONFLICT DO NOTHING: a taken name (the UNIQUE column) writes nothing, in the same statement.
      const inserted = await sql`
        INSERT INTO segments (id, name, filter, created_at)
        VALUES (${segment.id}, ${segment.name}, ${jsonText(sql, segment.filter)}::json, ${segment.createdAt})
        ON CONFLICT DO NOTHING`
      return inserted.count === 1
    },
    async list() {
      return (await sql<SegmentRow[]>`SELECT id, name, filter, created_at FROM segments ORDER BY created_at, seq`).map(recordOf)
    },
    async get(id) {
      const [row] = await sql<SegmentRow[]>`SELECT id, name, filter, created_at FROM segments WHERE id = ${id}`
      return row ? recordOf(row) : null
    },
    async delete(id) {
      return (await sql`DELETE FROM segments WHERE id = ${id}`).count === 1
    },
  }
}
