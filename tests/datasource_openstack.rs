//! OpenStack API polling against a stand-in for Keystone, Nova, Neutron, Cinder and Heat that
//! answers with the APIs' JSON shapes (their api-ref samples): the initial topology, paging,
//! a resync that applies only the difference, a revoked token (401) that forces a new one, and
//! a 503 that prunes nothing; and the service still stops with a poller and a consumer running.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use causeway::service::openstack_poll::OpenStackConfig;
use causeway::service::rabbitmq::RabbitConfig;
use causeway::service::serve::{self, Running, ServeConfig};
use common::service::call;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROJECT: &str = "8a7cf1e1f5e14e8b9a4f3d1b2c3d4e5f";

/// What the stand-in cloud holds and how it misbehaves.
#[derive(Default)]
struct Cloud {
    base: String,
    token: Option<String>,
    issued: usize,
    servers: Vec<Value>,
    volumes: Vec<Value>,
    volumes_unavailable: bool,
}

type Shared = Arc<Mutex<Cloud>>;

fn server(id: &str, host: &str) -> Value {
    json!({"id": id, "name": format!("web-{id}"), "status": "ACTIVE", "tenant_id": PROJECT,
           "user_id": "fake", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": null,
           "OS-EXT-STS:power_state": 1, "OS-EXT-SRV-ATTR:host": host,
           "OS-EXT-SRV-ATTR:hypervisor_hostname": host, "OS-EXT-AZ:availability_zone": "nova",
           "addresses": {"private": [{"addr": "10.0.0.5", "version": 4}]},
           "flavor": {"original_name": "m1.tiny"}, "created": "2026-12-01T10:00:00Z"})
}

fn catalog(base: &str) -> Value {
    let entry = |kind: &str, url: String| {
        json!({"type": kind, "name": kind, "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": url},
            {"interface": "internal", "region_id": "RegionOne", "url": "http://192.0.2.1:1"}]})
    };
    json!([
        entry("compute", format!("{base}/compute/v2.1")),
        entry("network", format!("{base}/network")),
        entry("volumev3", format!("{base}/volume/v3/{PROJECT}")),
        entry("orchestration", format!("{base}/heat/v1/{PROJECT}")),
        entry("identity", format!("{base}/identity/v3")),
    ])
}

/// One page of `items` after `marker`, two at a time, with the `next` link Nova writes.
fn page(cloud: &Cloud, uri: &Uri, collection: &str, items: &[Value]) -> Value {
    let query = uri.query().unwrap_or("");
    let marker = query.split('&').find_map(|kv| kv.strip_prefix("marker="));
    let start = marker.and_then(|m| items.iter().position(|s| s["id"] == m)).map_or(0, |i| i + 1);
    let chunk: Vec<Value> = items.iter().skip(start).take(2).cloned().collect();
    let mut body = json!({ collection: chunk });
    if start + 2 < items.len() {
        let last = chunk.last().and_then(|s| s["id"].as_str()).unwrap_or("");
        let href = format!("{}{}?all_tenants=1&limit=2&marker={last}", cloud.base, uri.path());
        body[format!("{collection}_links")] = json!([{"rel": "next", "href": href}]);
    }
    body
}

async fn keystone(State(cloud): State<Shared>, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let user = &body["auth"]["identity"]["password"]["user"];
    if user["name"] != "admin" || user["password"] != "secret" {
        return (StatusCode::UNAUTHORIZED, "{\"error\": {\"code\": 401}}").into_response();
    }
    let mut c = cloud.lock().unwrap();
    c.issued += 1;
    let token = format!("gAAAAA-{}", c.issued);
    c.token = Some(token.clone());
    let answer = json!({"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
        "project": {"id": PROJECT, "name": "admin", "domain": {"id": "default", "name": "Default"}},
        "catalog": catalog(&c.base)}});
    (StatusCode::CREATED, [("X-Subject-Token", token)], answer.to_string()).into_response()
}

async fn api(State(cloud): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    let c = cloud.lock().unwrap();
    let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok());
    if token.is_none() || token != c.token.as_deref() {
        return (StatusCode::UNAUTHORIZED, "{\"error\": {\"message\": \"The request you have made requires authentication.\", \"code\": 401}}").into_response();
    }
    let volumes_path = format!("/volume/v3/{PROJECT}/volumes/detail");
    let stacks_path = format!("/heat/v1/{PROJECT}/stacks");
    let resources_path = format!("/heat/v1/{PROJECT}/stacks/app/stack-1/resources");
    let body = match uri.path() {
        "/compute/v2.1/os-services" => json!({"services": [
            {"id": 1, "binary": "nova-compute", "host": "compute-1", "zone": "nova", "status": "enabled",
             "state": "up", "forced_down": false, "disabled_reason": null, "updated_at": "2026-12-01T10:00:00.000000"},
            {"id": 2, "binary": "nova-compute", "host": "compute-2", "zone": "nova", "status": "enabled",
             "state": "up", "forced_down": false, "disabled_reason": null, "updated_at": "2026-12-01T10:00:00.000000"}]}),
        "/compute/v2.1/os-hypervisors/detail" => json!({"hypervisors": [
            {"id": "b1e43b5f", "hypervisor_hostname": "compute-1", "host_ip": "192.168.1.11", "state": "up",
             "status": "enabled", "service": {"host": "compute-1", "id": 1}}]}),
        "/compute/v2.1/os-availability-zone/detail" => json!({"availabilityZoneInfo": [
            {"zoneName": "internal", "zoneState": {"available": true},
             "hosts": {"controller": {"nova-conductor": {"available": true, "active": true}}}},
            {"zoneName": "nova", "zoneState": {"available": true}, "hosts": {
                "compute-1": {"nova-compute": {"available": true, "active": true}},
                "compute-2": {"nova-compute": {"available": true, "active": true}}}}]}),
        "/compute/v2.1/servers/detail" => page(&c, &uri, "servers", &c.servers),
        "/network/v2.0/networks" => json!({"networks": [{"id": "net-1", "name": "private",
            "status": "ACTIVE", "project_id": PROJECT, "tenant_id": PROJECT, "admin_state_up": true,
            "shared": false, "subnets": ["sub-1"], "mtu": 1450}]}),
        "/network/v2.0/ports" => {
            json!({"ports": [{"id": "port-1", "name": "", "network_id": "net-1",
            "device_id": "vm-1", "device_owner": "compute:nova", "status": "ACTIVE",
            "project_id": PROJECT, "fixed_ips": [{"subnet_id": "sub-1", "ip_address": "10.0.0.5"}],
            "binding:host_id": "compute-1", "mac_address": "fa:16:3e:00:00:01"}]})
        }
        p if p == volumes_path && c.volumes_unavailable => {
            return (StatusCode::SERVICE_UNAVAILABLE, "<html>503 Service Unavailable</html>")
                .into_response();
        }
        p if p == volumes_path => json!({"volumes": c.volumes}),
        p if p == stacks_path => json!({"stacks": [{"id": "stack-1", "stack_name": "app",
            "stack_status": "CREATE_COMPLETE", "project": PROJECT, "creation_time": "2026-12-01T10:00:00Z",
            "links": [{"href": "http://heat/stacks/app/stack-1", "rel": "self"}]}]}),
        p if p == resources_path => json!({"resources": [{"resource_name": "server_1",
            "logical_resource_id": "server_1", "physical_resource_id": "vm-3",
            "resource_type": "OS::Nova::Server", "resource_status": "CREATE_COMPLETE",
            "links": [], "required_by": []}]}),
        _ => return (StatusCode::NOT_FOUND, "{}").into_response(),
    };
    ([("content-type", "application/json")], body.to_string()).into_response()
}

async fn stand_in(cloud: Shared) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    cloud.lock().unwrap().base = base.clone();
    let app = Router::new()
        .route("/identity/v3/auth/tokens", axum::routing::post(keystone))
        .fallback(api)
        .with_state(cloud);
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// `(id, type, placeholder)` of every vertex and `source -label-> target` of every edge.
async fn graph(running: &Running) -> (Vec<Value>, Vec<String>) {
    let (_, g) = call(
        running,
        axum::http::Method::POST,
        "/v1/topology/",
        Some(json!({"all_tenants": true})),
    )
    .await;
    let nodes = g["nodes"].as_array().cloned().unwrap_or_default();
    let id = |i: &Value| i.as_u64().and_then(|i| nodes.get(i as usize)).map(|n| n["id"].clone());
    let links = g["links"].as_array().cloned().unwrap_or_default();
    let edges = links
        .iter()
        .filter_map(|l| {
            Some(format!(
                "{} -{}-> {}",
                id(&l["source"])?.as_str()?,
                l["relationship_type"].as_str()?,
                id(&l["target"])?.as_str()?
            ))
        })
        .collect();
    (nodes, edges)
}

async fn until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "not within 30 s: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn node<'a>(nodes: &'a [Value], id: &str) -> Option<&'a Value> {
    nodes.iter().find(|n| n["id"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_builds_the_topology_and_resyncs_only_the_difference() {
    let cloud: Shared = Arc::default();
    {
        let mut c = cloud.lock().unwrap();
        c.servers = vec![
            server("vm-1", "compute-1"),
            server("vm-2", "compute-1"),
            server("vm-3", "compute-2"),
        ];
        c.volumes = vec![json!({"id": "vol-1", "name": "data", "status": "in-use", "size": 10,
            "volume_type": "lvmdriver-1", "os-vol-tenant-attr:tenant_id": PROJECT, "bootable": "false",
            "attachments": [{"server_id": "vm-1", "attachment_id": "att-1", "device": "/dev/vdb", "id": "vol-1"}]})];
    }
    let base = stand_in(cloud.clone()).await;
    let dir = std::env::temp_dir().join(format!("causeway-openstack-poll-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "{\"resources\": []}").expect("topology");
    let config = ServeConfig {
        data_dir: dir.join("data"),
        topology: vec![empty],
        openstack: Some(OpenStackConfig {
            auth_url: format!("{base}/identity/v3"),
            username: "admin".into(),
            password: "secret".into(),
            project_name: "admin".into(),
            user_domain_name: "Default".into(),
            project_domain_name: "Default".into(),
            region_name: Some("RegionOne".into()),
            interface: "public".into(),
            poll_interval_s: 1,
        }),
        // A broker that is never there: its consumer keeps reconnecting, as in production.
        rabbitmq: RabbitConfig {
            url: Some("amqp://guest:guest@127.0.0.1:1/%2f".into()),
            ..RabbitConfig::default()
        },
        ..ServeConfig::default()
    };
    let running = serve::open(&config).expect("service starts");

    // The initial topology, the second page of servers included.
    let (nodes, edges) = until("the initial topology", async || {
        let (nodes, edges) = graph(&running).await;
        node(&nodes, "vm-3").is_some().then_some((nodes, edges))
    })
    .await;
    for edge in [
        "OpenStack Cluster -contains-> nova",
        "nova -contains-> compute-1",
        "compute-1 -contains-> vm-1",
        "compute-2 -contains-> vm-3",
        "net-1 -contains-> port-1",
        "port-1 -attached-> vm-1",
        "vol-1 -attached-> vm-1",
        "stack-1 -comprised-> vm-3",
    ] {
        assert!(edges.iter().any(|e| e == edge), "{edge} in {edges:?}");
    }
    assert_eq!(
        node(&nodes, "stack-1").map(|n| n["vitrage_type"].clone()),
        Some(json!("heat.stack"))
    );
    assert_eq!(
        node(&nodes, "compute-1").map(|n| n["host_ip"].clone()),
        Some(json!("192.168.1.11"))
    );
    let stamp = |nodes: &[Value]| node(nodes, "vm-3").map(|n| n["update_timestamp"].clone());
    let vm3 = stamp(&nodes);
    assert!(vm3.as_ref().is_some_and(Value::is_string), "{nodes:?}");

    // The cloud changes, the token is revoked and Cinder goes down.
    {
        let mut c = cloud.lock().unwrap();
        c.servers = vec![server("vm-1", "compute-2"), server("vm-3", "compute-2")];
        c.volumes.clear();
        c.volumes_unavailable = true;
        c.token = None;
    }
    let (nodes, edges) = until("vm-1 moved and vm-2 gone", async || {
        let (nodes, edges) = graph(&running).await;
        let moved = edges.iter().any(|e| e == "compute-2 -contains-> vm-1");
        (moved && node(&nodes, "vm-2").is_none()).then_some((nodes, edges))
    })
    .await;
    assert!(!edges.iter().any(|e| e == "compute-1 -contains-> vm-1"), "{edges:?}");
    assert!(node(&nodes, "vol-1").is_some(), "a failed listing removes nothing");
    assert_eq!(stamp(&nodes), vm3, "an unchanged server is not touched");
    assert!(cloud.lock().unwrap().issued >= 2, "the 401 forced a new token");
    let (_, status) = call(&running, axum::http::Method::GET, "/v1/status/", None).await;
    let health = &status["datasources"]["openstack_poll"];
    assert!(health["errors"].as_u64().unwrap_or(0) >= 1, "{status}");
    assert!(health["last_error"].as_str().unwrap_or("").contains("503"), "{status}");

    // Cinder is back: the volume it no longer lists goes.
    cloud.lock().unwrap().volumes_unavailable = false;
    until("vol-1 removed", async || {
        node(&graph(&running).await.0, "vol-1").is_none().then_some(())
    })
    .await;

    // The poller and the consumer hold the service weakly: once its state is gone, the
    // evaluation task ends, as `causeway serve` needs on SIGTERM.
    let Running { state, evaluation } = running;
    drop(state);
    // Joined on a thread of its own, so that a task that never ends fails the test rather than
    // hanging the runtime's shutdown.
    let (ended, end) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = evaluation.join();
        let _ = ended.send(());
    });
    assert!(end.recv_timeout(Duration::from_secs(30)).is_ok(), "the evaluation task did not end");
    let _ = std::fs::remove_dir_all(&dir);
}
