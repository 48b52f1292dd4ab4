//! The read routes of Vitrage's API v1 and the glue that hands each request to its pure handler.
//!
//! Paths are written without trailing slashes; [`super::service`] trims them from requests.
//! Handlers that walk the view run on a blocking thread, so a large topology never occupies a
//! runtime worker the evaluation task or other requests need.

use super::caller::Caller;
use super::error::ApiError;
use super::params::Params;
use super::view::View;
use super::{AppState, alarms, misc, rca, resources, topology};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;

/// What a handler answers.
type Answer = Result<Json<Value>, ApiError>;

/// Every read route of Vitrage's API v1, plus `/healthcheck`. Merge more routes into it before
/// [`super::layered`].
pub fn vitrage_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(super::web::root))
        .route("/healthcheck", get(|| async { Json(misc::healthcheck()) }))
        .route("/v1/topology", post(topology))
        .route("/v1/resources", get(resource_list).post(resource_list))
        .route("/v1/resources/count", post(resource_count))
        .route("/v1/resources/{vitrage_id}", get(resource_show))
        .route("/v1/alarm", get(alarm_list))
        .route("/v1/alarm/count", get(alarm_count))
        .route("/v1/alarm/history", get(alarm_history))
        .route("/v1/alarm/{vitrage_id}", get(alarm_show))
        .route("/v1/rca", get(rca_query))
        .route("/v1/rca/{alarm_id}", get(rca_path))
        .route("/v1/template/versions", get(|| async { Json(misc::template_versions()) }))
        .route("/v1/status", get(status))
        .route(
            "/v1/service",
            get(|State(state): State<AppState>| async move { Json(misc::services(&state.info)) }),
        )
}

/// Runs `answer` over the current view on a blocking thread; 503 before the first publication.
async fn on_view<F>(state: &AppState, answer: F) -> Answer
where
    F: FnOnce(&View) -> Result<Value, ApiError> + Send + 'static,
{
    let view: Arc<View> = state.current_view();
    if !view.is_ready() {
        return Err(ApiError::not_ready());
    }
    blocking(move || answer(&view)).await
}

async fn blocking<F>(answer: F) -> Answer
where
    F: FnOnce() -> Result<Value, ApiError> + Send + 'static,
{
    match tokio::task::spawn_blocking(answer).await {
        Ok(result) => result.map(Json),
        Err(_) => Err(ApiError::internal("Internal error")),
    }
}

/// Vitrage's version list, at `GET /` for clients that do not ask for HTML.
pub(super) async fn versions(headers: HeaderMap) -> Json<Value> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text(header::HOST.as_str()).unwrap_or("localhost");
    let scheme = text("x-forwarded-proto").unwrap_or("http");
    Json(misc::versions(&format!("{scheme}://{host}")))
}

async fn status(State(state): State<AppState>) -> Answer {
    misc::status(&state.current_view(), state.writer.metrics.datasources.to_json()).map(Json)
}

async fn topology(State(state): State<AppState>, caller: Caller, params: Params) -> Answer {
    on_view(&state, move |view| topology::topology(view, &caller, &params)).await
}

async fn resource_list(State(state): State<AppState>, caller: Caller, params: Params) -> Answer {
    on_view(&state, move |view| resources::list(view, &caller, &params)).await
}

async fn resource_count(State(state): State<AppState>, caller: Caller, params: Params) -> Answer {
    on_view(&state, move |view| resources::count(view, &caller, &params)).await
}

async fn resource_show(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let Path(id) = path?;
    let (key, state2) = (id.clone(), state.clone());
    let mut shown = on_view(&state, move |view| resources::show(view, &caller, &id)).await?;
    // causeway's addition: the workflow executions that acted on the resource, when any did.
    let executions =
        blocking(move || Ok(Value::from(super::executions::of_resource(&state2, &key))));
    if let (Value::Object(props), Ok(Json(Value::Array(list)))) = (&mut shown.0, executions.await)
        && !list.is_empty()
    {
        props.insert("executions".into(), Value::Array(list));
    }
    Ok(shown)
}

async fn alarm_list(State(state): State<AppState>, caller: Caller, params: Params) -> Answer {
    on_view(&state, move |view| alarms::list(view, &caller, &params)).await
}

async fn alarm_count(State(state): State<AppState>, caller: Caller, params: Params) -> Answer {
    on_view(&state, move |view| alarms::count(view, &caller, &params)).await
}

async fn alarm_show(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Answer {
    let Path(id) = path?;
    on_view(&state, move |view| alarms::show(view, &caller, &id)).await
}

async fn alarm_history(State(state): State<AppState>, caller: Caller, params: Params) -> Answer {
    let since = alarms::history_since(&params)?;
    let history = state.history.clone();
    blocking(move || {
        let records = history
            .alarm_records(since)
            .map_err(|e| ApiError::internal(format!("Failed to get alarm history: {e}")))?;
        alarms::history(&records, &caller, &params)
    })
    .await
}

async fn rca_query(State(state): State<AppState>, caller: Caller, params: Params) -> Answer {
    on_view(&state, move |view| rca::rca(view, &caller, None, &params)).await
}

async fn rca_path(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    params: Params,
) -> Answer {
    let Path(id) = path?;
    on_view(&state, move |view| rca::rca(view, &caller, Some(&id), &params)).await
}
