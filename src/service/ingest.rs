//! Changes in: the topology push endpoint of causeway's own and Vitrage's `POST /v1/event`.
//!
//! Both hand their changes to the evaluation task and answer only once the changes are in the
//! event log: a 2xx means durable. A request is applied whole or refused whole.
//!
//! `POST /v1/causeway/changes` takes `{"changes": [CHANGE, ...], "request_id": "..."}` where a
//! CHANGE is a step of the scenario format (`add_resource`, `update_resource`,
//! `delete_resource`, `add_edge`, `delete_edge`, `raise_alarm`, `clear_alarm`), the way a
//! datasource reports what it saw; all of them are evaluated as one batch. `request_id` (or
//! the `Idempotency-Key` header) makes a resend after a lost answer harmless: the answer is
//! `{"seq": N, "duplicate": true}` and nothing is applied twice.

use super::AppState;
use super::alertmanager;
use super::core::{Ack, Admission, Command, CoreError};
use super::error::ApiError;
use super::params::Params;
use super::sources::submit_batch;
use crate::datasource::Datasource;
use crate::datasource::doctor::{Doctor, Event};
use crate::runner::Change;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The ingestion routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/causeway/changes", post(push))
        .route("/v1/event", post(event))
        .route("/v1/causeway/alertmanager", post(alertmanager::webhook))
        .route("/v1/causeway/zabbix", post(super::zabbix::webhook))
}

async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let changes = params
        .get("changes")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("Missing mandatory field: changes"))?;
    let changes: Vec<Change> = serde_json::from_value(changes)
        .map_err(|e| ApiError::bad_request(format!("Invalid changes: {e}")))?;
    let request_id = params.string("request_id")?.map(str::to_string).or_else(|| {
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string)
    });
    let ack = submit(&state, "push", request_id, changes, Admission::Strict).await?;
    Ok(Json(json!({"seq": ack.seq.0, "duplicate": ack.duplicate})))
}

/// Hands changes to the evaluation task and waits until they are durable.
pub async fn submit(
    state: &AppState,
    source: &str,
    request_id: Option<String>,
    changes: Vec<Change>,
    admission: Admission,
) -> Result<Ack, ApiError> {
    let (reply, answer) = oneshot::channel();
    let source = source.into();
    let command = Command::Ingest { source, request_id, changes, admission, reply };
    state.writer.commands.send(command).await.map_err(|_| unavailable())?;
    match answer.await {
        Ok(Ok(ack)) => Ok(ack),
        Ok(Err(e)) => Err(refusal(e)),
        Err(_) => Err(unavailable()),
    }
}

fn unavailable() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "vitrage-graph not available")
}

/// The HTTP answer to a refused command.
pub fn refusal(e: CoreError) -> ApiError {
    match e {
        CoreError::Refused { .. } => ApiError::bad_request(e.to_string()),
        CoreError::NoSuchTemplate(_) => ApiError::not_found(e.to_string()),
        CoreError::Store(_) | CoreError::Stopped => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
    }
}

/// Vitrage's event API. Alertmanager's webhook (by its `User-Agent`, or the type
/// `prometheus.alarm` with the notification as details) goes to the Alertmanager datasource;
/// everything else is a doctor or custom event (see [`crate::datasource::doctor`]). An event
/// no datasource takes is accepted and dropped, as in Vitrage.
async fn event(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    if alertmanager::from_alertmanager(&headers) {
        return alertmanager::deliver(&state, Value::Object(params.0)).await;
    }
    let kind = params
        .string("type")?
        .ok_or_else(|| ApiError::bad_request("Missing mandatory field: type"))?
        .to_string();
    let details = match params.get("details") {
        Some(Value::Object(d)) => d.clone(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(d)) => d,
            _ => return Err(ApiError::bad_request("details must be a JSON object")),
        },
        Some(_) => return Err(ApiError::bad_request("details must be a JSON object")),
        None => return Err(ApiError::bad_request("Missing mandatory field: details")),
    };
    if kind == "prometheus.alarm" {
        return alertmanager::deliver(&state, Value::Object(details)).await;
    }
    let time = params.string("time")?.map(str::to_string);
    let mut doctor = Doctor;
    let batches = doctor.translate(Event { kind, time, details }).map_err(|e| {
        state.writer.metrics.datasources.failed(doctor.name(), &e);
        ApiError::bad_request(e.to_string())
    })?;
    if batches.is_empty() {
        tracing::info!("event without status and hostname: no datasource takes it");
    }
    for batch in batches {
        submit_batch(&state, batch).await?;
    }
    Ok(Json(Value::Null))
}
