//! The dispatcher: a tokio task that sends every unfinished outbox request to Mistral and polls
//! it to its final state, recording each state change through a [`Sink`].
//!
//! A request is `PENDING` until the dispatcher takes it, `DISPATCHED` while a `POST` may be on
//! its way (recorded before each attempt, without waiting), then what Mistral says: `RUNNING`,
//! `SUCCESS`, `ERROR`, `CANCELLED`, or `REFUSED` with Mistral's `faultstring`. On start it takes
//! up what a previous process left: `PENDING` and `DISPATCHED` requests are sent (again: the
//! execution id makes a second `POST` return the first execution), `RUNNING` ones are polled.

use super::MistralConfig;
use super::client::{Client, Execution, Fault};
use crate::store::{ExecutionState, OutboxRecord, OutboxRequest, Reader, Timestamp};
use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

/// A state change of one request, for the store's writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxUpdate {
    /// The request's execution id.
    pub execution_id: String,
    /// Its new state.
    pub state: ExecutionState,
    /// Mistral's `state_info`, a refusal's reason, or the last failed attempt's.
    pub info: Option<String>,
    /// This update starts one more attempt to send it.
    pub attempt: bool,
}

/// Resolves once an update is durable (or says why it is not).
pub type Durable = oneshot::Receiver<Result<(), String>>;

/// Something that happened to a dispatch, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A `POST /v2/executions` ended: `accepted`, `refused`, `unreachable`, `failed` or
    /// `gave_up`; how long it took; for a first attempt, how long after its request was
    /// recorded it was sent.
    Dispatch {
        /// The outcome.
        outcome: &'static str,
        /// The call's duration.
        latency: Duration,
        /// From the request's creation to the call, on the first attempt.
        queued: Option<Duration>,
    },
    /// Requests not yet final.
    Depth(usize),
}

/// Where the dispatcher records what happens. Updates are applied in the order `record` was
/// called.
pub trait Sink: Send + Sync + 'static {
    /// Queues `update` for the store; the answer resolves once it is durable.
    fn record(&self, update: OutboxUpdate) -> impl Future<Output = Result<Durable, String>> + Send;
    /// Counts `event`.
    fn event(&self, event: Event);
}

/// A test hook (`CAUSEWAY_TEST_DISPATCH_HOOK`): the process aborts, as under `kill -9`, at a
/// chosen point of the first dispatch that reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// No hook.
    None,
    /// `abort-before-post`: the request was taken from the outbox, nothing was sent.
    AbortBeforePost,
    /// `abort-after-post`: Mistral accepted the execution, its answer is not recorded.
    AbortAfterPost,
}

impl Hook {
    /// The hook `CAUSEWAY_TEST_DISPATCH_HOOK` names.
    pub fn from_env() -> Hook {
        match std::env::var("CAUSEWAY_TEST_DISPATCH_HOOK").as_deref() {
            Ok("abort-before-post") => Hook::AbortBeforePost,
            Ok("abort-after-post") => Hook::AbortAfterPost,
            _ => Hook::None,
        }
    }

    fn at(self, point: Hook) {
        if self == point && point != Hook::None {
            tracing::error!(hook = ?point, "test hook: aborting");
            std::process::abort();
        }
    }
}

/// Bounded exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay, and the least of any.
    pub min: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay after failed attempt `attempt` (1, 2, ...): `min · 2^(attempt-1)` capped at
    /// `max`, then a random part of its upper half taken away; never below `min`.
    pub fn delay(&self, attempt: u32, random: u64) -> Duration {
        let base = self.min.saturating_mul(1 << attempt.saturating_sub(1).min(20)).min(self.max);
        let half = u64::try_from(base.as_micros() / 2).unwrap_or(u64::MAX);
        let jitter = Duration::from_micros(random % (half + 1));
        base.saturating_sub(jitter).max(self.min)
    }
}

/// What every dispatch shares.
struct Ctx<S> {
    client: Arc<Client>,
    sink: Arc<S>,
    /// For `POST`s, so that a new request never waits behind polls of running ones.
    slots: Semaphore,
    /// For polls.
    poll_slots: Semaphore,
    config: MistralConfig,
    hook: Hook,
}

/// Dispatches until `wake`'s sender is gone: at start, whenever `wake` changes (new requests)
/// and every second, every unfinished request of the store in `data_dir` not already in hand
/// gets a task that takes it to its final state.
pub async fn dispatch<S: Sink>(
    client: Arc<Client>,
    config: MistralConfig,
    data_dir: PathBuf,
    sink: Arc<S>,
    mut wake: watch::Receiver<u64>,
    hook: Hook,
) {
    let slots = Semaphore::new(config.concurrency.max(1));
    let poll_slots = Semaphore::new(config.concurrency.max(1));
    let ctx = Arc::new(Ctx { client, sink, slots, poll_slots, config, hook });
    let mut active: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<String> = JoinSet::new();
    let mut reader = None;
    loop {
        while let Some(done) = tasks.try_join_next() {
            if let Ok(id) = done {
                active.remove(&id);
            }
        }
        if reader.is_none() {
            reader = Reader::open(&data_dir)
                .map_err(|e| tracing::warn!(error = %e, "dispatcher: cannot read the outbox"))
                .ok();
        }
        if let Some(r) = &reader {
            match r.unfinished_outbox() {
                Ok(rows) => {
                    ctx.sink.event(Event::Depth(rows.len()));
                    for row in rows {
                        if active.insert(row.request.execution_id.clone()) {
                            tasks.spawn(drive(ctx.clone(), row));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "dispatcher: cannot read the outbox");
                    reader = None;
                }
            }
        }
        tokio::select! {
            changed = wake.changed() => if changed.is_err() { break },
            Some(Ok(id)) = tasks.join_next() => { active.remove(&id); },
            () = tokio::time::sleep(Duration::from_secs(1)) => {},
        }
    }
    tracing::info!(in_flight = tasks.len(), "dispatcher stopped");
}

/// Takes one request to its final state; returns its execution id.
async fn drive<S: Sink>(ctx: Arc<Ctx<S>>, row: OutboxRecord) -> String {
    let id = row.request.execution_id.clone();
    let span = tracing::info_span!("dispatch", execution = %id, key = %row.request.key,
        workflow = %row.request.workflow);
    async {
        let mut now = (row.state, row.state_info.clone());
        let mut lost = 0;
        loop {
            now = match now.0 {
                ExecutionState::Pending | ExecutionState::Dispatched => {
                    let Some(next) = send(&ctx, &row.request).await else { return };
                    next
                }
                ExecutionState::Running => match poll(&ctx, &id, now.clone()).await {
                    Some(next) => next,
                    None => return,
                },
                _ => return,
            };
            if now.0 == ExecutionState::Pending {
                // Mistral does not know the execution: send it again under the same id.
                lost += 1;
                if lost > ctx.config.max_attempts {
                    now = (ExecutionState::Refused, Some("Mistral keeps losing it".into()));
                } else {
                    continue;
                }
            }
            if record(&ctx, &id, now.0, now.1.clone(), false).await.is_none() {
                return;
            }
            tracing::info!(state = %now.0, info = now.1.as_deref().unwrap_or(""), "execution state");
        }
    }
    .instrument(span)
    .await;
    id
}

/// Records an update and waits until it is durable; `None` when the store's writer is gone.
async fn record<S: Sink>(
    ctx: &Ctx<S>,
    id: &str,
    state: ExecutionState,
    info: Option<String>,
    attempt: bool,
) -> Option<()> {
    let update = OutboxUpdate { execution_id: id.to_string(), state, info, attempt };
    match ctx.sink.record(update).await {
        Ok(durable) => match durable.await {
            Ok(Ok(())) => Some(()),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "dispatcher: the store refused a state");
                None
            }
            Err(_) => None,
        },
        Err(e) => {
            tracing::warn!(error = %e, "dispatcher: the store's writer is gone");
            None
        }
    }
}

/// Sends until Mistral accepts or refuses; the state to record then.
async fn send<S: Sink>(
    ctx: &Ctx<S>,
    request: &OutboxRequest,
) -> Option<(ExecutionState, Option<String>)> {
    let backoff = ctx.config.backoff();
    let id = &request.execution_id;
    let (mut failures, mut last) = (0, None::<String>);
    for attempt in 1u32.. {
        let update = OutboxUpdate {
            execution_id: id.clone(),
            state: ExecutionState::Dispatched,
            info: last.clone(),
            attempt: true,
        };
        // Queued, not awaited: the POST need not wait for the disk.
        let durable = ctx.sink.record(update).await.ok()?;
        ctx.hook.at(Hook::AbortBeforePost);
        let permit = ctx.slots.acquire().await.ok()?;
        let queued = (attempt == 1).then(|| since(&request.created_at));
        let started = Instant::now();
        let answer = ctx.client.start(request).await;
        drop(permit);
        if answer.is_ok() {
            ctx.hook.at(Hook::AbortAfterPost);
        }
        let latency = started.elapsed();
        let _ = durable.await;
        let outcome = match &answer {
            Ok(_) => "accepted",
            Err(Fault::Refused(_)) => "refused",
            Err(Fault::Unreachable(_)) => "unreachable",
            Err(Fault::Failed(_)) => "failed",
        };
        ctx.sink.event(Event::Dispatch { outcome, latency, queued });
        match answer {
            Ok(execution) => {
                tracing::info!(attempt, ms = latency.as_millis() as u64, "mistral accepted");
                return Some(state_of(&execution));
            }
            Err(Fault::Refused(reason)) => {
                tracing::warn!(attempt, %reason, "mistral refused the execution");
                return Some((ExecutionState::Refused, Some(reason)));
            }
            Err(Fault::Failed(reason)) => {
                failures += 1;
                tracing::warn!(attempt, %reason, "mistral failed the request");
                if failures >= ctx.config.max_attempts {
                    ctx.sink.event(Event::Dispatch { outcome: "gave_up", latency, queued: None });
                    let why = format!("gave up after {failures} failed answers; last: {reason}");
                    return Some((ExecutionState::Refused, Some(why)));
                }
                last = Some(reason);
            }
            Err(Fault::Unreachable(reason)) => {
                tracing::warn!(attempt, %reason, "mistral unreachable");
                last = Some(reason);
            }
        }
        tokio::time::sleep(backoff.delay(attempt, random())).await;
    }
    None
}

/// Polls a running execution until its state differs from `now`; `Pending` when Mistral does
/// not know it.
async fn poll<S: Sink>(
    ctx: &Ctx<S>,
    id: &str,
    now: (ExecutionState, Option<String>),
) -> Option<(ExecutionState, Option<String>)> {
    let every = Duration::from_millis(ctx.config.poll_ms.max(1));
    let mut failures = 0;
    loop {
        let wait = match failures {
            0 => every,
            n => ctx.config.backoff().delay(n, random()).max(every),
        };
        tokio::time::sleep(wait).await;
        let permit = ctx.poll_slots.acquire().await.ok()?;
        let answer = ctx.client.execution(id).await;
        drop(permit);
        match answer {
            Ok(execution) => {
                failures = 0;
                let next = state_of(&execution);
                if next != now {
                    return Some(next);
                }
            }
            Err(Fault::Refused(reason)) => {
                tracing::warn!(%reason, "mistral does not know the execution");
                return Some((ExecutionState::Pending, Some(reason)));
            }
            Err(fault) => {
                failures += 1;
                tracing::warn!(%fault, "polling failed");
            }
        }
    }
}

/// Mistral's state as the outbox keeps it.
fn state_of(e: &Execution) -> (ExecutionState, Option<String>) {
    let state = match e.state.as_str() {
        "SUCCESS" => ExecutionState::Success,
        "ERROR" => ExecutionState::Error,
        "CANCELLED" => ExecutionState::Cancelled,
        _ => ExecutionState::Running,
    };
    let info = match (state, &e.state_info) {
        (ExecutionState::Running, None) if e.state != "RUNNING" => Some(e.state.clone()),
        (_, info) => info.clone(),
    };
    (state, info)
}

/// How long ago `at` was.
fn since(at: &Timestamp) -> Duration {
    let micros = Timestamp::now().unix_micros() - at.unix_micros();
    Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}

fn random() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_bounds() {
        let b = Backoff { min: Duration::from_millis(100), max: Duration::from_secs(2) };
        for attempt in 1..40 {
            for r in [0, 1, 12_345, u64::MAX] {
                let d = b.delay(attempt, r);
                assert!(d >= b.min && d <= b.max, "{attempt} {r} {d:?}");
            }
        }
        assert_eq!(b.delay(1, 0), Duration::from_millis(100));
        assert_eq!(b.delay(3, 0), Duration::from_millis(400));
        assert_eq!(b.delay(30, 0), Duration::from_secs(2));
        assert!(b.delay(30, u64::MAX / 3) >= Duration::from_secs(1));
    }
}
