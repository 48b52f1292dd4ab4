//! `causeway serve`: the store, the evaluation task, webhook delivery and the HTTP listener,
//! wired together from a [`ServeConfig`].
//!
//! With no flags it runs on the shipped templates and a demo cloud (the NIC use case: a zone,
//! three hosts with instances, applications and a network), keeps its state in
//! `./causeway-data` and listens on loopback. The initial templates and topology are only
//! loaded into an empty data directory; after that the event log is the state, and templates
//! change through the API.

use super::core::{Core, Initial};
use super::history::{AlarmHistory, AlarmRecord};
use super::monitors::{AlertmanagerConfig, Monitors, MonitorsError, ZabbixConfig};
use super::static_dir::StaticConfig;
use super::templates::NewTemplate;
use super::webhooks::{self, Registry};
use super::{AppState, ServiceConfig, Writer};
use crate::datasource::topology_file;
use crate::mistral::{self, MistralConfig, OutboxUpdate};
use crate::store::{HistoryQuery, Reader, Store};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc;

/// The shipped templates, for a binary that runs away from its source tree.
const SHIPPED: &[(&str, &str)] = &[
    ("host_down.yaml", include_str!("../../templates/host_down.yaml")),
    ("nic_failure.yaml", include_str!("../../templates/nic_failure.yaml")),
    ("port_down.yaml", include_str!("../../templates/port_down.yaml")),
];

/// The demo cloud of the first run.
const DEMO_CLOUD: &str = include_str!("../../data/demo_cloud.json");

/// Everything `serve` is configured with: flags, or the same keys in a TOML file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The store's directory.
    pub data_dir: PathBuf,
    /// A directory of templates to start with (default: the shipped ones).
    pub templates: Option<PathBuf>,
    /// Topology files to start with (default: the demo cloud).
    pub topology: Vec<PathBuf>,
    /// The token every API request must carry (`X-Auth-Token`).
    pub auth_token: Option<String>,
    /// Allow a non-loopback address without a token.
    pub insecure: bool,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Mistral (the `[mistral]` table): where, how, how hard to retry.
    pub mistral: MistralConfig,
    /// Alertmanager's webhook (the `[alertmanager]` table): the mapping file.
    pub alertmanager: AlertmanagerConfig,
    /// Zabbix's webhook (the `[zabbix]` table): the host file.
    pub zabbix: ZabbixConfig,
    /// The static topology directory (the `[static]` table).
    #[serde(rename = "static")]
    pub static_dir: StaticConfig,
    /// OpenStack notifications (the `[rabbitmq]` table).
    pub rabbitmq: super::rabbitmq::RabbitConfig,
    /// OpenStack API polling (the `[openstack]` table).
    pub openstack: Option<super::openstack_poll::OpenStackConfig>,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8999)),
            data_dir: PathBuf::from("causeway-data"),
            templates: None,
            topology: Vec::new(),
            auth_token: None,
            insecure: false,
            body_limit: super::DEFAULT_BODY_LIMIT,
            mistral: MistralConfig::default(),
            alertmanager: AlertmanagerConfig::default(),
            static_dir: StaticConfig::default(),
            zabbix: ZabbixConfig::default(),
            rabbitmq: Default::default(),
            openstack: None,
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without a token or `--insecure`.
    #[error("{0} is not a loopback address: give --auth-token, or --insecure to serve it open")]
    Exposed(SocketAddr),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A topology file is invalid.
    #[error(transparent)]
    Topology(#[from] topology_file::TopologyError),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The evaluation task could not start.
    #[error("evaluation: {0}")]
    Core(#[from] super::core::CoreError),
    /// The Mistral client could not be built.
    #[error("mistral: {0}")]
    Mistral(String),
    /// A monitor's file is invalid.
    #[error(transparent)]
    Monitors(#[from] MonitorsError),
    /// The listener failed.
    #[error("listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

fn read(path: &Path) -> Result<String, ServeError> {
    std::fs::read_to_string(path).map_err(|source| ServeError::Read { path: path.into(), source })
}

/// The templates and topology a fresh data directory starts with.
pub fn initial(config: &ServeConfig) -> Result<Initial, ServeError> {
    let templates = match &config.templates {
        None => SHIPPED
            .iter()
            .map(|(file, text)| NewTemplate {
                file: (*file).into(),
                text: (*text).into(),
                params: None,
                template_type: None,
            })
            .collect(),
        Some(dir) => {
            let entries = std::fs::read_dir(dir)
                .map_err(|source| ServeError::Read { path: dir.clone(), source })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            files
                .iter()
                .map(|p| {
                    Ok(NewTemplate {
                        file: p.display().to_string(),
                        text: read(p)?,
                        params: None,
                        template_type: None,
                    })
                })
                .collect::<Result<_, ServeError>>()?
        }
    };
    let mut changes = Vec::new();
    if config.topology.is_empty() {
        changes = topology_file::changes("demo_cloud.json", DEMO_CLOUD)?;
    }
    for path in &config.topology {
        changes.extend(topology_file::changes(&path.display().to_string(), &read(path)?)?);
    }
    Ok(Initial { templates, changes })
}

/// Alarm history read from the store, one read connection per request.
struct StoreHistory(PathBuf);

impl AlarmHistory for StoreHistory {
    fn alarm_records(&self, _since: Option<super::Timestamp>) -> Result<Vec<AlarmRecord>, String> {
        let reader = Reader::open(&self.0).map_err(|e| e.to_string())?;
        let records = reader.history(&HistoryQuery::default()).map_err(|e| e.to_string())?;
        Ok(records.into_iter().filter_map(from_store).collect())
    }
}

/// A store row as the API's history record.
fn from_store(r: crate::store::AlarmRecord) -> Option<AlarmRecord> {
    let serde_json::Value::Object(alarm) = r.alarm else { return None };
    Some(AlarmRecord {
        alarm,
        start_timestamp: super::Timestamp::parse(r.start.as_str())?,
        end_timestamp: r.end.and_then(|e| super::Timestamp::parse(e.as_str())),
    })
}

/// The dispatcher's way to the store: commands to the evaluation task, events to the metrics.
struct CoreSink {
    commands: mpsc::Sender<super::core::Command>,
    metrics: Arc<super::metrics::Metrics>,
}

impl mistral::Sink for CoreSink {
    async fn record(&self, update: OutboxUpdate) -> Result<mistral::Durable, String> {
        let (reply, durable) = tokio::sync::oneshot::channel();
        self.commands
            .send(super::core::Command::Outbox(update, reply))
            .await
            .map_err(|_| "the evaluation task stopped".to_string())?;
        Ok(durable)
    }

    fn event(&self, event: mistral::Event) {
        use std::sync::atomic::Ordering;
        match event {
            mistral::Event::Dispatch { outcome, latency, queued } => {
                self.metrics.mistral_dispatches.add(outcome, 1);
                self.metrics.mistral_latency.observe(latency);
                if let Some(q) = queued {
                    self.metrics.mistral_queued.observe(q);
                }
            }
            mistral::Event::Depth(n) => {
                self.metrics.mistral_outbox.store(n as i64, Ordering::Relaxed)
            }
        }
    }
}

/// The running parts of a service, for `run` and for tests that serve in-process.
pub struct Running {
    /// The state the routes share.
    pub state: AppState,
    /// The evaluation thread; it ends when every copy of `state` is gone.
    pub evaluation: std::thread::JoinHandle<()>,
}

/// Opens the store, starts the evaluation task (replaying the log, or loading the initial
/// templates and topology into a fresh data directory) and webhook delivery. Must be called
/// inside a tokio runtime.
pub fn open(config: &ServeConfig) -> Result<Running, ServeError> {
    if !config.listen.ip().is_loopback() && config.auth_token.is_none() && !config.insecure {
        return Err(ServeError::Exposed(config.listen));
    }
    let monitors = Arc::new(Monitors::load(&config.alertmanager, &config.zabbix)?);
    let store = Store::open(&config.data_dir)?;
    let initial = initial(config)?;
    let (core, channels) = Core::start(store, initial)?;
    let (commands, queue) = mpsc::channel(4096);
    let evaluation = std::thread::Builder::new()
        .name("evaluation".into())
        .spawn(move || core.run(queue))
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let registry: Registry = Arc::new(RwLock::new(Reader::open(&config.data_dir)?.webhooks()?));
    let metrics = channels.metrics.clone();
    let client = mistral::Client::new(&config.mistral).map_err(ServeError::Mistral)?.map(Arc::new);
    match &client {
        Some(client) => {
            let sink = Arc::new(CoreSink { commands: commands.clone(), metrics: metrics.clone() });
            tokio::spawn(mistral::dispatch(
                client.clone(),
                config.mistral.clone(),
                config.data_dir.clone(),
                sink,
                channels.outbox.clone(),
                mistral::Hook::from_env(),
            ));
        }
        None => tracing::warn!("no Mistral configured: workflow requests stay PENDING"),
    }
    tokio::spawn(webhooks::deliver(
        registry.clone(),
        channels.notifications.subscribe(),
        metrics.clone(),
    ));
    let writer = Writer {
        commands,
        templates: channels.templates.clone(),
        webhooks: registry,
        notifications: channels.notifications.clone(),
        data_dir: config.data_dir.clone(),
        metrics,
        mistral: client,
        deployment: channels.deployment,
        monitors,
    };
    let http =
        ServiceConfig { body_limit: config.body_limit, auth_token: config.auth_token.clone() };
    let history = Arc::new(StoreHistory(config.data_dir.clone()));
    let state = AppState::new(channels.view.clone(), history, http).with_writer(writer);
    super::static_dir::start(&state, &config.static_dir, &config.data_dir);
    super::rabbitmq::spawn(&state, &config.rabbitmq);
    super::openstack_poll::spawn(&state, config.openstack.as_ref());
    Ok(Running { state, evaluation })
}

/// Runs the service until SIGTERM or Ctrl-C; then stops accepting, lets the evaluation task
/// finish what was queued, and returns.
pub async fn run(config: ServeConfig) -> Result<(), ServeError> {
    let Running { state, evaluation } = tokio::task::block_in_place(|| open(&config))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let addr = listener.local_addr().unwrap_or(config.listen);
    announce(addr);
    let served =
        axum::serve(listener, super::make_service(state)).with_graceful_shutdown(shutdown()).await;
    // The state (and with it the commands sender) is gone: the task drains its queue and ends.
    let _ = tokio::task::spawn_blocking(move || evaluation.join()).await;
    tracing::info!("stopped");
    served.map_err(|source| ServeError::Listen { addr, source })
}

fn announce(addr: SocketAddr) {
    use std::io::Write;
    let url = format!("http://{addr}");
    tracing::info!(%url, "causeway is serving the Vitrage API v1");
    let raise = r#"{"changes": [{"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}]}"#;
    let text = format!(
        "causeway serving on {url}\ntry:\n  curl -s -X POST {url}/v1/causeway/changes -H 'Content-Type: application/json' -d '{raise}'\n  \
         vitrage --os-auth-type vitrage-noauth --endpoint {url} --user-id admin --project-id admin alarm list --all-tenants\n"
    );
    // A closed standard output (a supervisor that stopped reading) must not stop the service.
    let _ = std::io::stdout().write_all(text.as_bytes()).and_then(|()| std::io::stdout().flush());
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: no new requests, finishing the queued ones");
}
