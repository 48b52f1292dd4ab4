//! causeway's own execution endpoints: the Mistral workflow requests of the outbox and where
//! each stands, manual runs, and Mistral's workflow list.
//!
//! - `GET /v1/causeway/executions?resource=&workflow=&state=`: `{"executions": [...],
//!   "mistral": {"configured": bool}}`, oldest first.
//! - `GET /v1/causeway/executions/{execution_id}`: one of them.
//! - `POST /v1/causeway/executions` `{"resource_id", "workflow", "input", "request_id"?}`: a manual
//!   run on a resource, recorded with `X-User-Id`/`X-Project-Id` and the time, and sent by the
//!   same dispatcher as automatic ones. 202 with the request; a resent `request_id` answers
//!   with the request it made the first time.
//! - `GET /v1/causeway/workflows`: Mistral's `GET /v2/workflows`, or 503 saying why not.

use super::AppState;
use super::caller::Caller;
use super::core::Command;
use super::error::ApiError;
use super::ingest::refusal;
use super::params::Params;
use crate::store::{ExecutionState, Origin, OutboxRecord, OutboxRequest, Reader, Timestamp};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// What a `PENDING` request says when no Mistral is configured.
pub const NOT_CONFIGURED: &str =
    "no Mistral is configured (--mistral-url): the request stays PENDING until one is";

/// The execution routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/causeway/executions", get(list).post(run))
        .route("/v1/causeway/executions/{execution_id}", get(show))
        .route("/v1/causeway/workflows", get(workflows))
}

/// An outbox record as the API shows it.
pub fn shown(r: &OutboxRecord, configured: bool) -> Value {
    let q = &r.request;
    let waiting = (r.state == ExecutionState::Pending && !configured).then_some(NOT_CONFIGURED);
    json!({
        "execution_id": q.execution_id, "key": q.key, "workflow": q.workflow, "input": q.input,
        "description": q.description, "origin": q.origin.as_str(),
        "requested_by": q.requested_by, "created_at": q.created_at.as_str(),
        "resource_ids": q.resource_ids, "state": r.state.as_str(),
        "state_info": r.state_info.as_deref().or(waiting), "attempts": r.attempts,
        "updated_at": r.updated_at.as_str(),
    })
}

fn reader(state: &AppState) -> Result<Reader, ApiError> {
    Reader::open(&state.writer.data_dir)
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}")))
}

async fn list(State(state): State<AppState>, params: Params) -> Result<Json<Value>, ApiError> {
    let resource = params.string("resource")?.map(str::to_string);
    let workflow = params.string("workflow")?.map(str::to_string);
    let wanted = params.string("state")?.map(str::to_ascii_uppercase);
    let configured = state.writer.mistral.is_some();
    let rows = tokio::task::spawn_blocking(move || {
        let reader = reader(&state)?;
        let rows = match &resource {
            Some(id) => reader.outbox_of_resource(id),
            None => reader.outbox_requests(),
        };
        rows.map_err(|e| ApiError::internal(e.to_string()))
    })
    .await
    .map_err(|_| ApiError::internal("Internal error"))??;
    let executions: Vec<Value> = rows
        .iter()
        .filter(|r| workflow.as_ref().is_none_or(|w| &r.request.workflow == w))
        .filter(|r| wanted.as_ref().is_none_or(|s| r.state.as_str() == s))
        .map(|r| shown(r, configured))
        .collect();
    Ok(Json(json!({"executions": executions, "mistral": {"configured": configured}})))
}

async fn show(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let row = reader(&state)?.outbox_request(&id).map_err(|e| ApiError::internal(e.to_string()))?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("No execution {id}")))?;
    Ok(Json(shown(&row, state.writer.mistral.is_some())))
}

async fn run(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Params,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = |k: &str| params.string(k).map(|v| v.map(str::to_string));
    let resource = text("resource_id")?
        .ok_or_else(|| ApiError::bad_request("Missing mandatory field: resource_id"))?;
    let workflow = text("workflow")?
        .filter(|w| !w.is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing mandatory field: workflow"))?;
    let input = match params.get("input") {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(ApiError::bad_request("input must be an object")),
    };
    let view = state.current_view();
    let props = view.find(&resource).map(|v| view.props(v));
    if props.and_then(|p| p.get("vitrage_category")).and_then(Value::as_str) != Some("RESOURCE") {
        return Err(ApiError::not_found(format!("No resource {resource}")));
    }
    let request_id = text("request_id")?.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let key = json!(["manual", resource, workflow, request_id]).to_string();
    let execution_id = uuid::Uuid::new_v5(&state.writer.deployment, key.as_bytes()).to_string();
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    let who =
        format!("user={} project={}", header("x-user-id"), caller.project_id.unwrap_or_default());
    let request = OutboxRequest {
        execution_id: execution_id.clone(),
        key,
        workflow,
        input,
        description: Some(format!("causeway: manual run on {resource} by {who}")),
        origin: Origin::Manual,
        requested_by: Some(who),
        created_at: Timestamp::now(),
        resource_ids: vec![resource],
    };
    let (reply, answer) = oneshot::channel();
    state.writer.commands.send(Command::ManualRun(request, reply)).await.map_err(|_| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "vitrage-graph not available")
    })?;
    match answer.await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(refusal(e)),
        Err(_) => return Err(ApiError::internal("the evaluation task stopped")),
    }
    let row = reader(&state)?
        .outbox_request(&execution_id)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let row = row.ok_or_else(|| ApiError::internal("the request was not recorded"))?;
    Ok((StatusCode::ACCEPTED, Json(shown(&row, state.writer.mistral.is_some()))))
}

async fn workflows(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let unavailable = |why: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, why);
    let client = state.writer.mistral.clone().ok_or_else(|| {
        unavailable("no Mistral is configured (--mistral-url or [mistral] in the config)".into())
    })?;
    match client.workflows().await {
        Ok(list) => Ok(Json(list)),
        Err(e) => Err(unavailable(format!("Mistral: {e}"))),
    }
}

/// The executions that acted on resource `vitrage_id`, for `GET /v1/resources/{id}`.
pub fn of_resource(state: &AppState, vitrage_id: &str) -> Vec<Value> {
    let configured = state.writer.mistral.is_some();
    Reader::open(&state.writer.data_dir)
        .and_then(|r| r.outbox_of_resource(vitrage_id))
        .map(|rows| rows.iter().map(|r| shown(r, configured)).collect())
        .unwrap_or_default()
}
