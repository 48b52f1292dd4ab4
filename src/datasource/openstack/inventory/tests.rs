//! Snapshots and resyncs from listings shaped as the APIs' own samples (nova's
//! `api-ref/source/samples`, neutron's, cinder's and heat's API references).

use super::*;
use serde_json::json;

fn cloud() -> Inventory {
    Inventory {
        services: Some(vec![
            json!({"id": "4c8e7c2a", "binary": "nova-compute", "host": "compute-1", "zone": "nova",
                   "status": "enabled", "state": "up", "forced_down": false, "disabled_reason": null,
                   "updated_at": "2026-12-01T10:00:00.000000"}),
            json!({"id": "4c8e7c2b", "binary": "nova-compute", "host": "compute-2", "zone": "nova",
                   "status": "disabled", "state": "up", "forced_down": false,
                   "disabled_reason": "maintenance", "updated_at": "2026-12-01T10:00:00.000000"}),
        ]),
        hypervisors: Some(vec![json!({"id": "1bb62a04", "hypervisor_hostname": "compute-1",
            "host_ip": "192.168.1.135", "state": "up", "status": "enabled",
            "service": {"host": "compute-1", "id": "4c8e7c2a"}})]),
        zones: Some(vec![
            json!({"zoneName": "internal", "zoneState": {"available": true},
                   "hosts": {"controller": {"nova-scheduler": {"available": true, "active": true}}}}),
            json!({"zoneName": "nova", "zoneState": {"available": true},
                   "hosts": {"compute-1": {"nova-compute": {"available": true, "active": true}},
                             "compute-2": {"nova-compute": {"available": true, "active": true}}}}),
        ]),
        servers: Some(vec![json!({"id": "vm-1", "name": "web-1", "status": "ACTIVE",
            "OS-EXT-STS:vm_state": "active", "OS-EXT-SRV-ATTR:host": "compute-1",
            "tenant_id": "demo", "user_id": "u"})]),
        networks: Some(vec![json!({"id": "net-1", "name": "private", "status": "ACTIVE",
            "project_id": "demo", "tenant_id": "demo", "admin_state_up": true})]),
        ports: Some(vec![
            json!({"id": "port-1", "name": "", "status": "ACTIVE", "network_id": "net-1",
                   "device_id": "vm-1", "device_owner": "compute:nova", "project_id": "demo",
                   "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"}],
                   "binding:host_id": "compute-1"}),
            json!({"id": "port-dhcp", "status": "ACTIVE", "network_id": "net-1",
                   "device_id": "dhcp-1", "device_owner": "network:dhcp", "fixed_ips": []}),
        ]),
        volumes: Some(vec![json!({"id": "vol-1", "name": "data", "status": "in-use", "size": 10,
            "volume_type": "lvmdriver-1", "os-vol-tenant-attr:tenant_id": "demo",
            "attachments": [{"server_id": "vm-1", "attachment_id": "a", "device": "/dev/vdb"}]})]),
        stacks: Some(vec![
            json!({"id": "stack-1", "stack_name": "app", "stack_status": "CREATE_COMPLETE",
                   "project": "demo", "resources": [
                       {"resource_name": "server_1", "resource_type": "OS::Nova::Server",
                        "physical_resource_id": "vm-1", "resource_status": "CREATE_COMPLETE"},
                       {"resource_name": "sg", "resource_type": "OS::Neutron::SecurityGroup",
                        "physical_resource_id": "sg-1", "resource_status": "CREATE_COMPLETE"}]}),
            json!({"id": "stack-0", "stack_name": "old", "stack_status": "DELETE_COMPLETE",
                   "project": "demo"}),
        ]),
    }
}

/// The graph as the API would show it after applying `snapshot`: numbers and arrays as text.
fn graph_of(snapshot: &Snapshot) -> Present {
    let vertices: Vec<Map<String, Value>> = snapshot
        .resources
        .values()
        .map(|r| {
            let mut v = Map::new();
            v.insert("id".into(), json!(r.id));
            v.insert("vitrage_type".into(), json!(r.kind));
            v.insert("name".into(), json!(r.name));
            v.insert("state".into(), json!(r.state));
            v.insert("vitrage_is_placeholder".into(), json!(false));
            for (k, p) in &r.properties {
                if let Some(p) = kept(p) {
                    v.insert(k.clone(), p);
                }
            }
            v
        })
        .collect();
    let index = |id: &str| snapshot.resources.keys().position(|k| k == id);
    let edges: Vec<(usize, String, usize)> = snapshot
        .edges
        .keys()
        .filter_map(|(s, l, t)| Some((index(s)?, l.clone(), index(t)?)))
        .collect();
    let refs: Vec<&Map<String, Value>> = vertices.iter().collect();
    Present::of_graph(&refs, edges.iter().map(|(s, l, t)| (*s, l.as_str(), *t)))
}

fn edge_texts(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter_map(Change::edge)
        .map(|(e, add)| {
            let sign = if add { "+" } else { "-" };
            format!("{sign}{} -{}-> {}", e.source, e.relationship_type, e.target)
        })
        .collect()
}

#[test]
fn a_snapshot_has_vitrage_types_ids_states_and_edges() {
    let s = Snapshot::of(&cloud());
    let ids: Vec<&str> = s.resources.keys().map(String::as_str).collect();
    let expected = [
        CLUSTER_ID,
        "compute-1",
        "compute-2",
        "net-1",
        "nova",
        "port-1",
        "stack-1",
        "vm-1",
        "vol-1",
    ];
    assert_eq!(ids, expected);
    assert_eq!(s.resources["compute-1"].state.as_deref(), Some("AVAILABLE"));
    assert_eq!(s.resources["compute-1"].properties["host_ip"], "192.168.1.135");
    assert_eq!(s.resources["compute-2"].state.as_deref(), Some("SUBOPTIMAL"));
    assert_eq!(s.resources["vm-1"].state.as_deref(), Some("active"));
    assert_eq!(s.resources["nova"].kind, kind::ZONE);
    let edges: Vec<String> = s.edges.keys().map(|(a, l, b)| format!("{a} -{l}-> {b}")).collect();
    assert_eq!(
        edges,
        [
            "OpenStack Cluster -contains-> nova",
            "compute-1 -contains-> vm-1",
            "net-1 -contains-> port-1",
            "nova -contains-> compute-1",
            "nova -contains-> compute-2",
            "port-1 -attached-> vm-1",
            "stack-1 -comprised-> vm-1",
            "vol-1 -attached-> vm-1",
        ]
    );
}

#[test]
fn the_first_resync_adds_everything_and_a_second_of_the_same_cloud_changes_nothing() {
    let s = Snapshot::of(&cloud());
    let first = resync(&Present::default(), &s);
    let adds = first.iter().filter(|c| matches!(c, Change::AddResource { .. })).count();
    assert_eq!(adds, s.resources.len());
    assert_eq!(edge_texts(&first).len(), s.edges.len());
    assert_eq!(resync(&graph_of(&s), &s), vec![]);
}

#[test]
fn a_resync_moves_a_migrated_instance_and_removes_a_deleted_volume() {
    let before = Snapshot::of(&cloud());
    let mut now = cloud();
    now.servers.as_mut().unwrap()[0]["OS-EXT-SRV-ATTR:host"] = json!("compute-2");
    now.volumes = Some(vec![]);
    let changes = resync(&graph_of(&before), &Snapshot::of(&now));
    let moved = changes
        .iter()
        .any(|c| matches!(c, Change::AddResource { resource } if resource.id == "vm-1"));
    assert!(moved, "host_id changed: {changes:?}");
    assert_eq!(
        edge_texts(&changes),
        ["+compute-2 -contains-> vm-1", "-compute-1 -contains-> vm-1", "-vol-1 -attached-> vm-1"]
    );
    assert!(changes.contains(&Change::DeleteResource { id: "vol-1".into() }));
    assert_eq!(changes.len(), 5, "nothing else: {changes:?}");
}

#[test]
fn a_listing_that_failed_removes_nothing_of_its_kinds() {
    let before = Snapshot::of(&cloud());
    let mut now = cloud();
    now.volumes = None;
    now.stacks = None;
    assert_eq!(resync(&graph_of(&before), &Snapshot::of(&now)), vec![]);
}

#[test]
fn a_placeholder_is_filled_in_when_listed_and_never_removed() {
    let s = Snapshot::of(&cloud());
    let mut present = graph_of(&s);
    present.resources.get_mut("compute-1").unwrap().1 = true;
    let mention = Resource {
        id: "zabbix-host".into(),
        kind: kind::HOST.into(),
        name: None,
        state: None,
        properties: Default::default(),
    };
    present.resources.insert("zabbix-host".into(), (mention, true));
    let changes = resync(&present, &s);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(matches!(&changes[0], Change::AddResource { resource } if resource.id == "compute-1"));
}

#[test]
fn an_edge_to_a_resource_no_listing_has_gets_a_placeholder_first() {
    let mut inventory = Inventory { servers: cloud().servers, ..Inventory::default() };
    inventory.servers.as_mut().unwrap()[0]["OS-EXT-SRV-ATTR:host"] = json!("compute-7");
    let changes = resync(&Present::default(), &Snapshot::of(&inventory));
    let at = |want: &Change| changes.iter().position(|c| c == want);
    let host = at(&placeholder(kind::HOST, "compute-7")).expect("placeholder");
    let edge = changes.iter().position(|c| c.edge().is_some()).expect("edge");
    assert!(host < edge);
}
