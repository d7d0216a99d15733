/**
 * The audience's tables in PostgreSQL (migration 2, after the core's): users with their tags and
 * attributes, segments, campaigns, preferences, operator sessions. Listed by server/db/postgres/migrations.ts;
 * never edit it once shipped, add the next number.
 *
 * Openids compare byte by byte (COLLATE "C"), as SQLite's BINARY does, so pages and cursors are the
 * same on both engines whatever the database's locale. Tags (an array, kept in byte order) and
 * attributes (an object) are jsonb with GIN indexes: a segment's tag conditions are `?&` / `?|`
 * (jsonb_ops), an attribute's equality `@>` (jsonb_path_ops). Filters and a campaign's keyword
 * values are `json`, kept as written (key order and all), as a message's data is.
 */
import type { Migration } from './migrations'

export const AUDIENCE_MIGRATION: Migration | null = {
  version: 2,
  name: 'users with tags and attributes, segments, campaigns, preferences, operator sessions',
  sql: `
  CREATE TABLE users (
    openid text COLLATE "C" PRIMARY KEY,
    tags jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    last_active_at timestamptz
  );
  CREATE INDEX users_by_activity ON users (last_active_at);
  CREATE INDEX users_by_tags ON users USING gin (tags);
  CREATE INDEX users_by_attributes ON users USING gin (attributes jsonb_path_ops);

  CREATE TABLE segments (
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    filter json NOT NULL,
    created_at timestamptz NOT NULL
  );

  CREATE TABLE campaigns (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text NOT NULL,
    segment_id text NOT NULL,
    segment_filter json NOT NULL,
    template_id text NOT NULL,
    data json NOT NULL,
    page text,
    urgent boolean NOT NULL,
    truncate boolean NOT NULL,
    rate_per_second double precision,
    status text NOT NULL,
    start_at timestamptz,
    expansion_cursor text,
    expanded boolean NOT NULL DEFAULT false,
    total integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL
  );
  CREATE INDEX campaigns_by_status ON campaigns (status, start_at);

  CREATE TABLE preferences (
    openid text PRIMARY KEY,
    quiet_start text,
    quiet_end text,
    daily_limit integer NOT NULL,
    muted_categories jsonb NOT NULL,
    updated_at timestamptz NOT NULL
  );

  CREATE TABLE operator_sessions (
    token_hash text PRIMARY KEY,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
  );
  CREATE INDEX operator_sessions_by_expiry ON operator_sessions (expires_at);
`,
}
