//! The Mistral outbox: execution requests written in the transaction of the change that caused
//! them, then dispatched and followed to their final state.

use super::{Json, Reader, Store, StoreError, Timestamp, Txn, execute, query_row, query_rows};
use rusqlite::{Row, params};

text_enum! {
    /// Who asked for an execution.
    Origin {
        /// A template's `execute_mistral` action.
        Auto = "auto",
        /// An operator, through the API or the web page.
        Manual = "manual",
    }
}

text_enum! {
    /// Where an execution request stands.
    ExecutionState {
        /// Recorded, not yet sent.
        Pending = "PENDING",
        /// Sent to Mistral; its answer has not been recorded.
        Dispatched = "DISPATCHED",
        /// Mistral refused it (a 4xx); `state_info` says why.
        Refused = "REFUSED",
        /// Mistral runs it.
        Running = "RUNNING",
        /// It finished successfully.
        Success = "SUCCESS",
        /// It failed; `state_info` says why.
        Error = "ERROR",
        /// It was cancelled.
        Cancelled = "CANCELLED",
    }
}

impl ExecutionState {
    /// The request will not change state again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Refused | Self::Success | Self::Error | Self::Cancelled)
    }
}

/// An execution request as the caller records it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRequest {
    /// Mistral's execution id: a UUID v5 of `key`, computed by the caller, so that a repeated
    /// `POST /v2/executions` finds the execution it already started.
    pub execution_id: String,
    /// The request's stable identity (for an `execute_mistral` action: template, scenario,
    /// action, the bound vertices' external ids and the activation's count).
    pub key: String,
    /// The workflow's name.
    pub workflow: String,
    /// The workflow's input.
    pub input: serde_json::Value,
    /// The execution's description.
    pub description: Option<String>,
    /// Who asked for it.
    pub origin: Origin,
    /// The user who asked, for a manual run.
    pub requested_by: Option<String>,
    /// When it was asked for.
    pub created_at: Timestamp,
    /// The external ids of the resources it acts on.
    pub resource_ids: Vec<String>,
}

/// A stored execution request and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRecord {
    /// The request.
    pub request: OutboxRequest,
    /// Its state.
    pub state: ExecutionState,
    /// Mistral's or the dispatcher's words on the state (a refusal's reason, an error).
    pub state_info: Option<String>,
    /// How many times the dispatcher tried to send it.
    pub attempts: u32,
    /// When its state last changed.
    pub updated_at: Timestamp,
}

impl Store {
    /// Records a new state of execution `execution_id`; see [`Txn::set_outbox_state`].
    pub fn set_outbox_state(
        &mut self,
        execution_id: &str,
        state: ExecutionState,
        info: Option<&str>,
        at: &Timestamp,
    ) -> Result<(), StoreError> {
        self.write(|txn| txn.set_outbox_state(execution_id, state, info, at))
    }

    /// Counts one more dispatch attempt; see [`Txn::count_outbox_attempt`].
    pub fn count_outbox_attempt(
        &mut self,
        execution_id: &str,
        at: &Timestamp,
    ) -> Result<u32, StoreError> {
        self.write(|txn| txn.count_outbox_attempt(execution_id, at))
    }
}

impl Txn<'_> {
    /// Records `request` as `PENDING` and returns `true`, or returns `false` and changes nothing
    /// if a request with its key is already stored (a replay writes the same request again).
    ///
    /// A stored request with the same key and another execution id, or the reverse, is an
    /// [`StoreError::OutboxConflict`].
    pub fn insert_outbox(&self, request: &OutboxRequest) -> Result<bool, StoreError> {
        const OP: &str = "outbox: insert";
        let r = request;
        let sql = "INSERT INTO outbox (execution_id, key, workflow, input, description, origin,
                requested_by, created_at, state, state_info, attempts, updated_at, resource_ids)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 0, ?8, ?10)
            ON CONFLICT DO NOTHING";
        let params = params![
            r.execution_id,
            r.key,
            r.workflow,
            r.input.to_string(),
            r.description,
            r.origin,
            r.requested_by,
            r.created_at,
            ExecutionState::Pending,
            serde_json::Value::from(r.resource_ids.clone()).to_string(),
        ];
        if execute(&self.tx, OP, sql, params)? == 1 {
            return Ok(true);
        }
        let sql = "SELECT 1 FROM outbox WHERE key = ?1 AND execution_id = ?2";
        match query_row(&self.tx, OP, sql, [&r.key, &r.execution_id], |_| Ok(()))? {
            Some(()) => Ok(false),
            None => Err(StoreError::OutboxConflict {
                execution_id: r.execution_id.clone(),
                key: r.key.clone(),
            }),
        }
    }

    /// Records that execution `execution_id` is now in `state`, with `info` (replacing the
    /// previous info) at time `at`. The store does not police transitions; the dispatcher does.
    pub fn set_outbox_state(
        &self,
        execution_id: &str,
        state: ExecutionState,
        info: Option<&str>,
        at: &Timestamp,
    ) -> Result<(), StoreError> {
        const OP: &str = "outbox: set state";
        let sql = "UPDATE outbox SET state = ?2, state_info = ?3, updated_at = ?4
            WHERE execution_id = ?1";
        if execute(&self.tx, OP, sql, params![execution_id, state, info, at])? == 0 {
            return Err(StoreError::NotFound { op: OP, id: execution_id.to_owned() });
        }
        Ok(())
    }

    /// Counts one more attempt to dispatch execution `execution_id` at time `at`, and returns
    /// the new count.
    pub fn count_outbox_attempt(
        &self,
        execution_id: &str,
        at: &Timestamp,
    ) -> Result<u32, StoreError> {
        const OP: &str = "outbox: count attempt";
        let sql = "UPDATE outbox SET attempts = attempts + 1, updated_at = ?2
            WHERE execution_id = ?1 RETURNING attempts";
        query_row(&self.tx, OP, sql, params![execution_id, at], |row| row.get(0))?
            .ok_or_else(|| StoreError::NotFound { op: OP, id: execution_id.to_owned() })
    }
}

const COLUMNS: &str = "execution_id, key, workflow, input, description, origin, requested_by,
    created_at, state, state_info, attempts, updated_at, resource_ids";

impl Reader {
    /// The requests not yet sent, oldest first.
    pub fn pending(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE state = ?1 ORDER BY rowid");
        query_rows(&self.conn, "outbox: pending", &sql, [ExecutionState::Pending], record)
    }

    /// The requests not yet in a final state, oldest first: what a dispatcher has to do.
    pub fn unfinished_outbox(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM outbox WHERE state IN (?1, ?2, ?3) ORDER BY rowid");
        let states = [ExecutionState::Pending, ExecutionState::Dispatched, ExecutionState::Running];
        query_rows(&self.conn, "outbox: unfinished", &sql, states, record)
    }

    /// The requests that act on resource `vitrage_id`, oldest first.
    pub fn outbox_of_resource(&self, vitrage_id: &str) -> Result<Vec<OutboxRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE EXISTS
                (SELECT 1 FROM json_each(outbox.resource_ids) WHERE value = ?1) ORDER BY rowid"
        );
        query_rows(&self.conn, "outbox: of resource", &sql, [vitrage_id], record)
    }

    /// Every stored request, oldest first.
    pub fn outbox_requests(&self) -> Result<Vec<OutboxRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY rowid");
        query_rows(&self.conn, "outbox: list", &sql, [], record)
    }

    /// The request of execution `execution_id`.
    pub fn outbox_request(&self, execution_id: &str) -> Result<Option<OutboxRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE execution_id = ?1");
        query_row(&self.conn, "outbox: read", &sql, [execution_id], record)
    }
}

fn record(row: &Row<'_>) -> rusqlite::Result<OutboxRecord> {
    Ok(OutboxRecord {
        request: OutboxRequest {
            execution_id: row.get(0)?,
            key: row.get(1)?,
            workflow: row.get(2)?,
            input: row.get::<_, Json<_>>(3)?.0,
            description: row.get(4)?,
            origin: row.get(5)?,
            requested_by: row.get(6)?,
            created_at: row.get(7)?,
            resource_ids: row.get::<_, Json<_>>(12)?.0,
        },
        state: row.get(8)?,
        state_info: row.get(9)?,
        attempts: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Seq;
    use super::super::scratch::{Scratch, entry, ts};
    use super::*;
    use serde_json::json;

    fn request(n: u32) -> OutboxRequest {
        OutboxRequest {
            execution_id: format!("00000000-0000-5000-8000-{n:012}"),
            key: format!("nic_failure|scenario0|action0|host-{n}|1"),
            workflow: "migrate_vm".into(),
            input: json!({ "host": format!("host-{n}") }),
            description: Some("migrate".into()),
            origin: Origin::Auto,
            requested_by: None,
            created_at: ts(n.into()),
            resource_ids: vec![format!("host-{n}"), "vm-1".into()],
        }
    }

    #[test]
    fn inserting_a_stored_key_again_changes_nothing() {
        let dir = Scratch::new("outbox-idem");
        let mut store = Store::open(dir.path()).unwrap();
        store.append_batch_with(&[entry(1, None)], &[request(1), request(2)]).unwrap();
        let mut changed = request(1);
        changed.input = json!({ "host": "elsewhere" });
        let txn = store.txn().unwrap();
        assert!(!txn.insert_outbox(&changed).unwrap());
        assert!(!txn.insert_outbox(&request(2)).unwrap());
        assert!(txn.insert_outbox(&request(3)).unwrap());
        txn.commit().unwrap();
        let all = store.outbox_requests().unwrap();
        assert_eq!(
            all.iter().map(|r| &r.request).collect::<Vec<_>>(),
            [&request(1), &request(2), &request(3)]
        );
        assert!(all.iter().all(|r| r.state == ExecutionState::Pending && r.attempts == 0));
        assert_eq!(all[0].updated_at, request(1).created_at);
    }

    #[test]
    fn a_key_and_execution_id_that_disagree_with_the_stored_request_are_refused() {
        let dir = Scratch::new("outbox-conflict");
        let mut store = Store::open(dir.path()).unwrap();
        store.append_batch_with(&[], &[request(1)]).unwrap();
        let mut other_id = request(1);
        other_id.execution_id = request(2).execution_id;
        let mut other_key = request(1);
        other_key.key = request(2).key;
        for bad in [other_id, other_key] {
            let err = store.append_batch_with(&[], &[bad]).unwrap_err();
            assert!(matches!(err, StoreError::OutboxConflict { .. }), "{err}");
        }
        assert_eq!(store.outbox_requests().unwrap().len(), 1);
    }

    #[test]
    fn a_failed_transaction_writes_neither_the_log_nor_the_outbox() {
        let dir = Scratch::new("outbox-atomic");
        let mut store = Store::open(dir.path()).unwrap();
        // The second request conflicts with the first, so the whole batch fails.
        let mut conflicting = request(2);
        conflicting.key = request(1).key;
        let err =
            store.append_batch_with(&[entry(1, None), entry(2, None)], &[request(1), conflicting]);
        assert!(err.is_err());
        assert_eq!((store.count().unwrap(), store.last_seq().unwrap()), (0, Seq(0)));
        assert!(store.outbox_requests().unwrap().is_empty());
        // A transaction dropped without commit (an early return, a panic elsewhere) likewise.
        {
            let txn = store.txn().unwrap();
            txn.append(&[entry(3, None)]).unwrap();
            txn.insert_outbox(&request(3)).unwrap();
        }
        assert_eq!(store.count().unwrap(), 0);
        assert!(store.outbox_requests().unwrap().is_empty());
        // The next commit numbers its entries from 1: nothing of the failures remains.
        let ok = store.append_batch_with(&[entry(4, None)], &[request(4)]).unwrap();
        assert_eq!(ok[0].seq, Seq(1));
        assert_eq!(store.pending().unwrap().len(), 1);
    }

    #[test]
    fn states_and_attempts_are_recorded_and_pending_lists_the_unsent() {
        let dir = Scratch::new("outbox-state");
        let mut store = Store::open(dir.path()).unwrap();
        store.append_batch_with(&[], &[request(1), request(2), request(3)]).unwrap();
        let id = |n| request(n).execution_id;
        assert_eq!(store.count_outbox_attempt(&id(1), &ts(10)).unwrap(), 1);
        assert_eq!(store.count_outbox_attempt(&id(1), &ts(11)).unwrap(), 2);
        store.set_outbox_state(&id(1), ExecutionState::Dispatched, None, &ts(11)).unwrap();
        store.set_outbox_state(&id(2), ExecutionState::Refused, Some("400: bad"), &ts(12)).unwrap();
        let pending = store.pending().unwrap();
        assert_eq!(
            pending.iter().map(|r| r.request.execution_id.clone()).collect::<Vec<_>>(),
            [id(3)]
        );
        let first = store.outbox_request(&id(1)).unwrap().unwrap();
        assert_eq!(
            (first.state, first.attempts, first.updated_at),
            (ExecutionState::Dispatched, 2, ts(11))
        );
        let refused = store.outbox_request(&id(2)).unwrap().unwrap();
        assert_eq!(refused.state_info.as_deref(), Some("400: bad"));
        assert!(refused.state.is_final());
        assert_eq!(store.outbox_request("nope").unwrap(), None);
        let unfinished = store.unfinished_outbox().unwrap();
        assert_eq!(
            unfinished.iter().map(|r| r.request.execution_id.clone()).collect::<Vec<_>>(),
            [id(1), id(3)]
        );
        assert_eq!(store.outbox_of_resource("host-3").unwrap().len(), 1);
        assert_eq!(store.outbox_of_resource("vm-1").unwrap().len(), 3);
        let missing = store.set_outbox_state("nope", ExecutionState::Running, None, &ts(13));
        assert!(matches!(missing, Err(StoreError::NotFound { .. })));
        assert!(matches!(
            store.count_outbox_attempt("nope", &ts(13)),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn an_unknown_state_on_disk_is_a_corrupt_row() {
        let dir = Scratch::new("outbox-corrupt");
        let mut store = Store::open(dir.path()).unwrap();
        store.append_batch_with(&[], &[request(1)]).unwrap();
        store.conn.execute("UPDATE outbox SET state = 'EXPLODED'", []).unwrap();
        let err = store.outbox_requests().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }) && err.to_string().contains("EXPLODED"));
    }
}
