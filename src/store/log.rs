//! The event log and the snapshots that bound its replay.

use super::{
    Context, Json, OutboxRequest, Reader, Seq, Store, StoreError, Timestamp, Txn, execute,
    query_row, query_rows,
};
use rusqlite::{Connection, OptionalExtension, params};

/// How many snapshots are kept: the newest, and one before it to fall back on if the newest
/// cannot be read by the build that restarts.
pub const SNAPSHOTS_KEPT: usize = 2;

/// An entry to append: one accepted change, as the service received it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    /// When the change was accepted (the caller's clock, so that replay reproduces it).
    pub at: Timestamp,
    /// Where it came from, such as `api`, `topology` or a datasource's name.
    pub source: String,
    /// What it is, such as `event`, `topology` or `template.add`; the store does not interpret it.
    pub kind: String,
    /// The change itself.
    pub body: serde_json::Value,
    /// The client's idempotency key: an entry whose key the log already holds is not written
    /// again.
    pub request_id: Option<String>,
}

/// An entry of the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its position.
    pub seq: Seq,
    /// When the change was accepted.
    pub at: Timestamp,
    /// Where it came from.
    pub source: String,
    /// What it is.
    pub kind: String,
    /// The change itself.
    pub body: serde_json::Value,
    /// The client's idempotency key, if it sent one.
    pub request_id: Option<String>,
}

/// What became of one appended entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The entry's position: the new one, or for a duplicate the original's.
    pub seq: Seq,
    /// The log already held an entry with this `request_id`, and nothing was written.
    pub duplicate: bool,
}

/// A snapshot of the service's state after the entries up to `upto`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The last entry the snapshot includes; replay continues after it.
    pub upto: Seq,
    /// The state, in whatever encoding the service chose.
    pub data: Vec<u8>,
}

impl Store {
    /// Appends `entries` in one transaction (one fsync), in order, and returns what became of
    /// each: this is the group commit. Entries whose `request_id` is already in the log (or
    /// earlier in the same batch) are not written and report the original's seq.
    ///
    /// A duplicate is recognised by its key alone; its other fields are not compared.
    pub fn append_batch(&mut self, entries: &[NewEntry]) -> Result<Vec<Appended>, StoreError> {
        self.write(|txn| txn.append(entries))
    }

    /// Appends `entries` and inserts the outbox `requests` in one transaction: both are
    /// committed, or neither. Requests whose key is already in the outbox are left as they are.
    pub fn append_batch_with(
        &mut self,
        entries: &[NewEntry],
        requests: &[OutboxRequest],
    ) -> Result<Vec<Appended>, StoreError> {
        self.write(|txn| {
            let appended = txn.append(entries)?;
            for request in requests {
                txn.insert_outbox(request)?;
            }
            Ok(appended)
        })
    }

    /// Saves a snapshot of the state after entry `upto`; see [`Txn::save_snapshot`].
    pub fn save_snapshot(&mut self, upto: Seq, data: &[u8]) -> Result<(), StoreError> {
        self.write(|txn| txn.save_snapshot(upto, data))
    }

    /// Deletes the log entries before `before`; see [`Txn::compact_log_before`].
    pub fn compact_log_before(&mut self, before: Seq) -> Result<u64, StoreError> {
        self.write(|txn| txn.compact_log_before(before))
    }
}

impl Txn<'_> {
    /// Appends `entries` in order as part of this transaction; see [`Store::append_batch`].
    pub fn append(&self, entries: &[NewEntry]) -> Result<Vec<Appended>, StoreError> {
        const OP: &str = "events: append";
        let mut find =
            self.tx.prepare_cached("SELECT seq FROM events WHERE request_id = ?1").ctx(OP)?;
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO events (at, source, kind, body, request_id)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq",
            )
            .ctx(OP)?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if let Some(id) = &e.request_id {
                let existing = find.query_row([id], |row| row.get(0)).optional().ctx(OP)?;
                if let Some(seq) = existing {
                    out.push(Appended { seq, duplicate: true });
                    continue;
                }
            }
            let seq = insert
                .query_row(
                    params![e.at, e.source, e.kind, e.body.to_string(), e.request_id],
                    |row| row.get(0),
                )
                .ctx(OP)?;
            out.push(Appended { seq, duplicate: false });
        }
        Ok(out)
    }

    /// Saves a snapshot of the state after entry `upto`, replacing one at the same seq, and
    /// deletes all but the newest [`SNAPSHOTS_KEPT`].
    ///
    /// Refused if `upto` is past the end of the log (the snapshot would claim entries that are
    /// not there) or older than the latest snapshot.
    pub fn save_snapshot(&self, upto: Seq, data: &[u8]) -> Result<(), StoreError> {
        const OP: &str = "snapshots: save";
        let last = last_seq(&self.tx)?;
        if upto > last {
            return Err(StoreError::SnapshotAhead { upto, last });
        }
        if let Some(latest) = latest_snapshot_seq(&self.tx)?
            && upto < latest
        {
            return Err(StoreError::SnapshotBehind { upto, latest });
        }
        let sql = "INSERT OR REPLACE INTO snapshots (upto_seq, data) VALUES (?1, ?2)";
        execute(&self.tx, OP, sql, params![upto, data])?;
        let sql = "DELETE FROM snapshots WHERE upto_seq NOT IN
            (SELECT upto_seq FROM snapshots ORDER BY upto_seq DESC LIMIT ?1)";
        execute(&self.tx, OP, sql, [SNAPSHOTS_KEPT as i64])?;
        Ok(())
    }

    /// Deletes the log entries before `before` and returns how many went. Not part of normal
    /// operation: the service keeps the whole log unless told otherwise.
    ///
    /// The latest snapshot must include every deleted entry (`upto >= before - 1`), and the
    /// newest entry is always kept (the next append continues its numbering). Snapshots older
    /// than `before - 1` are deleted with the entries they would need. The deleted entries'
    /// `request_id`s are forgotten: a client resending one of them is no longer recognised.
    pub fn compact_log_before(&self, before: Seq) -> Result<u64, StoreError> {
        const OP: &str = "events: compact";
        let covered = Seq(before.0.saturating_sub(1));
        if covered == Seq(0) {
            return Ok(0);
        }
        if before > last_seq(&self.tx)? {
            let reason = "the newest entry is always kept";
            return Err(StoreError::UnsafeCompaction { before, reason });
        }
        if latest_snapshot_seq(&self.tx)?.is_none_or(|latest| latest < covered) {
            let reason = "no snapshot includes the entries it would delete";
            return Err(StoreError::UnsafeCompaction { before, reason });
        }
        let deleted = execute(&self.tx, OP, "DELETE FROM events WHERE seq < ?1", [before])?;
        execute(&self.tx, OP, "DELETE FROM snapshots WHERE upto_seq < ?1", [covered])?;
        Ok(deleted as u64)
    }
}

impl Reader {
    /// Up to `limit` entries after `after`, in log order: replay from a snapshot at seq S reads
    /// `entries_after(S, ..)` until it returns fewer than asked.
    pub fn entries_after(&self, after: Seq, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let sql = "SELECT seq, at, source, kind, body, request_id FROM events
            WHERE seq > ?1 ORDER BY seq LIMIT ?2";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        query_rows(&self.conn, "events: read", sql, params![after, limit], |row| {
            Ok(Entry {
                seq: row.get(0)?,
                at: row.get(1)?,
                source: row.get(2)?,
                kind: row.get(3)?,
                body: row.get::<_, Json<_>>(4)?.0,
                request_id: row.get(5)?,
            })
        })
    }

    /// The seq of the entry a client's `request_id` was logged with, if any: lets the writer
    /// answer a resent request without applying it again.
    pub fn seq_of_request(&self, request_id: &str) -> Result<Option<Seq>, StoreError> {
        let sql = "SELECT seq FROM events WHERE request_id = ?1";
        query_row(&self.conn, "events: find request", sql, [request_id], |row| row.get(0))
    }

    /// The seq of the newest entry, `Seq(0)` if the log is empty.
    pub fn last_seq(&self) -> Result<Seq, StoreError> {
        last_seq(&self.conn)
    }

    /// How many entries the log holds (fewer than [`Reader::last_seq`] only after compaction).
    pub fn count(&self) -> Result<u64, StoreError> {
        let sql = "SELECT count(*) FROM events";
        let count = query_row(&self.conn, "events: count", sql, [], |row| row.get::<_, i64>(0))?;
        Ok(count.map_or(0, i64::unsigned_abs))
    }

    /// The newest snapshot, if any.
    pub fn latest_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        match latest_snapshot_seq(&self.conn)? {
            Some(upto) => self.snapshot(upto),
            None => Ok(None),
        }
    }

    /// The snapshot taken after entry `upto`, if it is kept.
    pub fn snapshot(&self, upto: Seq) -> Result<Option<Snapshot>, StoreError> {
        let sql = "SELECT data FROM snapshots WHERE upto_seq = ?1";
        let data = query_row(&self.conn, "snapshots: read", sql, [upto], |row| row.get(0))?;
        Ok(data.map(|data| Snapshot { upto, data }))
    }

    /// The seqs of the kept snapshots, newest first.
    pub fn snapshots(&self) -> Result<Vec<Seq>, StoreError> {
        let sql = "SELECT upto_seq FROM snapshots ORDER BY upto_seq DESC";
        query_rows(&self.conn, "snapshots: list", sql, [], |row| row.get(0))
    }
}

fn last_seq(conn: &Connection) -> Result<Seq, StoreError> {
    let sql = "SELECT max(seq) FROM events";
    let last = query_row(conn, "events: last seq", sql, [], |row| row.get::<_, Option<Seq>>(0))?;
    Ok(last.flatten().unwrap_or_default())
}

fn latest_snapshot_seq(conn: &Connection) -> Result<Option<Seq>, StoreError> {
    let sql = "SELECT max(upto_seq) FROM snapshots";
    Ok(query_row(conn, "snapshots: latest", sql, [], |row| row.get(0))?.flatten())
}

#[cfg(test)]
mod tests {
    use super::super::scratch::{Scratch, entry};
    use super::*;

    fn seqs(appended: &[Appended]) -> Vec<u64> {
        appended.iter().map(|a| a.seq.0).collect()
    }

    #[test]
    fn batches_append_in_order_and_replay_in_order() {
        let dir = Scratch::new("log-order");
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.last_seq().unwrap(), Seq(0));
        assert_eq!(seqs(&store.append_batch(&[entry(1, None)]).unwrap()), [1]);
        let batch: Vec<_> = (2..=5).map(|n| entry(n, None)).collect();
        assert_eq!(seqs(&store.append_batch(&batch).unwrap()), [2, 3, 4, 5]);
        assert!(store.append_batch(&[]).unwrap().is_empty());
        assert_eq!((store.last_seq().unwrap(), store.count().unwrap()), (Seq(5), 5));

        let all = store.entries_after(Seq(0), 100).unwrap();
        assert_eq!(all.iter().map(|e| e.seq.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        for e in &all {
            let written = entry(e.seq.0, None);
            assert_eq!((&e.at, &e.body, &e.kind), (&written.at, &written.body, &written.kind));
        }
        let page = store.entries_after(Seq(2), 2).unwrap();
        assert_eq!(page.iter().map(|e| e.seq.0).collect::<Vec<_>>(), [3, 4]);
        assert!(store.entries_after(Seq(5), 10).unwrap().is_empty());
    }

    #[test]
    fn a_duplicate_request_id_returns_the_original_seq_and_writes_nothing() {
        let dir = Scratch::new("log-dup");
        let mut store = Store::open(dir.path()).unwrap();
        let first = store.append_batch(&[entry(1, Some("a")), entry(2, None)]).unwrap();
        assert_eq!(
            first,
            [
                Appended { seq: Seq(1), duplicate: false },
                Appended { seq: Seq(2), duplicate: false }
            ]
        );
        // A resend of "a", a new "b" and "b" again in the same batch.
        let again =
            store.append_batch(&[entry(9, Some("a")), entry(3, Some("b")), entry(9, Some("b"))]);
        assert_eq!(
            again.unwrap(),
            [
                Appended { seq: Seq(1), duplicate: true },
                Appended { seq: Seq(3), duplicate: false },
                Appended { seq: Seq(3), duplicate: true },
            ]
        );
        assert_eq!(store.count().unwrap(), 3);
        let log = store.entries_after(Seq(0), 10).unwrap();
        assert_eq!(log[0].body, entry(1, None).body, "the original is kept");
        assert_eq!(log[2].request_id.as_deref(), Some("b"));
    }

    #[test]
    fn snapshots_keep_the_newest_two_and_never_run_ahead_of_the_log() {
        let dir = Scratch::new("log-snap");
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.latest_snapshot().unwrap(), None);
        store.save_snapshot(Seq(0), b"empty").unwrap();
        store.append_batch(&(1..=3).map(|n| entry(n, None)).collect::<Vec<_>>()).unwrap();
        for upto in 1..=3 {
            store.save_snapshot(Seq(upto), format!("state {upto}").as_bytes()).unwrap();
        }
        assert_eq!(store.snapshots().unwrap(), [Seq(3), Seq(2)]);
        let latest = store.latest_snapshot().unwrap().unwrap();
        assert_eq!((latest.upto, latest.data.as_slice()), (Seq(3), &b"state 3"[..]));
        assert_eq!(store.snapshot(Seq(2)).unwrap().map(|s| s.data), Some(b"state 2".to_vec()));
        assert_eq!(store.snapshot(Seq(1)).unwrap(), None);

        let ahead = store.save_snapshot(Seq(4), b"future");
        assert!(matches!(ahead, Err(StoreError::SnapshotAhead { upto: Seq(4), last: Seq(3) })));
        let behind = store.save_snapshot(Seq(1), b"past");
        assert!(matches!(behind, Err(StoreError::SnapshotBehind { latest: Seq(3), .. })));
        store.save_snapshot(Seq(3), b"state 3 again").unwrap();
        assert_eq!(store.snapshots().unwrap(), [Seq(3), Seq(2)]);
        assert_eq!(store.latest_snapshot().unwrap().unwrap().data, b"state 3 again");
        // Replay after the latest snapshot is exactly the entries it does not include.
        store.append_batch(&[entry(4, None)]).unwrap();
        let replay = store.entries_after(latest.upto, 100).unwrap();
        assert_eq!(replay.iter().map(|e| e.seq).collect::<Vec<_>>(), [Seq(4)]);
    }

    #[test]
    fn compaction_needs_a_snapshot_and_keeps_the_newest_entry() {
        let dir = Scratch::new("log-compact");
        let mut store = Store::open(dir.path()).unwrap();
        store
            .append_batch(&(1..=10).map(|n| entry(n, Some(&n.to_string()))).collect::<Vec<_>>())
            .unwrap();
        let refused = store.compact_log_before(Seq(4));
        assert!(matches!(refused, Err(StoreError::UnsafeCompaction { .. })));
        store.save_snapshot(Seq(3), b"3").unwrap();
        store.save_snapshot(Seq(5), b"5").unwrap();
        assert!(store.compact_log_before(Seq(7)).is_err(), "entry 6 is in no snapshot");
        assert_eq!(store.compact_log_before(Seq(6)).unwrap(), 5);
        assert_eq!(store.snapshots().unwrap(), [Seq(5)], "snapshot 3 needed deleted entries");
        assert_eq!((store.count().unwrap(), store.last_seq().unwrap()), (5, Seq(10)));
        assert_eq!(store.entries_after(Seq(0), 1).unwrap()[0].seq, Seq(6));
        store.save_snapshot(Seq(10), b"10").unwrap();
        assert!(store.compact_log_before(Seq(11)).is_err(), "the newest entry stays");
        assert_eq!(store.compact_log_before(Seq(10)).unwrap(), 4);
        assert_eq!(seqs(&store.append_batch(&[entry(11, None)]).unwrap()), [11]);
        assert_eq!(store.compact_log_before(Seq(0)).unwrap(), 0);
    }

    #[test]
    fn the_log_and_snapshots_survive_reopening() {
        let dir = Scratch::new("log-reopen");
        {
            let mut store = Store::open(dir.path()).unwrap();
            store.append_batch(&[entry(1, Some("x")), entry(2, None)]).unwrap();
            store.save_snapshot(Seq(2), b"two").unwrap();
        }
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.last_seq().unwrap(), Seq(2));
        assert_eq!(store.latest_snapshot().unwrap().map(|s| s.data), Some(b"two".to_vec()));
        let again = store.append_batch(&[entry(1, Some("x")), entry(3, None)]).unwrap();
        assert_eq!(seqs(&again), [1, 3]);
        assert!(again[0].duplicate);
    }

    #[test]
    fn a_corrupt_row_is_an_error_not_a_panic() {
        let dir = Scratch::new("log-corrupt");
        let mut store = Store::open(dir.path()).unwrap();
        store.append_batch(&[entry(1, None), entry(2, None)]).unwrap();
        store.conn.execute("UPDATE events SET body = '{not json' WHERE seq = 1", []).unwrap();
        store.conn.execute("UPDATE events SET at = 'yesterday' WHERE seq = 2", []).unwrap();
        let err = store.entries_after(Seq(0), 1).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { op: "events: read", .. }), "{err}");
        let err = store.entries_after(Seq(1), 1).unwrap_err();
        assert!(err.to_string().contains("yesterday"), "{err}");
    }
}
