//! What the monitors' webhook routes need besides the evaluation task: the Alertmanager
//! mapping and the Zabbix host table, read from their files once at start, so that a request
//! never reads a file and a bad file stops the start instead of every delivery.

use crate::datasource::alertmanager::{Mapping, MappingError};
use crate::datasource::zabbix::{Hosts, ZabbixError, parse_hosts};
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

/// The `[zabbix]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZabbixConfig {
    /// Vitrage's `zabbix_conf.yaml` (`zabbix: [{zabbix_host, type, name}]`). A host it does
    /// not list is the `nova.host` of the same name.
    pub config_file: Option<PathBuf>,
}

/// The monitors' settings, loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Monitors {
    /// How alerts name resources.
    pub alertmanager: Mapping,
    /// Which resource each Zabbix host is.
    pub zabbix: Hosts,
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
    /// The Zabbix host file is invalid.
    #[error(transparent)]
    Zabbix(#[from] ZabbixError),
}

impl Monitors {
    /// Reads the files the tables name.
    pub fn load(
        alertmanager: &AlertmanagerConfig,
        zabbix: &ZabbixConfig,
    ) -> Result<Monitors, MonitorsError> {
        let mapping = match &alertmanager.mapping_file {
            None => Mapping::default(),
            Some(path) => Mapping::parse(&path.display().to_string(), &read(path)?)?,
        };
        let hosts = match &zabbix.config_file {
            None => Hosts::new(),
            Some(path) => parse_hosts(&path.display().to_string(), &read(path)?)?,
        };
        Ok(Monitors { alertmanager: mapping, zabbix: hosts })
    }
}

fn read(path: &std::path::Path) -> Result<String, MonitorsError> {
    std::fs::read_to_string(path)
        .map_err(|source| MonitorsError::Read { path: path.into(), source })
}

#[cfg(test)]
mod tests {
    use crate::service::serve::ServeConfig;

    #[test]
    fn the_readme_tables_configure_the_monitors_and_the_static_directory() {
        let text = "[alertmanager]\nmapping_file = \"/etc/causeway/prometheus_conf.yaml\"\n\
                    [zabbix]\nconfig_file = \"/etc/causeway/zabbix_conf.yaml\"\n\
                    [static]\ndirectory = \"/etc/causeway/static_datasources\"\nchanges_interval = 10\n";
        let config: ServeConfig = toml::from_str(text).expect("valid");
        let path = |p: &str| Some(std::path::PathBuf::from(p));
        assert_eq!(config.alertmanager.mapping_file, path("/etc/causeway/prometheus_conf.yaml"));
        assert_eq!(config.zabbix.config_file, path("/etc/causeway/zabbix_conf.yaml"));
        assert_eq!(config.static_dir.directory, path("/etc/causeway/static_datasources"));
        assert_eq!(config.static_dir.changes_interval, 10);
        let typo = toml::from_str::<ServeConfig>("[static]\ndirectroy = \"x\"\n");
        assert!(typo.is_err(), "unknown keys are refused");
    }
}
