//! Where datasources meet the evaluation task: a batch goes in through [`submit_batch`], and
//! each source's health is kept for `/v1/status` and `/metrics`.
//!
//! A datasource's own I/O (a webhook route, a broker consumer, a directory watcher, a poller)
//! translates what it receives with its [`Datasource`](crate::datasource::Datasource) and calls
//! [`submit_batch`]; only the answer it gets back may be acknowledged to its sender, because
//! only then is the batch in the event log.

use super::core::{Ack, Admission};
use super::error::ApiError;
use super::view::View;
use super::{AppState, Writer};
use crate::datasource::{Batch, Health, SourceName};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

/// Every datasource's health, by name. Names are fixed words, so the map stays small.
#[derive(Debug, Default)]
pub struct SourceHealth(Mutex<BTreeMap<SourceName, Health>>);

impl SourceHealth {
    /// Records that `source` did its work at `at`.
    pub fn succeeded(&self, source: SourceName, at: SystemTime) {
        if let Ok(mut map) = self.0.lock() {
            map.entry(source).or_default().succeeded(at);
        }
    }

    /// Records an error of `source`.
    pub fn failed(&self, source: SourceName, error: impl std::fmt::Display) {
        tracing::warn!(source, error = %error, "datasource error");
        if let Ok(mut map) = self.0.lock() {
            map.entry(source).or_default().failed(error);
        }
    }

    /// A copy of what is recorded now.
    pub fn snapshot(&self) -> BTreeMap<SourceName, Health> {
        self.0.lock().map(|map| map.clone()).unwrap_or_default()
    }

    /// `{name: {"last_success": secs or null, "errors": n, "last_error": text or null}}`.
    pub fn to_json(&self) -> Value {
        let map = self.snapshot();
        let entries = map.iter().map(|(name, h)| {
            let last = h.last_success.map(seconds);
            (
                name.to_string(),
                json!({"last_success": last, "errors": h.errors, "last_error": h.last_error}),
            )
        });
        Value::Object(entries.collect())
    }

    /// The Prometheus text of every source's last success and error count.
    pub fn render(&self, out: &mut String) {
        let map = self.snapshot();
        let _ = writeln!(
            out,
            "# HELP {LAST_SUCCESS} When a datasource last did its work.\n# TYPE {LAST_SUCCESS} gauge"
        );
        for (name, h) in &map {
            if let Some(at) = h.last_success {
                let _ = writeln!(out, "{LAST_SUCCESS}{{source=\"{name}\"}} {}", seconds(at));
            }
        }
        let _ = writeln!(
            out,
            "# HELP {ERRORS} Datasource inputs not translated or not stored.\n# TYPE {ERRORS} counter"
        );
        for (name, h) in &map {
            let _ = writeln!(out, "{ERRORS}{{source=\"{name}\"}} {}", h.errors);
        }
    }
}

/// Seconds since the epoch of a datasource's last success.
pub const LAST_SUCCESS: &str = "causeway_datasource_last_success_seconds";
/// Datasource errors.
pub const ERRORS: &str = "causeway_datasource_errors_total";

fn seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Hands `batch` to the evaluation task and waits until it is durable, recording the outcome
/// in the source's health. A batch with no changes succeeds at once without being logged
/// (`None`).
pub async fn submit_batch(state: &AppState, batch: Batch) -> Result<Option<Ack>, ApiError> {
    let health = &state.writer.metrics.datasources;
    let source = batch.source;
    if batch.changes.is_empty() {
        health.succeeded(source, SystemTime::now());
        return Ok(None);
    }
    match super::ingest::submit(state, source, batch.request_id, batch.changes, Admission::Resolve)
        .await
    {
        Ok(ack) => {
            health.succeeded(source, SystemTime::now());
            Ok(Some(ack))
        }
        Err(e) => {
            health.failed(source, &e.description);
            Err(e)
        }
    }
}

/// The service's state as a background task holds it: the writer weakly, because the
/// evaluation task ends when the last strong copy is gone, and a consumer or poller must not
/// keep it running after the service stops.
#[derive(Clone)]
pub struct Held {
    base: AppState,
    writer: Weak<Writer>,
}

impl Held {
    /// `state`, its writer held weakly.
    pub fn new(state: &AppState) -> Held {
        let base = AppState { writer: Arc::new(Writer::detached()), ..state.clone() };
        Held { base, writer: Arc::downgrade(&state.writer) }
    }

    /// The state, while the service runs; hold it only as long as one step needs it.
    pub fn state(&self) -> Option<AppState> {
        let writer = self.writer.upgrade()?;
        Some(AppState { writer, ..self.base.clone() })
    }

    /// The published view, which needs no writer.
    pub fn view(&self) -> Arc<View> {
        self.base.current_view()
    }

    /// The channel the views are published on.
    pub fn view_channel(&self) -> tokio::sync::watch::Receiver<Arc<View>> {
        self.base.view.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_reports_last_success_and_errors_by_source() {
        let health = SourceHealth::default();
        health.succeeded("static", UNIX_EPOCH + std::time::Duration::from_secs(10));
        health.failed("static", "a.yaml:3:1: bad");
        let json = health.to_json();
        assert_eq!(json["static"]["last_success"], json!(10.0));
        assert_eq!(json["static"]["errors"], json!(1));
        assert_eq!(json["static"]["last_error"], json!("a.yaml:3:1: bad"));
        let mut text = String::new();
        health.render(&mut text);
        assert!(text.contains("causeway_datasource_errors_total{source=\"static\"} 1"), "{text}");
        assert!(
            text.contains("causeway_datasource_last_success_seconds{source=\"static\"} 10"),
            "{text}"
        );
    }
}
