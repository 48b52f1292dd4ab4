//! The middleware every route shares: token check, body limit, JSON errors, panic guard, tracing.

use super::AppState;
use super::error::ApiError;
use super::{stream, web};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Longest body of another layer's error that is kept as the description.
const ERROR_TEXT_LIMIT: usize = 4096;

/// See [`super::layered`]. The last layer added runs first: tracing, the panic guard, the JSON
/// rewrite of errors, the body limit, then the token check and the routes.
pub(super) fn wrap(routes: Router<AppState>, state: AppState) -> Router {
    let limit = state.config.body_limit;
    routes
        .fallback(|| async { ApiError::not_found("The resource could not be found.") })
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(middleware::map_response(json_errors))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("Internal error").into_response()))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// 401 unless the configured token is in `X-Auth-Token`; `GET /` and `/healthcheck` stay open
/// for load balancers and version discovery, and the page's assets (which hold no data) for
/// browsers. The event stream, which `EventSource` opens without headers, may carry the token
/// as its `token` query parameter instead.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = state.config.auth_token.as_deref() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let open = path == "/" || path == "/healthcheck" || path.starts_with(web::ASSET_PREFIX);
    let in_query = (path == stream::PATH).then(|| stream::query_token(request.uri())).flatten();
    let header = request.headers().get("x-auth-token").map(|v| v.as_bytes());
    let given = header.or(in_query.as_deref().map(str::as_bytes));
    if open || given.is_some_and(|given| same_secret(given, token.as_bytes())) {
        return next.run(request).await;
    }
    ApiError::unauthorized().into_response()
}

/// Compares without an early exit, so the time taken does not tell how much of a guess matched.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let longest = given.len().max(expected.len());
    let mut differ = u8::from(given.len() != expected.len());
    for i in 0..longest {
        differ |= given.get(i).copied().unwrap_or(0) ^ expected.get(i).copied().unwrap_or(0);
    }
    differ == 0
}

/// Rewrites any error response that is not JSON yet (axum's 404, 405 and rejections,
/// tower-http's 413) into Vitrage's error body, keeping its status and other headers (`Allow`).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if status.as_u16() < 400 || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, ERROR_TEXT_LIMIT)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    let description = text.unwrap_or_else(|| ApiError::new(status, "").title().to_owned());
    let mut rewritten = ApiError::new(status, description).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3cret!", b"s3cret"));
        assert!(!same_secret(b"", b"x"));
    }

    #[tokio::test]
    async fn plain_errors_become_json() {
        let plain = (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")], "").into_response();
        let rewritten = json_errors(plain).await;
        assert_eq!(rewritten.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(rewritten.headers()[header::ALLOW], "GET");
        assert!(is_json(rewritten.headers()));
        let bytes = axum::body::to_bytes(rewritten.into_body(), 1024).await.expect("body");
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(body["description"], "Method Not Allowed");
        let ok = json_errors(StatusCode::OK.into_response()).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
