//! Keystone v3 password authentication: a token, cached in memory and renewed before it expires
//! (or at once after a service answers 401), and the service URLs of the token's catalog
//! (Mistral's for the dispatcher; Nova's, Neutron's, ... for the OpenStack poller).

use crate::store::Timestamp;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The `[mistral.keystone]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoneConfig {
    /// Keystone's URL (`http://host:5000` or `http://host:5000/v3`).
    pub auth_url: String,
    /// The user's name.
    pub username: String,
    /// The user's password.
    pub password: String,
    /// The project to scope the token to.
    pub project_name: String,
    /// The user's domain.
    #[serde(default = "default_domain")]
    pub user_domain_name: String,
    /// The project's domain.
    #[serde(default = "default_domain")]
    pub project_domain_name: String,
    /// Which catalog endpoint of type `workflowv2` to use.
    #[serde(default = "default_interface")]
    pub interface: String,
    /// Renew a token this many seconds before it expires.
    #[serde(default = "default_margin")]
    pub renew_before_s: u64,
}

/// Keystone's default domain, for the `*_domain_name` keys of every Keystone table.
pub(crate) fn default_domain() -> String {
    "Default".into()
}

/// The catalog interface used when a table names none.
pub(crate) fn default_interface() -> String {
    "public".into()
}

fn default_margin() -> u64 {
    60
}

/// A token and what came with it.
#[derive(Debug, Clone)]
struct Token {
    value: String,
    renew_at: Instant,
    catalog: Json,
}

/// The token cache.
#[derive(Debug)]
pub struct Keystone {
    config: KeystoneConfig,
    token: Mutex<Option<Token>>,
}

impl Keystone {
    /// A cache with no token yet.
    pub fn new(config: KeystoneConfig) -> Keystone {
        Keystone { config, token: Mutex::new(None) }
    }

    /// A valid token and the catalog's Mistral URL, asking Keystone for a new token when the
    /// cached one is due for renewal (or was dropped by [`Keystone::forget`]).
    pub async fn token(&self, http: &reqwest::Client) -> Result<(String, Option<String>), String> {
        let (token, catalog) = self.session(http).await?;
        let url = endpoint(&catalog, "workflowv2", &self.config.interface, None);
        Ok((token, url))
    }

    /// A valid token and the token's catalog (`token.catalog`), renewed as [`Keystone::token`]
    /// does; [`endpoint`] finds a service's URL in it.
    pub async fn session(&self, http: &reqwest::Client) -> Result<(String, Json), String> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok((t.value.clone(), t.catalog.clone()));
        }
        let fresh = self.issue(http).await?;
        tracing::info!(user = %self.config.username, "keystone: token issued");
        let out = (fresh.value.clone(), fresh.catalog.clone());
        *cached = Some(fresh);
        Ok(out)
    }

    /// Drops the cached token `value` (Mistral refused it), so the next call asks for another.
    pub async fn forget(&self, value: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == value) {
            *cached = None;
        }
    }

    async fn issue(&self, http: &reqwest::Client) -> Result<Token, String> {
        let c = &self.config;
        let base = c.auth_url.trim_end_matches('/');
        let url = format!("{}/v3/auth/tokens", base.strip_suffix("/v3").unwrap_or(base));
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": c.username, "domain": {"name": c.user_domain_name}, "password": c.password,
            }}},
            "scope": {"project": {"name": c.project_name, "domain": {"name": c.project_domain_name}}},
        }});
        let answer = http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("keystone unreachable: {e}"))?;
        let status = answer.status();
        let value = answer
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body: Json = answer.json().await.unwrap_or(Json::Null);
        if !status.is_success() {
            return Err(format!("keystone refused the credentials: {status} {body}"));
        }
        let value = value.ok_or("keystone answered without X-Subject-Token")?;
        let token = &body["token"];
        let lifetime = token["expires_at"]
            .as_str()
            .and_then(|t| Timestamp::parse(t).ok())
            .map(|t| t.unix_micros() - Timestamp::now().unix_micros())
            .map_or(Duration::from_secs(300), |us| {
                Duration::from_micros(u64::try_from(us).unwrap_or(0))
            });
        let renew_at = Instant::now()
            + lifetime.saturating_sub(Duration::from_secs(c.renew_before_s)).max(lifetime / 2);
        Ok(Token { value, renew_at, catalog: token["catalog"].clone() })
    }
}

/// The URL of the first service of type `service_type` with an endpoint of `interface` (in
/// `region`, when given) in a token's catalog.
pub fn endpoint(
    catalog: &Json,
    service_type: &str,
    interface: &str,
    region: Option<&str>,
) -> Option<String> {
    let in_region = |e: &Json| region.is_none_or(|r| e["region_id"] == r || e["region"] == r);
    let services = catalog.as_array()?.iter().filter(|s| s["type"] == service_type);
    let endpoints = services.filter_map(|s| s["endpoints"].as_array()).flatten();
    let mut found = endpoints.filter(|e| e["interface"] == interface && in_region(e));
    found.next()?["url"].as_str().map(str::to_string)
}
