//! Errors of store operations.

use super::Seq;
use std::path::PathBuf;

/// Why a store operation failed. A failed write leaves the database as it was before the
/// transaction that contained it; nothing of that transaction is kept.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("store: cannot create the data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// SQLite refused or failed an operation (`op` names the table and what was being done).
    #[error("store {op}: {source}")]
    Sqlite {
        /// The table and the operation, such as `events: append`.
        op: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A row read from disk does not hold what its table promises (a malformed timestamp, JSON
    /// that does not parse, an unknown status, a negative sequence number).
    #[error("store {op}: corrupt row: {detail}")]
    Corrupt {
        /// The table and the operation.
        op: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The database was written by a newer causeway whose schema this build does not know.
    #[error("store: schema version {found} is newer than this build's {supported}")]
    SchemaTooNew {
        /// The database's `user_version`.
        found: i64,
        /// The newest version this build migrates to.
        supported: i64,
    },
    /// A read connection found a schema version other than this build's (the writer has not
    /// migrated the database yet, or a different build did).
    #[error("store: schema version {found}, this build reads version {supported}")]
    SchemaMismatch {
        /// The database's `user_version`.
        found: i64,
        /// The version this build reads.
        supported: i64,
    },
    /// SQLite did not switch the database to write-ahead logging (the file system may not
    /// support the shared memory it needs).
    #[error("store: journal mode is `{mode}`, not `wal`")]
    NoWal {
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// No row has this id.
    #[error("store {op}: no row with id `{id}`")]
    NotFound {
        /// The table and the operation.
        op: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// A snapshot may not claim entries the log does not hold.
    #[error("store snapshots: a snapshot up to seq {upto} is past the end of the log ({last})")]
    SnapshotAhead {
        /// The snapshot's sequence number.
        upto: Seq,
        /// The last sequence number in the log.
        last: Seq,
    },
    /// A snapshot older than the newest one kept would be deleted at once by retention.
    #[error("store snapshots: a snapshot up to seq {upto} is older than the latest ({latest})")]
    SnapshotBehind {
        /// The snapshot's sequence number.
        upto: Seq,
        /// The newest snapshot's sequence number.
        latest: Seq,
    },
    /// Compacting the log this far would drop entries that no snapshot covers, or the newest
    /// entry (whose sequence number the next append continues from).
    #[error("store events: cannot compact before seq {before}: {reason}")]
    UnsafeCompaction {
        /// The first sequence number that would be kept.
        before: Seq,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An outbox request shares its key or its execution id, but not both, with a stored one
    /// (the execution id is derived from the key, so this is a caller's bug).
    #[error(
        "store outbox: request `{execution_id}` with key `{key}` conflicts with a stored request"
    )]
    OutboxConflict {
        /// The rejected request's execution id.
        execution_id: String,
        /// The rejected request's key.
        key: String,
    },
    /// A timestamp is not RFC 3339 UTC with microseconds (`2024-05-01T12:00:00.000000Z`).
    #[error("store: `{0}` is not an RFC 3339 UTC timestamp with microseconds")]
    InvalidTimestamp(String),
}

impl StoreError {
    /// Wraps SQLite's error with the operation; conversion failures of a column are corrupt
    /// rows.
    pub(super) fn sqlite(op: &'static str, source: rusqlite::Error) -> StoreError {
        match source {
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => {
                StoreError::Corrupt { op, detail: source.to_string() }
            }
            source => StoreError::Sqlite { op, source },
        }
    }
}

/// Attaches the operation to SQLite's errors.
pub(super) trait Context<T> {
    /// Names the table and operation that failed.
    fn ctx(self, op: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sqlite(op, e))
    }
}
