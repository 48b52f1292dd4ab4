//! Vitrage's doctor datasource: custom events posted to `POST /v1/event`.
//!
//! OPNFV Doctor and home-grown monitors tell Vitrage that a host is down with
//! `{"time": ..., "type": "compute.host.down", "details": {"hostname": ..., "status": "down",
//! ...}}` (`vitrage event post`). Vitrage raises an alarm named by the event type on the
//! `nova.host` whose id is the hostname, keeps every detail as alarm metadata, and deletes the
//! alarm on `status: up`. The host may not be known yet (the monitor often knows of it before
//! the inventory reports it), so the alarm's target is a placeholder the owner fills in later,
//! where Vitrage's transformer makes the same placeholder neighbour.

use super::{Batch, Datasource, SourceName, identity};
use crate::runner::{Change, is_alarm_own_property};
use crate::scenario::{Alarm, AlarmType};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The type of the resource a doctor alarm is on (Vitrage's `DoctorProperties.HOST_TYPE`).
pub const HOST_TYPE: &str = "nova.host";

/// A posted event: its `type`, `time` and `details`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event type, which names the alarm (`compute.host.down`).
    pub kind: String,
    /// When it happened, as the client sent it (the CLI: local time with no zone).
    pub time: Option<String>,
    /// What the monitor says: `hostname` and `status` at least.
    pub details: Map<String, Value>,
}

/// Why an event cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoctorError {
    /// `details.status` is neither `down` nor `up`.
    #[error("Invalid status {0:?}: down or up")]
    Status(String),
    /// `time` is not `YYYY-MM-DDTHH:MM:SS[.ffffff]`.
    #[error("Invalid time {0:?}: expected YYYY-MM-DDTHH:MM:SS[.ffffff]")]
    Time(String),
}

/// The doctor datasource. It keeps nothing: an event says all it means.
#[derive(Debug, Default)]
pub struct Doctor;

impl Datasource for Doctor {
    type Input = Event;
    type Error = DoctorError;

    fn name(&self) -> SourceName {
        "doctor"
    }

    /// No batch for an event without `status` and `hostname`: no Vitrage datasource takes
    /// it, so it is accepted and dropped.
    fn translate(&mut self, event: Event) -> Result<Vec<Batch>, DoctorError> {
        let text = |k: &str| event.details.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(status), Some(hostname)) = (text("status"), text("hostname")) else {
            return Ok(Vec::new());
        };
        let time = event.time.as_deref().map(vertex_time).transpose()?;
        let down = match status.to_ascii_lowercase().as_str() {
            "down" => true,
            "up" => false,
            _ => return Err(DoctorError::Status(status)),
        };
        let mut properties: BTreeMap<String, Value> = event
            .details
            .iter()
            .filter(|(k, _)| !is_alarm_own_property(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(t) = &time {
            properties.insert("time".into(), Value::String(t.clone()));
        }
        let alarm = Alarm {
            kind: AlarmType::Doctor,
            name: event.kind.clone(),
            target: hostname.clone(),
            severity: text("severity"),
            id: None,
            properties,
        };
        let changes = if down {
            vec![identity::placeholder(HOST_TYPE, &hostname), Change::RaiseAlarm { alarm }]
        } else {
            vec![Change::ClearAlarm { alarm }]
        };
        let mut batch = Batch::new(self.name(), changes);
        // The same event posted again (a client's retry) is the same request.
        batch.request_id = time.map(|t| format!("doctor:{}:{hostname}:{status}:{t}", event.kind));
        Ok(vec![batch])
    }
}

/// `time` as Vitrage shows it on the vertex: `YYYY-MM-DDTHH:MM:SSZ`. Vitrage reformats the
/// client's text without converting zones, and so does this: the fraction and any zone the
/// client added are dropped.
pub fn vertex_time(time: &str) -> Result<String, DoctorError> {
    let bad = || DoctorError::Time(time.to_string());
    let (date, rest) = time.split_once(['T', ' ']).ok_or_else(bad)?;
    let clock = rest.get(..8).ok_or_else(bad)?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = date.split('-').chain(clock.split(':')).collect();
    let widths = [4, 2, 2, 2, 2, 2];
    if parts.len() != 6 || !parts.iter().zip(widths).all(|(p, n)| digits(p, n)) {
        return Err(bad());
    }
    let tail = rest.get(8..).unwrap_or_default();
    let zone = match tail.strip_prefix('.') {
        Some(f) => {
            let n = f.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return Err(bad());
            }
            &f[n..]
        }
        None => tail,
    };
    let offset = |z: &str| z.bytes().all(|b| b.is_ascii_digit() || b == b':');
    let zoned = zone.strip_prefix(['+', '-']).is_some_and(offset);
    if !(zone.is_empty() || zone == "Z" || zoned) {
        return Err(bad());
    }
    Ok(format!("{date}T{clock}Z"))
}

#[cfg(test)]
mod tests;
