/**
 * The PostgreSQL schema: numbered migrations, applied in order once each and recorded in
 * `schema_migrations`. Never edit a migration that has shipped: add the next number.
 *
 * Several instances may start at once on one database: `migrate` runs every pending migration in one
 * transaction that first takes a transaction-level advisory lock, so one instance applies them and
 * the others wait, then find them recorded and apply nothing. DDL is transactional in PostgreSQL: a
 * migration that fails leaves nothing behind.
 *
 * The tables mirror SQLite's (server/db/sqlite/migrations.ts) with PostgreSQL's types: timestamptz
 * for times, boolean for flags, identity columns for sequences, jsonb for JSON, except a message's
 * data and a consent's results and credits, which are `json`: kept in the order written, so WeChat and
 * the client get the same bodies from either engine. Campaigns are migration 2's (the audience side); messages name them by id.
 */
import type { Sql } from './connection'
import { AUDIENCE_MIGRATION } from './migrations-audience'

export interface Migration {
  version: number
  name: string
  /** One or more statements, run as one simple query. */
  sql: string
}

/** The advisory lock key of migrations (any constant that no other lock of this database uses). */
export const MIGRATION_LOCK_KEY = 7_310_225_001

const CORE: Migration = {
  version: 1,
  name: 'sessions, credits and consents, WeChat events and device reports, messages (the dispatch jobs), the WeChat token',
  sql: `
    CREATE TABLE sessions (
      seq bigint GENERATED ALWAYS AS IDENTITY,
      token_hash text PRIMARY KEY,
      openid text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE INDEX sessions_by_openid ON sessions (openid, created_at, seq);

    CREATE TABLE subscriptions (
      openid text NOT NULL,
      template_id text NOT NULL,
      credits integer NOT NULL DEFAULT 0 CHECK (credits >= 0),
      last_result text,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (openid, template_id)
    );
    CREATE INDEX subscriptions_by_template ON subscriptions (template_id, openid);

    CREATE TABLE consents (
      openid text NOT NULL,
      consent_id text NOT NULL,
      results json NOT NULL,
      credits json NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (openid, consent_id)
    );

    CREATE TABLE wechat_events (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_key text NOT NULL UNIQUE,
      event text NOT NULL,
      openid text NOT NULL,
      template_id text NOT NULL,
      status text NOT NULL,
      popup_scene text,
      msgid text,
      error_code integer,
      error_status text,
      created_at timestamptz NOT NULL,
      received_at timestamptz NOT NULL,
      awaiting_report boolean NOT NULL DEFAULT false
    );
    CREATE INDEX wechat_events_awaiting ON wechat_events (openid, template_id, seq) WHERE awaiting_report;
    CREATE INDEX wechat_events_by_msgid ON wechat_events (msgid, seq) WHERE msgid IS NOT NULL;

    CREATE TABLE consent_reports (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      openid text NOT NULL,
      consent_id text NOT NULL,
      template_id text NOT NULL,
      state text NOT NULL CHECK (state IN ('unconfirmed', 'confirmed', 'withdrawn', 'void')),
      event_key text,
      reported_at timestamptz NOT NULL,
      settled_at timestamptz
    );
    CREATE INDEX consent_reports_unconfirmed ON consent_reports (openid, template_id, seq) WHERE state = 'unconfirmed';
    CREATE INDEX consent_reports_due ON consent_reports (reported_at, seq) WHERE state = 'unconfirmed';

    CREATE TABLE messages (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id text NOT NULL UNIQUE,
      openid text NOT NULL,
      template_id text NOT NULL,
      category text NOT NULL,
      data json NOT NULL,
      page text,
      urgent boolean NOT NULL,
      lang text,
      idempotency_key text UNIQUE,
      request_fingerprint text,
      source text NOT NULL,
      campaign_id text,
      status text NOT NULL,
      reason text,
      detail text,
      msgid text,
      credit_spent boolean NOT NULL DEFAULT false,
      day_key text,
      requeues integer NOT NULL DEFAULT 0,
      due_at timestamptz,
      lease_owner text,
      lease_expires_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      sent_at timestamptz,
      deliver_after timestamptz
    );
    CREATE INDEX messages_by_recipient ON messages (openid, seq);
    CREATE INDEX messages_due ON messages (due_at, seq) WHERE status = 'queued';
    CREATE INDEX messages_deferred ON messages (deliver_after, seq) WHERE status = 'deferred';
    CREATE INDEX messages_sending ON messages (lease_expires_at) WHERE status = 'sending';
    CREATE INDEX messages_by_status ON messages (status);
    CREATE INDEX messages_by_day ON messages (openid, day_key, status);
    CREATE UNIQUE INDEX messages_campaign_recipient ON messages (campaign_id, openid) WHERE campaign_id IS NOT NULL;
    CREATE INDEX messages_by_campaign ON messages (campaign_id, status, reason) WHERE campaign_id IS NOT NULL;
    CREATE INDEX messages_by_msgid ON messages (msgid) WHERE msgid IS NOT NULL;
    CREATE INDEX messages_by_time ON messages (created_at);

    CREATE TABLE message_history (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      message_id text NOT NULL REFERENCES messages (id),
      at timestamptz NOT NULL,
      status text NOT NULL,
      reason text
    );
    CREATE INDEX message_history_by_message ON message_history (message_id, seq);
    CREATE INDEX message_history_by_time ON message_history (at);

    CREATE TABLE message_attempts (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      message_id text NOT NULL REFERENCES messages (id),
      at timestamptz NOT NULL,
      errcode integer NOT NULL,
      errmsg text NOT NULL
    );
    CREATE INDEX message_attempts_by_message ON message_attempts (message_id, seq);
    CREATE INDEX message_attempts_by_errcode ON message_attempts (errcode);
    CREATE INDEX message_attempts_by_time ON message_attempts (at);

    CREATE TABLE wechat_token (
      id integer PRIMARY KEY CHECK (id = 1),
      token text NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE TABLE wechat_token_lease (
      id integer PRIMARY KEY CHECK (id = 1),
      holder text NOT NULL,
      expires_at timestamptz NOT NULL
    );
  `,
}

/**
 * A dispatcher's lease of a queued message (`lease_owner`, `lease_expires_at`: leaseDue, the BullMQ
 * feed, releaseLeases) becomes a HOT update: written in the row's own page, with no new entry in any of
 * the table's indexes. That needs no indexed column among those it changes (`messages_sending` is keyed
 * by `seq` now, which listInDoubt orders by; it still holds only `sending` rows) and room in the page
 * for the new version: half of each page is left free for it. Measured on 3,000 campaign messages:
 * every lease HOT, the lease statement's time halved (50 → 23 µs a message), the claims and endings
 * unchanged; the table takes about twice the pages.
 */
const HOT_LEASES: Migration = {
  version: 3,
  name: 'messages: leases as HOT updates (messages_sending keyed by seq, fillfactor 50)',
  sql: `
    DROP INDEX messages_sending;
    CREATE INDEX messages_sending ON messages (seq) WHERE status = 'sending';
    ALTER TABLE messages SET (fillfactor = 50);
  `,
}

/**
 * A message's status history and WeChat attempts move into its row (`history`, `attempts`: jsonb
 * arrays, appended by the statement that changes the status), and the charts read counts per second
 * (`outcome_seconds`) and per minute (`outcome_minutes`) that those statements keep (./outcomes.ts):
 * no row per event, no index of theirs to maintain, no foreign-key check. An entry's `at` is the ISO
 * text JavaScript writes (`toISOString`: UTC, milliseconds). The counts are back-filled from the rows
 * that go, per second (`compact` folds the old ones).
 */
const HISTORY_IN_ROW: Migration = {
  version: 4,
  name: 'messages: history and attempts in the row; outcome counts per second and per minute instead of message_history, message_attempts',
  sql: `
    ALTER TABLE messages ADD COLUMN history jsonb NOT NULL DEFAULT '[]', ADD COLUMN attempts jsonb NOT NULL DEFAULT '[]';
    UPDATE messages SET
      history = COALESCE((
        SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
          'at', to_char(h.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'status', h.status, 'reason', h.reason)) ORDER BY h.seq)
        FROM message_history h WHERE h.message_id = messages.id), '[]'),
      attempts = COALESCE((
        SELECT jsonb_agg(jsonb_build_object(
          'at', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'errcode', a.errcode, 'errmsg', a.errmsg) ORDER BY a.seq)
        FROM message_attempts a WHERE a.message_id = messages.id), '[]');

    CREATE TABLE outcome_seconds (
      second bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('status', 'errcode')),
      key text NOT NULL,
      count bigint NOT NULL,
      PRIMARY KEY (second, kind, key)
    );
    -- second: the minute's first second.
    CREATE TABLE outcome_minutes (
      second bigint NOT NULL CHECK (mod(second, 60) = 0),
      kind text NOT NULL CHECK (kind IN ('status', 'errcode')),
      key text NOT NULL,
      count bigint NOT NULL,
      PRIMARY KEY (second, kind, key)
    );
    INSERT INTO outcome_seconds (second, kind, key, count)
    SELECT floor(extract(epoch FROM at))::bigint, 'status', status, COUNT(*) FROM message_history
    WHERE status IN ('sent', 'failed', 'skipped', 'deferred') GROUP BY 1, 3
    UNION ALL
    SELECT floor(extract(epoch FROM at))::bigint, 'errcode', errcode::text, COUNT(*) FROM message_attempts GROUP BY 1, 3;

    DROP TABLE message_attempts;
    DROP TABLE message_history;
  `,
}

/**
 * Fewer index entries per message. A claim and an ending change the status (no HOT update can), so
 * each writes a new entry into every index of `messages` whose predicate the new version meets. Those
 * the dispatch path never reads go partial on what their queries ask, or become a BRIN:
 * - the idempotency key: only rows that have one (a campaign's messages have none);
 * - `messages_by_status` goes: the queue's depth counts on the status-keyed partial indexes, a search
 *   by status finds queued, sending and deferred rows there, failed and skipped ones in
 *   `messages_unsent`, sent ones (most rows) along the sequence;
 * - the daily count (`messages_by_day`) reads only sending and sent rows;
 * - the console's time filter (`messages_by_time`) is a BRIN: rows are written in time order, and a
 *   BRIN's summary changes only when a row falls outside its range's.
 * Measured in bench/pg-storage.ts: see the commit.
 */
const FEWER_INDEX_ENTRIES: Migration = {
  version: 5,
  name: 'messages: partial idempotency key and daily-count indexes, no status index, a BRIN on created_at',
  sql: `
    ALTER TABLE messages DROP CONSTRAINT messages_idempotency_key_key;
    CREATE UNIQUE INDEX messages_by_idempotency_key ON messages (idempotency_key) WHERE idempotency_key IS NOT NULL;
    DROP INDEX messages_by_status;
    CREATE INDEX messages_unsent ON messages (status, seq) WHERE status IN ('failed', 'skipped');
    DROP INDEX messages_by_day;
    CREATE INDEX messages_by_day ON messages (openid, day_key) WHERE status IN ('sending', 'sent');
    DROP INDEX messages_by_time;
    CREATE INDEX messages_by_time ON messages USING brin (created_at);
  `,
}

/**
 * A credit taken (`credits - 1` on the person's row of `subscriptions`) changes no indexed column, so
 * it can be a HOT update, written in the row's own page, with no new entry in the primary key or in
 * `subscriptions_by_template`, but only when that page has room for the new version. Rows written at
 * the default fillfactor (100) fill their pages: in bench/pg-storage.ts 6000 48, 2,112 of 5,880
 * decrements (36 %) went to another page, each with two index entries. Pages written from now on keep
 * 30 % free for the versions a claim writes (rows already stored keep their pages until rewritten).
 */
const ROOM_FOR_CREDITS: Migration = {
  version: 6,
  name: 'subscriptions: room in each page for a credit taken as a HOT update (fillfactor 70)',
  sql: `ALTER TABLE subscriptions SET (fillfactor = 70);`,
}

/**
 * A campaign's messages the dispatcher holds (queued, sending) leave `messages_by_campaign`, as
 * SQLite's migration 9 did: its queued ones are found in `messages_due_by_campaign` (by due time, so a
 * campaign's lease reads its oldest due rows in order), its sending ones in `messages_sending`. A
 * message's claim (queued → sending) then writes no entry of the campaign index, and its ending one;
 * the expansion writes the queued index's entry in place of the campaign index's. Measured in
 * bench/pg-storage.ts 6000 48: WAL 3,133 → 3,047 bytes a message. Readers name the index's condition
 * (campaigns.ts `AT_REST`): PostgreSQL reads a partial index only for a WHERE that implies it.
 */
const CAMPAIGN_AT_REST: Migration = {
  version: 7,
  name: 'messages: a campaign index of the rows at rest, and its queued rows by due time',
  sql: `
    CREATE INDEX messages_due_by_campaign ON messages (campaign_id, due_at, seq) WHERE status = 'queued';
    DROP INDEX messages_by_campaign;
    CREATE INDEX messages_by_campaign ON messages (campaign_id, status, reason)
      WHERE campaign_id IS NOT NULL AND status NOT IN ('queued', 'sending');
  `,
}

/**
 * Every migration, in order: the core (1), then the audience's (2: users, segments, campaigns,
 * preferences, operator sessions; server/db/postgres/migrations-audience.ts), then leases as HOT
 * updates (3), then history and attempts in the message row with outcome counts (4), then fewer
 * index entries per message (5), then room for credits taken as HOT updates (6), then the campaign
 * index of the rows at rest (7).
 */
export const MIGRATIONS: readonly Migration[] = [
  CORE,
  ...(AUDIENCE_MIGRATION === null ? [] : [AUDIENCE_MIGRATION]),
  HOT_LEASES,
  HISTORY_IN_ROW,
  FEWER_INDEX_ENTRIES,
  ROOM_FOR_CREDITS,
  CAMPAIGN_AT_REST,
]

/**
 * Applies the migrations not yet recorded, under the advisory lock, in one transaction. Returns the
 * versions applied (none when another instance applied them first).
 */
export async function migrate(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version)
  const versions = new Set(ordered.map((migration) => migration.version))
  if (versions.size !== ordered.length) throw new Error(`two PostgreSQL migrations share a version: ${ordered.map((m) => m.version).join(', ')}`)
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`
    const rows = await tx<{ version: number }[]>`SELECT version FROM schema_migrations`
    const applied = new Set(rows.map((row) => row.version))
    const done: number[] = []
    for (const migration of ordered) {
      if (applied.has(migration.version)) continue
      await tx.unsafe(migration.sql).simple()
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, ${migration.name})`
      done.push(migration.version)
    }
    return done
  })
}
