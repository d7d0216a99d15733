/**
 * Numbered migrations, applied in order once each and recorded in `schema_migrations`.
 * Never edit a migration that has shipped: add the next number. Times are epoch milliseconds.
 */
export interface Migration {
  version: number
  name: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, ledger, preferences, messages, wechat token',
    sql: `
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        openid TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);

      CREATE TABLE subscriptions (
        openid TEXT NOT NULL,
        template_id TEXT NOT NULL,
        credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
        last_result TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (openid, template_id)
      );

      CREATE TABLE consents (
        openid TEXT NOT NULL,
        consent_id TEXT NOT NULL,
        results TEXT NOT NULL,
        credits TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (openid, consent_id)
      );

      CREATE TABLE preferences (
        openid TEXT PRIMARY KEY,
        quiet_start TEXT,
        quiet_end TEXT,
        daily_limit INTEGER NOT NULL,
        muted_categories TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        openid TEXT NOT NULL,
        template_id TEXT NOT NULL,
        category TEXT NOT NULL,
        data TEXT NOT NULL,
        page TEXT,
        urgent INTEGER NOT NULL,
        lang TEXT,
        idempotency_key TEXT UNIQUE,
        source TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        msgid TEXT,
        credit_spent INTEGER NOT NULL DEFAULT 0,
        day_key TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        sent_at INTEGER,
        deliver_after INTEGER
      );
      CREATE INDEX messages_by_recipient ON messages (openid, seq);
      CREATE INDEX messages_by_status ON messages (status, deliver_after);
      CREATE INDEX messages_by_day ON messages (openid, day_key, status);

      CREATE TABLE message_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL REFERENCES messages (id),
        at INTEGER NOT NULL,
        status TEXT NOT NULL,
        reason TEXT
      );
      CREATE INDEX message_history_by_message ON message_history (message_id, seq);

      CREATE TABLE message_attempts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL REFERENCES messages (id),
        at INTEGER NOT NULL,
        errcode INTEGER NOT NULL,
        errmsg TEXT NOT NULL
      );
      CREATE INDEX message_attempts_by_message ON message_attempts (message_id, seq);
      CREATE INDEX message_attempts_by_errcode ON message_attempts (errcode);

      CREATE TABLE wechat_token (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        token TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE wechat_token_lease (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'messages remember what their idempotency key stands for',
    sql: `ALTER TABLE messages ADD COLUMN request_fingerprint TEXT;`,
  },
  {
    version: 3,
    name: 'the message row is the dispatch job: due time, lease, requeues, detail; campaigns',
    sql: `
      ALTER TABLE messages ADD COLUMN due_at INTEGER;
      UPDATE messages SET due_at = COALESCE(deliver_after, created_at);
      ALTER TABLE messages ADD COLUMN lease_owner TEXT;
      ALTER TABLE messages ADD COLUMN lease_expires_at INTEGER;
      ALTER TABLE messages ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN detail TEXT;
      ALTER TABLE messages ADD COLUMN campaign_id TEXT;
      DROP INDEX messages_by_status;
      CREATE INDEX messages_due ON messages (status, due_at, seq);
      CREATE INDEX messages_deferred ON messages (status, deliver_after);
      CREATE UNIQUE INDEX messages_campaign_recipient ON messages (campaign_id, openid) WHERE campaign_id IS NOT NULL;
      CREATE INDEX messages_by_campaign ON messages (campaign_id, status, reason) WHERE campaign_id IS NOT NULL;

      CREATE TABLE campaigns (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        segment_id TEXT NOT NULL,
        segment_filter TEXT NOT NULL,
        template_id TEXT NOT NULL,
        data TEXT NOT NULL,
        page TEXT,
        urgent INTEGER NOT NULL,
        truncate INTEGER NOT NULL,
        rate_per_second REAL,
        status TEXT NOT NULL,
        start_at INTEGER,
        expansion_cursor TEXT,
        expanded INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX campaigns_by_status ON campaigns (status, start_at);
    `,
  },
  {
    version: 4,
    name: 'users with tags and attributes, segments',
    // Tags and attributes in their own tables (one row per value, typed columns), so a segment's
    // filter is plain SQL on indexed columns here and in a later PostgreSQL engine alike.
    // The people who signed in before this version become users, last active at their newest session,
    // consent or preferences change.
    sql: `
      CREATE TABLE users (
        openid TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_active_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX users_by_activity ON users (last_active_at);

      CREATE TABLE user_tags (
        openid TEXT NOT NULL REFERENCES users (openid) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (openid, tag)
      ) WITHOUT ROWID;
      CREATE INDEX user_tags_by_tag ON user_tags (tag, openid);

      CREATE TABLE user_attributes (
        openid TEXT NOT NULL REFERENCES users (openid) ON DELETE CASCADE,
        key TEXT NOT NULL,
        text_value TEXT,
        number_value REAL,
        PRIMARY KEY (openid, key),
        CHECK ((text_value IS NULL) <> (number_value IS NULL))
      ) WITHOUT ROWID;
      CREATE INDEX user_attributes_by_text ON user_attributes (key, text_value);
      CREATE INDEX user_attributes_by_number ON user_attributes (key, number_value);

      CREATE TABLE segments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        filter TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );

      INSERT INTO users (openid, created_at, updated_at, last_active_at)
        SELECT openid, MIN(at), MAX(at), MAX(active) FROM (
          SELECT openid, created_at AS at, created_at AS active FROM sessions
          UNION ALL SELECT openid, created_at, created_at FROM consents
          UNION ALL SELECT openid, updated_at, updated_at FROM preferences
          UNION ALL SELECT openid, updated_at, NULL FROM subscriptions
        ) GROUP BY openid;
    `,
  },
  {
    version: 5,
    name: 'WeChat push events (popup, change, sent), device reports awaiting them, messages by msgid',
    sql: `
      CREATE TABLE wechat_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_key TEXT NOT NULL UNIQUE,
        event TEXT NOT NULL,
        openid TEXT NOT NULL,
        template_id TEXT NOT NULL,
        status TEXT NOT NULL,
        popup_scene TEXT,
        msgid TEXT,
        error_code INTEGER,
        error_status TEXT,
        created_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        awaiting_report INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX wechat_events_awaiting ON wechat_events (openid, template_id, seq) WHERE awaiting_report = 1;
      CREATE INDEX wechat_events_by_msgid ON wechat_events (msgid, seq) WHERE msgid IS NOT NULL;

      CREATE TABLE consent_reports (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        openid TEXT NOT NULL,
        consent_id TEXT NOT NULL,
        template_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('unconfirmed', 'confirmed', 'withdrawn', 'void')),
        event_key TEXT,
        reported_at INTEGER NOT NULL,
        settled_at INTEGER
      );
      CREATE INDEX consent_reports_unconfirmed ON consent_reports (openid, template_id, seq) WHERE state = 'unconfirmed';
      CREATE INDEX consent_reports_due ON consent_reports (reported_at, seq) WHERE state = 'unconfirmed';

      CREATE INDEX messages_by_msgid ON messages (msgid) WHERE msgid IS NOT NULL;
    `,
  },
  {
    version: 7,
    name: 'operator sessions of the console; message history and attempts by time (the console charts)',
    // 5 and 6 are the push events' (issue 9). An operator session is stored by its token's hash, as
    // people's sessions are; the two time indexes keep a chart of the last 7 days a range read.
    sql: `
      CREATE TABLE operator_sessions (
        token_hash TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX operator_sessions_by_expiry ON operator_sessions (expires_at);
      CREATE INDEX message_history_by_time ON message_history (at);
      CREATE INDEX message_attempts_by_time ON message_attempts (at);
    `,
  },
  {
    version: 8,
    name: 'the dispatch indexes hold only the rows they are read for',
    // Each status the dispatcher reads by (queued by due time, overall and per campaign; deferred by
    // the end of quiet hours; sending, for the recovery) gets an index of its own rows: a message entering or leaving a status touches
    // one small index instead of moving inside a large one, and the sent history of a big campaign
    // weighs on none of them. Today's count per person reads only what counts (sending, sent).
    sql: `
      DROP INDEX messages_due;
      DROP INDEX messages_deferred;
      DROP INDEX messages_by_day;
      CREATE INDEX messages_due ON messages (due_at, seq) WHERE status = 'queued';
      CREATE INDEX messages_due_by_campaign ON messages (campaign_id, due_at, seq) WHERE status = 'queued';
      CREATE INDEX messages_deferred ON messages (deliver_after, seq) WHERE status = 'deferred';
      CREATE INDEX messages_sending ON messages (seq) WHERE status = 'sending';
      CREATE INDEX messages_by_day ON messages (openid, day_key) WHERE status IN ('sending', 'sent');
    `,
  },
  {
    version: 9,
    name: 'history and attempts in the message row; outcome counts per second and per minute instead of event rows',
    // A status change no longer writes rows of its own (history, attempt, and their four indexes): the
    // entries are appended to the message's JSON columns (message-log.ts), and the charts read counts
    // (outcomes.ts). Every existing entry moves into its message, in order; the counts are made from
    // the same rows (the statuses the charts counted then), all per second: the scheduler's compaction
    // folds the old ones per minute. A campaign's index keeps only the messages the dispatcher does not
    // hold (campaigns.ts), so a claim and a send move none of its entries; the daily count's index is keyed
    // by day_key alone, set only while a message counts (messages.ts), so a send that goes through moves
    // none of its entries either.
    sql: `
      ALTER TABLE messages ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE messages ADD COLUMN attempts TEXT NOT NULL DEFAULT '[]';
      UPDATE messages SET history = moved.entries FROM (
        SELECT message_id, json_group_array(json_array(at, status, reason) ORDER BY seq) AS entries
        FROM message_history GROUP BY message_id
      ) AS moved WHERE moved.message_id = messages.id;
      UPDATE messages SET attempts = moved.entries FROM (
        SELECT message_id, json_group_array(json_array(at, errcode, errmsg) ORDER BY seq) AS entries
        FROM message_attempts GROUP BY message_id
      ) AS moved WHERE moved.message_id = messages.id;

      CREATE TABLE outcome_seconds (
        second INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('status', 'errcode')),
        key TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (second, kind, key)
      ) WITHOUT ROWID;
      CREATE TABLE outcome_minutes (
        minute INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('status', 'errcode')),
        key TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (minute, kind, key)
      ) WITHOUT ROWID;
      INSERT INTO outcome_seconds (second, kind, key, count)
        SELECT at / 1000, 'status', status, COUNT(*) FROM message_history
        WHERE status IN ('sent', 'failed', 'skipped', 'deferred') GROUP BY at / 1000, status;
      INSERT INTO outcome_seconds (second, kind, key, count)
        SELECT at / 1000, 'errcode', CAST(errcode AS TEXT), COUNT(*) FROM message_attempts GROUP BY at / 1000, errcode;

      DROP TABLE message_history;
      DROP TABLE message_attempts;

      UPDATE messages SET day_key = NULL WHERE status NOT IN ('sending', 'sent');
      DROP INDEX messages_by_day;
      CREATE INDEX messages_by_day ON messages (openid, day_key) WHERE day_key IS NOT NULL;
      DROP INDEX messages_by_campaign;
      CREATE INDEX messages_by_campaign ON messages (campaign_id, status, reason)
        WHERE campaign_id IS NOT NULL AND status NOT IN ('queued', 'sending');
    `,
  },
  {
    version: 10,
    name: 'credits and preferences stored in openid order',
    // Both tables were stored in the order people arrived (a hidden rowid) with the openid in a separate
    // index. A campaign walks its audience in openid order, and openids are hashes, so each recipient's
    // credit row sat on a page of its own: a batch's claims dirtied a page per person, each a 4 KiB WAL
    // frame at the commit. Keyed by openid itself, neighbours in a campaign share their pages (and a
    // lookup is one b-tree, not the index and then the table).
    sql: `
      CREATE TABLE subscriptions_by_openid (
        openid TEXT NOT NULL,
        template_id TEXT NOT NULL,
        credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
        last_result TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (openid, template_id)
      ) WITHOUT ROWID;
      INSERT INTO subscriptions_by_openid (openid, template_id, credits, last_result, updated_at)
        SELECT openid, template_id, credits, last_result, updated_at FROM subscriptions;
      DROP TABLE subscriptions;
      ALTER TABLE subscriptions_by_openid RENAME TO subscriptions;

      CREATE TABLE preferences_by_openid (
        openid TEXT PRIMARY KEY,
        quiet_start TEXT,
        quiet_end TEXT,
        daily_limit INTEGER NOT NULL,
        muted_categories TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO preferences_by_openid (openid, quiet_start, quiet_end, daily_limit, muted_categories, updated_at)
        SELECT openid, quiet_start, quiet_end, daily_limit, muted_categories, updated_at FROM preferences;
      DROP TABLE preferences;
      ALTER TABLE preferences_by_openid RENAME TO preferences;
    `,
  },
]
