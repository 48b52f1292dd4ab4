//! Issue 6 with the real parts: the `vitrage` command of python-vitrageclient 5.4.0 (from PyPI)
//! against the real `causeway serve`, without Keystone, as a user runs it:
//!
//! ```text
//! vitrage --os-auth-type vitrage-noauth --endpoint http://127.0.0.1:PORT \
//!     --user-id admin --project-id admin <command>
//! ```
//!
//! The noauth plugin sends `X-User-Id`, `X-Project-Id` and `X-Roles: admin` (its default), and
//! no token (../shared/service-facts.md §1.2). Every check reads what the command printed.
//!
//! The client comes from `CAUSEWAY_VITRAGE_CLI` (`.ci/run` installs it in `target/ci-venv`),
//! else from `target/ci-venv/bin/vitrage`. Without either the tests say `skipped: ...` and
//! pass, except under CI (`CI` set), where they fail.

#[path = "common/serve.rs"]
mod serve;

use serde_json::{Value, json};
use serve::Serve;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------------------------------
// The use case (the seed's use case 1, through the API)

/// A NIC fails on compute-1 (Zabbix, pushed as a datasource would push it) and a fencing agent
/// reports compute-2 down (a doctor event, through `vitrage event post`). Vitrage's answer, as
/// the operator sees it with the client: the deduced alarms on the hosts, their instances and
/// the applications, the causal chain, the hosts in ERROR; a webhook hears of it. Then both
/// clear: the alarms are gone from the alarm list and stay in its history.
#[test]
fn use_case_1_nic_failure_and_host_down() {
    let Some(cli) = vitrage_cli() else { return };
    let service = Service::start("use-case");
    let vitrage = Vitrage::new(&cli, &service);
    let hook = Receiver::start();

    // An operator asks to hear of host NIC alarms, with a header of their own.
    let added = vitrage
        .run(&[
            "webhook",
            "add",
            "--url",
            &hook.url(),
            "--regex_filter",
            r#"{"name": "host nic.*"}"#,
            "--headers",
            r#"{"X-Token": "abc"}"#,
            "-f",
            "json",
        ])
        .json();
    assert_eq!(added["regex_filter"], json!(r#"{"name": "host nic.*"}"#));

    // Zabbix sees the NIC of compute-1 fail.
    let (status, ack) = service.push(&json!({
        "changes": [{"op": "raise_alarm",
                     "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}],
        "request_id": "zabbix-1"
    }));
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["duplicate"], json!(false));
    // A resend after a lost answer changes nothing.
    let (status, again) = service.push(&json!({
        "changes": [{"op": "raise_alarm",
                     "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}],
        "request_id": "zabbix-1"
    }));
    assert_eq!((status, &again["seq"], &again["duplicate"]), (200, &ack["seq"], &json!(true)));

    // A fencing agent reports compute-2 down (Vitrage's doctor event).
    let posted = vitrage.run(&[
        "event",
        "post",
        "--type",
        "compute.host.down",
        "--details",
        r#"{"hostname": "compute-2", "status": "down", "source": "fencing", "severity": "critical"}"#,
    ]);
    assert_eq!(posted.ok().trim(), "", "event post prints nothing");

    // What the operator sees, all at once.
    let [alarms, own_alarms, count, topology] = concurrently([
        &|| vitrage.run(&["alarm", "list", "--all-tenants", "-f", "json"]).json(),
        &|| vitrage.run(&["alarm", "list", "-f", "json"]).json(),
        &|| vitrage.run(&["alarm", "count", "--all-tenants"]).json(),
        &|| vitrage.run(&["topology", "show", "--all-tenants"]).json(),
    ]);
    let resources = ids_of(&topology);
    let seen = alarm_rows(&alarms, &resources);
    let expected: BTreeSet<(String, String, String, String)> = [
        ("zabbix", "nic failure", "compute-1", "CRITICAL"),
        ("vitrage", "host nic failure", "compute-1", "CRITICAL"),
        ("vitrage", "instance unreachable", "web-1", "CRITICAL"),
        ("vitrage", "instance unreachable", "blog-1", "CRITICAL"),
        ("vitrage", "instance unreachable", "cache-1", "CRITICAL"),
        ("vitrage", "application degraded", "shop", "WARNING"),
        ("vitrage", "application degraded", "blog", "WARNING"),
        ("doctor", "compute.host.down", "compute-2", "CRITICAL"),
        ("vitrage", "instance on down host", "web-2", "CRITICAL"),
        ("vitrage", "instance on down host", "db-1", "CRITICAL"),
    ]
    .iter()
    .map(|(t, n, r, s)| (t.to_string(), n.to_string(), r.to_string(), s.to_string()))
    .collect();
    assert_eq!(seen, expected, "alarm list --all-tenants");
    // Without --all-tenants, project admin sees the alarms of resources of no project (hosts,
    // applications), not those of project demo's instances.
    let own: BTreeSet<String> = alarm_rows(&own_alarms, &resources)
        .into_iter()
        .map(|(_, n, r, _)| format!("{n}@{r}"))
        .collect();
    assert!(
        own.contains("host nic failure@compute-1") && own.contains("application degraded@shop")
    );
    assert!(!own.iter().any(|a| a.starts_with("instance")), "{own:?}");
    assert_eq!(
        count,
        json!({"SEVERE": 0, "CRITICAL": 8, "WARNING": 2, "OK": 0, "N/A": 0}),
        "alarm count --all-tenants"
    );
    // The hosts are in ERROR and marked down; compute-3 is fine.
    assert_eq!(
        host_states(&topology),
        [
            ("compute-1".to_string(), "ERROR".to_string(), "ERROR".to_string(), true),
            ("compute-2".to_string(), "ERROR".to_string(), "ERROR".to_string(), true),
            ("compute-3".to_string(), "OK".to_string(), "AVAILABLE".to_string(), false),
        ]
    );

    // Why is web-1 unreachable? The causal chain, from the NIC to the shop.
    let web_1 = alarm_id(&alarms, &resources, "instance unreachable", "web-1");
    let host_alarm = alarm_id(&alarms, &resources, "host nic failure", "compute-1");
    let [rca, rca_dot, shown] = concurrently([
        &|| vitrage.run(&["rca", "show", &web_1, "--all-tenants"]).json(),
        &|| vitrage.run(&["rca", "show", &web_1, "--all-tenants", "-f", "dot"]).ok().into(),
        &|| vitrage.run(&["alarm", "show", &host_alarm]).ok().into(),
    ]);
    assert_eq!(
        causal_chain(&rca),
        [
            "nic failure -> host nic failure",
            "host nic failure -> instance unreachable",
            "instance unreachable -> application degraded",
        ]
    );
    let inspected = rca["inspected_index"].as_u64().expect("inspected_index") as usize;
    assert_eq!(rca["nodes"][inspected]["vitrage_id"], json!(web_1));
    assert_eq!(rca["nodes"].as_array().map(Vec::len), Some(4), "the alarm, its causes, its effect");
    let dot = rca_dot.as_str().unwrap_or_default();
    assert!(dot.contains("digraph") && dot.contains("->"), "{dot}");
    let shown = shown.as_str().unwrap_or_default();
    assert!(row_with(shown, "| name ").contains("host nic failure"), "{shown}");
    assert!(row_with(shown, "| vitrage_operational_severity ").contains("CRITICAL"), "{shown}");
    assert!(row_with(shown, "| resource_id ").contains("compute-1"), "{shown}");

    // The webhook heard of the host NIC alarm, and of nothing else; the first delivery was
    // refused (500) and retried.
    let activated = hook.wait_for(|posts| {
        has(posts, "vitrage.alarm.activate", "host nic failure") && posts.len() > distinct(posts)
    });
    assert!(activated.iter().all(|p| p.body["payload"]["name"] == json!("host nic failure")));
    assert!(activated.iter().all(|p| p.headers.contains("x-token: abc")), "{activated:?}");

    // The NIC is repaired and compute-2 is back.
    let (status, _) = service.push(&json!({
        "changes": [{"op": "clear_alarm",
                     "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}]
    }));
    assert_eq!(status, 200);
    vitrage
        .run(&[
            "event",
            "post",
            "--type",
            "compute.host.down",
            "--details",
            r#"{"hostname": "compute-2", "status": "up", "source": "fencing"}"#,
        ])
        .ok();

    let [alarms, count, topology, history] = concurrently([
        &|| vitrage.run(&["alarm", "list", "--all-tenants", "-f", "json"]).json(),
        &|| vitrage.run(&["alarm", "count", "--all-tenants"]).json(),
        &|| vitrage.run(&["topology", "show", "--all-tenants"]).json(),
        &|| vitrage.run(&["alarm", "history", "--all-tenants", "-f", "json"]).json(),
    ]);
    assert_eq!(alarms, json!([]), "every alarm is gone");
    assert_eq!(count, json!({"SEVERE": 0, "CRITICAL": 0, "WARNING": 0, "OK": 0, "N/A": 0}));
    assert!(
        host_states(&topology)
            .iter()
            .all(|(_, op, agg, down)| op == "OK" && agg == "AVAILABLE" && !down)
    );
    // The history keeps all ten, each ended.
    let history = history.as_array().cloned().unwrap_or_default();
    assert_eq!(history.len(), 10, "{history:?}");
    let names: BTreeSet<(String, String)> = alarm_rows(&Value::Array(history.clone()), &resources)
        .into_iter()
        .map(|(_, n, r, _)| (n, r))
        .collect();
    assert_eq!(names, expected.iter().map(|(_, n, r, _)| (n.clone(), r.clone())).collect());
    assert!(
        history.iter().all(|h| h["Severity"] == json!("OK") && !text(&h["End Time"]).is_empty())
    );
    hook.wait_for(|posts| has(posts, "vitrage.alarm.deactivate", "host nic failure"));
}

// ------------------------------------------------------------------------------------------
// Every command the issue names, on the demo cloud

/// Templates: validate, add with parameters, list, show, delete (by name and by uuid).
#[test]
fn templates_through_the_client() {
    let Some(cli) = vitrage_cli() else { return };
    let service = Service::start("templates");
    let vitrage = Vitrage::new(&cli, &service);
    let dir = service.dir.join("templates");
    std::fs::create_dir_all(&dir).expect("templates dir");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("template written");
        path.display().to_string()
    };
    let valid = write("cpu_high.yaml", CPU_HIGH);
    let invalid =
        write("broken.yaml", &CPU_HIGH.replace("cpu_alarm [on] host", "cpu_alarm [on] hots"));
    let with_params = write("disk_full.yaml", DISK_FULL);

    let [ok, failed, unresolved, resolved] = concurrently([
        &|| vitrage.run(&["template", "validate", "--path", &valid]).json(),
        &|| vitrage.run(&["template", "validate", "--path", &invalid]).json(),
        &|| vitrage.run(&["template", "validate", "--path", &with_params]).json(),
        &|| {
            let p = [
                "template",
                "validate",
                "--path",
                &with_params,
                "--params",
                "alarm_name=disk full",
            ];
            vitrage.run(&p).json()
        },
    ]);
    let result = |v: &Value| v["results"][0].clone();
    assert_eq!(result(&ok)["file path"], json!(valid));
    assert_eq!(
        (&result(&ok)["status"], &result(&ok)["status code"], &result(&ok)["message"]),
        (&json!("validation OK"), &json!(0), &json!("Template validation is OK"))
    );
    assert_eq!(result(&failed)["status"], json!("validation failed"));
    assert_eq!(result(&failed)["status code"], json!(10200));
    assert_eq!(
        result(&failed)["message"]
            .as_str()
            .map(|m| m.starts_with("Condition contains an unknown entity id")),
        Some(true),
        "{failed}"
    );
    assert_eq!(result(&unresolved)["status code"], json!(163));
    assert_eq!(result(&unresolved)["message"], json!("Failed to resolve parameter - alarm_name"));
    assert_eq!(result(&resolved)["status code"], json!(0));

    // Added with its parameter, the template is named and stored resolved.
    let added = vitrage
        .run(&["template", "add", "--path", &with_params, "--params", "alarm_name=disk full"])
        .ok();
    assert!(row_with(&added, "disk_full").contains("| ACTIVE "), "{added}");
    let duplicate =
        vitrage.run(&["template", "add", "--path", &with_params, "--params", "alarm_name=x"]);
    let duplicate = duplicate.ok();
    assert!(row_with(&duplicate, "disk_full").contains("Duplicate template name"), "{duplicate}");
    let uuid = vitrage
        .run(&["template", "add", "--path", &valid, "-f", "value", "-c", "UUID"])
        .ok()
        .trim()
        .to_string();
    assert_eq!(uuid.len(), 36, "{uuid}");

    let [list, shown] = concurrently([&|| vitrage.run(&["template", "list"]).ok().into(), &|| {
        vitrage.run(&["template", "show", "disk_full"]).ok().into()
    }]);
    let list = list.as_str().unwrap_or_default();
    for name in ["host_down", "nic_failure", "port_down", "disk_full", "cpu_high"] {
        assert!(row_with(list, name).contains("| ACTIVE "), "{name} in\n{list}");
    }
    assert_eq!(list.matches("disk_full").count(), 1, "the duplicate is not kept:\n{list}");
    // `template show` prints YAML: the content as the client sent it (all scalars strings),
    // parameters resolved, no parameters section.
    let shown = shown.as_str().unwrap_or_default();
    assert!(shown.contains("name: disk_full") && shown.contains("version: '3'"), "{shown}");
    assert!(shown.contains("name: disk full") && shown.contains("state: SUBOPTIMAL"), "{shown}");
    assert!(!shown.contains("get_param") && !shown.contains("parameters:"), "{shown}");

    // Deleted by name and by uuid: `template delete` prints nothing.
    assert_eq!(vitrage.run(&["template", "delete", "disk_full"]).ok().trim(), "");
    assert_eq!(vitrage.run(&["template", "delete", &uuid]).ok().trim(), "");
    let [list, gone] = concurrently([
        &|| vitrage.run(&["template", "list", "-f", "value", "-c", "Name"]).ok().into(),
        &|| vitrage.run(&["template", "show", "disk_full"]).failure().into(),
    ]);
    assert_eq!(list.as_str().map(str::trim), Some("host_down\nnic_failure\nport_down"));
    assert_eq!(gone, json!("Failed to show template. (HTTP 404)"));
}

/// Topology (graph, tree, dot), resources, status, health, versions, and the errors the client
/// prints from Vitrage's error bodies.
#[test]
fn reading_the_cloud_through_the_client() {
    let Some(cli) = vitrage_cli() else { return };
    let service = Service::start("reading");
    let vitrage = Vitrage::new(&cli, &service);
    let nova = r#"{"or": [{"==": {"vitrage_type": "openstack.cluster"}}, {"==": {"vitrage_type": "nova.zone"}}, {"==": {"vitrage_type": "nova.host"}}, {"==": {"vitrage_type": "nova.instance"}}]}"#;
    let [graph, tree, dot, no_filter, resources, instances] = concurrently([
        &|| vitrage.run(&["topology", "show"]).json(),
        &|| {
            let args =
                ["topology", "show", "--graph-type", "tree", "--filter", nova, "--all-tenants"];
            vitrage.run(&args).json()
        },
        &|| vitrage.run(&["topology", "show", "-f", "dot"]).ok().into(),
        &|| vitrage.run(&["topology", "show", "--graph-type", "tree"]).failure().into(),
        &|| vitrage.run(&["resource", "list"]).ok().into(),
        &|| {
            vitrage
                .run(&[
                    "resource",
                    "list",
                    "--type",
                    "nova.instance",
                    "--all-tenants",
                    "-f",
                    "json",
                ])
                .json()
        },
    ]);

    // The graph: node-link JSON, `edges` beside `links` for today's networkx. Project admin
    // sees the resources of no project, not project demo's instances.
    let ids: BTreeSet<String> = ids_of(&graph).into_values().collect();
    for id in ["OpenStack Cluster", "zone-1", "compute-1", "compute-3", "net-1", "shop"] {
        assert!(ids.contains(id), "{id} in {ids:?}");
    }
    assert!(!ids.contains("web-1"), "{ids:?}");
    assert_eq!(graph["links"], graph["edges"]);
    let contains = graph["links"].as_array().map_or(0, |l| {
        l.iter()
            .filter(|l| {
                l["relationship_type"] == json!("contains") && l["key"] == json!("contains")
            })
            .count()
    });
    assert!(contains >= 4, "{}", graph["links"]);
    // The tree: the cluster, its zone, the hosts, their instances.
    assert_eq!(
        outline(&tree),
        "OpenStack Cluster(zone-1(compute-1(web-1 blog-1 cache-1) compute-2(web-2 db-1) compute-3(blog-2 batch-1)))"
    );
    assert_eq!(
        no_filter,
        json!("Failed to get topology. Graph-type 'tree' requires a filter. (HTTP 404)")
    );
    let dot = dot.as_str().unwrap_or_default();
    assert!(
        dot.contains("digraph {") && dot.contains("compute-1") && dot.contains(" -> "),
        "{dot}"
    );

    let resources = resources.as_str().unwrap_or_default();
    assert!(row_with(resources, "compute-1").contains("| nova.host "), "{resources}");
    assert!(!resources.contains("nova.instance"), "demo's instances are not admin's");
    let instances = instances.as_array().cloned().unwrap_or_default();
    let names: BTreeSet<String> = instances.iter().map(|r| text(&r["Data Source ID"])).collect();
    assert_eq!(names.len(), 7, "{instances:?}");
    assert!(
        instances.iter().all(|r| r["Type"] == json!("nova.instance") && r["State"] == json!("OK"))
    );
    let compute_1 = ids_of(&graph)
        .into_iter()
        .find(|(_, id)| id == "compute-1")
        .map(|(vid, _)| vid)
        .expect("compute-1 has a vitrage_id");

    let member = Vitrage { roles: Some("member"), ..vitrage.clone() };
    let [shown, missing, status, health, versions, no_alarm, no_rca, no_resource, forbidden] =
        concurrently([
            &|| vitrage.run(&["resource", "show", &compute_1]).ok().into(),
            &|| vitrage.run(&["resource", "show", "nonexistent"]).failure().into(),
            &|| vitrage.run(&["status"]).ok().into(),
            &|| vitrage.run(&["healthcheck", "-f", "json"]).json(),
            &|| vitrage.run(&["template", "versions", "-f", "json"]).json(),
            &|| vitrage.run(&["alarm", "show", "nonexistent"]).failure().into(),
            &|| vitrage.run(&["rca", "show", "nonexistent"]).failure().into(),
            &|| vitrage.run(&["alarm", "list"]).ok().into(),
            &|| member.run(&["alarm", "list", "--all-tenants"]).failure().into(),
        ]);
    let shown = shown.as_str().unwrap_or_default();
    assert!(row_with(shown, "| id ").contains("compute-1"), "{shown}");
    assert!(row_with(shown, "vitrage_type").contains("nova.host"), "{shown}");
    assert_eq!(missing, json!("Failed to show resource. (HTTP 404)"));
    assert!(row_with(status.as_str().unwrap_or_default(), "reason").contains("OK"), "{status}");
    assert_eq!(health, json!({"detailed": false, "reasons": []}));
    assert_eq!(
        versions,
        json!([{"Version": "v1", "Status": "SUPPORTED"}, {"Version": "v2", "Status": "SUPPORTED"},
               {"Version": "v3", "Status": "CURRENT"}])
    );
    assert_eq!(no_alarm, json!("Failed to show alarm. (HTTP 404)"));
    assert_eq!(no_rca, json!("Failed to get RCA (HTTP 404)"));
    assert_eq!(no_resource.as_str().map(str::trim), Some(""), "no alarm yet");
    // X-Roles is honoured: a member may not ask for all tenants.
    assert_eq!(forbidden, json!("Authorization Failed (HTTP 403)"));
}

/// Webhooks: add (filter and headers are Python dict strings, as the client passes them on),
/// list, show, delete, and the refusals.
#[test]
fn webhooks_through_the_client() {
    let Some(cli) = vitrage_cli() else { return };
    let service = Service::start("webhooks");
    let vitrage = Vitrage::new(&cli, &service);
    let added = vitrage
        .run(&[
            "webhook",
            "add",
            "--url",
            "http://127.0.0.1:9/hook",
            "--regex_filter",
            "{'name': 'host.*'}",
            "--headers",
            "{'X-Token': 'abc'}",
        ])
        .ok();
    assert!(row_with(&added, "| url ").contains("http://127.0.0.1:9/hook"), "{added}");
    assert!(row_with(&added, "regex_filter").contains("{'name': 'host.*'}"), "{added}");
    assert!(row_with(&added, "headers").contains("{'X-Token': 'abc'}"), "{added}");
    assert!(row_with(&added, "project_id").contains("admin"), "{added}");
    let id =
        row_with(&added, "| id ").split('|').nth(2).map(str::trim).unwrap_or_default().to_string();
    assert_eq!(id.len(), 36, "{added}");

    let [list, shown, bad_url, bad_regex, bad_headers] = concurrently([
        &|| vitrage.run(&["webhook", "list"]).ok().into(),
        &|| vitrage.run(&["webhook", "show", &id, "-f", "json"]).json(),
        &|| vitrage.run(&["webhook", "add", "--url", "not a url"]).failure().into(),
        &|| {
            vitrage
                .run(&["webhook", "add", "--url", "http://x/", "--regex_filter", "{'name': '('}"])
                .failure()
                .into()
        },
        &|| {
            vitrage
                .run(&["webhook", "add", "--url", "http://x/", "--headers", "oops"])
                .failure()
                .into()
        },
    ]);
    let list = list.as_str().unwrap_or_default();
    let row = row_with(list, &id);
    assert!(
        row.contains("http://127.0.0.1:9/hook") && row.contains("{'name': 'host.*'}"),
        "{list}"
    );
    assert_eq!(shown["url"], json!("http://127.0.0.1:9/hook"));
    assert_eq!(shown["is_admin_webhook"], json!(true));
    assert_eq!(bad_url, json!("Failed to add webhook: Invalid URL (HTTP 400)"));
    assert_eq!(bad_regex, json!("Failed to add webhook: Invalid RegEx (HTTP 400)"));
    assert_eq!(bad_headers, json!("Failed to add webhook: Headers in invalid format (HTTP 400)"));

    let deleted = vitrage.run(&["webhook", "delete", &id]).ok();
    assert!(row_with(&deleted, "SUCCESS").contains(&format!("Webhook {id} deleted")), "{deleted}");
    let [list, again] = concurrently([&|| vitrage.run(&["webhook", "list"]).ok().into(), &|| {
        vitrage.run(&["webhook", "delete", &id]).failure().into()
    }]);
    assert_eq!(list.as_str().map(str::trim), Some(""), "{list}");
    assert_eq!(again, json!("Failed to delete webhook. (HTTP 404)"));
}

const CPU_HIGH: &str = "\
metadata:
  version: 3
  name: cpu_high
  type: standard
entities:
  cpu_alarm:
    category: ALARM
    type: zabbix
    name: cpu high
  host:
    category: RESOURCE
    type: nova.host
scenarios:
  - condition: cpu_alarm [on] host
    actions:
      - set_state:
          target: host
          state: SUBOPTIMAL
";

const DISK_FULL: &str = "\
metadata:
  version: 3
  name: disk_full
  type: standard
parameters:
  alarm_name:
    description: the monitor's name for the alarm
  new_state:
    default: SUBOPTIMAL
entities:
  disk_alarm:
    category: ALARM
    type: zabbix
    name: get_param(alarm_name)
  host:
    category: RESOURCE
    type: nova.host
scenarios:
  - condition: disk_alarm [on] host
    actions:
      - set_state:
          target: host
          state: get_param(new_state)
";

// ------------------------------------------------------------------------------------------
// Reading what the client printed

/// vitrage_id → id of every vertex of a node-link graph.
fn ids_of(graph: &Value) -> std::collections::BTreeMap<String, String> {
    graph["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| (text(&n["vitrage_id"]), text(&n["id"])))
        .collect()
}

/// (type, name, resource id, severity) of each row of `alarm list -f json`.
fn alarm_rows(
    rows: &Value,
    resources: &std::collections::BTreeMap<String, String>,
) -> BTreeSet<(String, String, String, String)> {
    rows.as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let resource = text(&r["Resource ID"]);
            (
                text(&r["Type"]),
                text(&r["Name"]),
                resources.get(&resource).cloned().unwrap_or(resource),
                text(&r["Severity"]),
            )
        })
        .collect()
}

fn alarm_id(
    rows: &Value,
    resources: &std::collections::BTreeMap<String, String>,
    name: &str,
    on: &str,
) -> String {
    rows.as_array()
        .into_iter()
        .flatten()
        .find(|r| {
            r["Name"] == json!(name)
                && resources.get(&text(&r["Resource ID"])).map(String::as_str) == Some(on)
        })
        .map(|r| text(&r["ID"]))
        .unwrap_or_else(|| panic!("no alarm {name:?} on {on} in {rows}"))
}

/// (host, vitrage_operational_state, vitrage_aggregated_state, is_marked_down) of each host.
fn host_states(topology: &Value) -> Vec<(String, String, String, bool)> {
    let mut hosts: Vec<_> = topology["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["vitrage_type"] == json!("nova.host"))
        .map(|n| {
            (
                text(&n["id"]),
                text(&n["vitrage_operational_state"]),
                text(&n["vitrage_aggregated_state"]),
                n["is_marked_down"] == json!(true),
            )
        })
        .collect();
    hosts.sort();
    hosts
}

/// The `causes` links of an RCA graph as "cause -> effect" by alarm name, sorted from the root.
fn causal_chain(rca: &Value) -> Vec<String> {
    let nodes = rca["nodes"].as_array().cloned().unwrap_or_default();
    let name = |i: &Value| i.as_u64().and_then(|i| nodes.get(i as usize)).map(|n| text(&n["name"]));
    let mut links: Vec<(String, String)> = rca["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["relationship_type"] == json!("causes"))
        .map(|l| (name(&l["source"]).unwrap_or_default(), name(&l["target"]).unwrap_or_default()))
        .collect();
    let mut chain = Vec::new();
    let mut cause = "nic failure".to_string();
    while let Some(i) = links.iter().position(|(s, _)| *s == cause) {
        let (s, t) = links.remove(i);
        chain.push(format!("{s} -> {t}"));
        cause = t;
    }
    chain.extend(links.into_iter().map(|(s, t)| format!("{s} -> {t} (off the chain)")));
    chain
}

/// A tree as `id(child child ...)`.
fn outline(tree: &Value) -> String {
    let children: Vec<String> =
        tree["children"].as_array().into_iter().flatten().map(outline).collect();
    if children.is_empty() {
        text(&tree["id"])
    } else {
        format!("{}({})", text(&tree["id"]), children.join(" "))
    }
}

/// The line of a table that contains `needle` (empty when none does).
fn row_with<'a>(table: &'a str, needle: &str) -> &'a str {
    table.lines().find(|l| l.contains(needle)).unwrap_or("")
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Runs the checks on threads of their own (each CLI call is a Python start-up) and returns
/// their answers in order.
fn concurrently<const N: usize>(jobs: [&(dyn Fn() -> Value + Sync); N]) -> [Value; N] {
    std::thread::scope(|s| {
        let handles = jobs.map(|job| s.spawn(job));
        handles.map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

// ------------------------------------------------------------------------------------------
// The client

/// Where the `vitrage` command is; `None` (after saying so) when it is not installed here.
fn vitrage_cli() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CAUSEWAY_VITRAGE_CLI") {
        let path = PathBuf::from(path);
        assert!(path.exists(), "CAUSEWAY_VITRAGE_CLI={} does not exist", path.display());
        return Some(path);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/vitrage");
    if local.exists() {
        return Some(local);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but python-vitrageclient is not installed: run .ci/run, or set CAUSEWAY_VITRAGE_CLI"
    );
    // Past the test harness's capture, so that `cargo test` shows it.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: python-vitrageclient not found (set CAUSEWAY_VITRAGE_CLI, or run .ci/run to \
         install it in target/ci-venv)"
    );
    None
}

/// The `vitrage` command of one user against one service.
#[derive(Clone)]
struct Vitrage {
    exe: PathBuf,
    endpoint: String,
    roles: Option<&'static str>,
}

/// What one command did.
struct Run {
    command: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Vitrage {
    fn new(exe: &Path, service: &Service) -> Vitrage {
        Vitrage { exe: exe.into(), endpoint: format!("http://{}", service.addr), roles: None }
    }

    /// `vitrage --os-auth-type vitrage-noauth --endpoint URL --user-id admin --project-id
    /// admin ARGS`, in a clean environment (no proxy, no `OS_*` variables).
    fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(&self.exe);
        command.env_clear().env("LANG", "C.UTF-8").env("HOME", env!("CARGO_TARGET_TMPDIR"));
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.args(["--os-auth-type", "vitrage-noauth", "--endpoint", &self.endpoint]);
        command.args(["--user-id", "admin", "--project-id", "admin"]);
        if let Some(roles) = self.roles {
            command.args(["--roles", roles]);
        }
        let output = command.args(args).stdin(Stdio::null()).output().expect("vitrage runs");
        Run {
            command: format!("vitrage {}", args.join(" ")),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// What it printed; it must have succeeded.
    fn ok(self) -> String {
        assert_eq!(self.code, Some(0), "{} failed:\n{}{}", self.command, self.stdout, self.stderr);
        self.stdout
    }

    /// What it printed, as JSON.
    fn json(self) -> Value {
        let command = self.command.clone();
        let out = self.ok();
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{command}: not JSON ({e}):\n{out}"))
    }

    /// The error it printed; it must have failed with exit code 1.
    fn failure(self) -> String {
        assert_eq!(
            self.code,
            Some(1),
            "{} should fail:\n{}{}",
            self.command,
            self.stdout,
            self.stderr
        );
        format!("{}{}", self.stdout, self.stderr).trim().to_string()
    }
}

// ------------------------------------------------------------------------------------------
// The service

/// `causeway serve` on a free loopback port with a fresh data directory, with the shipped
/// templates and the demo cloud; killed on drop (its log is printed if the test failed).
struct Service {
    serve: Serve,
    addr: String,
    dir: PathBuf,
}

impl Service {
    fn start(name: &str) -> Service {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("vitrageclient-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut serve = Serve::start_logged(&dir.join("data"), &[], &[], &dir.join("serve.log"));
        serve.wait_ready(Duration::from_secs(30));
        Service { addr: serve.addr(), serve, dir }
    }

    /// `POST /v1/causeway/changes`, the topology push a datasource uses.
    fn push(&self, body: &Value) -> (u16, Value) {
        http(&self.addr, "POST", "/v1/causeway/changes", Some(body))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.serve.child.kill();
        let _ = self.serve.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("causeway serve's log ({}):\n{}", self.dir.display(), tail.join("\n"));
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One HTTP/1.1 request with a JSON body; the status and the JSON answer (`null` if none).
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let Ok(mut stream) = TcpStream::connect(addr) else { return (0, Value::Null) };
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let answer = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(answer).unwrap_or(Value::Null))
}

// ------------------------------------------------------------------------------------------
// A webhook receiver

/// A POST the receiver got.
#[derive(Debug, Clone)]
struct Post {
    /// The header lines, lower-cased.
    headers: String,
    body: Value,
}

/// A local HTTP server that records every POST; it refuses the first one with a 500.
struct Receiver {
    addr: String,
    posts: Arc<Mutex<Vec<Post>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("receiver binds");
        let addr = listener.local_addr().expect("receiver address").to_string();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let record = posts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Some(post) = read_post(&stream) else { continue };
                let first = record.lock().map(|mut p| {
                    p.push(post);
                    p.len() == 1
                });
                let status =
                    if first.unwrap_or(false) { "500 Internal Server Error" } else { "200 OK" };
                let mut stream = stream;
                let _ = stream.write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                );
            }
        });
        Receiver { addr, posts }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The posts so far, once `done` holds of them (at most 20 s).
    fn wait_for(&self, done: impl Fn(&[Post]) -> bool) -> Vec<Post> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let posts = self.posts.lock().map(|p| p.clone()).unwrap_or_default();
            if done(&posts) {
                return posts;
            }
            assert!(Instant::now() < deadline, "the webhook did not get it; it got {posts:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read_post(stream: &TcpStream) -> Option<Post> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut headers = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        headers.push_str(&line.to_ascii_lowercase());
    }
    let length = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Post { headers, body: serde_json::from_slice(&body).unwrap_or(Value::Null) })
}

fn has(posts: &[Post], notification: &str, name: &str) -> bool {
    posts.iter().any(|p| {
        p.body["notification"] == json!(notification) && p.body["payload"]["name"] == json!(name)
    })
}

/// How many different notifications (type and alarm) the posts carry.
fn distinct(posts: &[Post]) -> usize {
    let keys: BTreeSet<String> = posts
        .iter()
        .map(|p| format!("{} {}", p.body["notification"], p.body["payload"]["vitrage_id"]))
        .collect();
    keys.len()
}
