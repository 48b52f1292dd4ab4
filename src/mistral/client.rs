//! Mistral's REST API v2, as far as causeway uses it: start an execution under a chosen id,
//! read one, list the workflows. Every answer is classified by its fault, not only its status.

use super::keystone::Keystone;
use super::{MistralConfig, base_url};
use crate::store::OutboxRequest;
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

/// Why a call did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Mistral refused the request for good (a 4xx, or the 500 Mistral 23 answers for an
    /// unknown workflow); the text is its `faultstring`. Sending it again changes nothing.
    Refused(String),
    /// Mistral could not be reached, did not answer in time, or said it is unavailable
    /// (502, 503, 504): try again later, for as long as it takes.
    Unreachable(String),
    /// Mistral answered with something else (another 5xx, an unreadable body): try again, a
    /// bounded number of times.
    Failed(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Refused(s) => write!(f, "refused: {s}"),
            Fault::Unreachable(s) => write!(f, "unreachable: {s}"),
            Fault::Failed(s) => write!(f, "failed: {s}"),
        }
    }
}

/// What Mistral says of an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// Its id.
    pub id: String,
    /// `RUNNING`, `SUCCESS`, `ERROR`, `CANCELLED`, `PAUSED`, `IDLE`.
    pub state: String,
    /// Mistral's words on the state.
    pub state_info: Option<String>,
}

impl Execution {
    fn from_json(j: &Json) -> Result<Execution, Fault> {
        let text = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_string);
        match (text("id"), text("state")) {
            (Some(id), Some(state)) => Ok(Execution { id, state, state_info: text("state_info") }),
            _ => Err(Fault::Failed(format!("an execution without id or state: {j}"))),
        }
    }
}

/// Classifies an answer: its JSON body when it is a success, else the fault.
///
/// Mistral 23 (with the in-process transport at least) answers an unknown workflow with
/// `500 DBEntityNotFoundError: 404: Workflow not found ...`: that is a refusal, not an outage.
pub fn classify(status: u16, body: &str) -> Result<Json, Fault> {
    let parsed: Option<Json> = serde_json::from_str(body).ok();
    let fault = parsed
        .as_ref()
        .and_then(|j| j.get("faultstring"))
        .and_then(Json::as_str)
        .map_or_else(|| format!("{status}: {}", clip(body)), |f| format!("{status}: {f}"));
    match status {
        200..=299 => parsed.ok_or_else(|| Fault::Failed(format!("{status}: unreadable body"))),
        408 | 429 => Err(Fault::Unreachable(fault)),
        400..=499 => Err(Fault::Refused(fault)),
        502..=504 => Err(Fault::Unreachable(fault)),
        500..=599
            if fault.contains("DBEntityNotFoundError") || fault.contains("Workflow not found") =>
        {
            Err(Fault::Refused(fault))
        }
        _ => Err(Fault::Failed(fault)),
    }
}

fn clip(s: &str) -> &str {
    let end = s.char_indices().nth(300).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// Where the API is and how to authenticate.
#[derive(Debug)]
enum Endpoint {
    Open(String),
    Keystone { keystone: Box<Keystone>, url: Option<String> },
}

/// A Mistral API client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Endpoint,
}

impl Client {
    /// A client for `config`; `Ok(None)` when no Mistral is configured.
    pub fn new(config: &MistralConfig) -> Result<Option<Client>, String> {
        // HTTPS with ring, which builds without cmake; a provider installed already is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let endpoint = match (&config.keystone, &config.url) {
            (Some(k), url) => Endpoint::Keystone {
                keystone: Box::new(Keystone::new(k.clone())),
                url: url.as_deref().map(base_url),
            },
            (None, Some(url)) => Endpoint::Open(base_url(url)),
            (None, None) => return Ok(None),
        };
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.timeout())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Some(Client { http, endpoint }))
    }

    /// `POST /v2/executions` with the request's execution id: the new execution, or the one
    /// already started under that id.
    pub async fn start(&self, r: &OutboxRequest) -> Result<Execution, Fault> {
        let mut description = r.description.clone().unwrap_or_default();
        description.truncate(description.char_indices().nth(255).map_or(usize::MAX, |(i, _)| i));
        let body = json!({
            "id": r.execution_id, "workflow_name": r.workflow, "input": r.input,
            "description": description,
        });
        Execution::from_json(&self.call(Method::POST, "/v2/executions", Some(&body)).await?)
    }

    /// `GET /v2/executions/{id}`.
    pub async fn execution(&self, id: &str) -> Result<Execution, Fault> {
        Execution::from_json(&self.call(Method::GET, &format!("/v2/executions/{id}"), None).await?)
    }

    /// `GET /v2/workflows`: Mistral's answer as it is.
    pub async fn workflows(&self) -> Result<Json, Fault> {
        self.call(Method::GET, "/v2/workflows", None).await
    }

    /// One call, authenticated; after a 401 once more with a new token.
    async fn call(&self, method: Method, path: &str, body: Option<&Json>) -> Result<Json, Fault> {
        for retry in [false, true] {
            let (base, token) = self.where_to().await?;
            let mut request = self.http.request(method.clone(), format!("{base}{path}"));
            if let Some(t) = &token {
                request = request.header("X-Auth-Token", t);
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            let answer = request.send().await.map_err(|e| Fault::Unreachable(describe(&e)))?;
            let status = answer.status();
            let text = answer.text().await.map_err(|e| Fault::Unreachable(describe(&e)))?;
            if status == StatusCode::UNAUTHORIZED
                && let (Some(t), Endpoint::Keystone { keystone, .. }) = (&token, &self.endpoint)
            {
                keystone.forget(t).await;
                if !retry {
                    continue;
                }
            }
            return classify(status.as_u16(), &text);
        }
        Err(Fault::Refused("401: the new token was refused too".into()))
    }

    async fn where_to(&self) -> Result<(String, Option<String>), Fault> {
        match &self.endpoint {
            Endpoint::Open(url) => Ok((url.clone(), None)),
            Endpoint::Keystone { keystone, url } => {
                let (token, catalog) =
                    keystone.token(&self.http).await.map_err(Fault::Unreachable)?;
                let base =
                    url.clone().or_else(|| catalog.as_deref().map(base_url)).ok_or_else(|| {
                        Fault::Refused(
                            "no Mistral URL: none configured, none in the catalog".into(),
                        )
                    })?;
                Ok((base, Some(token)))
            }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_fault() {
        let unknown = r#"{"faultcode": "Server", "faultstring": "DBEntityNotFoundError: 404: Workflow not found [workflow_identifier=x, namespace=]"}"#;
        assert!(
            matches!(classify(500, unknown), Err(Fault::Refused(s)) if s.contains("x, namespace"))
        );
        let input = r#"{"faultcode": "Client", "faultstring": "Invalid input [missing=['host']]"}"#;
        assert_eq!(
            classify(400, input),
            Err(Fault::Refused("400: Invalid input [missing=['host']]".into()))
        );
        assert!(matches!(
            classify(500, r#"{"faultstring": "rpc timed out"}"#),
            Err(Fault::Failed(_))
        ));
        assert!(matches!(classify(503, "busy"), Err(Fault::Unreachable(_))));
        assert!(matches!(classify(429, ""), Err(Fault::Unreachable(_))));
        assert!(matches!(classify(201, "not json"), Err(Fault::Failed(_))));
        assert_eq!(classify(201, r#"{"id": "a"}"#), Ok(json!({"id": "a"})));
        assert!(matches!(classify(302, ""), Err(Fault::Failed(_))));
    }
}
