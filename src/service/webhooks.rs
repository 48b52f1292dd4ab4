//! Vitrage's webhooks: registration (`/v1/webhook`) and delivery of alarm notifications.
//!
//! A notification is POSTed as `{"notification": "vitrage.alarm.activate", "payload": {...}}`
//! to every webhook whose `regex_filter` matches the alarm (each field's pattern,
//! case-insensitive, anchored at the start as Python's `re.match`). A delivery that fails
//! (no answer, a timeout, a non-2xx) is retried with exponential backoff, a bounded number of
//! times; deliveries never hold up evaluation.

use super::AppState;
use super::caller::Caller;
use super::core::{Command, Notification};
use super::error::ApiError;
use super::ingest::refusal;
use super::metrics::Metrics;
use super::params::Params;
use crate::store::{Timestamp, Webhook};
use crate::template::pyregex::Pattern;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{Semaphore, broadcast, oneshot};

/// How many times a notification is tried before it is given up.
pub const ATTEMPTS: u32 = 6;
/// The first retry's delay; each next one doubles, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest delay between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The registered webhooks, as the delivery task sees them.
pub type Registry = Arc<RwLock<Vec<Webhook>>>;

/// The webhook routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook", get(list).post(add))
        .route("/v1/webhook/{id}", get(show).delete(delete))
}

fn shown(w: &Webhook) -> Value {
    let text = |v: &Option<Value>| match v {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(other) => Value::String(other.to_string()),
        None => Value::String(String::new()),
    };
    json!({
        "id": w.id, "project_id": w.project_id, "is_admin_webhook": w.is_admin_webhook,
        "created_at": w.created_at.as_str(), "url": w.url,
        "regex_filter": text(&w.regex_filter), "headers": text(&w.headers),
    })
}

fn visible(w: &Webhook, caller: &Caller) -> bool {
    caller.may_see_all_tenants || w.project_id == caller.project_id
}

async fn list(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let hooks = state.writer.webhooks.read().map(|h| h.clone()).unwrap_or_default();
    Json(Value::Array(hooks.iter().filter(|w| visible(w, &caller)).map(shown).collect()))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let hooks = state.writer.webhooks.read().map(|h| h.clone()).unwrap_or_default();
    hooks
        .iter()
        .find(|w| w.id == id && visible(w, &caller))
        .map(|w| Json(shown(w)))
        .ok_or_else(|| ApiError::not_found("Failed to show webhook."))
}

/// A dict given as a Python literal or JSON text (the client passes the user's string on).
fn dict(text: &str) -> Option<Map<String, Value>> {
    let parse =
        |t: &str| serde_json::from_str::<Value>(t).ok().and_then(|v| v.as_object().cloned());
    parse(text).or_else(|| parse(&text.replace('\'', "\"")))
}

async fn add(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let invalid = |what: &str| ApiError::bad_request(format!("Failed to add webhook: {what}"));
    let url = params
        .string("url")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::bad_request("Missing mandatory field: URL"))?
        .to_string();
    let parsed = reqwest::Url::parse(&url).map_err(|_| invalid("Invalid URL"))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("Invalid URL"));
    }
    let optional = |key: &str, error: &str| -> Result<Option<Value>, ApiError> {
        match params.string(key)? {
            None | Some("") => Ok(None),
            Some(text) => {
                dict(text).map(|_| Some(Value::String(text.into()))).ok_or_else(|| invalid(error))
            }
        }
    };
    let headers = optional("headers", "Headers in invalid format")?;
    let regex_filter = optional("regex_filter", "Invalid RegEx")?;
    let filter = regex_filter.as_ref().and_then(Value::as_str).and_then(dict).unwrap_or_default();
    if filter.values().any(|p| p.as_str().is_none_or(|p| Pattern::compile(p).is_none())) {
        return Err(invalid("Invalid RegEx"));
    }
    let webhook = Webhook {
        id: uuid::Uuid::new_v4().to_string(),
        url,
        regex_filter,
        headers,
        created_at: Timestamp::now(),
        project_id: caller.project_id.clone(),
        is_admin_webhook: caller.may_see_all_tenants,
    };
    let (reply, answer) = oneshot::channel();
    let down = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "vitrage-graph not available");
    state
        .writer
        .commands
        .send(Command::AddWebhook(webhook.clone(), reply))
        .await
        .map_err(|_| down())?;
    answer.await.map_err(|_| down())?.map_err(refusal)?;
    if let Ok(mut hooks) = state.writer.webhooks.write() {
        hooks.push(webhook.clone());
    }
    Ok(Json(shown(&webhook)))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(id) = path?;
    let mine = state
        .writer
        .webhooks
        .read()
        .map(|h| h.iter().any(|w| w.id == id && visible(w, &caller)))
        .unwrap_or(false);
    if !mine {
        return Err(ApiError::not_found("Failed to delete webhook."));
    }
    let (reply, answer) = oneshot::channel();
    let down = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "vitrage-graph not available");
    state
        .writer
        .commands
        .send(Command::DeleteWebhook(id.clone(), reply))
        .await
        .map_err(|_| down())?;
    answer.await.map_err(|_| down())?.map_err(refusal)?;
    if let Ok(mut hooks) = state.writer.webhooks.write() {
        hooks.retain(|w| w.id != id);
    }
    Ok(Json(json!({"SUCCESS": format!("Webhook {id} deleted")})))
}

/// Whether `filter` (field → pattern) matches `payload`.
fn matches(filter: Option<&Value>, payload: &Value) -> bool {
    let Some(filter) = filter.and_then(Value::as_str).and_then(dict) else { return true };
    filter.iter().all(|(field, pattern)| {
        let value = match payload.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => return false,
            Some(other) => other.to_string(),
        };
        let pattern = pattern.as_str().map(|p| format!("(?i){p}"));
        pattern.and_then(|p| Pattern::compile(&p)).is_some_and(|p| p.is_match(&value))
    })
}

/// Whether the webhook's project may see the alarm: an admin's webhook sees every alarm, a
/// project's those of its project (the alarm's, or its resource's), as Vitrage's notifier.
fn for_tenant(hook: &Webhook, payload: &Value) -> bool {
    if hook.is_admin_webhook {
        return true;
    }
    let project = |k: &str| payload.get(k).and_then(Value::as_str);
    let owner = project("project_id").or_else(|| project("vitrage_resource_project_id"));
    owner.is_some() && owner == hook.project_id.as_deref()
}

/// Delivers notifications to the registered webhooks until the channel closes.
pub async fn deliver(
    registry: Registry,
    mut notifications: broadcast::Receiver<Notification>,
    metrics: Arc<Metrics>,
) {
    // HTTPS with ring, which builds without cmake; a provider installed already is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client: webhooks are not delivered");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(32));
    loop {
        let n = match notifications.recv().await {
            Ok(n) => n,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "webhook delivery fell behind; notifications dropped");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if !n.event_type.starts_with("vitrage.") {
            continue; // causeway's own notifications (execution states) are for the page.
        }
        let hooks = registry.read().map(|h| h.clone()).unwrap_or_default();
        let wanted =
            |h: &Webhook| for_tenant(h, &n.payload) && matches(h.regex_filter.as_ref(), &n.payload);
        for hook in hooks.into_iter().filter(wanted) {
            let body = json!({"notification": n.event_type, "payload": n.payload});
            let (client, slots, metrics) = (client.clone(), slots.clone(), metrics.clone());
            tokio::spawn(async move {
                let Ok(_slot) = slots.acquire_owned().await else { return };
                post_with_retries(&client, &hook, &body, &metrics).await;
            });
        }
    }
}

async fn post_with_retries(
    client: &reqwest::Client,
    hook: &Webhook,
    body: &Value,
    metrics: &Metrics,
) {
    let headers = hook.headers.as_ref().and_then(Value::as_str).and_then(dict).unwrap_or_default();
    let mut delay = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let mut request = client.post(&hook.url).json(body);
        for (k, v) in &headers {
            request = request
                .header(k.as_str(), v.as_str().map_or_else(|| v.to_string(), str::to_string));
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => {
                tracing::debug!(webhook = %hook.id, attempt, "webhook delivered");
                metrics.webhooks.add("delivered", 1);
                return;
            }
            Ok(r) => {
                tracing::warn!(webhook = %hook.id, attempt, status = %r.status(), "webhook refused")
            }
            Err(e) => {
                tracing::warn!(webhook = %hook.id, attempt, error = %e, "webhook unreachable")
            }
        }
        if attempt < ATTEMPTS {
            metrics.webhooks.add("retried", 1);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_BACKOFF);
        }
    }
    metrics.webhooks.add("failed", 1);
    tracing::error!(webhook = %hook.id, url = %hook.url, "webhook given up after {ATTEMPTS} tries");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_webhook_gets_only_its_project_alarms() {
        let hook = |admin: bool| Webhook {
            id: "w".into(),
            url: "http://127.0.0.1:1/".into(),
            regex_filter: None,
            headers: None,
            created_at: Timestamp::now(),
            project_id: Some("demo".into()),
            is_admin_webhook: admin,
        };
        let theirs = json!({"name": "x", "vitrage_resource_project_id": "other"});
        let ours = json!({"name": "x", "vitrage_resource_project_id": "demo"});
        assert!(for_tenant(&hook(false), &ours));
        assert!(!for_tenant(&hook(false), &theirs));
        assert!(!for_tenant(&hook(false), &json!({"name": "x"})));
        assert!(for_tenant(&hook(true), &theirs));
    }

    #[test]
    fn a_filter_matches_each_field_from_the_start_ignoring_case() {
        let payload = json!({"name": "Host NIC failure", "vitrage_type": "vitrage"});
        assert!(matches(Some(&json!("{'name': 'host nic'}")), &payload));
        assert!(!matches(Some(&json!("{'name': 'nic'}")), &payload));
        assert!(!matches(Some(&json!("{'severity': '.*'}")), &payload));
        assert!(matches(None, &payload));
    }
}
