//! Request parameters the way pecan hands them to Vitrage's controllers.
//!
//! Pecan merges the query string and a JSON object body into one set of keyword arguments: a key
//! repeated in the query string (`sort_by=a&sort_by=b`, which is how `requests` sends a list)
//! becomes a list, query-string values are strings (`all_tenants=False`), body values keep their
//! JSON types, and a key given in both places becomes a list of both. The accessors then convert
//! the way Vitrage does: oslo's `bool_from_string`, `int()` for `depth` and `limit`, and
//! `json.loads` for `query`, which the client sends as a JSON *string*.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

/// The merged keyword arguments of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Parameters from a JSON object, for tests and for callers that already have one.
    pub fn json(value: Value) -> Params {
        match value {
            Value::Object(map) => Params(map),
            _ => Params::default(),
        }
    }

    /// Merges a raw query string and a body. The body is read as JSON when the content type says
    /// JSON or says nothing, as form fields when it is `application/x-www-form-urlencoded`; it
    /// must be a JSON object.
    pub fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, ApiError> {
        let mut params = Params::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            params.add(key.into_owned(), Value::String(value.into_owned()));
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        let media = content_type.unwrap_or("application/json");
        let media = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if media == "application/x-www-form-urlencoded" {
            for (key, value) in form_urlencoded::parse(body) {
                params.add(key.into_owned(), Value::String(value.into_owned()));
            }
            return Ok(params);
        }
        if media != "application/json" && !media.ends_with("+json") {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported Content-Type {media}: send application/json"),
            ));
        }
        let parsed: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("The request body is not valid JSON: {e}"))
        })?;
        let Value::Object(fields) = parsed else {
            return Err(ApiError::bad_request("The request body must be a JSON object"));
        };
        for (key, value) in fields {
            params.add(key, value);
        }
        Ok(params)
    }

    fn add(&mut self, key: String, value: Value) {
        match self.0.get_mut(&key) {
            None => {
                self.0.insert(key, value);
            }
            Some(Value::Array(list)) if list.iter().all(Value::is_string) && value.is_string() => {
                list.push(value);
            }
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
        }
    }

    /// A parameter's value; JSON `null` counts as absent, as `None` does in Python.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// oslo `bool_from_string`: `True`, `true`, `1`, `t`, `on`, `y`, `yes` (any case, trimmed) are
    /// true, the `false` words are false, anything else gives `default`.
    pub fn bool(&self, key: &str, default: bool) -> bool {
        match self.0.get(key) {
            None => default,
            Some(value) => bool_from_value(value),
        }
    }

    /// Python's `int()` of a parameter (`depth`, `limit`): an integer, a float (truncated) or a
    /// string of digits with an optional sign and surrounding spaces.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let bad = || ApiError::bad_request(format!("{key} must be an integer, not {value}"));
        let parsed = match value {
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
            Value::String(s) => python_int(s),
            _ => None,
        };
        parsed.map(Some).ok_or_else(bad)
    }

    /// A string parameter; a number or a list is a 400 rather than a silent mismatch.
    pub fn string(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(ApiError::bad_request(format!("{key} must be a string, not {other}")))
            }
        }
    }

    /// A list parameter: a repeated query key, a JSON array, or one value read as a list of one.
    pub fn list(&self, key: &str) -> Option<Vec<Value>> {
        match self.get(key)? {
            Value::Array(items) => Some(items.clone()),
            one => Some(vec![one.clone()]),
        }
    }

    /// A Vitrage query: `json.loads` of the string the client sends (an object sent as is is
    /// taken too). Python-falsy results (`null`, `{}`, `[]`, `""`, `0`, `false`) mean no query.
    pub fn query(&self, key: &str) -> Result<Option<Value>, ApiError> {
        let parsed = match self.get(key) {
            None => return Ok(None),
            Some(Value::String(text)) if text.is_empty() => return Ok(None),
            Some(Value::String(text)) => serde_json::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("{key} is not valid JSON: {e}")))?,
            Some(other) => other.clone(),
        };
        Ok(if is_falsy(&parsed) { None } else { Some(parsed) })
    }
}

/// Python truthiness of a JSON value.
pub fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// oslo `bool_from_string(value)` with `strict=False, default=False`; non-strings go through
/// Python's `str()` first, so `1` is true and `null` (`"None"`) is false.
pub fn bool_from_value(value: &Value) -> bool {
    let text = match value {
        Value::Bool(b) => return *b,
        Value::String(s) => s.trim().to_ascii_lowercase(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return false,
    };
    matches!(text.as_str(), "1" | "t" | "true" | "on" | "y" | "yes")
}

/// Python's `int(str)`: surrounding whitespace, an optional sign, digits with single underscores
/// between them.
fn python_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let value: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -value } else { value })
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Params, ApiError> {
        let query = request.uri().query().map(str::to_owned);
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Bytes::from_request(request, state).await?;
        Params::parse(query.as_deref(), content_type.as_deref(), &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(query: &str, body: &str) -> Params {
        Params::parse(Some(query), Some("application/json"), body.as_bytes()).expect("parses")
    }

    #[test]
    fn repeated_keys_become_lists_and_body_merges() {
        let params = parse(
            "vitrage_id=all&sort_by=start_timestamp&sort_by=vitrage_id&all_tenants=False",
            r#"{"depth": 2, "all_tenants": true}"#,
        );
        assert_eq!(params.get("sort_by"), Some(&json!(["start_timestamp", "vitrage_id"])));
        assert_eq!(params.get("depth"), Some(&json!(2)));
        assert_eq!(params.get("all_tenants"), Some(&json!(["False", true])));
        assert_eq!(params.list("vitrage_id"), Some(vec![json!("all")]));
        assert_eq!(parse("a=x+y%21", "").get("a"), Some(&json!("x y!")));
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused() {
        for body in ["[1]", "{", "\"x\""] {
            let error = Params::parse(None, None, body.as_bytes()).expect_err(body);
            assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
        }
        let form = Params::parse(None, Some("application/x-www-form-urlencoded"), b"a=1&a=2")
            .expect("form");
        assert_eq!(form.get("a"), Some(&json!(["1", "2"])));
        let text = Params::parse(None, Some("text/plain"), b"hello").expect_err("text");
        assert_eq!(text.status, axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            Params::parse(None, Some("text/plain"), b" \n").expect("empty"),
            Params::default()
        );
    }

    #[test]
    fn bools_follow_oslo() {
        let params = Params::json(json!({
            "a": "True", "b": "False", "c": " yes ", "d": "1", "e": 1, "f": null, "g": "maybe",
            "h": true, "i": ["True", "False"], "j": 1.0
        }));
        let got: Vec<bool> = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
            .iter()
            .map(|k| params.bool(k, false))
            .collect();
        assert_eq!(got, [true, false, true, true, true, false, false, true, false, false]);
        assert!(params.bool("missing", true));
    }

    #[test]
    fn ints_follow_python() {
        let params = Params::json(json!({
            "a": 3, "b": "4", "c": " -2 ", "d": 2.9, "e": "1_000", "f": "2.5", "g": "x", "h": null,
            "i": [1], "j": "_1"
        }));
        assert_eq!(params.int("a").expect("int"), Some(3));
        assert_eq!(params.int("b").expect("int"), Some(4));
        assert_eq!(params.int("c").expect("int"), Some(-2));
        assert_eq!(params.int("d").expect("int"), Some(2));
        assert_eq!(params.int("e").expect("int"), Some(1000));
        assert_eq!(params.int("h").expect("int"), None);
        for bad in ["f", "g", "i", "j"] {
            assert_eq!(params.int(bad).expect_err(bad).status, axum::http::StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn queries_are_json_strings() {
        let params = Params::json(json!({
            "a": "{\"==\": {\"vitrage_type\": \"nova.host\"}}", "b": "{}", "c": "", "d": "{bad",
            "e": {"==": {"x": 1}}
        }));
        assert_eq!(
            params.query("a").expect("q"),
            Some(json!({"==": {"vitrage_type": "nova.host"}}))
        );
        assert_eq!(params.query("b").expect("q"), None);
        assert_eq!(params.query("c").expect("q"), None);
        assert!(params.query("d").is_err());
        assert_eq!(params.query("e").expect("q"), Some(json!({"==": {"x": 1}})));
        assert_eq!(
            params.string("e").expect_err("object").status,
            axum::http::StatusCode::BAD_REQUEST
        );
    }
}
