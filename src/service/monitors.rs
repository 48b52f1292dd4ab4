//! What the monitors' webhook routes need besides the evaluation task: the Alertmanager
//! mapping and the Zabbix host table, read from their files once at start, so that a request
//! never reads a file and a bad file stops the start instead of every delivery.

use crate::datasource::alertmanager::{Mapping, MappingError};
use serde::Deserialize;
use std::path::PathBuf;

/// The `[alertmanager]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertmanagerConfig {
    /// Vitrage's prometheus mapping file (`alerts: [{key: {...}, resource: {...}}]`). Without
    /// one, no alert names a resource and every alert is dropped.
    pub mapping_file: Option<PathBuf>,
}

/// The monitors' settings, loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Monitors {
    /// How alerts name resources.
    pub alertmanager: Mapping,
}

/// Why the monitors' files cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MonitorsError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The mapping file is invalid.
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

impl Monitors {
    /// Reads the files `alertmanager` names.
    pub fn load(alertmanager: &AlertmanagerConfig) -> Result<Monitors, MonitorsError> {
        let mapping = match &alertmanager.mapping_file {
            None => Mapping::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| MonitorsError::Read { path: path.clone(), source })?;
                Mapping::parse(&path.display().to_string(), &text)?
            }
        };
        Ok(Monitors { alertmanager: mapping })
    }
}
