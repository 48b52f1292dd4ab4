//! Nova: instances (versioned `instance.*` and legacy `compute.instance.*` notifications) and
//! compute services (`service.update`).
//!
//! Versioned payloads wrap their fields in `nova_object.data`; legacy ones are flat and name
//! the uuid `instance_id`. Either way the instance's `host` is where it runs now, so a live
//! migration's `instance.live_migration_post_dest.end` (or the `instance.update` that follows
//! it) moves the `contains` edge to the destination. Vitrage reads hosts only from the API;
//! `service.update` is the push signal that a compute service was forced down or disabled.

use super::{Neighbours, NotificationError, Payload, Slot, kind, resource, text};
use crate::runner::Change;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The changes of an instance notification.
pub(super) fn instance(
    p: &Payload<'_>,
    memory: &mut Neighbours,
) -> Result<Vec<Change>, NotificationError> {
    let legacy = p.event.starts_with("compute.");
    let (data, id) = if legacy {
        let data = p.object("")?;
        (data, p.id(data, "instance_id")?)
    } else {
        let data = p.object("nova_object.data")?;
        (data, p.id(data, "uuid")?)
    };
    if matches!(p.event, "instance.delete.end" | "compute.instance.delete.end") {
        memory.forget(id);
        return Ok(vec![Change::DeleteResource { id: id.to_owned() }]);
    }
    let name = text(data, "display_name").or_else(|| text(data, "host_name"));
    let name = name.or_else(|| text(data, "hostname"));
    let host = text(data, "host");
    let host_value = host.map(|h| Value::String(h.to_owned()));
    let mut out = vec![resource(
        kind::INSTANCE,
        id,
        name,
        text(data, "state"),
        &[("project_id", data.get("tenant_id")), ("host_id", host_value.as_ref())],
    )];
    let hosts: BTreeSet<String> = host.map(str::to_owned).into_iter().collect();
    memory.relate(id, Slot::InstanceHost, hosts, &mut out);
    Ok(out)
}

/// The changes of a `service.update`: a compute host's state.
pub(super) fn service(p: &Payload<'_>) -> Result<Vec<Change>, NotificationError> {
    let data = p.object("nova_object.data")?;
    if text(data, "binary") != Some("nova-compute") {
        return Ok(Vec::new());
    }
    let host = p.id(data, "host")?;
    let state = host_state(data);
    Ok(vec![resource(
        kind::HOST,
        host,
        Some(host),
        Some(state),
        &[
            ("forced_down", data.get("forced_down")),
            ("disabled", data.get("disabled")),
            ("disabled_reason", data.get("disabled_reason")),
        ],
    )])
}

/// `ERROR` when forced down, `SUBOPTIMAL` when disabled, else `AVAILABLE` (Vitrage's
/// `nova.host` values).
pub(crate) fn host_state(service: &Map<String, Value>) -> &'static str {
    let flag = |k: &str| service.get(k).and_then(Value::as_bool).unwrap_or(false);
    if flag("forced_down") {
        "ERROR"
    } else if flag("disabled") {
        "SUBOPTIMAL"
    } else {
        "AVAILABLE"
    }
}
