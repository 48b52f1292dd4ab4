//! Alarm history: what `GET /v1/alarm/history/` reads, including alarms that have ended.
//!
//! The live [`View`](super::View) only holds active alarms, so ended ones come from the store.
//! The store implements [`AlarmHistory`]; the handler does Vitrage's filtering, sorting and
//! paging over the records it returns.

use super::timestamp::Timestamp;
use serde_json::{Map, Value};

/// One alarm's life, as Vitrage's `alarms` history table keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRecord {
    /// The alarm's property dict when it was raised (Vitrage's `payload` column): `vitrage_id`,
    /// `name`, `vitrage_type`, `vitrage_operational_severity`, `project_id`,
    /// `vitrage_resource_id`, ...
    pub alarm: Map<String, Value>,
    /// When the alarm became active.
    pub start_timestamp: Timestamp,
    /// When it ended; `None` while it is still active.
    pub end_timestamp: Option<Timestamp>,
}

/// Where alarm history comes from; the store implements it.
///
/// It is called from a blocking thread, so an implementation may read SQLite directly.
pub trait AlarmHistory: Send + Sync + 'static {
    /// Every alarm still active or that ended at or after `ended_since` (every alarm when it is
    /// `None`). Returning more is harmless: the handler applies Vitrage's time frame itself.
    fn alarm_records(&self, ended_since: Option<Timestamp>) -> Result<Vec<AlarmRecord>, String>;
}

/// No history at all: what the API serves until a store is wired in.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHistory;

impl AlarmHistory for NoHistory {
    fn alarm_records(&self, _: Option<Timestamp>) -> Result<Vec<AlarmRecord>, String> {
        Ok(Vec::new())
    }
}

/// A fixed list of records, for tests and demos.
impl AlarmHistory for Vec<AlarmRecord> {
    fn alarm_records(&self, _: Option<Timestamp>) -> Result<Vec<AlarmRecord>, String> {
        Ok(self.clone())
    }
}
