//! The OpenStack poller: Keystone v3 password auth, the token's service catalog, and every
//! `poll_interval_s` a listing of Nova, Neutron, Cinder and Heat (Vitrage's `get_all`), turned
//! into a resync of the graph ([`inventory::resync`]): the initial topology at start, then
//! only the differences, so notifications lost while causeway or the broker was down are
//! caught up.
//!
//! Each listing follows its `<collection>_links` `next` pages. A 401 drops the token and
//! retries once with a new one; any other failure (a 503, a service missing from the catalog)
//! skips that listing this round, counted in the source's health, and prunes nothing of its
//! kinds.

use super::AppState;
use super::sources::{Held, submit_batch};
use crate::datasource::Batch;
use crate::datasource::openstack::inventory::{self, Inventory, Present, Snapshot};
use crate::mistral::{Keystone, KeystoneConfig, endpoint};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::Duration;

/// The name the poll's batches carry.
pub const SOURCE: &str = "openstack_poll";

/// The `[openstack]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStackConfig {
    /// Keystone's URL (`http://keystone:5000/v3`).
    pub auth_url: String,
    /// The user (an admin: servers and volumes are listed for all tenants).
    pub username: String,
    /// Its password.
    pub password: String,
    /// The project to scope the token to.
    pub project_name: String,
    /// The user's domain.
    #[serde(default = "crate::mistral::default_domain")]
    pub user_domain_name: String,
    /// The project's domain.
    #[serde(default = "crate::mistral::default_domain")]
    pub project_domain_name: String,
    /// The catalog region to use; any when absent.
    #[serde(default)]
    pub region_name: Option<String>,
    /// The catalog interface to use.
    #[serde(default = "crate::mistral::default_interface")]
    pub interface: String,
    /// Seconds between polls (at least 1).
    #[serde(default = "default_interval")]
    pub poll_interval_s: u64,
}

fn default_interval() -> u64 {
    600
}

/// Starts the poller when `[openstack]` is configured.
pub fn spawn(state: &AppState, config: Option<&OpenStackConfig>) {
    if let Some(config) = config {
        tokio::spawn(run(Held::new(state), config.clone()));
    }
}

async fn run(held: Held, config: OpenStackConfig) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = match reqwest::Client::builder().timeout(Duration::from_secs(60)).build() {
        Ok(http) => http,
        Err(e) => {
            if let Some(state) = held.state() {
                state.writer.metrics.datasources.failed(SOURCE, e);
            }
            return;
        }
    };
    let keystone = Keystone::new(KeystoneConfig {
        auth_url: config.auth_url.clone(),
        username: config.username.clone(),
        password: config.password.clone(),
        project_name: config.project_name.clone(),
        user_domain_name: config.user_domain_name.clone(),
        project_domain_name: config.project_domain_name.clone(),
        interface: config.interface.clone(),
        renew_before_s: 60,
    });
    let api = Api { http, keystone, config };
    let interval = Duration::from_secs(api.config.poll_interval_s.max(1));
    // The first resync compares with the loaded graph, not with the empty placeholder view.
    let mut views = held.view_channel();
    let _ = views.wait_for(|v| v.generation >= 1).await;
    loop {
        let (inventory, failures) = api.inventory().await;
        let Some(state) = held.state() else { return };
        poll(&state, inventory, failures).await;
        drop(state);
        tokio::time::sleep(interval).await;
    }
}

/// One poll's listings: diffed against the graph, submitted.
async fn poll(state: &AppState, inventory: Inventory, failures: Vec<String>) {
    let health = &state.writer.metrics.datasources;
    for failure in &failures {
        health.failed(SOURCE, failure);
    }
    if failures.len() == LISTINGS {
        return;
    }
    let snapshot = Snapshot::of(&inventory);
    let present = {
        let view = state.current_view();
        let vertices: Vec<&Map<String, Value>> = view.vertices.iter().map(|v| &v.props).collect();
        let edges = view.edges.iter().map(|e| (e.source, e.relationship_type.as_str(), e.target));
        Present::of_graph(&vertices, edges)
    };
    let changes = inventory::resync(&present, &snapshot);
    tracing::info!(changes = changes.len(), "openstack poll");
    if let Err(e) = submit_batch(state, Batch::new(SOURCE, changes)).await {
        tracing::warn!(error = %e.description, "the openstack poll's batch was not stored");
    }
}

/// How many listings a poll makes.
const LISTINGS: usize = 8;

/// The APIs, through one Keystone session.
struct Api {
    http: reqwest::Client,
    keystone: Keystone,
    config: OpenStackConfig,
}

/// Why a listing failed.
#[derive(Debug, thiserror::Error)]
enum ListError {
    #[error("keystone: {0}")]
    Keystone(String),
    #[error("no {0} endpoint in the catalog")]
    NoEndpoint(&'static str),
    #[error("GET {url}: {status}")]
    Status { url: String, status: reqwest::StatusCode },
    #[error("GET {url}: {message}")]
    Http { url: String, message: String },
    #[error("GET {url}: no {collection} list in the answer")]
    Shape { url: String, collection: &'static str },
}

impl Api {
    /// Every listing; the failures, in words.
    async fn inventory(&self) -> (Inventory, Vec<String>) {
        let mut failures = Vec::new();
        let mut keep = |r: Result<Vec<Value>, ListError>| match r {
            Ok(items) => Some(items),
            Err(e) => {
                failures.push(e.to_string());
                None
            }
        };
        let inventory = Inventory {
            services: keep(
                self.list("compute", "/os-services?binary=nova-compute", "services").await,
            ),
            hypervisors: keep(self.list("compute", "/os-hypervisors/detail", "hypervisors").await),
            zones: keep(
                self.list("compute", "/os-availability-zone/detail", "availabilityZoneInfo").await,
            ),
            servers: keep(self.list("compute", "/servers/detail?all_tenants=1", "servers").await),
            networks: keep(self.list("network", "/v2.0/networks", "networks").await),
            ports: keep(self.list("network", "/v2.0/ports", "ports").await),
            volumes: keep(self.list("volumev3", "/volumes/detail?all_tenants=1", "volumes").await),
            stacks: keep(self.stacks().await),
        };
        (inventory, failures)
    }

    /// The stacks, each with its `resources`.
    async fn stacks(&self) -> Result<Vec<Value>, ListError> {
        let mut stacks = self.list("orchestration", "/stacks?global_tenant=true", "stacks").await?;
        for stack in &mut stacks {
            let (Some(name), Some(id)) = (stack["stack_name"].as_str(), stack["id"].as_str())
            else {
                continue;
            };
            let path = format!("/stacks/{name}/{id}/resources?nested_depth=10");
            let resources = self.list("orchestration", &path, "resources").await?;
            stack["resources"] = Value::Array(resources);
        }
        Ok(stacks)
    }

    /// All pages of `collection` at `path` of the service of type `service`.
    async fn list(
        &self,
        service: &'static str,
        path: &str,
        collection: &'static str,
    ) -> Result<Vec<Value>, ListError> {
        let region = self.config.region_name.as_deref();
        let (_, catalog) = self.keystone.session(&self.http).await.map_err(ListError::Keystone)?;
        let base = endpoint(&catalog, service, &self.config.interface, region)
            .ok_or(ListError::NoEndpoint(service))?;
        let mut url = format!("{}{path}", base.trim_end_matches('/'));
        let mut items = Vec::new();
        // A bound on pages, so that a server whose `next` link never ends cannot hold the poll.
        for _ in 0..10_000 {
            let page = self.get(&url).await?;
            let list = page.get(collection).and_then(Value::as_array);
            let list = list.ok_or_else(|| ListError::Shape { url: url.clone(), collection })?;
            items.extend(list.iter().cloned());
            match next_link(&page, collection) {
                Some(next) if next != url => url = next,
                _ => break,
            }
        }
        Ok(items)
    }

    /// One GET with the current token; a 401 gets one retry with a new token.
    async fn get(&self, url: &str) -> Result<Value, ListError> {
        for attempt in 0..2 {
            let (token, _) =
                self.keystone.session(&self.http).await.map_err(ListError::Keystone)?;
            let sent = self.http.get(url).header("X-Auth-Token", &token).send().await;
            let answer =
                sent.map_err(|e| ListError::Http { url: url.into(), message: e.to_string() })?;
            let status = answer.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                self.keystone.forget(&token).await;
                continue;
            }
            if !status.is_success() {
                return Err(ListError::Status { url: url.into(), status });
            }
            let body = answer.json().await;
            return body.map_err(|e| ListError::Http { url: url.into(), message: e.to_string() });
        }
        Err(ListError::Status { url: url.into(), status: reqwest::StatusCode::UNAUTHORIZED })
    }
}

/// The `next` link of a page: `<collection>_links` (Nova, Neutron, Cinder) or `links`.
fn next_link(page: &Value, collection: &str) -> Option<String> {
    let links = page.get(format!("{collection}_links")).or_else(|| page.get("links"))?;
    let next = links.as_array()?.iter().find(|l| l["rel"] == "next")?;
    next["href"].as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openstack_table_needs_credentials_and_defaults_the_rest() {
        let text = "auth_url = \"http://k:5000/v3\"\nusername = \"admin\"\npassword = \"p\"\nproject_name = \"admin\"\n";
        let config: OpenStackConfig = toml::from_str(text).unwrap();
        assert_eq!((config.user_domain_name.as_str(), config.poll_interval_s), ("Default", 600));
        assert_eq!((config.interface.as_str(), config.region_name), ("public", None));
        let missing = toml::from_str::<OpenStackConfig>("auth_url = \"http://k\"").unwrap_err();
        assert!(missing.to_string().contains("missing field `username`"), "{missing}");
    }

    #[test]
    fn a_next_link_is_read_from_the_collections_links() {
        let page = serde_json::json!({"servers": [], "servers_links": [
            {"rel": "next", "href": "http://nova/v2.1/servers/detail?marker=vm-2"}]});
        let next = next_link(&page, "servers");
        assert_eq!(next.as_deref(), Some("http://nova/v2.1/servers/detail?marker=vm-2"));
        assert_eq!(next_link(&serde_json::json!({"servers": []}), "servers"), None);
    }
}
