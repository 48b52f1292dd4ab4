//! Requests to a service running in-process.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use causeway::service::serve::Running;
use serde_json::Value;
use tower::ServiceExt;

/// Sends a request as the admin of project `admin`; the status and the JSON body (null when
/// the body is not JSON).
pub async fn call(
    running: &Running,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("x-project-id", "admin")
        .header("x-roles", "admin")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let response =
        causeway::service::service(running.state.clone()).oneshot(request).await.expect("answer");
    let status = response.status();
    let bytes =
        http_body_util::BodyExt::collect(response.into_body()).await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}
