//! The OpenStack APIs' listings (Vitrage's `get_all`) as a snapshot of the topology, and the
//! changes that make the graph match it.
//!
//! A poll lists Nova's compute services, hypervisors, availability zones and servers (all
//! tenants), Neutron's networks and ports, Cinder's volumes and Heat's stacks. Each listing
//! that succeeded is the truth for its kinds: [`resync`] reports what is new or different,
//! removes what the listing no longer has, and leaves alone what did not change, so a quiet
//! cloud's resync logs nothing. A listing that failed (a 503, a service not in the catalog)
//! prunes nothing: its kinds keep what the graph has until a later poll lists them. Vertices
//! another source only mentioned (placeholders) are filled in when listed, never removed.
//! A stack `-comprised->` the servers, volumes, networks and ports among its resources.

use super::{kind, label, neutron, placeholder, resource, text};
use crate::runner::Change;
use crate::scenario::Resource;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The root vertex's id, as Vitrage names it.
pub const CLUSTER_ID: &str = "OpenStack Cluster";

/// What one poll listed; `None` for a listing that failed or whose service is not in the
/// catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// `GET /os-services?binary=nova-compute`: `services`.
    pub services: Option<Vec<Value>>,
    /// `GET /os-hypervisors/detail`: `hypervisors` (enrich the hosts; optional).
    pub hypervisors: Option<Vec<Value>>,
    /// `GET /os-availability-zone/detail`: `availabilityZoneInfo`.
    pub zones: Option<Vec<Value>>,
    /// `GET /servers/detail?all_tenants=1`: `servers`.
    pub servers: Option<Vec<Value>>,
    /// `GET /v2.0/networks`: `networks`.
    pub networks: Option<Vec<Value>>,
    /// `GET /v2.0/ports`: `ports`.
    pub ports: Option<Vec<Value>>,
    /// `GET /volumes/detail?all_tenants=1`: `volumes`.
    pub volumes: Option<Vec<Value>>,
    /// `GET /stacks?global_tenant=true`: `stacks`, each with its `resources`
    /// (`GET /stacks/{name}/{id}/resources?nested_depth=10`) added, as Vitrage's driver does.
    pub stacks: Option<Vec<Value>>,
}

/// An edge: (source, label, target).
pub type EdgeKey = (String, String, String);

/// The topology as the listings show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Every listed resource, by id.
    pub resources: BTreeMap<String, Resource>,
    /// Every edge, with its endpoints' types (source, target).
    pub edges: BTreeMap<EdgeKey, (String, String)>,
    /// The kinds whose listing succeeded.
    pub listed: BTreeSet<&'static str>,
}

/// What the graph holds of the kinds a poll owns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Present {
    /// Resources by id, with whether each is a placeholder.
    pub resources: BTreeMap<String, (Resource, bool)>,
    /// Edges between resources, with their endpoints' types.
    pub edges: BTreeMap<EdgeKey, (String, String)>,
}

impl Present {
    /// The resources of the owned kinds among `vertices` (property dicts as the API shows
    /// them: `id`, `vitrage_type`, `name`, `state`, `vitrage_is_placeholder`, the rest), and
    /// the edges among them (`(source index, label, target index)`).
    pub fn of_graph<'a>(
        vertices: &[&Map<String, Value>],
        edges: impl Iterator<Item = (usize, &'a str, usize)>,
    ) -> Present {
        let mut present = Present::default();
        for v in vertices {
            let Some((kind, id)) = owned(v) else { continue };
            let properties = v
                .iter()
                .filter(|(k, _)| !crate::runner::is_reserved_property(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let placeholder = v.get("vitrage_is_placeholder") == Some(&Value::Bool(true));
            let r = Resource {
                id: id.to_owned(),
                kind: kind.to_owned(),
                name: v.get("name").and_then(Value::as_str).map(str::to_owned),
                state: v.get("state").and_then(Value::as_str).map(str::to_owned),
                properties,
            };
            present.resources.insert(id.to_owned(), (r, placeholder));
        }
        for (s, relationship_type, t) in edges {
            let (Some(source), Some(target)) =
                (vertices.get(s).and_then(|v| owned(v)), vertices.get(t).and_then(|v| owned(v)))
            else {
                continue;
            };
            let key = (source.1.to_owned(), relationship_type.to_owned(), target.1.to_owned());
            present.edges.insert(key, (source.0.to_owned(), target.0.to_owned()));
        }
        present
    }
}

/// The (type, id) of a vertex of an owned kind.
fn owned(v: &Map<String, Value>) -> Option<(&str, &str)> {
    let kind = v.get("vitrage_type").and_then(Value::as_str)?;
    let id = v.get("id").and_then(Value::as_str)?;
    OWNED.contains(&kind).then_some((kind, id))
}

/// The objects of a listing.
fn each(items: &Option<Vec<Value>>) -> impl Iterator<Item = &Map<String, Value>> {
    items.iter().flatten().filter_map(Value::as_object)
}

/// The kinds a poll owns (and so may remove).
pub const OWNED: [&str; 8] = [
    kind::CLUSTER,
    kind::ZONE,
    kind::HOST,
    kind::INSTANCE,
    kind::NETWORK,
    kind::PORT,
    kind::VOLUME,
    kind::STACK,
];

/// Which listing owns an edge of this label between these types.
fn edge_owner(source: &str, relationship_type: &str, target: &str) -> Option<&'static str> {
    match (source, relationship_type, target) {
        (kind::CLUSTER, label::CONTAINS, kind::ZONE) => Some(kind::ZONE),
        (kind::ZONE, label::CONTAINS, kind::HOST) => Some(kind::ZONE),
        (kind::HOST, label::CONTAINS, kind::INSTANCE) => Some(kind::INSTANCE),
        (kind::NETWORK, label::CONTAINS, kind::PORT) => Some(kind::PORT),
        (kind::PORT, label::ATTACHED, kind::INSTANCE) => Some(kind::PORT),
        (kind::VOLUME, label::ATTACHED, kind::INSTANCE) => Some(kind::VOLUME),
        (kind::STACK, label::COMPRISED, _) => Some(kind::STACK),
        _ => None,
    }
}

impl Snapshot {
    /// The snapshot of what `inventory` listed.
    pub fn of(inventory: &Inventory) -> Snapshot {
        let mut s = Snapshot::default();
        if let Some(services) = &inventory.services {
            s.hosts(services, inventory.hypervisors.as_deref().unwrap_or(&[]));
        }
        if let Some(zones) = &inventory.zones {
            s.zones(zones);
        }
        if inventory.servers.is_some() {
            s.listed.insert(kind::INSTANCE);
        }
        for server in each(&inventory.servers) {
            s.server(server);
        }
        if inventory.networks.is_some() {
            s.listed.insert(kind::NETWORK);
        }
        for net in each(&inventory.networks) {
            s.network(net);
        }
        if inventory.ports.is_some() {
            s.listed.insert(kind::PORT);
        }
        for port in each(&inventory.ports) {
            s.port(port);
        }
        if inventory.volumes.is_some() {
            s.listed.insert(kind::VOLUME);
        }
        for volume in each(&inventory.volumes) {
            s.volume(volume);
        }
        if inventory.stacks.is_some() {
            s.listed.insert(kind::STACK);
        }
        for stack in each(&inventory.stacks) {
            s.stack(stack);
        }
        s
    }

    fn add(&mut self, change: Change) {
        if let Change::AddResource { resource } = change {
            self.resources.insert(resource.id.clone(), resource);
        }
    }

    fn link(&mut self, source: (&str, &str), relationship_type: &str, target: (&str, &str)) {
        let key = (source.1.to_owned(), relationship_type.to_owned(), target.1.to_owned());
        self.edges.insert(key, (source.0.to_owned(), target.0.to_owned()));
    }

    fn hosts(&mut self, services: &[Value], hypervisors: &[Value]) {
        self.listed.insert(kind::HOST);
        for service in services.iter().filter_map(Value::as_object) {
            let Some(host) = text(service, "host") else { continue };
            if text(service, "binary").is_some_and(|b| b != "nova-compute") {
                continue;
            }
            let hypervisor = hypervisors.iter().find(|h| h["service"]["host"] == host);
            let ip = hypervisor.and_then(|h| h.get("host_ip"));
            let disabled = Value::Bool(text(service, "status") == Some("disabled"));
            let forced = Value::Bool(service.get("forced_down") == Some(&Value::Bool(true)));
            let down = forced == Value::Bool(true) || text(service, "state") == Some("down");
            let state = if down {
                "ERROR"
            } else if disabled == Value::Bool(true) {
                "SUBOPTIMAL"
            } else {
                "AVAILABLE"
            };
            self.add(resource(
                kind::HOST,
                host,
                Some(host),
                Some(state),
                &[
                    ("forced_down", Some(&forced)),
                    ("disabled", Some(&disabled)),
                    ("disabled_reason", service.get("disabled_reason")),
                    ("host_ip", ip),
                ],
            ));
        }
    }

    fn zones(&mut self, zones: &[Value]) {
        self.listed.insert(kind::ZONE);
        self.listed.insert(kind::CLUSTER);
        let cluster =
            resource(kind::CLUSTER, CLUSTER_ID, Some(kind::CLUSTER), Some("available"), &[]);
        self.add(cluster);
        for zone in zones.iter().filter_map(Value::as_object) {
            let Some(name) = text(zone, "zoneName").filter(|n| *n != "internal") else { continue };
            let available = zone.get("zoneState").and_then(|s| s.get("available"));
            let state =
                if available == Some(&Value::Bool(true)) { "available" } else { "unavailable" };
            self.add(resource(kind::ZONE, name, Some(name), Some(state), &[]));
            self.link((kind::CLUSTER, CLUSTER_ID), label::CONTAINS, (kind::ZONE, name));
            let hosts = zone.get("hosts").and_then(Value::as_object).into_iter().flatten();
            for (host, services) in hosts {
                if services.get("nova-compute").is_some() {
                    self.link((kind::ZONE, name), label::CONTAINS, (kind::HOST, host));
                }
            }
        }
    }

    fn server(&mut self, server: &Map<String, Value>) {
        let Some(id) = text(server, "id") else { return };
        let state = text(server, "OS-EXT-STS:vm_state").or_else(|| text(server, "status"));
        let host = server.get("OS-EXT-SRV-ATTR:host");
        let project = server.get("tenant_id").or_else(|| server.get("project_id"));
        self.add(resource(
            kind::INSTANCE,
            id,
            text(server, "name"),
            state,
            &[("project_id", project), ("host_id", host)],
        ));
        if let Some(host) = text(server, "OS-EXT-SRV-ATTR:host") {
            self.link((kind::HOST, host), label::CONTAINS, (kind::INSTANCE, id));
        }
    }

    fn network(&mut self, net: &Map<String, Value>) {
        let Some(id) = text(net, "id") else { return };
        self.add(neutron::network_resource(net, id));
    }

    fn port(&mut self, port: &Map<String, Value>) {
        let Some(id) = text(port, "id") else { return };
        let Some(report) = neutron::port_resource(port, id) else { return };
        self.add(report);
        if let Some(net) = text(port, "network_id") {
            self.link((kind::NETWORK, net), label::CONTAINS, (kind::PORT, id));
        }
        if let Some(vm) = text(port, "device_id") {
            self.link((kind::PORT, id), label::ATTACHED, (kind::INSTANCE, vm));
        }
    }

    fn volume(&mut self, volume: &Map<String, Value>) {
        let Some(id) = text(volume, "id") else { return };
        self.add(resource(
            kind::VOLUME,
            id,
            text(volume, "name"),
            text(volume, "status"),
            &[
                ("project_id", volume.get("os-vol-tenant-attr:tenant_id")),
                ("size", volume.get("size")),
                ("volume_type", volume.get("volume_type")),
            ],
        ));
        let attachments = volume.get("attachments").and_then(Value::as_array).into_iter().flatten();
        for server in attachments.filter_map(|a| a.get("server_id").and_then(Value::as_str)) {
            self.link((kind::VOLUME, id), label::ATTACHED, (kind::INSTANCE, server));
        }
    }

    fn stack(&mut self, stack: &Map<String, Value>) {
        let Some(id) = text(stack, "id") else { return };
        let status = text(stack, "stack_status");
        if status.is_some_and(|s| matches!(s, "DELETE_COMPLETE" | "DELETE_IN_PROGRESS")) {
            return;
        }
        let project = stack.get("project").or_else(|| stack.get("stack_owner"));
        let name = text(stack, "stack_name");
        self.add(resource(kind::STACK, id, name, status, &[("project_id", project)]));
        let resources = stack.get("resources").and_then(Value::as_array).into_iter().flatten();
        for r in resources.filter_map(Value::as_object) {
            let kind = match text(r, "resource_type") {
                Some("OS::Nova::Server") => kind::INSTANCE,
                Some("OS::Cinder::Volume") => kind::VOLUME,
                Some("OS::Neutron::Net") => kind::NETWORK,
                Some("OS::Neutron::Port") => kind::PORT,
                _ => continue,
            };
            if let Some(physical) = text(r, "physical_resource_id") {
                self.link((kind::STACK, id), label::COMPRISED, (kind, physical));
            }
        }
    }
}

/// A property value as the graph keeps it: numbers and arrays as their text, null as absent.
fn kept(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Bool(_) | Value::String(_) => Some(value.clone()),
        other => Some(Value::String(other.to_string())),
    }
}

/// Whether `listed` says something `present` does not.
fn differs(present: &Resource, listed: &Resource) -> bool {
    let field = |l: &Option<String>, p: &Option<String>| l.is_some() && l != p;
    present.kind != listed.kind
        || field(&listed.name, &present.name)
        || field(&listed.state, &present.state)
        || listed.properties.iter().any(|(k, v)| {
            kept(v).is_some_and(|v| Some(v) != present.properties.get(k).and_then(kept))
        })
}

/// The changes that make `present` match `snapshot`, for the kinds it listed.
pub fn resync(present: &Present, snapshot: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    for (id, listed) in &snapshot.resources {
        let stale = present
            .resources
            .get(id)
            .is_none_or(|(p, placeholder)| *placeholder || differs(p, listed));
        if stale {
            out.push(Change::AddResource { resource: listed.clone() });
        }
    }
    let known =
        |id: &str| snapshot.resources.contains_key(id) || present.resources.contains_key(id);
    let mut ensured = BTreeSet::new();
    for ((source, relationship_type, target), (source_kind, target_kind)) in &snapshot.edges {
        if present.edges.contains_key(&(source.clone(), relationship_type.clone(), target.clone()))
        {
            continue;
        }
        for (id, kind) in [(source, source_kind), (target, target_kind)] {
            if !known(id) && ensured.insert(id.clone()) {
                out.push(placeholder(kind, id));
            }
        }
        out.push(Change::AddEdge {
            source: source.clone(),
            target: target.clone(),
            relationship_type: relationship_type.clone(),
        });
    }
    for (key, (source_kind, target_kind)) in &present.edges {
        let owner = edge_owner(source_kind, &key.1, target_kind);
        if owner.is_some_and(|o| snapshot.listed.contains(o)) && !snapshot.edges.contains_key(key) {
            let (source, relationship_type, target) = key.clone();
            out.push(Change::DeleteEdge { source, target, relationship_type });
        }
    }
    for (id, (p, placeholder)) in &present.resources {
        let listed = snapshot.listed.iter().any(|k| *k == p.kind);
        if listed && !placeholder && !snapshot.resources.contains_key(id) {
            out.push(Change::DeleteResource { id: id.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests;
