//! The HTTP service: Vitrage's API v1 for python-vitrageclient, read side.
//!
//! Every handler is a pure function of a published [`View`] (or alarm history), the [`Caller`]
//! and the request's [`Params`], returning `Result<serde_json::Value, ApiError>`; the axum glue in
//! `routes` only extracts, calls and serializes. The evaluation task (the only writer) holds the
//! `watch::Sender<Arc<View>>` and publishes a new view after each batch.
//!
//! ```no_run
//! use causeway::service::{self, AppState, NoHistory, ServiceConfig, View};
//! use std::sync::Arc;
//!
//! # async fn run() -> std::io::Result<()> {
//! let (publish, view) = tokio::sync::watch::channel(Arc::new(View::empty()));
//! let state = AppState::new(view, Arc::new(NoHistory), ServiceConfig::default());
//! // The evaluation task keeps `publish` and sends a new `Arc<View>` after each batch.
//! # drop(publish);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8999").await?;
//! axum::serve(listener, service::make_service(state)).await
//! # }
//! ```
//!
//! More routes (template writes, events, webhooks, topology push, Mistral executions, the web
//! page) are added in [`app`], merged into [`vitrage_routes`] before [`layered`] wraps them
//! (`layered(vitrage_routes().merge(events::routes()), state)`), so they share authentication,
//! the JSON error body, the body limit and tracing. axum merges path by path: another router may
//! add `PUT /v1/template` beside `GET /v1/template/versions`; the same method on the same path
//! twice panics when the router is built. A route merged after `layered` gets none of the layers.
//! Handlers that need more than reads add fields to [`AppState`] (e.g. the evaluation task's
//! command sender).

mod alarms;
mod alertmanager;
mod caller;
pub mod core;
mod error;
mod executions;
mod explain;
mod history;
mod ingest;
mod layers;
pub mod metrics;
mod misc;
pub mod monitors;
mod node_link;
pub mod openstack_poll;
mod paging;
mod params;
pub mod publish;
mod query;
pub mod rabbitmq;
mod rca;
mod resources;
mod routes;
pub mod serve;
pub mod sources;
pub mod static_dir;
mod stream;
mod template_routes;
pub mod templates;
#[cfg(test)]
mod testing;
mod timestamp;
mod topology;
mod view;
mod web;
mod webhooks;
mod zabbix;

pub use caller::Caller;
pub use error::ApiError;
pub use history::{AlarmHistory, AlarmRecord, NoHistory};
pub use misc::ServiceInfo;
pub use params::Params;
pub use query::{Query, QueryError};
pub use routes::vitrage_routes;
pub use timestamp::Timestamp;
pub use view::{EdgeView, VertexView, View, ViewError};

/// The pure handlers, for callers that want an answer without HTTP (tests, the web page).
pub mod handlers {
    pub use super::alarms::{
        count as alarm_count, history as alarm_history, history_since as alarm_history_since,
        list as alarm_list, show as alarm_show,
    };
    pub use super::misc::{healthcheck, services, status, template_versions, versions};
    pub use super::rca::rca;
    pub use super::resources::{
        count as resource_count, list as resource_list, show as resource_show,
    };
    pub use super::topology::topology;
}

use axum::Router;
use axum::extract::Request;
use std::sync::Arc;
use tokio::sync::watch;
use tower_http::normalize_path::NormalizePath;

/// Default request body limit: 16 MiB, room for a directory of templates.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Largest request body accepted; larger ones get 413 with the JSON error body.
    pub body_limit: usize,
    /// When set, every request except `GET /` and `/healthcheck` must carry
    /// `X-Auth-Token: <token>` (what the client's `--os-auth-type admin_token --os-token` sends),
    /// else 401. `None` is Vitrage's noauth mode.
    pub auth_token: Option<String>,
}

impl Default for ServiceConfig {
    fn default() -> ServiceConfig {
        ServiceConfig { body_limit: DEFAULT_BODY_LIMIT, auth_token: None }
    }
}

/// What every handler can reach. Cloning is cheap (a watch receiver and `Arc`s).
#[derive(Clone)]
pub struct AppState {
    /// The latest published view; the evaluation task holds the sender.
    pub view: watch::Receiver<Arc<View>>,
    /// Alarm history, ended alarms included; the store provides it.
    pub history: Arc<dyn AlarmHistory>,
    /// HTTP settings.
    pub config: Arc<ServiceConfig>,
    /// This process as `/v1/service/` reports it.
    pub info: Arc<ServiceInfo>,
    /// The way to the evaluation task, for everything that changes state.
    pub writer: Arc<Writer>,
}

/// What write handlers reach: the evaluation task's queue and what it publishes besides views.
pub struct Writer {
    /// Commands for the evaluation task.
    pub commands: tokio::sync::mpsc::Sender<core::Command>,
    /// The template set.
    pub templates: watch::Receiver<Arc<Vec<crate::store::StoredTemplate>>>,
    /// The registered webhooks.
    pub webhooks: webhooks::Registry,
    /// Alarm notifications as they happen.
    pub notifications: tokio::sync::broadcast::Sender<core::Notification>,
    /// The store's directory, for read connections.
    pub data_dir: std::path::PathBuf,
    /// The process's metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// The Mistral client, when one is configured.
    pub mistral: Option<Arc<crate::mistral::Client>>,
    /// The namespace of this data directory's execution ids.
    pub deployment: uuid::Uuid,
    /// What the monitors' webhooks need (the Alertmanager mapping, the Zabbix hosts).
    pub monitors: Arc<monitors::Monitors>,
}

impl Writer {
    /// A writer with no evaluation task behind it: every write answers 503.
    pub fn detached() -> Writer {
        let (commands, _) = tokio::sync::mpsc::channel(1);
        let (_, templates) = watch::channel(Arc::new(Vec::new()));
        Writer {
            commands,
            templates,
            webhooks: Arc::default(),
            notifications: tokio::sync::broadcast::channel(1).0,
            data_dir: std::path::PathBuf::new(),
            metrics: Arc::default(),
            mistral: None,
            deployment: crate::action::mistral::EXECUTION_NAMESPACE,
            monitors: Arc::default(),
        }
    }
}

impl AppState {
    /// State for a fresh process.
    pub fn new(
        view: watch::Receiver<Arc<View>>,
        history: Arc<dyn AlarmHistory>,
        config: ServiceConfig,
    ) -> AppState {
        AppState {
            view,
            history,
            config: Arc::new(config),
            info: Arc::new(ServiceInfo::current()),
            writer: Arc::new(Writer::detached()),
        }
    }

    /// The same state, writing through `writer`.
    pub fn with_writer(self, writer: Writer) -> AppState {
        AppState { writer: Arc::new(writer), ..self }
    }

    /// The view as published now. The `Arc` is cloned and the channel's lock released at once,
    /// so a long read never delays the next publication.
    pub fn current_view(&self) -> Arc<View> {
        self.view.borrow().clone()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("generation", &self.current_view().generation)
            .field("config", &self.config)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The whole application: every route, with the shared layers. Routes match exact paths; wrap it
/// with [`service`] so that `/v1/alarm/` and `/v1/alarm` both work.
pub fn app(state: AppState) -> Router {
    let routes = vitrage_routes()
        .merge(ingest::routes())
        .merge(template_routes::routes())
        .merge(webhooks::routes())
        .merge(metrics::routes())
        .merge(executions::routes())
        .merge(web::routes())
        .merge(stream::routes())
        .merge(explain::routes());
    layered(routes, state)
}

/// Wraps routes with what every route shares: the auth token check, the body limit, the JSON
/// error body for every 4xx and 5xx (axum's own rejections, unknown paths and wrong methods
/// included), a panic guard and request tracing.
pub fn layered(routes: Router<AppState>, state: AppState) -> Router {
    layers::wrap(routes, state)
}

/// [`app`] behind trailing-slash normalisation. python-vitrageclient asks for `v1/alarm/` but
/// `v1/alarm/<id>`; pecan takes both, axum matches exactly, and a layer inside the router runs
/// after routing, so the normalisation must wrap the router as a service.
pub fn service(state: AppState) -> NormalizePath<Router> {
    NormalizePath::trim_trailing_slash(app(state))
}

/// [`service`] ready for `axum::serve`.
pub fn make_service(state: AppState) -> axum::routing::IntoMakeService<NormalizePath<Router>> {
    axum::ServiceExt::<Request>::into_make_service(service(state))
}
