//! Alertmanager's webhook: `POST /v1/causeway/alertmanager`, and `POST /v1/event` when the
//! `User-Agent` is `Alertmanager/*` (where Vitrage takes it).
//!
//! The route finds each alert's resources in the published view (the vertices the mapping
//! says it is on, and for a resolved alert also the vertices its alarm is on now), hands the
//! routed alerts to [`Alertmanager`], and submits each alert's batch. It answers 2xx only when
//! every batch is durable; on a 5xx Alertmanager sends the whole notification again, and the
//! alerts already stored are answered as duplicates.

use super::AppState;
use super::error::ApiError;
use super::sources::submit_batch;
use super::view::View;
use crate::datasource::Datasource;
use crate::datasource::alertmanager::{
    Alert, Alertmanager, FINGERPRINT, Mapping, Notification, Routed, matches,
};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

/// Whether a request comes from Alertmanager, by its `User-Agent` (`Alertmanager/0.25.0`).
pub fn from_alertmanager(headers: &HeaderMap) -> bool {
    let agent = headers.get("user-agent").and_then(|v| v.to_str().ok());
    agent.is_some_and(|ua| ua.starts_with("Alertmanager/"))
}

/// `POST /v1/causeway/alertmanager`.
pub async fn webhook(
    State(state): State<AppState>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    deliver(&state, body).await
}

/// Takes a webhook body: `{"alerts": n, "stored": n, "duplicates": n}`.
pub async fn deliver(state: &AppState, body: Value) -> Result<Json<Value>, ApiError> {
    let health = &state.writer.metrics.datasources;
    let mut source = Alertmanager;
    let name = source.name();
    let refuse = |message: String| {
        health.failed(name, &message);
        ApiError::bad_request(message)
    };
    let notification: Notification = serde_json::from_value(body)
        .map_err(|e| refuse(format!("Invalid Alertmanager notification: {e}")))?;
    Alertmanager::check(&notification).map_err(|e| refuse(e.to_string()))?;
    if notification.truncated_alerts > 0 {
        let left_out = notification.truncated_alerts;
        tracing::warn!(left_out, "Alertmanager truncated the notification (max_alerts)");
    }
    let view = state.current_view();
    let routed = route(&view, &state.writer.monitors.alertmanager, notification.alerts);
    let batches = source.translate(routed).map_err(|e| refuse(e.to_string()))?;
    let (mut stored, mut duplicates) = (0, 0);
    let alerts = batches.len();
    for batch in batches {
        match submit_batch(state, batch).await? {
            Some(ack) if ack.duplicate => duplicates += 1,
            Some(_) => stored += 1,
            None => {}
        }
    }
    Ok(Json(json!({"alerts": alerts, "stored": stored, "duplicates": duplicates})))
}

/// Each alert with its targets. An alert whose mapping finds nothing is logged: Vitrage makes
/// an alarm on nothing, which causeway's alarms cannot be.
fn route(view: &View, mapping: &Mapping, alerts: Vec<Alert>) -> Vec<Routed> {
    alerts
        .into_iter()
        .map(|alert| {
            let mut targets = resources(view, mapping, &alert);
            if alert.status == "resolved" {
                targets.extend(carrying(view, &alert));
                targets.sort();
                targets.dedup();
            }
            if targets.is_empty() {
                let name = alert.labels.get("alertname").map_or("", String::as_str);
                tracing::info!(alert = name, fingerprint = %alert.fingerprint, "alert on no known resource");
            }
            Routed { alert, targets }
        })
        .collect()
}

/// The ids of the resources the mapping puts `alert` on.
fn resources(view: &View, mapping: &Mapping, alert: &Alert) -> Vec<String> {
    let Some(wanted) = mapping.resource(alert) else { return Vec::new() };
    view.vertices
        .iter()
        .filter(|v| v.props.get("vitrage_category") == Some(&json!("RESOURCE")))
        .filter(|v| matches(&v.props, &wanted))
        .filter_map(|v| v.props.get("id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The resources `alert`'s alarm is on now.
fn carrying(view: &View, alert: &Alert) -> Vec<String> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    view.vertices
        .iter()
        .filter(|v| v.props.get("vitrage_type") == Some(&json!("prometheus")))
        .filter(|v| v.props.get(FINGERPRINT).and_then(Value::as_str) == Some(&alert.fingerprint))
        .filter_map(|v| v.props.get("resource_id").and_then(text))
        .collect()
}
