//! The static directory's watcher: polls the files' modification times, and when they change
//! reads them all and submits what [`StaticDir`] plans.
//!
//! What the directory has loaded is saved beside the store (`static-loaded.json`), so that a
//! start diffs the files against what the previous process loaded and deletes what was removed
//! while it was down. The file is written twice around each batch: before it, with everything
//! the graph may hold once the batch is stored (so a crash without an answer still knows what
//! to delete), and after it, with what it holds. The first scan of a process is full (every
//! entity and edge is reported again; the identity layer drops what is there already), so a
//! graph that lags the saved file catches up.

use super::AppState;
use super::sources::{Held, submit_batch};
use crate::datasource::Datasource;
use crate::datasource::static_dir::{Loaded, Scan, StaticDir};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The `[static]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaticConfig {
    /// The directory of static topology files (`*.yaml`, read recursively). Unset: no static
    /// datasource.
    pub directory: Option<PathBuf>,
    /// Seconds between two looks at the files' modification times (Vitrage's
    /// `changes_interval`).
    pub changes_interval: u64,
}

impl Default for StaticConfig {
    fn default() -> StaticConfig {
        StaticConfig { directory: None, changes_interval: 30 }
    }
}

/// The file beside the store that holds what the directory loaded.
const LOADED_FILE: &str = "static-loaded.json";

/// Starts the watcher when a directory is configured. Must be called inside a tokio runtime.
pub fn start(state: &AppState, config: &StaticConfig, data_dir: &Path) {
    let Some(directory) = config.directory.clone() else { return };
    let every = Duration::from_secs(config.changes_interval.max(1));
    let saved = data_dir.join(LOADED_FILE);
    let loaded = read_loaded(&saved);
    let watcher = Watcher { held: Held::new(state), directory, every, saved };
    tokio::spawn(watcher.run(StaticDir::new(loaded)));
}

/// The watcher's settings, and the service's state held weakly ([`Held`]).
struct Watcher {
    held: Held,
    directory: PathBuf,
    every: Duration,
    saved: PathBuf,
}

/// Each file's path, modification time and length: what tells that something changed.
type Stamp = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

impl Watcher {
    async fn run(self, mut source: StaticDir) {
        let (mut full, mut last): (bool, Option<Stamp>) = (true, None);
        let mut tick = tokio::time::interval(self.every);
        loop {
            tick.tick().await;
            let dir = self.directory.clone();
            let Ok(stamp) = tokio::task::spawn_blocking(move || stamp(&dir)).await else {
                continue;
            };
            if !full && last.as_ref() == Some(&stamp) {
                continue;
            }
            let files = stamp.clone();
            let Ok(files) = tokio::task::spawn_blocking(move || read_all(&files)).await else {
                continue;
            };
            let Some(state) = self.held.state() else { return };
            full = !scan(&state, &mut source, Scan { files, full }, &self.saved).await;
            last = Some(stamp);
        }
    }
}

/// Plans and submits one scan; whether its batch (if any) is stored.
async fn scan(state: &AppState, source: &mut StaticDir, scan: Scan, saved: &Path) -> bool {
    let health = &state.writer.metrics.datasources;
    let Ok(batches) = source.translate(scan);
    for e in &source.errors {
        tracing::warn!(error = %e, "static file skipped; what it loaded before stays");
        health.failed(source.name(), e);
    }
    write_loaded(saved, &source.at_most());
    let mut stored = true;
    for batch in batches {
        if submit_batch(state, batch).await.is_err() {
            stored = false;
        }
    }
    if stored {
        source.stored();
        write_loaded(saved, &source.loaded);
        if source.errors.is_empty() {
            health.succeeded(source.name(), SystemTime::now());
        }
    }
    stored
}

/// Every `*.yaml` under `dir`, recursively, with its stamp. A directory that cannot be read
/// holds nothing (so its files' entities go, as in Vitrage).
fn stamp(dir: &Path) -> Stamp {
    let mut out = Stamp::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            tracing::warn!(directory = %d.display(), "static directory unreadable");
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml") {
                out.insert(path, (meta.modified().ok(), meta.len()));
            }
        }
    }
    out
}

fn read_all(files: &Stamp) -> BTreeMap<String, Result<String, String>> {
    files
        .keys()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(p).map_err(|e| e.to_string())))
        .collect()
}

/// What the previous process saved; nothing when there is no file. A file that cannot be
/// read is logged and taken as empty: the full first scan then adds everything again, and
/// only deletions made while the service was down are missed.
fn read_loaded(path: &Path) -> Loaded {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::new(),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "static state unreadable");
            return Loaded::new();
        }
    };
    serde_json::from_str(&text).unwrap_or_else(|e| {
        tracing::warn!(file = %path.display(), error = %e, "static state unreadable");
        Loaded::new()
    })
}

/// Saves `loaded` through a temporary file and a rename, so a crash leaves the old or the new.
fn write_loaded(path: &Path, loaded: &Loaded) {
    let tmp = path.with_extension("json.tmp");
    let written = serde_json::to_vec(loaded)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(&tmp, bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        tracing::warn!(file = %path.display(), error = %e, "static state not saved");
    }
}
