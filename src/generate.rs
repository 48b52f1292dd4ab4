//! Synthetic scenarios of a given size, for tests and benchmarks: a cluster of zones of
//! hosts of instances, with a port on a network per instance, a volume on every other
//! instance, and an application (heat.stack) over every ten instances; then NIC failures
//! raised and cleared on a chosen number of hosts.
//!
//! The topology is produced element by element ([`topology`]), so a benchmark can load a
//! million resources without holding them twice.

use crate::scenario::{Alarm, AlarmType, Edge, Resource};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The size of a generated scenario.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Availability zones.
    pub zones: usize,
    /// Hosts in all.
    pub hosts: usize,
    /// Instances per host.
    pub instances_per_host: usize,
    /// Hosts that get a NIC failure (raised, then cleared) as steps.
    pub alarms: usize,
}

/// One generated element.
#[derive(Debug, Clone)]
pub enum Element {
    /// A resource.
    Resource(Resource),
    /// An edge between two earlier resources.
    Edge(Edge),
}

fn resource(id: String, kind: &str, state: &str) -> Element {
    Element::Resource(Resource {
        id,
        kind: kind.into(),
        name: None,
        state: Some(state.into()),
        properties: BTreeMap::new(),
    })
}

fn edge(source: &str, target: &str, label: &str) -> Element {
    Element::Edge(Edge {
        source: source.into(),
        target: target.into(),
        relationship_type: label.into(),
    })
}

/// Calls `emit` with every resource and edge of the topology, each edge after its ends.
pub fn topology(size: Size, mut emit: impl FnMut(Element)) {
    let zones = size.zones.max(1);
    emit(resource("cluster".into(), "openstack.cluster", "AVAILABLE"));
    for z in 0..zones {
        emit(resource(format!("zone-{z}"), "nova.zone", "AVAILABLE"));
        emit(resource(format!("net-{z}"), "neutron.network", "ACTIVE"));
        emit(edge("cluster", &format!("zone-{z}"), "contains"));
    }
    let mut instance = 0usize;
    for h in 0..size.hosts {
        let host = format!("host-{h}");
        let zone = h % zones;
        emit(resource(host.clone(), "nova.host", "AVAILABLE"));
        emit(edge(&format!("zone-{zone}"), &host, "contains"));
        for _ in 0..size.instances_per_host {
            let vm = format!("vm-{instance}");
            let port = format!("port-{instance}");
            emit(resource(vm.clone(), "nova.instance", "ACTIVE"));
            emit(resource(port.clone(), "neutron.port", "ACTIVE"));
            emit(edge(&host, &vm, "contains"));
            emit(edge(&format!("net-{zone}"), &port, "contains"));
            emit(edge(&port, &vm, "attached"));
            if instance.is_multiple_of(2) {
                let volume = format!("volume-{instance}");
                emit(resource(volume.clone(), "cinder.volume", "IN-USE"));
                emit(edge(&volume, &vm, "attached"));
            }
            let app = format!("app-{}", instance / 10);
            if instance.is_multiple_of(10) {
                emit(resource(app.clone(), "heat.stack", "CREATE_COMPLETE"));
            }
            emit(edge(&app, &vm, "comprised"));
            instance += 1;
        }
    }
}

/// The NIC failure alarm of the `k`-th alarmed host.
pub fn nic_alarm(size: Size, k: usize) -> Alarm {
    let stride = (size.hosts / size.alarms.max(1)).max(1);
    Alarm {
        kind: AlarmType::Zabbix,
        name: "nic failure".into(),
        target: format!("host-{}", (k * stride) % size.hosts.max(1)),
        severity: None,
        id: None,
        properties: Default::default(),
    }
}

/// A scenario in the format of `scenario-format.md`.
pub fn scenario(size: Size) -> Value {
    let mut resources = Vec::new();
    let mut edges = Vec::new();
    topology(size, |e| {
        match e {
        Element::Resource(r) => resources.push(json!({"id": r.id, "type": r.kind, "state": r.state})),
        Element::Edge(e) => edges.push(json!({"source": e.source, "target": e.target, "relationship_type": e.relationship_type})),
    }
    });
    let mut steps = Vec::new();
    for k in 0..size.alarms.min(size.hosts) {
        let a = nic_alarm(size, k);
        let alarm = json!({"type": "zabbix", "name": a.name, "target": a.target});
        steps.push(json!({"op": "raise_alarm", "alarm": alarm}));
        steps.push(json!({"op": "clear_alarm", "alarm": alarm}));
    }
    json!({"initial": "startup", "resources": resources, "edges": edges, "alarms": [], "steps": steps})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_scenarios_parse_with_edges_after_their_ends() {
        let size = Size { zones: 2, hosts: 4, instances_per_host: 5, alarms: 2 };
        let s = scenario(size);
        let parsed = crate::scenario::parse(&s.to_string()).expect("parses");
        let ids: std::collections::BTreeSet<&str> =
            parsed.resources.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), parsed.resources.len());
        assert!(
            parsed
                .edges
                .iter()
                .all(|e| ids.contains(e.source.as_str()) && ids.contains(e.target.as_str()))
        );
        assert_eq!(parsed.steps.len(), 4);
    }
}
