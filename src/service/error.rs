//! The one error type every handler returns, rendered the way pecan renders `abort(code, msg)`.
//!
//! python-vitrageclient prints `<description> (HTTP <code>)` for any status of 400 or more and
//! `Unknown Error` when the body has no `description`, so every rejection, axum's own included,
//! becomes `{"code": N, "title": "<reason>", "description": "<what is wrong>"}` with
//! `Content-Type: application/json`.

use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request: the HTTP status and the sentence the client prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What the client prints, e.g. `Failed to show alarm.`.
    pub description: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, description: impl Into<String>) -> ApiError {
        ApiError { status, description: description.into() }
    }

    /// 400: the request is malformed (bad JSON, a wrong type, an unknown column).
    pub fn bad_request(description: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, description)
    }

    /// 401: the configured auth token is missing or wrong.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The request you have made requires authentication.",
        )
    }

    /// 403 `Authorization Failed`: Vitrage's policy refusal (e.g. `all_tenants` without the
    /// admin role).
    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Authorization Failed")
    }

    /// 404: Vitrage's answer to an unknown id and to most backend failures.
    pub fn not_found(description: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, description)
    }

    /// 503 `vitrage-graph is not ready`: no view has been published yet.
    pub fn not_ready() -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "vitrage-graph is not ready")
    }

    /// 500: something inside causeway failed; the request itself may be fine.
    pub fn internal(description: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, description)
    }

    /// The reason phrase WebOb puts in `title`.
    pub fn title(&self) -> &'static str {
        match self.status {
            StatusCode::PAYLOAD_TOO_LARGE => "Request Entity Too Large",
            status => status.canonical_reason().unwrap_or("Error"),
        }
    }

    /// The JSON body, also used by the middleware that rewrites other layers' errors.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "code": self.status.as_u16(),
            "title": self.title(),
            "description": self.description,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body().to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_is_pecans() {
        let error = ApiError::not_found("Failed to show alarm.");
        assert_eq!(
            error.body(),
            json!({"code": 404, "title": "Not Found", "description": "Failed to show alarm."})
        );
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn titles_follow_webob() {
        assert_eq!(
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "x").title(),
            "Request Entity Too Large"
        );
        assert_eq!(ApiError::forbidden().title(), "Forbidden");
        assert_eq!(ApiError::new(StatusCode::from_u16(599).expect("valid"), "x").title(), "Error");
    }
}
