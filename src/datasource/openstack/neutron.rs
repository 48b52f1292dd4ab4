//! Neutron: networks and ports (`network.*.end`, `port.*.end`).
//!
//! Create and update payloads carry the object under `network` / `port`; delete payloads only
//! its id (`network_id`, `port_id`). As in Vitrage, only ports whose `device_owner` is a
//! compute (`compute:nova`) are vertices: router and DHCP ports are not part of the topology.
//! A known port that stops being a compute's is removed.

use super::{Neighbours, NotificationError, Payload, Slot, kind, resource, text};
use crate::runner::Change;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The changes of a network notification.
pub(super) fn network(
    p: &Payload<'_>,
    memory: &mut Neighbours,
) -> Result<Vec<Change>, NotificationError> {
    match p.event {
        "network.create.end" | "network.update.end" => {
            let net = p.object("network")?;
            Ok(vec![network_resource(net, p.id(net, "id")?)])
        }
        "network.delete.end" => {
            let id = p.id(p.object("")?, "network_id")?;
            memory.forget(id);
            Ok(vec![Change::DeleteResource { id: id.to_owned() }])
        }
        _ => Ok(Vec::new()),
    }
}

/// The changes of a port notification.
pub(super) fn port(
    p: &Payload<'_>,
    memory: &mut Neighbours,
) -> Result<Vec<Change>, NotificationError> {
    match p.event {
        "port.create.end" | "port.update.end" => {
            let port = p.object("port")?;
            let id = p.id(port, "id")?;
            let Some(report) = port_resource(port, id) else {
                if memory.knows(id) {
                    memory.forget(id);
                    return Ok(vec![Change::DeleteResource { id: id.to_owned() }]);
                }
                return Ok(Vec::new());
            };
            let mut out = vec![report];
            let one =
                |k: &str| text(port, k).map(str::to_owned).into_iter().collect::<BTreeSet<_>>();
            memory.relate(id, Slot::PortNetwork, one("network_id"), &mut out);
            memory.relate(id, Slot::PortInstance, one("device_id"), &mut out);
            Ok(out)
        }
        "port.delete.end" => {
            let id = p.id(p.object("")?, "port_id")?;
            memory.forget(id);
            Ok(vec![Change::DeleteResource { id: id.to_owned() }])
        }
        _ => Ok(Vec::new()),
    }
}

/// The report of network `net` (id `id`), as a notification or a listing shows it.
pub(super) fn network_resource(net: &Map<String, Value>, id: &str) -> Change {
    let project = net.get("project_id").or_else(|| net.get("tenant_id"));
    let (name, state) = (text(net, "name"), text(net, "status"));
    resource(kind::NETWORK, id, name, state, &[("project_id", project)])
}

/// The report of port `port` (id `id`); `None` unless a compute owns it.
pub(super) fn port_resource(port: &Map<String, Value>, id: &str) -> Option<Change> {
    if !text(port, "device_owner").is_some_and(|o| o.contains("compute")) {
        return None;
    }
    let ips = port.get("fixed_ips").and_then(Value::as_array).into_iter().flatten();
    let ips = Value::Array(ips.filter_map(|ip| ip.get("ip_address").cloned()).collect());
    let project = port.get("project_id").or_else(|| port.get("tenant_id"));
    Some(resource(
        kind::PORT,
        id,
        text(port, "name"),
        text(port, "status"),
        &[
            ("project_id", project),
            ("ip_addresses", Some(&ips)),
            ("host_id", port.get("binding:host_id")),
        ],
    ))
}
