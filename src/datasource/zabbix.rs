//! Zabbix problems and recoveries, pushed by a webhook media type, mapped as Vitrage's zabbix
//! datasource maps them.
//!
//! Vitrage took Zabbix events from an alert script that put the trigger's macros on the message
//! bus; causeway takes the same macros as the JSON body of a Zabbix webhook media type
//! (`tools/zabbix/causeway-media-type.js`). An event names its host as Zabbix knows it; Vitrage's
//! `zabbix_conf.yaml` says which resource that is (`zabbix: [{zabbix_host, type, name}]`), and
//! a host it does not list is taken as the `nova.host` of that name. The alarm is named by the
//! trigger, identified by the trigger id, keeps the unexpanded trigger text as `rawtext`, and
//! goes on a placeholder of the resource, since Zabbix often knows a host before the inventory
//! reports it.

use super::{Batch, Datasource, SourceName, identity};
use crate::runner::Change;
use crate::scenario::{Alarm, AlarmType};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the media type sends for one event: Zabbix macros, expanded to strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// `{HOST.HOST}`: the host as Zabbix names it.
    pub host: String,
    /// `{TRIGGER.ID}`: the trigger, which identifies the alarm on its host.
    pub trigger_id: String,
    /// `{TRIGGER.NAME}`: the trigger's name with its macros expanded; the alarm's name.
    pub trigger_name: String,
    /// `{TRIGGER.NAME.ORIG}`: the name as written, with its macros (Vitrage's `rawtext`).
    #[serde(default)]
    pub rawtext: Option<String>,
    /// `{EVENT.NSEVERITY}` (`0`..`5`) or `{EVENT.SEVERITY}` (`High`, ...).
    pub severity: String,
    /// `{EVENT.ID}`: the problem event (a recovery carries its problem's id).
    pub event_id: String,
    /// `{EVENT.VALUE}`: `1` for a problem, `0` for its recovery.
    pub value: String,
    /// `{EVENT.DATE} {EVENT.TIME}` (`2026.12.02 06:01:02`), kept as the alarm's `lastchange`.
    #[serde(default)]
    pub time: Option<String>,
}

/// An event, and the names of the alarms its trigger has raised on its resource (what a
/// recovery clears, even when the trigger's expanded name changed since the problem).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The event.
    pub event: Event,
    /// Names of the raised alarms of the same trigger and resource.
    pub raised: Vec<String>,
}

/// Vitrage's `zabbix_conf.yaml`: Zabbix host name → the resource's type and name.
pub type Hosts = BTreeMap<String, (String, String)>;

/// Why an event or the host file cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZabbixError {
    /// `value` is neither `0` nor `1`.
    #[error("Invalid value {0:?}: 1 (problem) or 0 (recovery)")]
    Value(String),
    /// `severity` is not a Zabbix severity.
    #[error("Invalid severity {0:?}: 0-5 or a Zabbix severity name")]
    Severity(String),
    /// A field is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// The host file is invalid.
    #[error("{file}: {message}")]
    Hosts {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// The alarm property holding the trigger id: how a recovery finds its problem's alarms.
pub const TRIGGER_ID: &str = "trigger_id";

/// The type of a host the host file does not list.
pub const DEFAULT_TYPE: &str = "nova.host";

/// Reads `zabbix_conf.yaml` (`zabbix: [{zabbix_host: ..., type: ..., name: ...}]`).
pub fn parse_hosts(file: &str, text: &str) -> Result<Hosts, ZabbixError> {
    let bad = |message: String| ZabbixError::Hosts { file: file.into(), message };
    let doc = crate::template::yaml::parse(text).map_err(|e| {
        let at = e.pos.map(|p| format!("{p}: ")).unwrap_or_default();
        bad(format!("{at}{}", e.message))
    })?;
    let Some(list) = doc.get("zabbix") else { return Ok(Hosts::new()) };
    let items =
        list.as_seq().ok_or_else(|| bad(format!("{}: zabbix: a list is required", list.pos)))?;
    let mut hosts = Hosts::new();
    for (i, item) in items.iter().enumerate() {
        let field = |k: &str| {
            item.get_str(k)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("{}: zabbix[{i}].{k}: required", item.pos)))
        };
        hosts.insert(field("zabbix_host")?, (field("type")?, field("name")?));
    }
    Ok(hosts)
}

/// Vitrage's `ZabbixTriggerSeverity`: the name of a severity number, or the name itself.
pub fn severity(text: &str) -> Option<&'static str> {
    const NAMES: [&str; 6] =
        ["NOT CLASSIFIED", "INFORMATION", "WARNING", "AVERAGE", "HIGH", "DISASTER"];
    if let Ok(n) = text.trim().parse::<usize>() {
        return NAMES.get(n).copied();
    }
    let upper = text.trim().to_ascii_uppercase();
    NAMES
        .iter()
        .copied()
        .find(|n| *n == upper || (upper == "NOT_CLASSIFIED" && *n == "NOT CLASSIFIED"))
}

/// The Zabbix datasource, with the host file.
#[derive(Debug, Default)]
pub struct Zabbix {
    /// Zabbix host → resource.
    pub hosts: Hosts,
}

impl Zabbix {
    /// The type and id of the resource Zabbix calls `host`.
    pub fn resource(&self, host: &str) -> (String, String) {
        match self.hosts.get(host) {
            Some((kind, name)) => (kind.clone(), name.clone()),
            None => (DEFAULT_TYPE.to_string(), host.to_string()),
        }
    }
}

impl Datasource for Zabbix {
    type Input = Report;
    type Error = ZabbixError;

    fn name(&self) -> SourceName {
        "zabbix"
    }

    fn translate(&mut self, report: Report) -> Result<Vec<Batch>, ZabbixError> {
        let Report { event: e, raised } = report;
        for (name, v) in [
            ("host", &e.host),
            ("trigger_id", &e.trigger_id),
            ("trigger_name", &e.trigger_name),
            ("event_id", &e.event_id),
        ] {
            if v.trim().is_empty() {
                return Err(ZabbixError::Empty(name));
            }
        }
        let problem = match e.value.trim() {
            "1" => true,
            "0" => false,
            _ => return Err(ZabbixError::Value(e.value)),
        };
        let severity =
            severity(&e.severity).ok_or_else(|| ZabbixError::Severity(e.severity.clone()))?;
        let (kind, resource) = self.resource(&e.host);
        let mut properties = BTreeMap::new();
        properties.insert(
            "rawtext".into(),
            Value::String(e.rawtext.clone().unwrap_or_else(|| e.trigger_name.clone())),
        );
        properties.insert("zabbix_resource_name".into(), Value::String(e.host.clone()));
        properties.insert("event_id".into(), Value::String(e.event_id.clone()));
        properties.insert(TRIGGER_ID.into(), Value::String(e.trigger_id.clone()));
        if let Some(t) = &e.time {
            properties.insert("lastchange".into(), Value::String(t.clone()));
        }
        let alarm = Alarm {
            kind: AlarmType::Zabbix,
            // As Vitrage, the Zabbix host's name in the trigger name becomes the resource's.
            name: e.trigger_name.replace(&e.host, &resource),
            target: resource.clone(),
            severity: Some(severity.to_string()),
            id: Some(e.trigger_id.clone()),
            properties,
        };
        let changes = if problem {
            vec![identity::placeholder(&kind, &resource), Change::RaiseAlarm { alarm }]
        } else {
            let mut names = raised;
            names.retain(|n| *n != alarm.name);
            let others = names.into_iter().map(|name| Alarm { name, ..alarm.clone() });
            let mut clears = vec![Change::ClearAlarm { alarm: alarm.clone() }];
            clears.extend(others.map(|alarm| Change::ClearAlarm { alarm }));
            clears
        };
        let mut batch = Batch::new(self.name(), changes);
        batch.request_id = Some(format!("zabbix:{}:{}", e.event_id, e.value.trim()));
        Ok(vec![batch])
    }
}

#[cfg(test)]
mod tests;
