//! The schema, one migration per version. `PRAGMA user_version` holds the number of migrations
//! applied; each runs in its own transaction together with the version bump, so a crash leaves
//! the database at one version or the next, never between.

/// Migration `i` takes the database from version `i` to `i + 1`. Append new migrations; never
/// edit one that has shipped.
pub(super) const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build writes and reads.
pub(super) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Tables are `STRICT`, so a value of the wrong type is refused on write. Enumerations are text
/// without `CHECK` constraints: adding a state needs no migration, and reading an unknown one is
/// reported as a corrupt row.
const V1: &str = "
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    source     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    request_id TEXT UNIQUE
) STRICT;

CREATE TABLE snapshots (
    upto_seq INTEGER PRIMARY KEY,
    data     BLOB NOT NULL
) STRICT;

CREATE TABLE templates (
    uuid           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    template_type  TEXT NOT NULL,
    status         TEXT NOT NULL,
    status_details TEXT NOT NULL,
    yaml           TEXT NOT NULL,
    params         TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;
CREATE INDEX templates_name ON templates (name);

CREATE TABLE webhooks (
    id               TEXT PRIMARY KEY,
    url              TEXT NOT NULL,
    regex_filter     TEXT,
    headers          TEXT,
    created_at       TEXT NOT NULL,
    project_id       TEXT,
    is_admin_webhook INTEGER NOT NULL
) STRICT;

CREATE TABLE alarm_history (
    vitrage_id TEXT PRIMARY KEY,
    alarm      TEXT NOT NULL,
    start_ts   TEXT NOT NULL,
    end_ts     TEXT
) STRICT;
CREATE INDEX alarm_history_start ON alarm_history (start_ts, vitrage_id);
CREATE INDEX alarm_history_active ON alarm_history (start_ts, vitrage_id) WHERE end_ts IS NULL;

CREATE TABLE outbox (
    execution_id TEXT PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    workflow     TEXT NOT NULL,
    input        TEXT NOT NULL,
    description  TEXT,
    origin       TEXT NOT NULL,
    requested_by TEXT,
    created_at   TEXT NOT NULL,
    state        TEXT NOT NULL,
    state_info   TEXT,
    attempts     INTEGER NOT NULL,
    updated_at   TEXT NOT NULL,
    resource_ids TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_state ON outbox (state);
";
