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
use super::core::{Ack, Admission, Command, CoreError};
use super::error::ApiError;
use super::params::Params;
use crate::runner::Change;
use crate::scenario::{Alarm, AlarmType};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The ingestion routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/causeway/changes", post(push)).route("/v1/event", post(event))
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

/// Vitrage's event API. A doctor event (`details.status` `down` or `up`, `details.hostname`)
/// raises or clears the doctor alarm named by the event type on the `nova.host` whose id is
/// the hostname; other event types are accepted and dropped, as Vitrage drops events no
/// datasource listens to.
async fn event(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let alertmanager = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("Alertmanager"));
    let kind = match params.string("type")? {
        Some(t) => t.to_string(),
        None if alertmanager => "prometheus.alarm".to_string(),
        None => return Err(ApiError::bad_request("Missing mandatory field: type")),
    };
    let details = match params.get("details") {
        Some(Value::Object(d)) => d.clone(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(d)) => d,
            _ => return Err(ApiError::bad_request("details must be a JSON object")),
        },
        Some(_) => return Err(ApiError::bad_request("details must be a JSON object")),
        None => params.0.clone(),
    };
    let text = |k: &str| details.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(status), Some(hostname)) = (text("status"), text("hostname")) else {
        tracing::info!(event_type = %kind, "event without status and hostname: no datasource takes it");
        return Ok(Json(Value::Null));
    };
    let alarm = Alarm {
        kind: AlarmType::Doctor,
        name: kind,
        target: hostname,
        severity: text("severity"),
        id: None,
    };
    let change = match status.to_ascii_lowercase().as_str() {
        "down" => Change::RaiseAlarm { alarm },
        "up" => Change::ClearAlarm { alarm },
        other => {
            return Err(ApiError::bad_request(format!("Invalid status {other:?}: down or up")));
        }
    };
    match submit(&state, "event", None, vec![change], Admission::Strict).await {
        Ok(_) => Ok(Json(Value::Null)),
        // A host that is already up, or an up for an alarm never raised, changes nothing; a
        // store failure is still a failure, never a 2xx.
        Err(e) if e.status == StatusCode::BAD_REQUEST && status.eq_ignore_ascii_case("up") => {
            Ok(Json(Value::Null))
        }
        Err(e) => Err(e),
    }
}
