//! The mappings, from notification samples shaped as the projects' own
//! (`nova/doc/notification_samples`, Vitrage's driver test resources).

use super::*;

fn sample(name: &str) -> Vec<u8> {
    let text = match name {
        "instance-create-end" => include_str!("samples/instance-create-end.json"),
        "instance-update" => include_str!("samples/instance-update.json"),
        "instance-live_migration_post_dest-end" => {
            include_str!("samples/instance-live_migration_post_dest-end.json")
        }
        "instance-delete-end" => include_str!("samples/instance-delete-end.json"),
        "compute-instance-create-end" => include_str!("samples/compute-instance-create-end.json"),
        "service-update" => include_str!("samples/service-update.json"),
        "network-create-end" => include_str!("samples/network-create-end.json"),
        "port-create-end" => include_str!("samples/port-create-end.json"),
        "volume-attach-end" => include_str!("samples/volume-attach-end.json"),
        "orchestration-stack-create-end" => {
            include_str!("samples/orchestration-stack-create-end.json")
        }
        "oslo-v2-instance-delete-end" => include_str!("samples/oslo-v2-instance-delete-end.json"),
        other => panic!("no sample {other}"),
    };
    text.as_bytes().to_vec()
}

/// `sample` with `edit` applied to its JSON.
fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&sample(name)).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn changes(t: &mut Notifications, body: Vec<u8>) -> Vec<Change> {
    let batches = t.translate(body).unwrap();
    batches.into_iter().flat_map(|b| b.changes).collect()
}

fn added(changes: &[Change]) -> Vec<&Resource> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::AddResource { resource } => Some(resource),
            _ => None,
        })
        .collect()
}

fn edges(changes: &[Change]) -> Vec<(bool, String)> {
    let e = changes.iter().filter_map(Change::edge);
    e.map(|(e, add)| (add, format!("{} -{}-> {}", e.source, e.relationship_type, e.target)))
        .collect()
}

const VM: &str = "178b0921-8f85-4257-88b6-2e743b5a975c";

#[test]
fn a_versioned_instance_create_adds_the_instance_a_placeholder_host_and_the_contains_edge() {
    let out = changes(&mut Notifications::default(), sample("instance-create-end"));
    let resources = added(&out);
    assert_eq!(resources[0].id, VM);
    assert_eq!(resources[0].kind, kind::INSTANCE);
    assert_eq!(resources[0].name.as_deref(), Some("some-server"));
    assert_eq!(resources[0].state.as_deref(), Some("active"));
    assert_eq!(resources[0].properties["project_id"], "6f70656e737461636b20342065766572");
    assert_eq!(
        *resources[1],
        match placeholder(kind::HOST, "compute") {
            Change::AddResource { resource } => resource,
            _ => unreachable!(),
        }
    );
    assert_eq!(edges(&out), vec![(true, format!("compute -contains-> {VM}"))]);
    let placeholder_at = out.iter().position(|c| added(std::slice::from_ref(c)).len() == 1);
    let edge_at = out.iter().position(|c| c.edge().is_some());
    assert!(placeholder_at < edge_at, "the host exists before the edge to it");
}

#[test]
fn a_live_migration_moves_the_contains_edge_to_the_destination_host() {
    let mut t = Notifications::default();
    changes(&mut t, sample("instance-create-end"));
    let out = changes(&mut t, sample("instance-live_migration_post_dest-end"));
    assert_eq!(
        edges(&out),
        vec![
            (false, format!("compute -contains-> {VM}")),
            (true, format!("host2 -contains-> {VM}"))
        ]
    );
    assert!(added(&out).iter().any(|r| r.id == "host2" && r.properties["is_placeholder"] == true));
}

#[test]
fn a_migration_also_moves_an_edge_the_graph_showed_when_the_service_started() {
    let mut t = Notifications::default();
    t.neighbours.remember(VM, Slot::InstanceHost, "host1");
    let out = changes(&mut t, sample("instance-update"));
    assert_eq!(edges(&out)[0], (false, format!("host1 -contains-> {VM}")));
}

#[test]
fn an_instance_update_with_the_same_host_removes_no_edge() {
    let mut t = Notifications::default();
    changes(&mut t, sample("instance-create-end"));
    let out = changes(&mut t, sample("instance-update"));
    assert_eq!(edges(&out), vec![(true, format!("compute -contains-> {VM}"))]);
}

#[test]
fn an_instance_delete_deletes_the_instance_and_forgets_its_host() {
    let mut t = Notifications::default();
    changes(&mut t, sample("instance-create-end"));
    let out = changes(&mut t, sample("instance-delete-end"));
    assert_eq!(out, vec![Change::DeleteResource { id: VM.into() }]);
    assert!(!t.neighbours.knows(VM));
}

#[test]
fn a_legacy_instance_create_uses_instance_id_and_host() {
    let out = changes(&mut Notifications::default(), sample("compute-instance-create-end"));
    let id = "54807907-3f79-4ccc-8787-97188392f836";
    assert_eq!(added(&out)[0].id, id);
    assert_eq!(added(&out)[0].name.as_deref(), Some("some_vm_name"));
    assert_eq!(edges(&out), vec![(true, format!("compute-2 -contains-> {id}"))]);
    let deleted = edited("compute-instance-create-end", |v| {
        v["event_type"] = "compute.instance.delete.end".into()
    });
    let out = changes(&mut Notifications::default(), deleted);
    assert_eq!(out, vec![Change::DeleteResource { id: id.into() }]);
}

#[test]
fn a_forced_down_compute_service_puts_its_host_in_error() {
    let out = changes(&mut Notifications::default(), sample("service-update"));
    let host = added(&out)[0];
    assert_eq!((host.id.as_str(), host.kind.as_str()), ("host1", kind::HOST));
    assert_eq!(host.state.as_deref(), Some("ERROR"));
    assert_eq!(host.properties["forced_down"], true);
    let up = edited("service-update", |v| {
        v["payload"]["nova_object.data"]["forced_down"] = false.into();
        v["payload"]["nova_object.data"]["disabled"] = true.into();
    });
    let out = changes(&mut Notifications::default(), up);
    assert_eq!(added(&out)[0].state.as_deref(), Some("SUBOPTIMAL"));
    let other = edited("service-update", |v| {
        v["payload"]["nova_object.data"]["binary"] = "nova-scheduler".into()
    });
    assert!(Notifications::default().translate(other).unwrap().is_empty());
}

#[test]
fn a_compute_port_is_contained_by_its_network_and_attached_to_its_instance() {
    let out = changes(&mut Notifications::default(), sample("port-create-end"));
    let port = added(&out)[0];
    assert_eq!((port.kind.as_str(), port.state.as_deref()), (kind::PORT, Some("ACTIVE")));
    assert_eq!(port.properties["ip_addresses"], serde_json::json!(["10.0.0.5"]));
    let port_id = "e1b8c6a0-9a57-4d3a-8c1f-0c8fd5e4b1a2";
    let net = "3c2a1b4d-5e6f-4789-9abc-def012345678";
    assert_eq!(
        edges(&out),
        vec![
            (true, format!("{net} -contains-> {port_id}")),
            (true, format!("{port_id} -attached-> {VM}"))
        ]
    );
}

#[test]
fn a_port_that_leaves_its_compute_is_removed_and_a_router_port_is_ignored() {
    let mut t = Notifications::default();
    let router = edited("port-create-end", |v| {
        v["payload"]["port"]["device_owner"] = "network:router_interface".into()
    });
    assert!(t.translate(router.clone()).unwrap().is_empty());
    changes(&mut t, sample("port-create-end"));
    let out = changes(&mut t, router);
    assert_eq!(
        out,
        vec![Change::DeleteResource { id: "e1b8c6a0-9a57-4d3a-8c1f-0c8fd5e4b1a2".into() }]
    );
}

#[test]
fn networks_are_created_and_deleted_by_id() {
    let out = changes(&mut Notifications::default(), sample("network-create-end"));
    let net = added(&out)[0];
    assert_eq!((net.kind.as_str(), net.name.as_deref()), (kind::NETWORK, Some("private")));
    let delete = br#"{"event_type": "network.delete.end", "payload": {"network_id": "n1"}}"#;
    let out = changes(&mut Notifications::default(), delete.to_vec());
    assert_eq!(out, vec![Change::DeleteResource { id: "n1".into() }]);
    let delete = br#"{"event_type": "port.delete.end", "payload": {"port_id": "p1"}}"#;
    let out = changes(&mut Notifications::default(), delete.to_vec());
    assert_eq!(out, vec![Change::DeleteResource { id: "p1".into() }]);
}

#[test]
fn a_volume_detach_removes_the_attached_edge_of_the_detached_instance() {
    let mut t = Notifications::default();
    let volume = "c6e40c9c-ffed-4f72-8639-56f85cf8412e";
    let out = changes(&mut t, sample("volume-attach-end"));
    assert_eq!(added(&out)[0].state.as_deref(), Some("in-use"));
    assert_eq!(edges(&out), vec![(true, format!("{volume} -attached-> {VM}"))]);
    let detached = edited("volume-attach-end", |v| {
        v["event_type"] = "volume.detach.end".into();
        v["payload"]["status"] = "available".into();
        v["payload"]["volume_attachment"] = serde_json::json!([]);
    });
    let out = changes(&mut t, detached);
    assert_eq!(edges(&out), vec![(false, format!("{volume} -attached-> {VM}"))]);
}

#[test]
fn a_heat_stack_is_created_and_deleted_by_its_uuid_even_from_an_arn() {
    let out = changes(&mut Notifications::default(), sample("orchestration-stack-create-end"));
    let stack = added(&out)[0];
    assert_eq!(stack.id, "d2df0a2a-765c-44ef-b117-32d599bc9c3b");
    assert_eq!(
        (stack.name.as_deref(), stack.state.as_deref()),
        (Some("newstack"), Some("CREATE_COMPLETE"))
    );
    let deleted = edited("orchestration-stack-create-end", |v| {
        v["event_type"] = "orchestration.stack.delete.end".into();
        v["payload"]["stack_identity"] =
            "arn:openstack:heat::a077:stacks/newstack/d2df0a2a-765c-44ef-b117-32d599bc9c3b".into();
    });
    let out = changes(&mut Notifications::default(), deleted);
    assert_eq!(
        out,
        vec![Change::DeleteResource { id: "d2df0a2a-765c-44ef-b117-32d599bc9c3b".into() }]
    );
}

#[test]
fn a_v2_message_becomes_one_batch_keyed_by_its_message_id_at_its_time() {
    let batches =
        Notifications::default().translate(sample("oslo-v2-instance-delete-end")).unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].source, SOURCE);
    assert_eq!(batches[0].request_id.as_deref(), Some("oslo:042c854c-6c57-4a4f-9a43-d7a5e1f3b0f1"));
    assert!(batches[0].time.is_some());
}

#[test]
fn an_event_type_the_graph_does_not_need_gives_no_batch() {
    let body = br#"{"event_type": "image.upload", "payload": {"id": "x"}}"#;
    assert!(Notifications::default().translate(body.to_vec()).unwrap().is_empty());
}

#[test]
fn a_payload_without_its_id_names_the_event_type_and_the_field() {
    let body = edited("instance-create-end", |v| {
        v["payload"]["nova_object.data"].as_object_mut().unwrap().remove("uuid");
    });
    let err = Notifications::default().translate(body).unwrap_err();
    assert_eq!(err.event_type(), Some("instance.create.end"));
    assert_eq!(
        err.to_string(),
        "instance.create.end: payload field uuid is missing or not a string"
    );
    let body = br#"{"event_type": "port.create.end", "payload": {"port": "p"}}"#;
    let err = Notifications::default().translate(body.to_vec()).unwrap_err();
    assert_eq!(err.to_string(), "port.create.end: payload field port is missing or not a string");
}
