//! Zabbix's webhook media type: `POST /v1/causeway/zabbix` with one event's macros as JSON
//! (see `tools/zabbix/`). The answer is 2xx only once the event is durable, so the media
//! type's retries (Zabbix retries a failed webhook) are safe: a resent event is a duplicate.

use super::AppState;
use super::error::ApiError;
use super::sources::submit_batch;
use crate::datasource::Datasource;
use crate::datasource::zabbix::{Event, Report, TRIGGER_ID, Zabbix};
use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

/// `POST /v1/causeway/zabbix`: `{"seq": n, "duplicate": bool}`, or `{}` when the event
/// changed nothing.
pub async fn webhook(
    State(state): State<AppState>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let health = &state.writer.metrics.datasources;
    let mut source = Zabbix { hosts: state.writer.monitors.zabbix.clone() };
    let name = source.name();
    let refuse = |message: String| {
        health.failed(name, &message);
        ApiError::bad_request(message)
    };
    let event: Event =
        serde_json::from_value(body).map_err(|e| refuse(format!("Invalid Zabbix event: {e}")))?;
    let raised = raised(&state, &source, &event);
    let batches = source.translate(Report { event, raised }).map_err(|e| refuse(e.to_string()))?;
    let mut answer = json!({});
    for batch in batches {
        if let Some(ack) = submit_batch(&state, batch).await? {
            answer = json!({"seq": ack.seq.0, "duplicate": ack.duplicate});
        }
    }
    Ok(Json(answer))
}

/// The names of the alarms `event`'s trigger has raised on its resource now.
fn raised(state: &AppState, source: &Zabbix, event: &Event) -> Vec<String> {
    let (_, resource) = source.resource(&event.host);
    let view = state.current_view();
    let is = |v: &Map<String, Value>, k: &str, want: &str| {
        v.get(k).and_then(Value::as_str) == Some(want)
    };
    view.vertices
        .iter()
        .map(|v| &v.props)
        .filter(|v| is(v, "vitrage_type", "zabbix") && is(v, "resource_id", &resource))
        .filter(|v| is(v, TRIGGER_ID, &event.trigger_id))
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}
