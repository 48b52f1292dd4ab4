//! Vitrage's template API: list, show, validate (`POST`), add (`PUT`) and delete.
//!
//! The client sends each template as `[path, content]`, the content being the YAML loaded with
//! PyYAML's `BaseLoader` and sent as JSON, so every scalar is a string. JSON is YAML, so the
//! content is compiled as its JSON text, and errors point into that text. Adding a template
//! evaluates it over the current graph; deleting one undoes its effects.

use super::AppState;
use super::core::Command;
use super::error::ApiError;
use super::ingest::refusal;
use super::params::Params;
use super::templates::{self, NewTemplate};
use crate::check::{Input, Options, check_set};
use crate::store::TemplateStatus;
use crate::template::TemplateType;
use crate::template::params::Params as TemplateParams;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The template routes (`/v1/template/versions` is among the read routes).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/template", get(list).post(validate).put(add).delete(delete))
        .route("/v1/template/{id}", get(show))
}

async fn list(State(state): State<AppState>) -> Json<Value> {
    let set = state.writer.templates.borrow().clone();
    Json(Value::Array(set.iter().map(templates::listed).collect()))
}

async fn show(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let set = state.writer.templates.borrow().clone();
    set.iter()
        .find(|t| t.uuid == id)
        .or_else(|| set.iter().find(|t| t.name == id))
        .map(|t| Json(templates::shown(t)))
        .ok_or_else(|| ApiError::not_found("Failed to show template."))
}

/// The `[path, content]` pairs of a request, as text the compiler reads.
fn requested(params: &Params) -> Result<Vec<NewTemplate>, ApiError> {
    let list = params
        .get("templates")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("Missing mandatory field: templates"))?;
    let template_type = template_type(params)?;
    let params = template_params(params)?;
    list.iter()
        .map(|pair| {
            let (file, content) = match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(f), c]) => (f.clone(), c),
                _ => return Err(ApiError::bad_request("each template must be [path, content]")),
            };
            let text = match content {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Ok(NewTemplate { file, text, params: params.clone(), template_type })
        })
        .collect()
}

fn template_params(params: &Params) -> Result<Option<TemplateParams>, ApiError> {
    match params.get("params") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) if m.is_empty() => Ok(None),
        Some(Value::Object(m)) => Ok(Some(
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect(),
        )),
        Some(_) => Err(ApiError::bad_request("params must be an object")),
    }
}

fn template_type(params: &Params) -> Result<Option<TemplateType>, ApiError> {
    match params.string("template_type")? {
        None => Ok(None),
        Some("standard") => Ok(Some(TemplateType::Standard)),
        Some("definition") => Ok(Some(TemplateType::Definition)),
        Some("equivalence") => Ok(Some(TemplateType::Equivalence)),
        Some(t) => Err(ApiError::bad_request(format!("Unknown template type {t:?}"))),
    }
}

/// `POST /v1/template`: Vitrage's validate answer, per template. `includes` see the active
/// definition templates of the set, as Vitrage's validation loads them from its database.
async fn validate(State(state): State<AppState>, params: Params) -> Result<Json<Value>, ApiError> {
    let new = requested(&params)?;
    let def_templates = state
        .writer
        .templates
        .borrow()
        .iter()
        .filter(|t| t.template_type == "definition" && t.status == TemplateStatus::Active)
        .map(|t| Input { file: t.uuid.clone(), bytes: t.yaml.clone().into_bytes() })
        .collect();
    let options = Options {
        template_type: template_type(&params)?,
        def_templates,
        params: new.first().and_then(|t| t.params.clone()),
        vitrage_validate: true,
        ..Options::default()
    };
    let inputs: Vec<Input> = new
        .iter()
        .map(|t| Input { file: t.file.clone(), bytes: t.text.clone().into_bytes() })
        .collect();
    let checked = tokio::task::spawn_blocking(move || check_set(&inputs, &options))
        .await
        .map_err(|_| ApiError::not_found("Failed to validate template(s)."))?;
    let results: Vec<Value> = checked.files.iter().map(|f| f.to_json()).collect();
    Ok(Json(json!({"results": results})))
}

/// `PUT /v1/template`: adds the templates; each is ACTIVE, or ERROR with its message.
async fn add(State(state): State<AppState>, params: Params) -> Result<Json<Value>, ApiError> {
    let new = requested(&params)?;
    let overwrite = params.bool("overwrite", false);
    let (reply, answer) = oneshot::channel();
    let command = Command::AddTemplates { templates: new, overwrite, reply };
    let added = ask(&state, command, answer).await?;
    Ok(Json(Value::Array(added.iter().map(templates::listed).collect())))
}

/// `DELETE /v1/template`: by uuid or name (`id`, or the legacy `uuid`; one or a list).
async fn delete(State(state): State<AppState>, params: Params) -> Result<Json<Value>, ApiError> {
    let ids = match params.get("id").or_else(|| params.get("uuid")) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        _ => return Err(ApiError::bad_request("Missing mandatory field: id")),
    };
    let (reply, answer) = oneshot::channel();
    ask(&state, Command::DeleteTemplates { ids, reply }, answer).await?;
    Ok(Json(Value::Null))
}

async fn ask<T>(
    state: &AppState,
    command: Command,
    answer: oneshot::Receiver<Result<T, super::core::CoreError>>,
) -> Result<T, ApiError> {
    let down = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "vitrage-graph not available");
    state.writer.commands.send(command).await.map_err(|_| down())?;
    answer.await.map_err(|_| down())?.map_err(refusal)
}
