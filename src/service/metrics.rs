//! `/metrics` in Prometheus' text format: what an operator graphs and alerts on.
//!
//! Counters and histograms are atomics updated where things happen (the evaluation task, the
//! webhook deliveries) and read only when scraped. Label values come from small fixed sets
//! (event sources, delivery outcomes), so no label can grow without bound.

use super::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Events accepted, by source.
pub const EVENTS: &str = "causeway_events_total";
/// Requests refused (they name what does not exist), by source.
pub const REFUSED: &str = "causeway_events_refused_total";
/// Seconds per evaluation batch, from staging to the fixpoint.
pub const EVALUATION: &str = "causeway_evaluation_seconds";
/// Seconds per store commit (one per batch).
pub const COMMIT: &str = "causeway_store_commit_seconds";
/// Effects of evaluation, by kind.
pub const ACTIONS: &str = "causeway_actions_total";
/// Alarms live in the graph now.
pub const ALARMS: &str = "causeway_alarms_active";
/// Webhook deliveries, by outcome.
pub const WEBHOOKS: &str = "causeway_webhook_deliveries_total";

/// Mistral `POST /v2/executions` calls, by outcome.
pub const MISTRAL_DISPATCHES: &str = "causeway_mistral_dispatches_total";
/// Workflow requests not yet in a final state.
pub const MISTRAL_OUTBOX: &str = "causeway_mistral_outbox_depth";
/// Seconds per `POST /v2/executions`.
pub const MISTRAL_LATENCY: &str = "causeway_mistral_dispatch_seconds";
/// Seconds from a request's recording to its first `POST`.
pub const MISTRAL_QUEUED: &str = "causeway_mistral_queued_seconds";

/// Bucket bounds in seconds: 50 µs to 2.5 s.
const BUCKETS: [f64; 12] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ =
                writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", count.load(Ordering::Relaxed));
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
    }
}

/// Counters by a label value.
#[derive(Debug, Default)]
pub struct Counters(Mutex<BTreeMap<String, u64>>);

impl Counters {
    /// Adds `n` under `label`.
    pub fn add(&self, label: &str, n: u64) {
        if let Ok(mut map) = self.0.lock() {
            *map.entry(label.to_string()).or_insert(0) += n;
        }
    }

    fn render(&self, out: &mut String, name: &str, label: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        if let Ok(map) = self.0.lock() {
            for (value, n) in map.iter() {
                let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
            }
        }
    }
}

/// Every metric of the process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// [`EVENTS`].
    pub events: Counters,
    /// [`REFUSED`].
    pub refused: Counters,
    /// [`EVALUATION`].
    pub evaluation: Histogram,
    /// [`COMMIT`].
    pub commit: Histogram,
    /// [`ACTIONS`].
    pub actions: Counters,
    /// [`ALARMS`].
    pub alarms: AtomicI64,
    /// [`WEBHOOKS`].
    pub webhooks: Counters,
    /// [`MISTRAL_DISPATCHES`].
    pub mistral_dispatches: Counters,
    /// [`MISTRAL_OUTBOX`].
    pub mistral_outbox: AtomicI64,
    /// [`MISTRAL_LATENCY`].
    pub mistral_latency: Histogram,
    /// [`MISTRAL_QUEUED`].
    pub mistral_queued: Histogram,
    /// Each datasource's health ([`super::sources::LAST_SUCCESS`], [`super::sources::ERRORS`]).
    pub datasources: super::sources::SourceHealth,
}

impl Metrics {
    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.events.render(&mut out, EVENTS, "source", "Changes accepted into the event log.");
        self.refused.render(
            &mut out,
            REFUSED,
            "source",
            "Requests refused as naming what does not exist.",
        );
        self.evaluation.render(&mut out, EVALUATION, "Seconds per evaluation batch.");
        self.commit.render(&mut out, COMMIT, "Seconds per store commit.");
        self.actions.render(&mut out, ACTIONS, "kind", "Effects of evaluation.");
        let alarms = self.alarms.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP {ALARMS} Alarms live in the graph.\n# TYPE {ALARMS} gauge\n{ALARMS} {alarms}"
        );
        self.webhooks.render(&mut out, WEBHOOKS, "outcome", "Webhook deliveries.");
        self.mistral_dispatches.render(
            &mut out,
            MISTRAL_DISPATCHES,
            "outcome",
            "Mistral execution requests sent.",
        );
        let depth = self.mistral_outbox.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP {MISTRAL_OUTBOX} Workflow requests not final.\n# TYPE {MISTRAL_OUTBOX} gauge\n{MISTRAL_OUTBOX} {depth}"
        );
        self.mistral_latency.render(&mut out, MISTRAL_LATENCY, "Seconds per POST /v2/executions.");
        self.mistral_queued.render(
            &mut out,
            MISTRAL_QUEUED,
            "Seconds from a workflow request's recording to its first POST.",
        );
        self.datasources.render(&mut out);
        out
    }
}

/// The `/metrics` route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.writer.metrics.render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_count_into_every_bucket_above_the_value() {
        let m = Metrics::default();
        m.evaluation.observe(Duration::from_micros(300));
        m.events.add("push", 3);
        let text = m.render();
        assert!(text.contains("causeway_evaluation_seconds_bucket{le=\"0.00025\"} 0"), "{text}");
        assert!(text.contains("causeway_evaluation_seconds_bucket{le=\"0.0005\"} 1"), "{text}");
        assert!(text.contains("causeway_evaluation_seconds_count 1"), "{text}");
        assert!(text.contains("causeway_events_total{source=\"push\"} 3"), "{text}");
    }
}
