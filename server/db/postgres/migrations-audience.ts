/**
 * The audience's tables in PostgreSQL (migration 2): users, their tags and attributes, segments,
 * preferences, operator sessions — the second engineer's part of issue 12. A placeholder until then:
 * `null` adds nothing to server/db/postgres/migrations.ts's list.
 */
import type { Migration } from './migrations'

export const AUDIENCE_MIGRATION: Migration | null = null
