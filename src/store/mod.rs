//! Durable state of `causeway serve`: the event log, snapshots, templates, webhooks, alarm
//! history and the Mistral outbox, in one SQLite database ([`FILE_NAME`] in the data
//! directory).
//!
//! The store keeps opaque payloads (JSON values, snapshot bytes) under typed metadata. It knows
//! nothing of evaluation: the service decides what an entry means and what a snapshot holds.
//!
//! # Why it is built this way
//!
//! * **The event log is the durable state.** Every accepted change is appended before it is
//!   acknowledged. Evaluation is deterministic, so the rest of the service's state is a function
//!   of the log. A snapshot saved at seq S stands for the entries up to and including S: a
//!   restart loads the latest snapshot and replays the entries after S
//!   ([`Reader::entries_after`]). Tables the service derives from evaluation (alarm history, the
//!   outbox) take replayed writes without harm: their writes are upserts or keyed no-ops.
//! * **WAL, `synchronous=FULL`.** In write-ahead-log mode a commit appends to the WAL file, and
//!   with `FULL` SQLite fsyncs that file before `COMMIT` returns. A commit that returned is on
//!   disk: it survives `kill -9` of the process and, as far as the disk honours fsync, power
//!   loss. (`NORMAL`, the usual WAL pairing, syncs only at checkpoints and may lose the last
//!   commits on power loss, which would break "acknowledged means kept".) Readers on other
//!   connections see the last commit and neither block the writer nor wait for it.
//! * **Group commit.** An fsync takes of the order of a millisecond, so one commit per event
//!   caps throughput near a thousand events per second. [`Store::append_batch`] writes any number
//!   of entries in one transaction and one fsync: the service's writer thread commits whatever
//!   arrived while the previous commit was in flight, then acknowledges each.
//! * **Idempotency keys.** An entry may carry the client's `request_id`. Appending a key the log
//!   already holds writes nothing and returns the original seq, so a client that lost its
//!   acknowledgement in a crash resends without duplicating the change.
//! * **A change and its consequences commit together.** A [`Txn`] writes log entries, outbox
//!   requests and every other table in one transaction: an `execute_mistral` request is recorded
//!   in the commit of the change that caused it, or not at all.
//!
//! One [`Store`] is the single writer, owned by one thread; it also reads through its own
//! connection (it dereferences to a [`Reader`]). Other threads open [`Reader`]s, read-only
//! connections that see the last commit. Keep their reads short: a read transaction that stays
//! open keeps the WAL from being checkpointed.
//!
//! # Example
//!
//! ```
//! use causeway::store::{NewEntry, Seq, Store, Timestamp};
//!
//! let dir = std::env::temp_dir().join(format!("causeway-store-doc-{}", std::process::id()));
//! let mut store = Store::open(&dir)?;
//! let entry = NewEntry {
//!     at: Timestamp::parse("2024-05-01T12:00:00.000000Z")?,
//!     source: "api".into(),
//!     kind: "event".into(),
//!     body: serde_json::json!({"type": "compute.host.down"}),
//!     request_id: Some("req-1".into()),
//! };
//! let first = store.append_batch(std::slice::from_ref(&entry))?;
//! // The client resends after a crash: nothing is written, the original seq comes back.
//! let again = store.append_batch(&[entry])?;
//! assert_eq!((first[0].seq, again[0].seq), (Seq(1), Seq(1)));
//! assert!(again[0].duplicate);
//! assert_eq!(store.entries_after(Seq(0), 100)?.len(), 1);
//! drop(store);
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Params, Row, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// An enumeration stored as text: `as_str`, `parse`, `Display`, serde and SQL conversions, all
/// from one table of variants and texts.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// The text stored in the database and shown by the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The variant written `text`.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                Self::parse(text).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("unknown {} `{text}`", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

mod error;
mod history;
mod log;
mod outbox;
mod schema;
mod templates;
mod time;
mod webhooks;

use error::Context;
pub use error::StoreError;
pub use history::{AlarmRecord, HistoryQuery, HistorySort};
pub use log::{Appended, Entry, NewEntry, SNAPSHOTS_KEPT, Snapshot};
pub use outbox::{ExecutionState, Origin, OutboxRecord, OutboxRequest};
pub use templates::{StoredTemplate, TemplateStatus};
pub use time::Timestamp;
pub use webhooks::Webhook;

/// The database's file name inside the data directory.
pub const FILE_NAME: &str = "causeway.sqlite3";

/// How long a connection waits for another connection's lock before it reports `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A position in the event log. Entries are numbered 1, 2, 3, ... in commit order without gaps;
/// `Seq(0)` is the position before the first entry.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Seq(pub u64);

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ToSql for Seq {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        // Sequence numbers come from SQLite's 64-bit signed rowids; a larger one matches none.
        Ok(ToSqlOutput::from(i64::try_from(self.0).unwrap_or(i64::MAX)))
    }
}

impl FromSql for Seq {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let n = value.as_i64()?;
        u64::try_from(n).map(Seq).map_err(|_| FromSqlError::OutOfRange(n))
    }
}

/// A JSON column: written as text, parsed on read, where text that does not parse is a corrupt
/// row.
struct Json<T>(T);

impl<T: serde::de::DeserializeOwned> FromSql for Json<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?).map(Json).map_err(FromSqlError::other)
    }
}

/// The writer: the one connection that writes, owned by one thread. Reads through it see its
/// own commits; see [`Reader`] for the read methods.
pub struct Store {
    db: Reader,
}

/// A read connection. [`Store`] reads through one of these; other threads open their own with
/// [`Reader::open`].
pub struct Reader {
    conn: Connection,
}

/// One write transaction. Its writes become visible and durable together when
/// [`Txn::commit`] returns; dropping it without committing (an error, an early return) rolls all
/// of them back.
pub struct Txn<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Store {
    /// Opens the store in `dir`, creating the directory and the database if needed, and migrates
    /// the schema to this build's version.
    ///
    /// Sets write-ahead logging, `synchronous=FULL` (a returned commit is durable) and a busy
    /// timeout. Fails if the database comes from a newer build.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::CreateDir { path: dir.to_path_buf(), source })?;
        let mut conn = Connection::open(dir.join(FILE_NAME)).ctx("open")?;
        conn.busy_timeout(BUSY_TIMEOUT).ctx("open: busy timeout")?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .ctx("open: journal mode")?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { mode });
        }
        conn.pragma_update(None, "synchronous", "FULL").ctx("open: synchronous")?;
        conn.set_prepared_statement_cache_capacity(64);
        migrate(&mut conn)?;
        Ok(Store { db: Reader { conn } })
    }

    /// Begins a write transaction. It takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction never fails half-way for want of it.
    pub fn txn(&mut self) -> Result<Txn<'_>, StoreError> {
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("begin transaction")?;
        Ok(Txn { tx })
    }

    /// Runs `write` in one transaction and commits it if `write` succeeds.
    fn write<T>(
        &mut self,
        write: impl FnOnce(&Txn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.txn()?;
        let out = write(&txn)?;
        txn.commit()?;
        Ok(out)
    }
}

impl std::ops::Deref for Store {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        &self.db
    }
}

impl Reader {
    /// Opens a read-only connection to the store in `dir`, which a [`Store`] must have created
    /// and migrated to this build's schema.
    pub fn open(dir: &Path) -> Result<Reader, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(dir.join(FILE_NAME), flags).ctx("open read connection")?;
        conn.busy_timeout(BUSY_TIMEOUT).ctx("open read connection: busy timeout")?;
        conn.set_prepared_statement_cache_capacity(64);
        let found = user_version(&conn)?;
        if found != schema::VERSION {
            return Err(StoreError::SchemaMismatch { found, supported: schema::VERSION });
        }
        Ok(Reader { conn })
    }
}

impl Txn<'_> {
    /// Commits every write of the transaction; when this returns `Ok`, they are on disk.
    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().ctx("commit")
    }
}

/// Runs a statement (cached) and returns how many rows it changed.
fn execute(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    params: impl Params,
) -> Result<usize, StoreError> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute(params)).ctx(op)
}

/// Runs a query (cached) and maps its first row, if it returns one.
fn query_row<T>(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError> {
    conn.prepare_cached(sql).and_then(|mut s| s.query_row(params, map).optional()).ctx(op)
}

/// Runs a query (cached) and maps every row.
fn query_rows<T>(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    params: impl Params,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).ctx(op)?;
    let rows = stmt.query_map(params, map).ctx(op)?;
    rows.collect::<Result<_, _>>().ctx(op)
}

fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0)).ctx("schema: read version")
}

/// Applies the migrations the database lacks, each in its own transaction with its version
/// bump. The version is read inside the transaction, so two processes opening a new store at
/// once do not both migrate it.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("schema: migrate")?;
        let found = user_version(&tx)?;
        if found > schema::VERSION {
            return Err(StoreError::SchemaTooNew { found, supported: schema::VERSION });
        }
        let Some(sql) = usize::try_from(found).ok().and_then(|v| schema::MIGRATIONS.get(v)) else {
            if found == schema::VERSION {
                return Ok(());
            }
            return Err(StoreError::Corrupt {
                op: "schema: read version",
                detail: format!("user_version is {found}"),
            });
        };
        tx.execute_batch(sql).ctx("schema: migrate")?;
        tx.pragma_update(None, "user_version", found + 1).ctx("schema: migrate")?;
        tx.commit().ctx("schema: migrate")?;
    }
}

#[cfg(test)]
pub(crate) mod scratch {
    //! Scratch directories for the store's tests.

    use super::{NewEntry, Timestamp};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory under the system's temporary directory, removed on drop.
    pub(crate) struct Scratch(PathBuf);

    impl Scratch {
        pub(crate) fn new(name: &str) -> Scratch {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("causeway-store-{name}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Scratch(dir)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The timestamp `secs` seconds after 2024-05-01T00:00:00Z.
    pub(crate) fn ts(secs: i64) -> Timestamp {
        Timestamp::from_unix_micros((1_714_521_600 + secs) * 1_000_000).expect("in range")
    }

    /// Entry `n`: accepted at `ts(n)`, its body naming `n`.
    pub(crate) fn entry(n: u64, request_id: Option<&str>) -> NewEntry {
        NewEntry {
            at: ts(n as i64),
            source: "test".into(),
            kind: "event".into(),
            body: serde_json::json!({ "n": n, "nested": { "list": [1, "two", null] } }),
            request_id: request_id.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::scratch::Scratch;
    use super::*;

    #[test]
    fn open_sets_wal_full_sync_and_the_schema_version() {
        let dir = Scratch::new("open");
        let store = Store::open(dir.path()).expect("open");
        let conn = &store.conn;
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
        assert_eq!(user_version(conn).unwrap(), schema::VERSION);
        assert!(dir.path().join(FILE_NAME).is_file());
    }

    #[test]
    fn reopening_migrates_nothing_and_a_newer_schema_is_refused() {
        let dir = Scratch::new("reopen");
        drop(Store::open(dir.path()).expect("first open"));
        let store = Store::open(dir.path()).expect("second open");
        store.conn.pragma_update(None, "user_version", schema::VERSION + 1).unwrap();
        drop(store);
        let err = Store::open(dir.path()).err().expect("refused");
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, .. } if found == schema::VERSION + 1)
        );
        let err = Reader::open(dir.path()).err().expect("refused");
        assert!(matches!(err, StoreError::SchemaMismatch { .. }));
    }

    #[test]
    fn a_reader_sees_commits_and_cannot_write() {
        let dir = Scratch::new("reader");
        let mut store = Store::open(dir.path()).expect("open");
        let reader = Reader::open(dir.path()).expect("reader");
        assert_eq!(reader.last_seq().unwrap(), Seq(0));
        store.append_batch(&[scratch::entry(0, None)]).unwrap();
        assert_eq!(reader.last_seq().unwrap(), Seq(1));
        let refused = reader.conn.execute("DELETE FROM events", []);
        assert!(refused.is_err());
    }

    #[test]
    fn reopening_sees_every_table_as_committed() {
        let dir = Scratch::new("reopen-all");
        let at = scratch::ts(1);
        let entry = scratch::entry(1, Some("r1"));
        let template = StoredTemplate {
            uuid: "t1".into(),
            name: "nic_failure".into(),
            file_name: "nic_failure.yaml".into(),
            template_type: "standard".into(),
            status: TemplateStatus::Active,
            status_details: "OK".into(),
            yaml: "metadata: {}".into(),
            params: None,
            created_at: at.clone(),
            updated_at: at.clone(),
        };
        let webhook = Webhook {
            id: "w1".into(),
            url: "http://127.0.0.1:1/".into(),
            regex_filter: None,
            headers: Some(serde_json::json!({ "X-Token": "t" })),
            created_at: at.clone(),
            project_id: None,
            is_admin_webhook: true,
        };
        let request = OutboxRequest {
            execution_id: "e1".into(),
            key: "k1".into(),
            workflow: "wf".into(),
            input: serde_json::json!({}),
            description: None,
            origin: Origin::Manual,
            requested_by: Some("admin".into()),
            created_at: at.clone(),
            resource_ids: vec![],
        };
        {
            let mut store = Store::open(dir.path()).unwrap();
            let txn = store.txn().unwrap();
            txn.append(std::slice::from_ref(&entry)).unwrap();
            txn.put_template(&template).unwrap();
            txn.add_webhook(&webhook).unwrap();
            txn.alarm_started("a1", &serde_json::json!({ "name": "nic down" }), &at).unwrap();
            txn.insert_outbox(&request).unwrap();
            txn.save_snapshot(Seq(1), b"state").unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let log = store.entries_after(Seq(0), 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!((&log[0].kind, &log[0].body), (&entry.kind, &entry.body));
        assert_eq!(store.templates().unwrap(), [template]);
        assert_eq!(store.webhooks().unwrap(), [webhook]);
        assert_eq!(store.history(&HistoryQuery::default()).unwrap().len(), 1);
        assert_eq!(store.pending().unwrap()[0].request, request);
        assert_eq!(store.latest_snapshot().unwrap().map(|s| s.upto), Some(Seq(1)));
    }

    #[test]
    fn a_reader_opens_a_closed_store_and_the_store_moves_between_threads() {
        fn send<T: Send>(_: &T) {}
        let dir = Scratch::new("reader-closed");
        let mut store = Store::open(dir.path()).expect("open");
        send(&store);
        store.append_batch(&[scratch::entry(0, None)]).unwrap();
        // Closing the last connection checkpoints the WAL and removes it.
        drop(store);
        let reader = Reader::open(dir.path()).expect("reader of a closed store");
        assert_eq!(reader.last_seq().unwrap(), Seq(1));
    }

    #[test]
    fn a_reader_of_a_missing_store_is_an_error() {
        let dir = Scratch::new("missing");
        assert!(matches!(Reader::open(dir.path()), Err(StoreError::Sqlite { .. })));
    }
}
