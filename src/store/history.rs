//! Alarm history: every alarm that was active, with when it started and ended, for
//! `alarm list` (the active ones), `alarm history` and RCA of ended alarms.

use super::{Json, Reader, Store, StoreError, Timestamp, Txn, execute, query_row, query_rows};
use rusqlite::types::ToSql;
use rusqlite::{Row, params};

/// An alarm's record.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmRecord {
    /// The alarm vertex's id.
    pub vitrage_id: String,
    /// The alarm's properties, as last recorded.
    pub alarm: serde_json::Value,
    /// When it became active.
    pub start: Timestamp,
    /// When it ended; `None` while it is active.
    pub end: Option<Timestamp>,
}

/// The order of a history listing. Ties are broken by `vitrage_id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HistorySort {
    /// By start time.
    #[default]
    Start,
    /// By `vitrage_id`.
    VitrageId,
}

/// Which records a history listing returns, in what order, from where.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryQuery {
    /// Only alarms active at or after this time (those not ended before it).
    pub start: Option<Timestamp>,
    /// Only alarms that started at or before this time.
    pub end: Option<Timestamp>,
    /// Only alarms still active.
    pub only_active: bool,
    /// At most this many records.
    pub limit: Option<usize>,
    /// Continue after the record with this `vitrage_id` (the last of the previous page).
    pub marker: Option<String>,
    /// The order.
    pub sort: HistorySort,
    /// Descending instead of ascending.
    pub descending: bool,
}

impl Store {
    /// Records that an alarm became active or changed; see [`Txn::alarm_started`].
    pub fn alarm_started(
        &mut self,
        vitrage_id: &str,
        alarm: &serde_json::Value,
        at: &Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|txn| txn.alarm_started(vitrage_id, alarm, at))
    }

    /// Records that an alarm ended; see [`Txn::alarm_ended`].
    pub fn alarm_ended(&mut self, vitrage_id: &str, at: &Timestamp) -> Result<bool, StoreError> {
        self.write(|txn| txn.alarm_ended(vitrage_id, at))
    }
}

impl Txn<'_> {
    /// Records `alarm` as active since `at`. For an alarm already active this updates its
    /// properties and keeps its start; for one that had ended it starts a new period at `at`.
    /// Writing the same start twice (a replay) changes nothing.
    pub fn alarm_started(
        &self,
        vitrage_id: &str,
        alarm: &serde_json::Value,
        at: &Timestamp,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO alarm_history (vitrage_id, alarm, start_ts, end_ts)
            VALUES (?1, ?2, ?3, NULL)
            ON CONFLICT (vitrage_id) DO UPDATE SET alarm = excluded.alarm,
                start_ts = CASE WHEN end_ts IS NULL THEN start_ts ELSE excluded.start_ts END,
                end_ts = NULL";
        let params = params![vitrage_id, alarm.to_string(), at];
        execute(&self.tx, "alarm history: start", sql, params)?;
        Ok(())
    }

    /// Records that the active alarm `vitrage_id` ended at `at`; `false` (and no change) if it
    /// is unknown or already ended.
    pub fn alarm_ended(&self, vitrage_id: &str, at: &Timestamp) -> Result<bool, StoreError> {
        let sql = "UPDATE alarm_history SET end_ts = ?2 WHERE vitrage_id = ?1 AND end_ts IS NULL";
        Ok(execute(&self.tx, "alarm history: end", sql, params![vitrage_id, at])? > 0)
    }
}

impl Reader {
    /// The records `query` selects: alarms whose active period overlaps `[start, end]`, in its
    /// order, after its marker. An unknown marker is [`StoreError::NotFound`].
    pub fn history(&self, query: &HistoryQuery) -> Result<Vec<AlarmRecord>, StoreError> {
        const OP: &str = "alarm history: list";
        let mut filters: Vec<&str> = Vec::new();
        let mut values: Vec<&dyn ToSql> = Vec::new();
        if let Some(start) = &query.start {
            filters.push("(end_ts IS NULL OR end_ts >= ?)");
            values.push(start);
        }
        if let Some(end) = &query.end {
            filters.push("start_ts <= ?");
            values.push(end);
        }
        if query.only_active {
            filters.push("end_ts IS NULL");
        }
        let marker_start: Timestamp;
        if let Some(marker) = &query.marker {
            let sql = "SELECT start_ts FROM alarm_history WHERE vitrage_id = ?1";
            marker_start = query_row(&self.conn, OP, sql, [marker], |row| row.get(0))?
                .ok_or_else(|| StoreError::NotFound { op: OP, id: marker.clone() })?;
            filters.push(match (query.sort, query.descending) {
                (HistorySort::Start, false) => "(start_ts, vitrage_id) > (?, ?)",
                (HistorySort::Start, true) => "(start_ts, vitrage_id) < (?, ?)",
                (HistorySort::VitrageId, false) => "vitrage_id > ?",
                (HistorySort::VitrageId, true) => "vitrage_id < ?",
            });
            if query.sort == HistorySort::Start {
                values.push(&marker_start);
            }
            values.push(marker);
        }
        let order = match (query.sort, query.descending) {
            (HistorySort::Start, false) => "start_ts, vitrage_id",
            (HistorySort::Start, true) => "start_ts DESC, vitrage_id DESC",
            (HistorySort::VitrageId, false) => "vitrage_id",
            (HistorySort::VitrageId, true) => "vitrage_id DESC",
        };
        let limit = query.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        values.push(&limit);
        let filter = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        let sql = format!(
            "SELECT vitrage_id, alarm, start_ts, end_ts FROM alarm_history {filter}
             ORDER BY {order} LIMIT ?"
        );
        query_rows(&self.conn, OP, &sql, values.as_slice(), record)
    }

    /// The record of alarm `vitrage_id`.
    pub fn alarm_record(&self, vitrage_id: &str) -> Result<Option<AlarmRecord>, StoreError> {
        let sql = "SELECT vitrage_id, alarm, start_ts, end_ts FROM alarm_history
            WHERE vitrage_id = ?1";
        query_row(&self.conn, "alarm history: read", sql, [vitrage_id], record)
    }
}

fn record(row: &Row<'_>) -> rusqlite::Result<AlarmRecord> {
    Ok(AlarmRecord {
        vitrage_id: row.get(0)?,
        alarm: row.get::<_, Json<_>>(1)?.0,
        start: row.get(2)?,
        end: row.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::scratch::{Scratch, ts};
    use super::*;
    use serde_json::json;

    fn ids(records: Vec<AlarmRecord>) -> Vec<String> {
        records.into_iter().map(|r| r.vitrage_id).collect()
    }

    /// Alarms a [0, 10), b [5, 20), c [15, active), d [30, active).
    fn store_with_alarms(dir: &Scratch) -> Store {
        let mut store = Store::open(dir.path()).unwrap();
        for (id, start) in [("a", 0), ("b", 5), ("c", 15), ("d", 30)] {
            store.alarm_started(id, &json!({ "name": id }), &ts(start)).unwrap();
        }
        assert!(store.alarm_ended("a", &ts(10)).unwrap());
        assert!(store.alarm_ended("b", &ts(20)).unwrap());
        store
    }

    #[test]
    fn history_selects_overlapping_periods_and_active_alarms() {
        let dir = Scratch::new("history-range");
        let store = store_with_alarms(&dir);
        let q = |start: Option<i64>, end: Option<i64>, only_active| HistoryQuery {
            start: start.map(ts),
            end: end.map(ts),
            only_active,
            ..HistoryQuery::default()
        };
        assert_eq!(ids(store.history(&q(None, None, false)).unwrap()), ["a", "b", "c", "d"]);
        assert_eq!(ids(store.history(&q(None, None, true)).unwrap()), ["c", "d"]);
        assert_eq!(ids(store.history(&q(Some(12), None, false)).unwrap()), ["b", "c", "d"]);
        assert_eq!(ids(store.history(&q(Some(11), Some(14), false)).unwrap()), ["b"]);
        assert_eq!(ids(store.history(&q(None, Some(5), false)).unwrap()), ["a", "b"]);
        assert_eq!(ids(store.history(&q(Some(21), Some(29), false)).unwrap()), ["c"]);
    }

    #[test]
    fn history_sorts_and_pages_with_a_marker() {
        let dir = Scratch::new("history-page");
        let mut store = store_with_alarms(&dir);
        store.alarm_started("0", &json!({}), &ts(40)).unwrap();
        let page = |marker: Option<&str>, sort, descending| HistoryQuery {
            limit: Some(2),
            marker: marker.map(str::to_owned),
            sort,
            descending,
            ..HistoryQuery::default()
        };
        let by_start = HistorySort::Start;
        assert_eq!(ids(store.history(&page(None, by_start, false)).unwrap()), ["a", "b"]);
        assert_eq!(ids(store.history(&page(Some("b"), by_start, false)).unwrap()), ["c", "d"]);
        assert_eq!(ids(store.history(&page(Some("d"), by_start, false)).unwrap()), ["0"]);
        assert_eq!(ids(store.history(&page(None, by_start, true)).unwrap()), ["0", "d"]);
        assert_eq!(ids(store.history(&page(Some("c"), by_start, true)).unwrap()), ["b", "a"]);
        let by_id = HistorySort::VitrageId;
        assert_eq!(ids(store.history(&page(None, by_id, false)).unwrap()), ["0", "a"]);
        assert_eq!(ids(store.history(&page(Some("a"), by_id, false)).unwrap()), ["b", "c"]);
        assert_eq!(ids(store.history(&page(Some("b"), by_id, true)).unwrap()), ["a", "0"]);
        let unknown = store.history(&page(Some("zz"), by_id, false));
        assert!(matches!(unknown, Err(StoreError::NotFound { .. })));
    }

    #[test]
    fn starting_again_updates_an_active_alarm_and_reopens_an_ended_one() {
        let dir = Scratch::new("history-restart");
        let mut store = store_with_alarms(&dir);
        store.alarm_started("c", &json!({ "severity": "CRITICAL" }), &ts(25)).unwrap();
        let c = store.alarm_record("c").unwrap().unwrap();
        assert_eq!((c.start, c.alarm), (ts(15), json!({ "severity": "CRITICAL" })));
        assert!(!store.alarm_ended("a", &ts(50)).unwrap(), "already ended");
        assert!(!store.alarm_ended("nope", &ts(50)).unwrap());
        assert_eq!(store.alarm_record("a").unwrap().unwrap().end, Some(ts(10)));
        store.alarm_started("a", &json!({ "name": "a" }), &ts(60)).unwrap();
        let a = store.alarm_record("a").unwrap().unwrap();
        assert_eq!((a.start, a.end), (ts(60), None));
    }
}
