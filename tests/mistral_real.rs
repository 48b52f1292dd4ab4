//! Against a real Mistral 23 (`CAUSEWAY_MISTRAL_URL`, which `.ci/run` starts with
//! tools/mistral/): use case 1 end to end, exactly once across `kill -9`, manual runs, and a
//! refusal with Mistral's own words.

mod mistral_support;

use mistral_support::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const SETTLE: Duration = Duration::from_secs(60);

fn ids(list: &[Value], field: &str) -> BTreeSet<String> {
    list.iter().map(|e| e[field].as_str().unwrap_or_default().to_string()).collect()
}

/// Waits until causeway shows `n` executions, all SUCCESS.
fn all_succeed(serve: &Serve, n: usize) -> Vec<Value> {
    eventually(SETTLE, &format!("{n} executions SUCCESS"), || {
        let list = serve.executions("");
        (list.len() == n && list.iter().all(|e| e["state"] == "SUCCESS")).then_some(list)
    })
}

#[test]
fn use_case_1_migrates_each_instance_once_per_activation() {
    let _turn = one_at_a_time();
    let Some(url) = real_mistral("use_case_1") else { return };
    let mistral = Mistral(url.clone());
    mistral.workflow("migrate_instance");
    let dir = Scratch::new("uc1");
    let serve = Serve::start(dir.path(), &["--mistral-url", &url, "--mistral-poll-ms", "100"], &[]);
    let (code, body) = serve.post("/v1/causeway/changes", RAISE);
    assert_eq!(code, 200, "{body}");
    let first = all_succeed(&serve, 3);
    let held = mistral.executions("migrate_instance");
    assert_eq!(held.len(), 3, "one execution per instance: {held:?}");
    assert!(held.iter().all(|e| e["state"] == "SUCCESS"), "{held:?}");
    let instances: BTreeSet<String> = held.iter().map(instance_of).collect();
    assert_eq!(instances, INSTANCES.iter().map(|s| s.to_string()).collect());
    assert_eq!(ids(&held, "id"), ids(&first, "execution_id"));

    // The instance's resource shows what acted on it.
    let (_, resources) = mistral_support::http(
        &serve.url(),
        "GET",
        "/v1/resources/?all_tenants=true",
        "",
        "application/json",
    );
    let resources: Vec<Value> = serde_json::from_str(&resources).expect("json");
    let web = resources.iter().find(|r| r["id"] == "web-1").expect("web-1");
    let vid = web["vitrage_id"].as_str().expect("vitrage_id");
    let (code, shown) = mistral_support::http(
        &serve.url(),
        "GET",
        &format!("/v1/resources/{vid}"),
        "",
        "application/json",
    );
    assert_eq!(code, 200, "{shown}");
    let shown: Value = serde_json::from_str(&shown).expect("json");
    assert_eq!(shown["executions"][0]["state"], "SUCCESS", "{shown}");
    assert_eq!(shown["executions"][0]["input"]["instance_id"], "web-1", "{shown}");
    assert_eq!(serve.executions(&format!("?resource={vid}")).len(), 1);

    // Clearing undoes the deduced alarms and starts nothing.
    assert_eq!(serve.post("/v1/causeway/changes", CLEAR).0, 200);
    std::thread::sleep(Duration::from_millis(1500));
    let (_, alarms) = mistral_support::http(
        &serve.url(),
        "GET",
        "/v1/alarm/?all_tenants=true",
        "",
        "application/json",
    );
    assert!(!alarms.contains("instance unreachable"), "{alarms}");
    assert_eq!(mistral.executions("migrate_instance").len(), 3);
    assert_eq!(serve.executions("").len(), 3);

    // Raising it again is a new activation: one new execution per instance.
    assert_eq!(serve.post("/v1/causeway/changes", RAISE).0, 200);
    let both = all_succeed(&serve, 6);
    let held = mistral.executions("migrate_instance");
    assert_eq!(held.len(), 6, "{held:?}");
    assert_eq!(ids(&held, "id"), ids(&both, "execution_id"));
    for instance in INSTANCES {
        assert_eq!(held.iter().filter(|e| instance_of(e) == instance).count(), 2, "{instance}");
    }
    let (_, metrics) = mistral_support::http(&serve.url(), "GET", "/metrics", "", "text/plain");
    assert!(
        metrics.contains("causeway_mistral_dispatches_total{outcome=\"accepted\"} 6"),
        "{metrics}"
    );
}

#[test]
fn a_kill_at_any_point_neither_loses_nor_duplicates_an_execution() {
    let _turn = one_at_a_time();
    let Some(url) = real_mistral("exactly_once_across_crashes") else { return };
    let (workflow, mistral) = ("migrate_crash", Mistral(url.clone()));
    mistral.workflow(workflow);
    let dir = Scratch::new("crash");
    let templates = nic_template(dir.path(), "nic_failure_crash", workflow);
    let data = dir.path().join("data");
    let data = data.as_path();
    let templates = templates.to_str().expect("utf-8 path");
    let args = ["--mistral-url", &url, "--mistral-poll-ms", "100", "--templates", templates];
    let hook = |point| [("CAUSEWAY_TEST_DISPATCH_HOOK", point)];

    // 1. Between the decision (the outbox row, committed with the alarm) and the POST.
    let serve = Serve::start(data, &args, &hook("abort-before-post"));
    // The answer may be lost to the abort (which can come before it is written): the change
    // was committed before it was answered, and the restart shows it was.
    let _ = serve.post("/v1/causeway/changes", RAISE);
    let _ = serve.wait_exit(Duration::from_secs(20));
    assert_eq!(mistral.executions(workflow).len(), 0, "nothing was sent");
    let serve = Serve::start(data, &args, &[]);
    let first = all_succeed(&serve, 3);
    assert_eq!(ids(&mistral.executions(workflow), "id"), ids(&first, "execution_id"));
    assert_eq!(serve.post("/v1/causeway/changes", CLEAR).0, 200);
    serve.kill9();

    // 2. Between Mistral's acceptance and the recording of its answer.
    let serve = Serve::start(data, &args, &hook("abort-after-post"));
    let _ = serve.post("/v1/causeway/changes", RAISE);
    let _ = serve.wait_exit(Duration::from_secs(20));
    assert!(mistral.executions(workflow).len() > 3, "the POST reached Mistral");
    let serve = Serve::start(data, &args, &[]);
    let second = all_succeed(&serve, 6);
    assert_eq!(ids(&mistral.executions(workflow), "id"), ids(&second, "execution_id"));
    assert_eq!(mistral.executions(workflow).len(), 6);
    serve.kill9();

    // 3. At random points of a stream of raises and clears.
    let mut seed = std::process::id() as u64 | 1;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut raise_next = true;
    for _ in 0..5 {
        let serve = Serve::start(data, &args, &[]);
        let url = serve.url();
        let stream = std::thread::spawn(move || {
            for i in 0..6 {
                let body = if (i % 2 == 0) == raise_next { RAISE } else { CLEAR };
                let host = url.trim_start_matches("http://").to_string();
                if std::net::TcpStream::connect(&host).is_err() {
                    break;
                }
                let _ = std::panic::catch_unwind(|| {
                    mistral_support::http(
                        &url,
                        "POST",
                        "/v1/causeway/changes",
                        body,
                        "application/json",
                    )
                });
                std::thread::sleep(Duration::from_millis(30));
            }
        });
        std::thread::sleep(Duration::from_millis(50 + random(400)));
        serve.kill9();
        let _ = stream.join();
        raise_next = !raise_next;
    }
    let serve = Serve::start(data, &args, &[]);
    let all = eventually(SETTLE, "every request final", || {
        let list = serve.executions("");
        list.iter().all(|e| e["state"] == "SUCCESS").then_some(list)
    });
    assert_eq!(all.len() % 3, 0, "three per activation: {all:?}");
    let held = mistral.executions(workflow);
    assert_eq!(held.len(), all.len(), "one execution per activation, none missing");
    assert_eq!(ids(&held, "id"), ids(&all, "execution_id"));
    println!("exactly once: {} activations, {} executions", all.len() / 3, held.len());
}

#[test]
fn a_manual_run_goes_through_the_outbox_and_an_unknown_workflow_is_refused_with_its_reason() {
    let _turn = one_at_a_time();
    let Some(url) = real_mistral("manual_run") else { return };
    let mistral = Mistral(url.clone());
    mistral.workflow("manual_migrate");
    let dir = Scratch::new("manual");
    let serve = Serve::start(dir.path(), &["--mistral-url", &url, "--mistral-poll-ms", "100"], &[]);
    let (code, listed) = mistral_support::http(
        &serve.url(),
        "GET",
        "/v1/causeway/workflows",
        "",
        "application/json",
    );
    assert_eq!(code, 200, "{listed}");
    assert!(listed.contains("\"manual_migrate\""), "{listed}");

    let (_, resources) = mistral_support::http(
        &serve.url(),
        "GET",
        "/v1/resources/?all_tenants=true",
        "",
        "application/json",
    );
    let resources: Vec<Value> = serde_json::from_str(&resources).expect("json");
    let vid = resources
        .iter()
        .find(|r| r["id"] == "db-1")
        .and_then(|r| r["vitrage_id"].as_str())
        .expect("db-1");
    let run = format!(
        r#"{{"resource_id": "{vid}", "workflow": "manual_migrate", "input": {{"instance_id": "db-1"}}, "request_id": "r-1"}}"#
    );
    let (code, answer) = serve.post("/v1/causeway/executions", &run);
    assert_eq!(code, 202, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    let id = answer["execution_id"].as_str().expect("id").to_string();
    assert_eq!(answer["origin"], "manual");
    assert_eq!(answer["requested_by"], "user=tester project=admin");
    // The same request again is the same run.
    let (code, again) = serve.post("/v1/causeway/executions", &run);
    assert_eq!(code, 202);
    assert!(again.contains(&id), "{again}");
    eventually(SETTLE, "the manual run succeeds", || {
        let (_, e) = mistral_support::http(
            &serve.url(),
            "GET",
            &format!("/v1/causeway/executions/{id}"),
            "",
            "application/json",
        );
        e.contains("\"SUCCESS\"").then_some(())
    });
    let held = mistral.executions("manual_migrate");
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(instance_of(&held[0]), "db-1");

    let unknown =
        format!(r#"{{"resource_id": "{vid}", "workflow": "no_such_workflow", "input": {{}}}}"#);
    let (code, answer) = serve.post("/v1/causeway/executions", &unknown);
    assert_eq!(code, 202, "{answer}");
    let id = serde_json::from_str::<Value>(&answer).expect("json")["execution_id"]
        .as_str()
        .expect("id")
        .to_string();
    let refused = eventually(SETTLE, "the unknown workflow is refused", || {
        let (_, e) = mistral_support::http(
            &serve.url(),
            "GET",
            &format!("/v1/causeway/executions/{id}"),
            "",
            "application/json",
        );
        let e: Value = serde_json::from_str(&e).ok()?;
        (e["state"] == "REFUSED").then_some(e)
    });
    assert!(
        refused["state_info"].as_str().unwrap_or("").contains("Workflow not found"),
        "{refused}"
    );
    assert_eq!(refused["attempts"], 1, "a refusal is not retried: {refused}");
    let (code, missing) =
        serve.post("/v1/causeway/executions", r#"{"resource_id": "nope", "workflow": "w"}"#);
    assert_eq!(code, 404, "{missing}");
}
