//! Issue 6: the read side of Vitrage's API v1 over HTTP, with the requests python-vitrageclient
//! 5.4.0 sends (service-facts §1.3) against a small cloud: a cluster, a zone, two hosts, three
//! instances in two projects, a Zabbix NIC alarm on host-1 and the deduced alarms it causes.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use causeway::service::{
    self, AlarmRecord, AppState, EdgeView, NoHistory, ServiceConfig, Timestamp, VertexView, View,
};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tokio::sync::watch;
use tower::ServiceExt;

fn props(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn resource(vitrage_id: &str, kind: &str, id: &str, project: Option<&str>) -> VertexView {
    let mut p = props(json!({
        "vitrage_id": vitrage_id, "vitrage_category": "RESOURCE", "vitrage_type": kind, "id": id,
        "name": id, "state": "available", "vitrage_operational_state": "OK",
        "vitrage_aggregated_state": "AVAILABLE", "vitrage_is_deleted": false,
        "vitrage_is_placeholder": false, "vitrage_sample_timestamp": "2026-01-01 10:00:00+00:00",
        "update_timestamp": "2026-01-01T10:00:00Z"
    }));
    if let Some(project) = project {
        p.insert("project_id".into(), json!(project));
    }
    VertexView { props: p }
}

fn alarm(
    vitrage_id: &str,
    kind: &str,
    name: &str,
    on: (&str, &str),
    severity: &str,
    start: &str,
) -> VertexView {
    VertexView {
        props: props(json!({
            "vitrage_id": vitrage_id, "vitrage_category": "ALARM", "vitrage_type": kind, "id": vitrage_id,
            "name": name, "state": "Active", "severity": severity,
            "vitrage_operational_severity": severity, "vitrage_aggregated_severity": severity,
            "vitrage_resource_id": on.0, "vitrage_resource_type": on.1,
            "vitrage_is_deleted": false, "vitrage_is_placeholder": false,
            "update_timestamp": start, "start_timestamp": start
        })),
    }
}

fn edge(source: usize, target: usize, label: &str) -> EdgeView {
    EdgeView {
        source,
        target,
        relationship_type: label.into(),
        props: props(json!({"relationship_type": label, "vitrage_is_deleted": false})),
    }
}

/// Indices: 0 cluster, 1 zone, 2 host-1, 3 host-2, 4 vm-1 (p1), 5 vm-2 (p1), 6 vm-3 (p2),
/// 7 NIC alarm on host-1, 8 deduced host alarm, 9 and 10 deduced alarms on vm-1 and vm-2.
fn cloud(generation: u64) -> View {
    View::new(
        generation,
        vec![
            resource("v-cluster", "openstack.cluster", "OpenStack Cluster", None),
            resource("v-zone", "nova.zone", "zone-1", None),
            resource("v-host-1", "nova.host", "host-1", None),
            resource("v-host-2", "nova.host", "host-2", None),
            resource("v-vm-1", "nova.instance", "vm-1", Some("p1")),
            resource("v-vm-2", "nova.instance", "vm-2", Some("p1")),
            resource("v-vm-3", "nova.instance", "vm-3", Some("p2")),
            alarm(
                "a-nic",
                "zabbix",
                "NIC down",
                ("v-host-1", "nova.host"),
                "CRITICAL",
                "2026-01-01 10:00:01+00:00",
            ),
            alarm(
                "a-host",
                "vitrage",
                "Host network failure",
                ("v-host-1", "nova.host"),
                "CRITICAL",
                "2026-01-01 10:00:02+00:00",
            ),
            alarm(
                "a-vm-1",
                "vitrage",
                "Instance unreachable",
                ("v-vm-1", "nova.instance"),
                "SEVERE",
                "2026-01-01 10:00:03+00:00",
            ),
            alarm(
                "a-vm-2",
                "vitrage",
                "Instance unreachable",
                ("v-vm-2", "nova.instance"),
                "SEVERE",
                "2026-01-01 10:00:04+00:00",
            ),
        ],
        vec![
            edge(0, 1, "contains"),
            edge(1, 2, "contains"),
            edge(1, 3, "contains"),
            edge(2, 4, "contains"),
            edge(2, 5, "contains"),
            edge(3, 6, "contains"),
            edge(7, 2, "on"),
            edge(8, 2, "on"),
            edge(9, 4, "on"),
            edge(10, 5, "on"),
            edge(7, 8, "causes"),
            edge(8, 9, "causes"),
            edge(8, 10, "causes"),
        ],
    )
    .expect("valid view")
}

fn history() -> Vec<AlarmRecord> {
    let at = |text: &str| Timestamp::parse(text).expect("time");
    let record =
        |id: &str, name: &str, host: &str, severity: &str, start: &str, end: Option<&str>| {
            AlarmRecord {
                alarm: props(json!({
                    "vitrage_id": id, "vitrage_type": "zabbix", "name": name,
                    "vitrage_resource_type": "nova.host", "vitrage_resource_id": host,
                    "vitrage_operational_severity": severity, "state": "Active"
                })),
                start_timestamp: at(start),
                end_timestamp: end.map(at),
            }
        };
    vec![
        record(
            "a-old",
            "Disk full",
            "v-host-2",
            "WARNING",
            "2025-12-31T08:00:00Z",
            Some("2025-12-31T09:00:00Z"),
        ),
        record("a-nic", "NIC down", "v-host-1", "CRITICAL", "2026-01-01T10:00:01Z", None),
    ]
}

struct Api {
    state: AppState,
    publish: watch::Sender<Arc<View>>,
}

impl Api {
    fn new(config: ServiceConfig) -> Api {
        let (publish, view) = watch::channel(Arc::new(cloud(1)));
        Api { state: AppState::new(view, Arc::new(history()), config), publish }
    }

    /// Sends one request as the CLI would: noauth headers for project p1 with the admin role.
    async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<&str>,
    ) -> (StatusCode, HeaderMap, Value) {
        self.send(
            method,
            uri,
            body,
            &[("x-user-id", "admin"), ("x-project-id", "p1"), ("x-roles", "admin")],
        )
        .await
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request =
            Request::builder().method(method).uri(uri).header(header::HOST, "vitrage:8999");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Body::from(body.unwrap_or("").to_owned())).expect("request");
        let response =
            service::service(self.state.clone()).oneshot(request).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{uri}: not JSON: {}", String::from_utf8_lossy(&bytes)));
        (parts.status, parts.headers, json)
    }
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .map_or_else(Vec::new, |a| a.iter().filter_map(|x| x["vitrage_id"].as_str()).collect())
}

fn assert_error(got: (StatusCode, HeaderMap, Value), status: StatusCode, description: &str) {
    assert_eq!(got.0, status, "{}", got.2);
    assert_eq!(got.1[header::CONTENT_TYPE], "application/json");
    let title = got.2["title"].as_str().unwrap_or_default().to_owned();
    assert_eq!(got.2, json!({"code": status.as_u16(), "title": title, "description": description}));
    assert!(!title.is_empty());
}

#[tokio::test]
async fn versions_status_health_service() {
    let api = Api::new(ServiceConfig::default());
    let (status, _, versions) = api.call(Method::GET, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(versions["versions"][0]["links"][0]["href"], json!("http://vitrage:8999/v1/"));
    assert_eq!(api.call(Method::GET, "/v1/status/", None).await.2, json!({"reason": "OK"}));
    assert_eq!(
        api.call(Method::GET, "/healthcheck/", None).await.2,
        json!({"detailed": false, "reasons": []})
    );
    let versions = api.call(Method::GET, "/v1/template/versions", None).await.2;
    assert_eq!(versions[2], json!({"version": "v3", "status": "CURRENT"}));
    let services = api.call(Method::GET, "/v1/service/", None).await.2;
    for column in ["name", "process", "hostname", "created"] {
        assert!(services[0].get(column).is_some(), "{column}");
    }
}

#[tokio::test]
async fn topology_graph_as_the_client_asks() {
    let api = Api::new(ServiceConfig::default());
    let body = r#"{"depth": null, "graph_type": "graph", "query": null, "root": null, "all_tenants": false}"#;
    let (status, _, graph) = api.call(Method::POST, "/v1/topology/", Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    // An admin of p1 sees p1's instances, what belongs to no project, and the alarms of both;
    // not p2's vm-3.
    assert_eq!(
        ids(&graph["nodes"]),
        [
            "v-cluster",
            "v-zone",
            "v-host-1",
            "v-host-2",
            "v-vm-1",
            "v-vm-2",
            "a-nic",
            "a-host",
            "a-vm-1",
            "a-vm-2"
        ]
    );
    // A member of p1 sees its instances, the host and zone on the way to them, and the alarms on
    // its instances; the host's alarms belong to no project's resource, so they are hidden.
    let member = [("x-project-id", "p1"), ("x-roles", "member")];
    let scoped = api.send(Method::POST, "/v1/topology/", Some(body), &member).await.2;
    assert_eq!(
        ids(&scoped["nodes"]),
        ["v-cluster", "v-zone", "v-host-1", "v-vm-1", "v-vm-2", "a-vm-1", "a-vm-2"]
    );
    assert_eq!(
        (graph["directed"].clone(), graph["multigraph"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(graph["links"], graph["edges"]);
    for (i, node) in graph["nodes"].as_array().expect("nodes").iter().enumerate() {
        assert_eq!(node["graph_index"], json!(i));
        assert!(node["vitrage_type"].is_string());
    }
    assert_eq!(graph["nodes"][0]["id"], json!("OpenStack Cluster"));
    for link in graph["links"].as_array().expect("links") {
        assert!(link["source"].is_u64() && link["target"].is_u64());
        assert_eq!(link["key"], link["relationship_type"]);
        assert_eq!(link["vitrage_is_deleted"], json!(false));
    }
    let all = r#"{"graph_type": "graph", "all_tenants": true}"#;
    let everything = api.call(Method::POST, "/v1/topology", Some(all)).await.2;
    assert_eq!(everything["nodes"].as_array().map(Vec::len), Some(11));
    assert_eq!(everything["links"].as_array().map(Vec::len), Some(13));
}

#[tokio::test]
async fn topology_tree_root_depth_and_refusals() {
    let api = Api::new(ServiceConfig::default());
    let query = json!({"or": [
        {"==": {"vitrage_type": "openstack.cluster"}}, {"==": {"vitrage_type": "nova.zone"}},
        {"==": {"vitrage_type": "nova.host"}}, {"==": {"vitrage_type": "nova.instance"}}
    ]})
    .to_string();
    let body = json!({"graph_type": "tree", "query": query, "all_tenants": true}).to_string();
    let (status, _, tree) = api.call(Method::POST, "/v1/topology/", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{tree}");
    assert_eq!(tree["id"], json!("OpenStack Cluster"));
    let hosts = tree["children"][0]["children"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["children"].as_array().map(Vec::len), Some(2));
    let rooted = json!({"graph_type": "graph", "root": "v-host-1", "depth": "1", "query": query})
        .to_string();
    let near = api.call(Method::POST, "/v1/topology/", Some(&rooted)).await.2;
    assert_eq!(ids(&near["nodes"]), ["v-host-1", "v-zone", "v-vm-1", "v-vm-2"]);
    let no_root =
        r#"{"depth": 2, "graph_type": "graph", "query": null, "root": null, "all_tenants": false}"#;
    assert_error(
        api.call(Method::POST, "/v1/topology/", Some(no_root)).await,
        StatusCode::FORBIDDEN,
        "Graph-type 'graph' requires a 'root' with 'depth'",
    );
    let member = [("x-project-id", "p1"), ("x-roles", "member")];
    let all = r#"{"graph_type": "graph", "all_tenants": true}"#;
    assert_error(
        api.send(Method::POST, "/v1/topology/", Some(all), &member).await,
        StatusCode::FORBIDDEN,
        "Authorization Failed",
    );
}

#[tokio::test]
async fn resources_list_show_count() {
    let api = Api::new(ServiceConfig::default());
    let body = r#"{"resource_type": null, "all_tenants": false, "query": null}"#;
    let (status, _, list) = api.call(Method::POST, "/v1/resources/", Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list), ["v-cluster", "v-zone", "v-host-1", "v-host-2", "v-vm-1", "v-vm-2"]);
    for column in [
        "vitrage_id",
        "vitrage_type",
        "id",
        "vitrage_operational_state",
        "name",
        "update_timestamp",
    ] {
        assert!(list[0].get(column).is_some(), "{column}");
    }
    let hosts = api
        .call(Method::GET, "/v1/resources/?resource_type=nova.host&all_tenants=True", None)
        .await
        .2;
    assert_eq!(ids(&hosts), ["v-host-1", "v-host-2"]);
    let filter =
        json!({"all_tenants": true, "query": "{\"==\": {\"project_id\": \"p2\"}}"}).to_string();
    assert_eq!(ids(&api.call(Method::POST, "/v1/resources", Some(&filter)).await.2), ["v-vm-3"]);
    let shown = api.call(Method::GET, "/v1/resources/v-vm-1", None).await.2;
    assert_eq!(shown["name"], json!("vm-1"));
    assert_error(
        api.call(Method::GET, "/v1/resources/a-nic", None).await,
        StatusCode::NOT_FOUND,
        "Failed to show resource.",
    );
    let count = r#"{"resource_type": null, "all_tenants": true, "query": null, "group_by": "vitrage_type"}"#;
    assert_eq!(
        api.call(Method::POST, "/v1/resources/count/", Some(count)).await.2,
        json!({"openstack.cluster": 1, "nova.zone": 1, "nova.host": 2, "nova.instance": 3})
    );
}

#[tokio::test]
async fn alarms_list_show_count() {
    let api = Api::new(ServiceConfig::default());
    let client = "/v1/alarm/?vitrage_id=all&all_tenants=False&sort_by=start_timestamp&sort_by=vitrage_id\
                  &sort_dirs=asc&sort_dirs=asc&next_page=True";
    let (status, _, list) = api.call(Method::GET, client, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list), ["a-nic", "a-host", "a-vm-1", "a-vm-2"]);
    for column in [
        "vitrage_id",
        "vitrage_type",
        "name",
        "vitrage_resource_type",
        "vitrage_resource_id",
        "vitrage_operational_severity",
        "update_timestamp",
    ] {
        assert!(list[0][column].is_string(), "{column}");
    }
    let page = api.call(Method::GET, &format!("{client}&limit=2&marker=a-host"), None).await.2;
    assert_eq!(ids(&page), ["a-vm-1", "a-vm-2"]);
    let desc = "/v1/alarm/?sort_by=start_timestamp&sort_dirs=desc&limit=1";
    assert_eq!(ids(&api.call(Method::GET, desc, None).await.2), ["a-vm-2"]);
    let on_vm =
        api.call(Method::GET, "/v1/alarm/?vitrage_id=v-vm-1&all_tenants=False", None).await.2;
    assert_eq!(ids(&on_vm), ["a-vm-1"]);
    for uri in ["/v1/alarm/a-host", "/v1/alarm/a-host/"] {
        assert_eq!(api.call(Method::GET, uri, None).await.2["name"], json!("Host network failure"));
    }
    for uri in ["/v1/alarm/v-host-1", "/v1/alarm/nothing"] {
        let got = api.call(Method::GET, uri, None).await;
        assert_eq!(
            got.2,
            json!({"code": 404, "title": "Not Found", "description": "Failed to show alarm."})
        );
        assert_error(got, StatusCode::NOT_FOUND, "Failed to show alarm.");
    }
    let count = api.call(Method::GET, "/v1/alarm/count/?all_tenants=False", None).await.2;
    assert_eq!(count, json!({"SEVERE": 2, "CRITICAL": 2, "WARNING": 0, "OK": 0, "N/A": 0}));
    assert_error(
        api.call(Method::GET, "/v1/alarm/?sort_dirs=sideways", None).await,
        StatusCode::BAD_REQUEST,
        "Unknown sort direction sideways",
    );
}

#[tokio::test]
async fn alarm_history_from_the_store() {
    let api = Api::new(ServiceConfig::default());
    let all = "/v1/alarm/history/?all_tenants=False&sort_by=start_timestamp&sort_by=vitrage_id\
               &sort_dirs=asc&sort_dirs=asc&next_page=True";
    let history = api.call(Method::GET, all, None).await.2;
    assert_eq!(ids(&history), ["a-old", "a-nic"]);
    assert_eq!(history[0]["start_timestamp"], json!("2025-12-31 08:00:00+00:00"));
    assert_eq!(history[0]["end_timestamp"], json!("2025-12-31 09:00:00+00:00"));
    assert_eq!(history[0]["state"], json!("Inactive"));
    assert_eq!(history[0]["vitrage_operational_severity"], json!("OK"));
    let since = api.call(Method::GET, &format!("{all}&start=2026-01-01T00:00:00"), None).await.2;
    assert_eq!(ids(&since), ["a-nic"]);
    assert_error(
        api.call(Method::GET, "/v1/alarm/history/?end=2026-01-01", None).await,
        StatusCode::BAD_REQUEST,
        "'end' can't be used without 'start'",
    );
    let (publish, view) = watch::channel(Arc::new(cloud(1)));
    let empty =
        Api { state: AppState::new(view, Arc::new(NoHistory), ServiceConfig::default()), publish };
    assert_eq!(empty.call(Method::GET, all, None).await.2, json!([]));
}

#[tokio::test]
async fn rca_follows_causes() {
    let api = Api::new(ServiceConfig::default());
    let (status, _, rca) =
        api.call(Method::GET, "/v1/rca/?alarm_id=a-vm-1&all_tenants=False", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&rca["nodes"]), ["a-nic", "a-host", "a-vm-1"]);
    assert_eq!(rca["inspected_index"], json!(2));
    assert_eq!(rca["links"], rca["edges"]);
    let links: Vec<(u64, u64)> = rca["links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| (l["source"].as_u64().unwrap_or(99), l["target"].as_u64().unwrap_or(99)))
        .collect();
    assert_eq!(links, [(0, 1), (1, 2)]);
    assert_eq!(rca["links"][0]["relationship_type"], json!("causes"));
    let from_root = api.call(Method::GET, "/v1/rca/a-nic", None).await.2;
    assert_eq!(ids(&from_root["nodes"]), ["a-nic", "a-host", "a-vm-1", "a-vm-2"]);
    assert_error(
        api.call(Method::GET, "/v1/rca/?alarm_id=v-host-1", None).await,
        StatusCode::NOT_FOUND,
        "Failed to get RCA",
    );
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let api = Api::new(ServiceConfig { body_limit: 1024, auth_token: None });
    let malformed = api.call(Method::POST, "/v1/topology/", Some("{\"graph_type\": ")).await;
    assert_eq!(malformed.0, StatusCode::BAD_REQUEST);
    assert!(
        malformed.2["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("The request body is not valid JSON"))
    );
    assert_error(
        api.call(Method::POST, "/v1/topology/", Some(r#"{"root": "v-zone", "depth": "deep"}"#))
            .await,
        StatusCode::BAD_REQUEST,
        "depth must be an integer, not \"deep\"",
    );
    assert_error(
        api.call(Method::POST, "/v1/topology/", Some(r#"{"query": "{\"==\": "}"#)).await,
        StatusCode::BAD_REQUEST,
        "query is not valid JSON: EOF while parsing a value at line 1 column 7",
    );
    let big = format!("{{\"query\": \"{}\"}}", "x".repeat(2048));
    let oversized = api.call(Method::POST, "/v1/resources/", Some(&big)).await;
    assert_eq!(oversized.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversized.2["title"], json!("Request Entity Too Large"));
    let declared = [("content-length", "2048"), ("x-roles", "admin")];
    let refused = api.send(Method::POST, "/v1/resources/", Some(&big), &declared).await;
    assert_eq!(refused.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(refused.1[header::CONTENT_TYPE], "application/json");
    assert_eq!(refused.2["code"], json!(413));
    assert_error(
        api.call(Method::GET, "/v1/nowhere", None).await,
        StatusCode::NOT_FOUND,
        "The resource could not be found.",
    );
    let wrong_method = api.call(Method::DELETE, "/v1/alarm/count/", None).await;
    assert_error(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    // The service keeps serving.
    assert_eq!(api.call(Method::GET, "/v1/status", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn readiness_publication_and_token() {
    let (publish, view) = watch::channel(Arc::new(View::empty()));
    let api =
        Api { state: AppState::new(view, Arc::new(NoHistory), ServiceConfig::default()), publish };
    assert_error(
        api.call(Method::GET, "/v1/status/", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "vitrage-graph is not ready",
    );
    assert_error(
        api.call(Method::GET, "/v1/alarm/", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "vitrage-graph is not ready",
    );
    api.publish.send_replace(Arc::new(cloud(2)));
    assert_eq!(ids(&api.call(Method::GET, "/v1/alarm/?all_tenants=true", None).await.2).len(), 4);

    let locked =
        Api::new(ServiceConfig { auth_token: Some("s3cret".into()), ..ServiceConfig::default() });
    assert_error(
        locked.call(Method::GET, "/v1/status/", None).await,
        StatusCode::UNAUTHORIZED,
        "The request you have made requires authentication.",
    );
    assert_eq!(locked.call(Method::GET, "/", None).await.0, StatusCode::OK);
    let with_token =
        locked.send(Method::GET, "/v1/status/", None, &[("x-auth-token", "s3cret")]).await;
    assert_eq!(with_token.0, StatusCode::OK);
}
