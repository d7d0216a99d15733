/** Segments in SQLite: a name (unique) and its filter, kept as JSON; the filter is turned into SQL when used (audience-sql.ts). */
import type { SegmentFilter } from '../../../src/domain/contract'
import type { SegmentRecord, SegmentRepository } from '../storage'
import type { SqliteDatabase } from './database'

interface SegmentRow {
  id: string
  name: string
  filter: string
  created_at: number
}

const recordOf = (row: SegmentRow): SegmentRecord => ({
  id: row.id,
  name: row.name,
  filter: JSON.parse(row.filter) as SegmentFilter,
  createdAt: new Date(row.created_at),
})

export function createSqliteSegmentRepository(db: SqliteDatabase): SegmentRepository {
  // ON CONFLICT DO NOTHING: a taken name (the UNIQUE column) writes nothing, in the same statement.
  const insert = db.prepare('INSERT INTO segments (id, name, filter, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
  const all = db.prepare<[], SegmentRow>('SELECT id, name, filter, created_at FROM segments ORDER BY created_at, rowid')
  const byId = db.prepare<[string], SegmentRow>('SELECT id, name, filter, created_at FROM segments WHERE id = ?')
  const remove = db.prepare('DELETE FROM segments WHERE id = ?')
  return {
    async create(segment) {
      return insert.run(segment.id, segment.name, JSON.stringify(segment.filter), segment.createdAt.getTime()).changes === 1
    },
    async list() {
      return all.all().map(recordOf)
    },
    async get(id) {
      const row = byId.get(id)
      return row ? recordOf(row) : null
    },
    async delete(id) {
      return remove.run(id).changes === 1
    },
  }
}
