//! The evaluation task: the one thread that owns the runner and the store's writer.
//!
//! Handlers send it [`Command`]s. It takes whatever has queued up as one batch: each request's
//! changes are checked and staged (a refused request is answered at once and never logged),
//! the batch is evaluated once, and the accepted requests, the workflow requests and the alarm
//! history the evaluation produced are committed in one transaction (one fsync for the whole
//! batch). Only then are the new [`View`] published, the notifications sent and the requests
//! acknowledged, so nothing a client or Mistral sees is ever ahead of the log, and a client
//! that reads after its acknowledgement sees its change.
//!
//! The log holds every accepted request with the number of the batch it was evaluated in.
//! Evaluation is deterministic, so on start the task replays the log batch by batch and
//! arrives at exactly the state it had: the same graph, alarms, ids and workflow requests.
//! Every [`SNAPSHOT_EVERY`] entries it saves a snapshot of that state (runner, templates,
//! timestamps, batch counter), and a start loads the newest one and replays only what follows.

use super::metrics::Metrics;
use super::publish::{self, Publisher, Stamps};
use super::templates::{self, NewTemplate};
use super::view::View;
use crate::action::mistral::MistralRequest;
use crate::datasource::identity;
use crate::graph::VertexId;
use crate::mistral::OutboxUpdate;
use crate::persist::{self, Format};
use crate::runner::{Change, Outcome, RunError, Runner};
use crate::store::{
    Entry, NewEntry, Origin, OutboxRequest, Seq, Store, StoreError, StoredTemplate, TemplateStatus,
    Timestamp, Txn, Webhook,
};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How many queued commands one batch takes at most.
pub const MAX_BATCH: usize = 512;

/// Log entry kinds.
const CHANGES: &str = "changes";
const TEMPLATES: &str = "templates";
/// The first entry of a log: the deployment's namespace of Mistral execution ids.
const DEPLOYMENT: &str = "deployment";

/// How far the log may grow past the newest snapshot: after the batch that gets it there, the
/// state is saved again, so a start replays at most about this many entries.
pub const SNAPSHOT_EVERY: u64 = 10_000;

/// The environment variable that overrides [`SNAPSHOT_EVERY`] (a positive number of entries).
pub const SNAPSHOT_EVERY_VAR: &str = "CAUSEWAY_SNAPSHOT_EVERY";

/// The frame of the service's part of a snapshot; the runner's own snapshot follows it.
const SNAPSHOT: Format = Format { magic: *b"CWSV", version: 1 };

/// The service's part of a snapshot; generic so that saving borrows the timestamps.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved<S> {
    /// The last batch number.
    batch: u64,
    /// The template set as the log writes it (JSON text: the binary format has no JSON).
    templates: String,
    /// The timestamps of the vertices.
    stamps: S,
}

/// What handlers ask of the evaluation task.
pub enum Command {
    /// Apply changes (a topology push, an event), all or nothing.
    Ingest {
        /// Where they come from (`push`, `event`, a datasource's name).
        source: String,
        /// The client's idempotency key.
        request_id: Option<String>,
        /// The changes.
        changes: Vec<Change>,
        /// Whether they are taken as they are or resolved against the graph first.
        admission: Admission,
        /// The answer: the log position, once durable.
        reply: oneshot::Sender<Result<Ack, CoreError>>,
    },
    /// Add templates (and first delete those named like them, with `overwrite`).
    AddTemplates {
        /// The templates.
        templates: Vec<NewTemplate>,
        /// Delete templates of the same names first.
        overwrite: bool,
        /// The added templates, with their status.
        reply: oneshot::Sender<Result<Vec<StoredTemplate>, CoreError>>,
    },
    /// Delete templates by uuid or name.
    DeleteTemplates {
        /// Uuids or names.
        ids: Vec<String>,
        /// The deleted templates.
        reply: oneshot::Sender<Result<Vec<StoredTemplate>, CoreError>>,
    },
    /// Register a webhook.
    AddWebhook(Webhook, oneshot::Sender<Result<(), CoreError>>),
    /// Delete a webhook; whether it existed.
    DeleteWebhook(String, oneshot::Sender<Result<bool, CoreError>>),
    /// Record a workflow request's new state (from the dispatcher). The updates of one batch
    /// are written in one transaction.
    Outbox(OutboxUpdate, oneshot::Sender<Result<(), String>>),
    /// Record a manual workflow request; `false` when one with its key exists already.
    ManualRun(OutboxRequest, oneshot::Sender<Result<bool, CoreError>>),
    /// Why a deduced alarm exists, from the runner's record (read only).
    Explain(super::explain::Asked, oneshot::Sender<Vec<Json>>),
}

/// How the changes of a request meet what the graph holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// As they are: a change that does not apply refuses the request (the push endpoint, the
    /// initial topology), so a client learns its view of the graph is wrong.
    Strict,
    /// Resolved first by [`identity::resolve`]: a datasource reports what it sees, not what
    /// changed, and mentions resources other sources own.
    Resolve,
}

/// A durable acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The log position of the request.
    pub seq: Seq,
    /// The request's `request_id` was already in the log: nothing was applied again.
    pub duplicate: bool,
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// The request refers to something that does not exist (its change number and why).
    #[error("change {index}: {error}")]
    Refused {
        /// Which change of the request.
        index: usize,
        /// Why.
        error: RunError,
    },
    /// No template has this uuid or name.
    #[error("no template {0:?}")]
    NoSuchTemplate(String),
    /// The store failed; nothing of the request was kept.
    #[error("the store failed: {0}")]
    Store(String),
    /// The evaluation task stopped.
    #[error("the evaluation task is not running")]
    Stopped,
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> CoreError {
        CoreError::Store(e.to_string())
    }
}

/// An alarm notification (`vitrage.alarm.activate`, ...), for webhooks and the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The event type.
    pub event_type: &'static str,
    /// The alarm's properties, as the API shows them.
    pub payload: Json,
}

/// The event type of a workflow request's state change, which only the page's stream reads.
pub const EXECUTION_STATE: &str = "causeway.execution.state";

/// The notification of request `execution_id` reaching `state`.
fn execution_state(execution_id: &str, state: &str, info: Option<&str>) -> Notification {
    let payload = json!({"execution_id": execution_id, "state": state, "state_info": info});
    Notification { event_type: EXECUTION_STATE, payload }
}

/// What the task publishes for readers.
pub struct Channels {
    /// The latest view.
    pub view: watch::Receiver<Arc<View>>,
    /// The template set.
    pub templates: watch::Receiver<Arc<Vec<StoredTemplate>>>,
    /// Notifications as they happen.
    pub notifications: broadcast::Sender<Notification>,
    /// Workflow requests newly recorded in the outbox (the dispatcher's wake-up).
    pub outbox: watch::Receiver<u64>,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
    /// The namespace of this data directory's execution ids (manual runs use it too).
    pub deployment: uuid::Uuid,
}

/// What a fresh data directory starts with.
pub struct Initial {
    /// Templates to add.
    pub templates: Vec<NewTemplate>,
    /// The topology to load.
    pub changes: Vec<Change>,
}

/// The evaluation task's state.
pub struct Core {
    runner: Runner,
    store: Store,
    templates: Vec<StoredTemplate>,
    stamps: Stamps,
    publisher: Publisher,
    /// Vertices the batches since the last view touched.
    unpublished: Vec<VertexId>,
    /// Acknowledgements of committed requests that wait for the view that shows them.
    waiting: Vec<(oneshot::Sender<Result<Ack, CoreError>>, Ack)>,
    /// How long the last view took to draw, and when it was published.
    drawing: Duration,
    drawn: Instant,
    batch: u64,
    generation: u64,
    view: watch::Sender<Arc<View>>,
    template_tx: watch::Sender<Arc<Vec<StoredTemplate>>>,
    notifications: broadcast::Sender<Notification>,
    outbox: watch::Sender<u64>,
    metrics: Arc<Metrics>,
    /// The namespace of this data directory's execution ids.
    deployment: uuid::Uuid,
}

/// A request accepted into the batch being built.
struct Accepted {
    source: String,
    request_id: Option<String>,
    changes: Vec<Change>,
    admission: Admission,
    reply: oneshot::Sender<Result<Ack, CoreError>>,
}

impl Core {
    /// Opens the store, replays its log (or, when it is empty, records `initial` as its first
    /// entries) and returns the task ready to run, with the channels readers use.
    pub fn start(store: Store, initial: Initial) -> Result<(Core, Channels), CoreError> {
        let runner = Runner::new(crate::compile::ir::RuleSet::default())
            .map_err(|e| CoreError::Store(e.to_string()))?;
        let (view, view_rx) = watch::channel(Arc::new(View::empty()));
        let (template_tx, templates_rx) = watch::channel(Arc::new(Vec::new()));
        let (notifications, _) = broadcast::channel(4096);
        let (outbox, outbox_rx) = watch::channel(0);
        let metrics = Arc::new(Metrics::default());
        let mut core = Core {
            runner,
            store,
            templates: Vec::new(),
            stamps: Stamps::default(),
            publisher: Publisher::default(),
            unpublished: Vec::new(),
            waiting: Vec::new(),
            drawing: Duration::ZERO,
            drawn: Instant::now(),
            batch: 0,
            generation: 0,
            view,
            template_tx,
            notifications: notifications.clone(),
            outbox,
            metrics: metrics.clone(),
            deployment: crate::action::mistral::EXECUTION_NAMESPACE,
        };
        core.deployment = deployment(&mut core.store)?;
        if logged(&core.store)?.is_empty() {
            if !initial.templates.is_empty() {
                core.add_templates(initial.templates, false, &Timestamp::now())?;
            }
        } else {
            core.replay()?;
        }
        // The topology commits after the templates: a start killed between the two commits
        // left a log of the templates alone, and this start loads the topology.
        let logged = logged(&core.store)?;
        if !initial.changes.is_empty()
            && logged.len() <= 1
            && logged.iter().all(|e| e.kind != CHANGES)
        {
            let (reply, _) = oneshot::channel();
            let request = Command::Ingest {
                source: "initial".into(),
                request_id: None,
                changes: initial.changes,
                admission: Admission::Strict,
                reply,
            };
            core.handle(vec![request]);
        }
        core.publish();
        let channels = Channels {
            view: view_rx,
            templates: templates_rx,
            notifications,
            outbox: outbox_rx,
            metrics,
            deployment: core.deployment,
        };
        Ok((core, channels))
    }

    /// Runs until every sender of `commands` is gone.
    pub fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(first) = commands.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match commands.try_recv() {
                    Ok(c) => batch.push(c),
                    Err(_) => break,
                }
            }
            self.handle(batch);
            // Under load a view is drawn at most as often as drawing takes a third of the
            // time; the acknowledgements of the batches in between wait for it.
            if commands.is_empty() || self.drawn.elapsed() >= self.drawing * 2 {
                self.show();
            }
        }
        self.show();
        tracing::info!(batches = self.batch, "evaluation task stopped");
    }

    /// The runner, for tests and read-only inspection.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    fn handle(&mut self, commands: Vec<Command>) {
        let mut ingests = Vec::new();
        let mut updates = Vec::new();
        for c in commands {
            match c {
                Command::Ingest { source, request_id, changes, admission, reply } => {
                    ingests.push(Accepted { source, request_id, changes, admission, reply })
                }
                Command::Outbox(update, reply) => updates.push((update, reply)),
                other => {
                    // Template and webhook changes are their own batches, in arrival order.
                    self.ingest(std::mem::take(&mut ingests));
                    self.other(other);
                }
            }
        }
        self.ingest(ingests);
        self.outbox_updates(updates);
        self.snapshot_if_due();
    }

    /// Writes the dispatcher's state changes in one transaction, in the order they came.
    fn outbox_updates(
        &mut self,
        updates: Vec<(OutboxUpdate, oneshot::Sender<Result<(), String>>)>,
    ) {
        if updates.is_empty() {
            return;
        }
        let at = Timestamp::now();
        let written = (|| -> Result<(), StoreError> {
            let txn = self.store.txn()?;
            for (u, _) in &updates {
                if u.attempt {
                    txn.count_outbox_attempt(&u.execution_id, &at)?;
                }
                txn.set_outbox_state(&u.execution_id, u.state, u.info.as_deref(), &at)?;
            }
            txn.commit()
        })()
        .map_err(|e| e.to_string());
        for (u, _) in updates.iter().filter(|_| written.is_ok()) {
            let n = execution_state(&u.execution_id, u.state.as_str(), u.info.as_deref());
            let _ = self.notifications.send(n);
        }
        for (_, reply) in updates {
            let _ = reply.send(written.clone());
        }
    }

    fn other(&mut self, c: Command) {
        let at = Timestamp::now();
        match c {
            Command::AddTemplates { templates, overwrite, reply } => {
                let added = self.add_templates(templates, overwrite, &at);
                self.show();
                let _ = reply.send(added);
            }
            Command::DeleteTemplates { ids, reply } => {
                let deleted = self.delete_templates(&ids, &at);
                self.show();
                let _ = reply.send(deleted);
            }
            Command::AddWebhook(w, reply) => {
                let _ = reply.send(self.store.add_webhook(&w).map(|_| ()).map_err(Into::into));
            }
            Command::DeleteWebhook(id, reply) => {
                let _ = reply.send(self.store.delete_webhook(&id).map_err(Into::into));
            }
            Command::ManualRun(request, reply) => {
                let inserted = self.store.txn().and_then(|txn| {
                    let new = txn.insert_outbox(&request)?;
                    txn.commit().map(|()| new)
                });
                if matches!(inserted, Ok(true)) {
                    self.outbox.send_modify(|n| *n += 1);
                    let _ = self.notifications.send(execution_state(
                        &request.execution_id,
                        "PENDING",
                        None,
                    ));
                }
                let _ = reply.send(inserted.map_err(Into::into));
            }
            Command::Explain(asked, reply) => {
                let _ = reply.send(super::explain::activations(&self.runner, &asked));
            }
            Command::Ingest { .. } | Command::Outbox(..) => {}
        }
    }

    /// Stages every request that applies, evaluates them as one batch, commits and answers.
    fn ingest(&mut self, requests: Vec<Accepted>) {
        let mut accepted = Vec::with_capacity(requests.len());
        for mut r in requests {
            match r.request_id.as_deref().map(|id| self.store.seq_of_request(id)) {
                Some(Ok(Some(seq))) => {
                    let _ = r.reply.send(Ok(Ack { seq, duplicate: true }));
                    continue;
                }
                Some(Err(e)) => {
                    let _ = r.reply.send(Err(e.into()));
                    continue;
                }
                _ => {}
            }
            if accepted
                .iter()
                .any(|a: &Accepted| a.request_id.is_some() && a.request_id == r.request_id)
            {
                // The same request twice in one batch: the first is applied.
                let _ =
                    r.reply.send(Err(CoreError::Store("request resent before its answer".into())));
                continue;
            }
            if r.admission == Admission::Resolve {
                // What is logged is what was resolved, so replay needs no graph to resolve.
                r.changes = identity::resolve(&self.runner, std::mem::take(&mut r.changes));
            }
            match self.runner.stage(&r.changes) {
                Ok(()) => accepted.push(r),
                Err((index, error)) => {
                    self.metrics.refused.add(&r.source, 1);
                    let _ = r.reply.send(Err(CoreError::Refused { index, error }));
                }
            }
        }
        if accepted.is_empty() {
            return;
        }
        let at = Timestamp::now();
        self.batch += 1;
        let _span =
            tracing::info_span!("batch", batch = self.batch, requests = accepted.len()).entered();
        let started = std::time::Instant::now();
        let outcome = self.evaluate();
        self.metrics.evaluation.observe(started.elapsed());
        let entries: Vec<NewEntry> = accepted
            .iter()
            .map(|a| NewEntry {
                at: at.clone(),
                source: a.source.clone(),
                kind: CHANGES.into(),
                body: json!({"batch": self.batch, "changes": a.changes}),
                request_id: a.request_id.clone(),
            })
            .collect();
        let started = std::time::Instant::now();
        let committed = self.commit(&entries, &outcome, &at);
        self.metrics.commit.observe(started.elapsed());
        match committed {
            Ok(acks) => {
                self.after(&outcome);
                for a in &accepted {
                    self.metrics.events.add(&a.source, a.changes.len() as u64);
                }
                // Answered with the view that shows them: a client reads its own change.
                for (a, seq) in accepted.into_iter().zip(acks) {
                    self.waiting.push((a.reply, Ack { seq, duplicate: false }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed; rebuilding the state from the log");
                for a in accepted {
                    let _ = a.reply.send(Err(e.clone()));
                }
                self.rebuild();
            }
        }
    }

    /// Evaluates what was staged. A runaway evaluation is logged and its batch kept: replay
    /// meets the same runaway and stops at the same point.
    fn evaluate(&mut self) -> Outcome {
        match self.runner.evaluate() {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, batch = self.batch, "evaluation did not settle");
                Outcome::default()
            }
        }
    }

    /// Writes a batch's entries with the outbox requests and alarm history it produced.
    fn commit(
        &mut self,
        entries: &[NewEntry],
        outcome: &Outcome,
        at: &Timestamp,
    ) -> Result<Vec<Seq>, CoreError> {
        // The stamps go ahead of the log as the runner does; a failed commit rebuilds both.
        self.stamps.record(outcome, at.as_str());
        let txn = self.store.txn()?;
        let appended = txn.append(entries)?;
        write_effects(&txn, self.runner.graph(), &self.stamps, outcome, at, &self.deployment)?;
        txn.commit()?;
        Ok(appended.into_iter().map(|a| a.seq).collect())
    }

    /// What follows a durable batch: notifications, and its vertices to draw in the next view.
    fn after(&mut self, outcome: &Outcome) {
        let counts = [
            ("alarm_activated", outcome.alarms_activated.len()),
            ("alarm_deactivated", outcome.alarms_deactivated.len()),
            ("alarm_updated", outcome.alarms_updated.len()),
            ("resource_state_changed", outcome.resources_changed.len()),
            ("causal_edge_added", outcome.causes_added.len()),
            ("causal_edge_removed", outcome.causes_removed.len()),
            ("execute_mistral", outcome.mistral.len()),
        ];
        for (kind, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
            self.metrics.actions.add(kind, n as u64);
        }
        if !outcome.mistral.is_empty() {
            self.outbox.send_modify(|n| *n += outcome.mistral.len() as u64);
        }
        if self.notifications.receiver_count() > 0 {
            for n in notifications(self.runner.graph(), &self.stamps, outcome) {
                let _ = self.notifications.send(n);
            }
        }
        self.stamps.forget(self.runner.graph(), outcome);
        self.unpublished.extend_from_slice(&outcome.touched);
    }

    /// Publishes a view with what the batches since the last one changed, then sends the
    /// acknowledgements that waited for it.
    fn show(&mut self) {
        if self.unpublished.is_empty() && self.waiting.is_empty() {
            return;
        }
        let began = Instant::now();
        self.generation += 1;
        let graph = self.runner.graph();
        let touched = std::mem::take(&mut self.unpublished);
        let view = self.publisher.update(graph, &self.stamps, &touched, self.generation);
        if cfg!(debug_assertions) {
            let whole = publish::view(graph, &self.stamps, self.generation);
            assert!(
                view.vertices == whole.vertices && view.edges == whole.edges,
                "batch {}: the view drawn from what the batches touched differs from the whole graph's",
                self.batch
            );
        }
        self.send(view);
        self.drawing = began.elapsed();
    }

    /// Publishes the view of the whole graph, drawn anew.
    fn publish(&mut self) {
        self.generation += 1;
        self.unpublished.clear();
        let view = self.publisher.redraw(self.runner.graph(), &self.stamps, self.generation);
        self.send(view);
    }

    fn send(&mut self, view: View) {
        let alarms = view
            .vertices
            .iter()
            .filter(|v| v.props.get("vitrage_category") == Some(&json!("ALARM")))
            .count();
        self.metrics.alarms.store(alarms as i64, std::sync::atomic::Ordering::Relaxed);
        self.view.send_replace(Arc::new(view));
        self.template_tx.send_replace(Arc::new(self.templates.clone()));
        self.drawn = Instant::now();
        for (reply, ack) in self.waiting.drain(..) {
            let _ = reply.send(Ok(ack));
        }
    }

    /// Adds templates; with `overwrite`, those already named like one of them go first. A
    /// template named like one in the set is refused with Vitrage's ERROR `Duplicate template
    /// name` and, as in Vitrage, kept nowhere (its uuid is empty): stored, it would become
    /// active once the other is deleted.
    fn add_templates(
        &mut self,
        new: Vec<NewTemplate>,
        overwrite: bool,
        at: &Timestamp,
    ) -> Result<Vec<StoredTemplate>, CoreError> {
        let fresh: Vec<StoredTemplate> = new
            .iter()
            .map(|n| templates::stored(uuid::Uuid::new_v4().to_string(), n, at))
            .collect();
        let mut set = self.templates.clone();
        if overwrite {
            set.retain(|old| !fresh.iter().any(|t| t.name == old.name));
        }
        let changed = set.len() != self.templates.len();
        let mut answer = Vec::with_capacity(fresh.len());
        for t in fresh {
            if !t.name.is_empty() && set.iter().any(|old| old.name == t.name) {
                answer.push(StoredTemplate {
                    uuid: String::new(),
                    status: TemplateStatus::Error,
                    status_details: "Duplicate template name".into(),
                    ..t
                });
            } else {
                answer.push(t.clone());
                set.push(t);
            }
        }
        if changed || answer.iter().any(|t| !t.uuid.is_empty()) {
            self.change_templates(set, at)?;
        }
        Ok(answer
            .into_iter()
            .map(|a| self.templates.iter().find(|t| t.uuid == a.uuid).cloned().unwrap_or(a))
            .collect())
    }

    fn delete_templates(
        &mut self,
        ids: &[String],
        at: &Timestamp,
    ) -> Result<Vec<StoredTemplate>, CoreError> {
        let mut gone = Vec::new();
        for id in ids {
            let found: Vec<StoredTemplate> =
                self.templates.iter().filter(|t| &t.uuid == id || &t.name == id).cloned().collect();
            if found.is_empty() {
                return Err(CoreError::NoSuchTemplate(id.clone()));
            }
            gone.extend(found);
        }
        let set = self
            .templates
            .iter()
            .filter(|t| !gone.iter().any(|g| g.uuid == t.uuid))
            .cloned()
            .collect();
        self.change_templates(set, at)?;
        Ok(gone)
    }

    /// Makes `set` the template set: compiled whole, evaluated over the graph, logged.
    fn change_templates(
        &mut self,
        mut set: Vec<StoredTemplate>,
        at: &Timestamp,
    ) -> Result<(), CoreError> {
        let rules = templates::compile(&mut set);
        self.batch += 1;
        let outcome = match self.runner.replace_rules(rules) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "template change did not settle");
                Outcome::default()
            }
        };
        let entry = NewEntry {
            at: at.clone(),
            source: "api".into(),
            kind: TEMPLATES.into(),
            body: json!({"batch": self.batch, "templates": set.iter().map(template_json).collect::<Vec<_>>()}),
            request_id: None,
        };
        let result = (|| -> Result<(), CoreError> {
            let txn = self.store.txn()?;
            txn.append(std::slice::from_ref(&entry))?;
            for old in &self.templates {
                if !set.iter().any(|t| t.uuid == old.uuid) {
                    txn.delete_template(&old.uuid)?;
                }
            }
            for t in &set {
                txn.put_template(t)?;
            }
            self.stamps.record(&outcome, at.as_str());
            write_effects(&txn, self.runner.graph(), &self.stamps, &outcome, at, &self.deployment)?;
            txn.commit()?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.templates = set;
                // The set is shown at once, even when the change drew nothing in the graph.
                self.template_tx.send_replace(Arc::new(self.templates.clone()));
                self.after(&outcome);
                Ok(())
            }
            Err(e) => {
                self.rebuild();
                Err(e)
            }
        }
    }

    /// Rebuilds the state from the log, after a commit failed with the runner already ahead.
    fn rebuild(&mut self) {
        self.runner = match Runner::new(crate::compile::ir::RuleSet::default()) {
            Ok(r) => r,
            Err(_) => return,
        };
        self.templates.clear();
        self.stamps = Stamps::default();
        self.batch = 0;
        if let Err(e) = self.replay() {
            tracing::error!(error = %e, "replay after a failed commit failed");
        }
        self.publish();
    }

    /// Loads the newest snapshot and replays the log after it (all of it without one), batch
    /// by batch, as it was evaluated.
    fn replay(&mut self) -> Result<(), CoreError> {
        let snapshot = self.restore_snapshot();
        let (mut after, mut replayed) = (snapshot, 0usize);
        let mut pending: Option<(u64, Timestamp)> = None;
        loop {
            let entries = self.store.entries_after(after, 1024)?;
            let Some(last) = entries.last() else { break };
            after = last.seq;
            replayed += entries.len();
            for e in entries {
                let batch = e.body.get("batch").and_then(Json::as_u64).unwrap_or(0);
                if let Some((b, at)) = pending.take() {
                    if b != batch {
                        self.replayed_batch(b, &at);
                    } else {
                        pending = Some((b, at));
                    }
                }
                self.replay_entry(&e)?;
                if e.kind == CHANGES {
                    pending = Some((batch, e.at.clone()));
                }
                self.batch = self.batch.max(batch);
            }
        }
        if let Some((b, at)) = pending {
            self.replayed_batch(b, &at);
        }
        tracing::info!(
            batches = self.batch,
            upto = %after,
            snapshot = %snapshot,
            replayed,
            "state rebuilt from the event log"
        );
        Ok(())
    }

    /// Loads the newest snapshot this build can use into the (fresh) state; the log position
    /// replay goes on after. A snapshot it cannot use (another format, corrupt, other rules)
    /// is skipped for the one before it; without any, nothing changes and the whole log is
    /// replayed: `Seq(0)`.
    fn restore_snapshot(&mut self) -> Seq {
        let kept = self.store.snapshots().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "snapshots unreadable");
            Vec::new()
        });
        let any = !kept.is_empty();
        for upto in kept {
            let restored = match self.store.snapshot(upto) {
                Ok(Some(s)) => restore(&s.data),
                Ok(None) => continue,
                Err(e) => Err(e.to_string()),
            };
            match restored {
                Ok((runner, templates, stamps, batch)) => {
                    (self.runner, self.templates, self.stamps, self.batch) =
                        (runner, templates, stamps, batch);
                    return upto;
                }
                Err(e) => tracing::warn!(upto = %upto, error = %e, "snapshot not used"),
            }
        }
        if any {
            tracing::warn!("no snapshot usable; replaying the whole log");
        }
        Seq(0)
    }

    /// Saves a snapshot when the log has grown by the interval since the newest one. A
    /// snapshot only shortens replay, so a failure is logged and the service goes on.
    fn snapshot_if_due(&mut self) {
        let due = (|| -> Result<Option<Seq>, StoreError> {
            let last = self.store.last_seq()?;
            let newest = self.store.snapshots()?.first().copied().unwrap_or(Seq(0));
            Ok((last.0.saturating_sub(newest.0) >= snapshot_every()).then_some(last))
        })();
        let upto = match due {
            Ok(Some(upto)) => upto,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "snapshot not saved");
                return;
            }
        };
        let started = std::time::Instant::now();
        let saved = self.snapshot().and_then(|bytes| {
            self.store.save_snapshot(upto, &bytes).map_err(|e| e.to_string())?;
            Ok(bytes.len())
        });
        match saved {
            Ok(bytes) => {
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(upto = %upto, bytes, ms, "snapshot saved");
            }
            Err(e) => tracing::warn!(upto = %upto, error = %e, "snapshot not saved"),
        }
    }

    /// The state as a snapshot: the service's part, then the runner's.
    fn snapshot(&self) -> Result<Vec<u8>, String> {
        let runner = self.runner.save().map_err(|e| e.to_string())?;
        let templates = Json::Array(self.templates.iter().map(template_json).collect());
        let saved =
            Saved { batch: self.batch, templates: templates.to_string(), stamps: &self.stamps };
        let mut bytes = persist::encode(SNAPSHOT, &saved).map_err(|e| e.to_string())?;
        bytes.extend_from_slice(&runner);
        Ok(bytes)
    }

    fn replayed_batch(&mut self, batch: u64, at: &Timestamp) {
        self.batch = batch;
        let outcome = self.evaluate();
        self.stamps.record(&outcome, at.as_str());
        self.stamps.forget(self.runner.graph(), &outcome);
    }

    fn replay_entry(&mut self, e: &Entry) -> Result<(), CoreError> {
        let corrupt = |what: &str| CoreError::Store(format!("log entry {}: {what}", e.seq));
        match e.kind.as_str() {
            CHANGES => {
                let changes: Vec<Change> = serde_json::from_value(e.body["changes"].clone())
                    .map_err(|err| corrupt(&err.to_string()))?;
                self.runner
                    .stage(&changes)
                    .map_err(|(i, err)| corrupt(&format!("change {i} no longer applies: {err}")))?;
            }
            TEMPLATES => {
                let mut set: Vec<StoredTemplate> = e.body["templates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(template_from_json)
                    .collect();
                let rules = templates::compile(&mut set);
                let outcome = self.runner.replace_rules(rules).unwrap_or_default();
                self.stamps.record(&outcome, e.at.as_str());
                self.stamps.forget(self.runner.graph(), &outcome);
                self.templates = set;
            }
            DEPLOYMENT => {}
            other => return Err(corrupt(&format!("unknown kind {other:?}"))),
        }
        Ok(())
    }
}

/// The snapshot interval: [`SNAPSHOT_EVERY_VAR`] if set to a positive number, else
/// [`SNAPSHOT_EVERY`].
fn snapshot_every() -> u64 {
    static EVERY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *EVERY.get_or_init(|| {
        let var = std::env::var(SNAPSHOT_EVERY_VAR).ok();
        var.and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(SNAPSHOT_EVERY)
    })
}

/// The state a snapshot holds: the runner (restored for the rules of the snapshot's template
/// set, compiled as replay compiles a template entry), the templates, timestamps and batch.
fn restore(bytes: &[u8]) -> Result<(Runner, Vec<StoredTemplate>, Stamps, u64), String> {
    let (saved, runner): (Saved<Stamps>, &[u8]) =
        persist::decode(SNAPSHOT, bytes).map_err(|e| e.to_string())?;
    let templates: Json = serde_json::from_str(&saved.templates).map_err(|e| e.to_string())?;
    let mut set: Vec<StoredTemplate> =
        templates.as_array().into_iter().flatten().filter_map(template_from_json).collect();
    let rules = templates::compile(&mut set);
    let runner = Runner::restore(runner, rules).map_err(|e| e.to_string())?;
    Ok((runner, set, saved.stamps, saved.batch))
}

/// The first two entries of the log after the deployment's own: what tells a fresh data
/// directory (and one whose first start was killed half way) from one with a history.
fn logged(store: &Store) -> Result<Vec<Entry>, CoreError> {
    let first = store.entries_after(Seq(0), 3)?;
    Ok(first.into_iter().filter(|e| e.kind != DEPLOYMENT).take(2).collect())
}

/// This data directory's namespace of execution ids: the first log entry, written with a
/// random id when the log is empty. A log from before there was one keeps the fixed
/// namespace, so its requests keep their ids.
fn deployment(store: &mut Store) -> Result<uuid::Uuid, CoreError> {
    if let Some(first) = store.entries_after(Seq(0), 1)?.into_iter().next() {
        let id = first.body.get("id").and_then(Json::as_str).and_then(|t| t.parse().ok());
        return Ok(match (first.kind.as_str(), id) {
            (DEPLOYMENT, Some(id)) => id,
            _ => crate::action::mistral::EXECUTION_NAMESPACE,
        });
    }
    let id = uuid::Uuid::new_v4();
    let entry = NewEntry {
        at: Timestamp::now(),
        source: "causeway".into(),
        kind: DEPLOYMENT.into(),
        body: json!({"batch": 0, "id": id.to_string()}),
        request_id: None,
    };
    store.append_batch(&[entry])?;
    Ok(id)
}

/// Writes the outbox requests and alarm history an evaluation produced, in `txn`.
fn write_effects(
    txn: &Txn<'_>,
    graph: &crate::graph::Graph,
    stamps: &Stamps,
    outcome: &Outcome,
    at: &Timestamp,
    deployment: &uuid::Uuid,
) -> Result<(), CoreError> {
    for m in &outcome.mistral {
        txn.insert_outbox(&outbox_request(graph, m, at, deployment))?;
    }
    for &v in &outcome.alarms_activated {
        let props = publish::alarm_props(graph, stamps, v);
        txn.alarm_started(&publish::vitrage_id(graph, v), &Json::Object(props), at)?;
    }
    for &v in &outcome.alarms_deactivated {
        txn.alarm_ended(&publish::vitrage_id(graph, v), at)?;
    }
    Ok(())
}

/// The outbox row of an automatic workflow request.
pub fn outbox_request(
    graph: &crate::graph::Graph,
    m: &MistralRequest,
    at: &Timestamp,
    deployment: &uuid::Uuid,
) -> OutboxRequest {
    let resource_ids = m
        .bound
        .iter()
        .filter(|&&v| {
            graph.vertex(v).is_some_and(|x| x.category() == crate::graph::Category::Resource)
        })
        .map(|&v| publish::vitrage_id(graph, v))
        .collect();
    OutboxRequest {
        execution_id: m.key.execution_id_in(deployment).to_string(),
        key: m.key.text(),
        workflow: m.workflow.clone(),
        input: Json::Object(m.input.clone()),
        description: Some(format!("causeway: {} ({})", m.key.scenario, m.key.action)),
        origin: Origin::Auto,
        requested_by: None,
        created_at: at.clone(),
        resource_ids,
    }
}

/// Vitrage's notifications for what `outcome` did to alarms.
fn notifications(
    graph: &crate::graph::Graph,
    stamps: &Stamps,
    outcome: &Outcome,
) -> Vec<Notification> {
    let mut out = Vec::new();
    let mut push = |v, suffix: &str| {
        let payload = Json::Object(publish::alarm_props(graph, stamps, v));
        let deduced = payload["vitrage_type"] == "vitrage";
        let (alarm, deduced_type) = match suffix {
            "activate" => ("vitrage.alarm.activate", "vitrage.deduced_alarm.activate"),
            _ => ("vitrage.alarm.deactivate", "vitrage.deduced_alarm.deactivate"),
        };
        if deduced {
            out.push(Notification { event_type: deduced_type, payload: payload.clone() });
        }
        out.push(Notification { event_type: alarm, payload });
    };
    for &v in &outcome.alarms_activated {
        push(v, "activate");
    }
    for &v in &outcome.alarms_deactivated {
        push(v, "deactivate");
    }
    out
}

fn template_json(t: &StoredTemplate) -> Json {
    json!({
        "uuid": t.uuid, "name": t.name, "file_name": t.file_name, "type": t.template_type,
        "yaml": t.yaml, "params": t.params, "created_at": t.created_at.as_str(),
    })
}

fn template_from_json(j: &Json) -> Option<StoredTemplate> {
    let text = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_string);
    let at = Timestamp::parse(&text("created_at")?).ok()?;
    Some(StoredTemplate {
        uuid: text("uuid")?,
        name: text("name").unwrap_or_default(),
        file_name: text("file_name").unwrap_or_default(),
        template_type: text("type").unwrap_or_else(|| "standard".into()),
        status: crate::store::TemplateStatus::Loading,
        status_details: String::new(),
        yaml: text("yaml")?,
        params: j.get("params").filter(|p| !p.is_null()).cloned(),
        created_at: at.clone(),
        updated_at: at,
    })
}

#[cfg(test)]
mod tests;
