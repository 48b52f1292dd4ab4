//! Neutron: networks and ports (`network.*.end`, `port.*.end`).
//!
//! Create and update payloads carry the object under `network` / `port`; delete payloads only
//! its id (`network_id`, `port_id`). As in Vitrage, only ports whose `device_owner` is a
//! compute (`compute:nova`) are vertices: router and DHCP ports are not part of the topology.
//! A known port that stops being a compute's is removed.

use super::{Neighbours, NotificationError, Payload, Slot, kind, resource, text};
use crate::runner::Change;
use serde_json::Value;
use std::collections::BTreeSet;

/// The changes of a network notification.
pub(super) fn network(
    p: &Payload<'_>,
    memory: &mut Neighbours,
) -> Result<Vec<Change>, NotificationError> {
    match p.event {
        "network.create.end" | "network.update.end" => {
            let net = p.object("network")?;
            let id = p.id(net, "id")?;
            let project = net.get("project_id").or_else(|| net.get("tenant_id"));
            Ok(vec![resource(
                kind::NETWORK,
                id,
                text(net, "name"),
                text(net, "status"),
                &[("project_id", project)],
            )])
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
            let owner = text(port, "device_owner").unwrap_or("");
            if !owner.contains("compute") {
                if memory.knows(id) {
                    memory.forget(id);
                    return Ok(vec![Change::DeleteResource { id: id.to_owned() }]);
                }
                return Ok(Vec::new());
            }
            let ips: Vec<Value> = port
                .get("fixed_ips")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|ip| ip.get("ip_address").cloned())
                .collect();
            let ips = Value::Array(ips);
            let project = port.get("project_id").or_else(|| port.get("tenant_id"));
            let mut out = vec![resource(
                kind::PORT,
                id,
                text(port, "name"),
                text(port, "status"),
                &[
                    ("project_id", project),
                    ("ip_addresses", Some(&ips)),
                    ("host_id", port.get("binding:host_id")),
                ],
            )];
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
