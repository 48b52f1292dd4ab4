//! Prometheus Alertmanager's webhook (payload version 4), mapped as Vitrage's prometheus
//! datasource maps it.
//!
//! An alert names no vertex: it carries labels (`alertname`, `instance`, `job`, ...). Vitrage's
//! mapping file says, per kind of alert (the labels of its `key`), which vertex property holds
//! the value of which label (`resource: {id: instance}`), and the alarm goes on every vertex
//! whose properties all equal those values. Finding those vertices needs the graph, which a
//! datasource does not hold, so translation has two steps: [`Mapping::resource`] says what to
//! look for, the service finds the vertices, and [`Alertmanager`] turns each alert and its
//! vertices into changes.
//!
//! Alertmanager resends a notification after a 5xx and both members of an HA pair send it, so
//! every alert is its own batch with a request id made of its fingerprint, status and time:
//! the second copy changes nothing.

use super::{Batch, Datasource, SourceName};
use crate::runner::Change;
use crate::scenario::{Alarm, AlarmType};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The vertex properties, and their values, an alert's resources have.
pub type Resource = BTreeMap<String, String>;

/// Vitrage's prometheus mapping file: `alerts: [{key: {label: value}, resource: {vertex
/// property: label}}]`. Every value is a string, as PyYAML's BaseLoader reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// The entries, in file order: the first whose key matches wins.
    pub alerts: Vec<Entry>,
}

/// One kind of alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Labels and the values an alert must have to be of this kind.
    pub key: BTreeMap<String, String>,
    /// Vertex property → the label whose value it must equal.
    pub resource: BTreeMap<String, String>,
}

/// Why a mapping file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct MappingError {
    /// The file.
    pub file: String,
    /// What is wrong, with its place.
    pub message: String,
}

impl Mapping {
    /// Reads a mapping file's text.
    pub fn parse(file: &str, text: &str) -> Result<Mapping, MappingError> {
        let error = |message: String| MappingError { file: file.into(), message };
        let doc: Value = serde_saphyr::from_str(text).map_err(|e| error(e.to_string()))?;
        let entries = match doc.get("alerts") {
            Some(Value::Array(a)) => a,
            Some(Value::Null) | None => return Ok(Mapping::default()),
            Some(_) => return Err(error("alerts: a list is required".into())),
        };
        let table = |e: &Value, i: usize, k: &str| -> Result<BTreeMap<String, String>, String> {
            let Some(Value::Object(m)) = e.get(k) else {
                return Err(format!("alerts[{i}].{k}: a mapping is required"));
            };
            m.iter()
                .map(|(name, v)| match scalar(v) {
                    Some(v) => Ok((name.clone(), v)),
                    None => Err(format!("alerts[{i}].{k}.{name}: a string is required")),
                })
                .collect()
        };
        let alerts = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                Ok(Entry { key: table(e, i, "key")?, resource: table(e, i, "resource")? })
            })
            .collect::<Result<_, String>>()
            .map_err(error)?;
        Ok(Mapping { alerts })
    }

    /// What the resources of `alert` look like: the first entry whose key the alert's labels
    /// include, its properties filled from the labels. None without such an entry, or when
    /// the alert lacks one of the labels the entry names.
    pub fn resource(&self, alert: &Alert) -> Option<Resource> {
        let entry = self
            .alerts
            .iter()
            .find(|e| e.key.iter().all(|(k, v)| alert.labels.get(k) == Some(v)))?;
        entry
            .resource
            .iter()
            .map(|(prop, label)| Some((prop.clone(), alert.labels.get(label)?.clone())))
            .collect()
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        _ => None,
    }
}

/// Whether a vertex's properties (as the API shows them) have every value of `resource`.
pub fn matches(props: &serde_json::Map<String, Value>, resource: &Resource) -> bool {
    !resource.is_empty()
        && resource.iter().all(|(k, want)| props.get(k).and_then(scalar).as_ref() == Some(want))
}

/// The webhook body, version 4. Fields causeway does not read are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Notification {
    /// The payload version: `"4"`.
    pub version: String,
    /// The alerts of the group.
    pub alerts: Vec<Alert>,
    /// How many alerts `max_alerts` left out (their alarms wait for a later notification).
    #[serde(default, rename = "truncatedAlerts")]
    pub truncated_alerts: u64,
}

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels: `alertname`, `severity` and what identifies the resource.
    pub labels: BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`, ...).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    #[serde(default)]
    pub starts_at: String,
    /// When it was resolved (`0001-01-01T00:00:00Z` while firing).
    #[serde(default)]
    pub ends_at: String,
    /// Alertmanager's hash of the labels: the alert's identity.
    pub fingerprint: String,
}

/// Why a webhook body cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertmanagerError {
    /// Not a version 4 payload.
    #[error("Unsupported Alertmanager payload version {0:?}: 4 is supported")]
    Version(String),
    /// An alert's status is neither `firing` nor `resolved`.
    #[error("alert {fingerprint}: invalid status {status:?}: firing or resolved")]
    Status {
        /// The alert.
        fingerprint: String,
        /// Its status.
        status: String,
    },
    /// An alert has no `alertname` label.
    #[error("alert {0}: no alertname label")]
    Name(String),
}

/// An alert and the resource ids it is on: for a firing alert the vertices its mapping
/// matches, for a resolved one also those its alarm is on now.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// The alert.
    pub alert: Alert,
    /// Resource ids.
    pub targets: Vec<String>,
}

/// The Alertmanager datasource. It keeps nothing between notifications.
#[derive(Debug, Default)]
pub struct Alertmanager;

impl Alertmanager {
    /// Checks a notification before its alerts are routed.
    pub fn check(notification: &Notification) -> Result<(), AlertmanagerError> {
        if notification.version != "4" {
            return Err(AlertmanagerError::Version(notification.version.clone()));
        }
        for a in &notification.alerts {
            if !matches!(a.status.as_str(), "firing" | "resolved") {
                let (fingerprint, status) = (a.fingerprint.clone(), a.status.clone());
                return Err(AlertmanagerError::Status { fingerprint, status });
            }
            if !a.labels.contains_key("alertname") {
                return Err(AlertmanagerError::Name(a.fingerprint.clone()));
            }
        }
        Ok(())
    }
}

impl Datasource for Alertmanager {
    type Input = Vec<Routed>;
    type Error = AlertmanagerError;

    fn name(&self) -> SourceName {
        "alertmanager"
    }

    /// One batch per alert: its alarm raised (or cleared) on each of its targets.
    fn translate(&mut self, routed: Vec<Routed>) -> Result<Vec<Batch>, AlertmanagerError> {
        let mut batches = Vec::with_capacity(routed.len());
        for Routed { alert, targets } in routed {
            let Some(name) = alert.labels.get("alertname").cloned() else {
                return Err(AlertmanagerError::Name(alert.fingerprint));
            };
            let firing = alert.status == "firing";
            let changes = targets
                .into_iter()
                .map(|target| {
                    let alarm = alarm(&alert, &name, target);
                    if firing { Change::RaiseAlarm { alarm } } else { Change::ClearAlarm { alarm } }
                })
                .collect();
            let at = if firing { &alert.starts_at } else { &alert.ends_at };
            let mut batch = Batch::new(self.name(), changes);
            batch.request_id =
                Some(format!("alertmanager:{}:{}:{at}", alert.fingerprint, alert.status));
            batches.push(batch);
        }
        Ok(batches)
    }
}

/// The alarm of `alert` on `target`: named by `alertname`, identified by the fingerprint, with
/// the labels and annotations as its properties.
fn alarm(alert: &Alert, name: &str, target: String) -> Alarm {
    let mut properties: BTreeMap<String, Value> = BTreeMap::new();
    let own = |k: &str| crate::runner::is_alarm_own_property(k) || k == "alertname";
    for (k, v) in alert.annotations.iter().chain(&alert.labels).filter(|(k, _)| !own(k)) {
        properties.insert(k.clone(), Value::String(v.clone()));
    }
    properties.insert(FINGERPRINT.into(), Value::String(alert.fingerprint.clone()));
    properties.insert("status".into(), Value::String(alert.status.clone()));
    properties.insert("startsAt".into(), Value::String(alert.starts_at.clone()));
    Alarm {
        kind: AlarmType::Prometheus,
        name: name.into(),
        target,
        severity: alert.labels.get("severity").cloned(),
        id: Some(alert.fingerprint.clone()),
        properties,
    }
}

/// The alarm property holding the alert's fingerprint: how a resolved alert finds the alarms
/// its firing raised, whatever the graph looks like now.
pub const FINGERPRINT: &str = "fingerprint";

#[cfg(test)]
mod tests;
