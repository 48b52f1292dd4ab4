//! Debian's real `prometheus-alertmanager` delivering to a real causeway listener.
//!
//! Two Alertmanagers, as an HA pair whose members do not gossip (so both notify), get the
//! same alert posted to their `/api/v2/alerts`; one delivers to `POST /v1/event` (Vitrage's
//! path, told apart by its `User-Agent`), the other to `POST /v1/causeway/alertmanager`
//! through a proxy that loses causeway's first answer and says 503 instead, so that member
//! retries a delivery causeway has already stored. The
//! mapping file puts the alert on `compute-1` of the demo cloud, and the shipped NIC failure
//! template, made to take Prometheus' alarm, fires from it: the host alarm and the instance
//! alarms appear. Resolving the alert clears all of it. Each alert changes the graph once
//! whichever member delivers first, and a webhook body sent again changes nothing.
//!
//! The binary is `/usr/bin/prometheus-alertmanager` (or `CAUSEWAY_ALERTMANAGER`). Without it
//! the test says so and passes, except under `CI=true`, where it fails.

#[path = "common/http.rs"]
mod http;

use causeway::service::serve::{self, ServeConfig};
use http::Conn;
use serde_json::{Value, json};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NIC_ALERT: &str = "nic failure";

/// An Alertmanager process, killed when dropped.
struct Alertmanager {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("CAUSEWAY_ALERTMANAGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus-alertmanager"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing under CI (.ci/run installs prometheus-alertmanager)",
        path.display()
    );
    eprintln!("skipped: {} is not installed", path.display());
    None
}

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address")
}

/// Starts an Alertmanager in `dir` that sends every alert, firing and resolved, to `url`.
fn alertmanager(bin: &Path, dir: &Path, url: &str) -> Alertmanager {
    std::fs::create_dir_all(dir).expect("its directory");
    let config = format!(
        "route:\n  receiver: causeway\n  group_by: [alertname, host]\n  group_wait: 1s\n  \
         group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: causeway\n  \
         webhook_configs:\n  - url: {url}\n    send_resolved: true\n"
    );
    let file = dir.join("alertmanager.yml");
    std::fs::write(&file, config).expect("its config");
    let addr = free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", file.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("log")).map_or_else(|_| Stdio::null(), Stdio::from))
        .spawn()
        .expect("alertmanager starts");
    let am = Alertmanager { child, addr };
    wait_for("alertmanager ready", || {
        get(am.addr, "/-/ready").is_some_and(|(status, _)| status == 200).then_some(())
    });
    am
}

fn get(addr: SocketAddr, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut c = Conn::connect(addr, Duration::from_secs(10)).ok()?;
    c.get(path).ok().map(|r| (r.status, r.body))
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let mut c = Conn::connect(addr, Duration::from_secs(10)).expect("connects");
    let r = c.post(path, body.to_string().as_bytes()).expect("answers");
    (r.status, r.json())
}

/// Polls `check` until it gives a value; a deadline only turns a hang into a failure.
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The alert as Prometheus posts it: labels, annotations and its own `startsAt` (so both
/// members of the pair hold the same alert), with `endsAt` to resolve it.
fn alert(ends_at: Option<&str>) -> Value {
    let mut a = json!([{
        "labels": {"alertname": NIC_ALERT, "host": "compute-1", "severity": "critical"},
        "annotations": {"summary": "eth0 on compute-1 is down"},
        "startsAt": "2026-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
    }]);
    if let Some(end) = ends_at {
        a[0]["endsAt"] = json!(end);
    }
    a
}

/// `(name, resource id)` of every alarm causeway shows.
fn alarms(causeway: SocketAddr) -> Vec<(String, String)> {
    let Some((200, body)) = get(causeway, "/v1/alarm/?vitrage_id=all&all_tenants=true") else {
        return Vec::new();
    };
    let list: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = |a: &Value, k: &str| a[k].as_str().unwrap_or_default().to_string();
    let mut out: Vec<(String, String)> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (text(a, "name"), text(a, "resource_id")))
        .collect();
    out.sort();
    out
}

/// The value of a metric line starting with `prefix` on `addr`'s `/metrics`.
fn metric(addr: SocketAddr, prefix: &str) -> f64 {
    let Some((200, body)) = get(addr, "/metrics") else { return 0.0 };
    let text = String::from_utf8_lossy(&body).into_owned();
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Both members have delivered `n` notifications to their webhook.
fn delivered(pair: &[&Alertmanager], n: f64) {
    let sent = "alertmanager_notifications_total{integration=\"webhook\"}";
    let failed = "alertmanager_notifications_failed_total{integration=\"webhook\"}";
    wait_for("both alertmanagers to deliver", || {
        pair.iter().all(|am| metric(am.addr, sent) - metric(am.addr, failed) >= n).then_some(())
    });
}

/// The shipped templates, with the NIC failure template's monitor alarm taken from Prometheus
/// instead of Zabbix: the same use case, fed by Alertmanager.
fn templates(dir: &Path) -> PathBuf {
    let out = dir.join("templates");
    std::fs::create_dir_all(&out).expect("templates dir");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for name in ["host_down.yaml", "nic_failure.yaml", "port_down.yaml"] {
        let text = std::fs::read_to_string(shipped.join(name)).expect("a shipped template");
        let text = match name {
            "nic_failure.yaml" => {
                assert!(text.contains("type: zabbix"), "the NIC alarm comes from a monitor");
                text.replacen("type: zabbix", "type: prometheus", 1)
            }
            _ => text,
        };
        std::fs::write(out.join(name), text).expect("written");
    }
    out
}

#[test]
fn alerts_from_a_real_alertmanager_pair_fire_the_nic_use_case_once_and_resolving_clears_it() {
    let Some(bin) = binary() else { return };
    let dir = std::env::temp_dir().join(format!("causeway-am-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    let mapping = dir.join("prometheus_conf.yaml");
    std::fs::write(
        &mapping,
        format!("alerts:\n- key:\n    alertname: {NIC_ALERT}\n  resource:\n    id: host\n"),
    )
    .expect("mapping");
    let mut config = ServeConfig {
        data_dir: dir.join("data"),
        templates: Some(templates(&dir)),
        ..ServeConfig::default()
    };
    config.alertmanager.mapping_file = Some(mapping);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener =
        runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a causeway port");
    let causeway = listener.local_addr().expect("address");
    let running = runtime.block_on(async { serve::open(&config) }).expect("causeway starts");
    let service = causeway::service::make_service(running.state.clone());
    runtime.spawn(async move { axum::serve(listener, service).await });

    let vitrage_path = format!("http://{causeway}/v1/event");
    let lossy = lossy_proxy(causeway);
    let own_path = format!("http://{lossy}/v1/causeway/alertmanager");
    let a = alertmanager(&bin, &dir.join("am-a"), &vitrage_path);
    let b = alertmanager(&bin, &dir.join("am-b"), &own_path);
    assert!(alarms(causeway).is_empty(), "the demo cloud starts quiet");

    for am in [&a, &b] {
        let (status, answer) = post(am.addr, "/api/v2/alerts", &alert(None));
        assert_eq!(status, 200, "{answer}");
    }
    let fired = wait_for("the NIC use case to fire", || {
        let now = alarms(causeway);
        now.contains(&("host nic failure".into(), "compute-1".into())).then_some(now)
    });
    assert!(fired.contains(&(NIC_ALERT.into(), "compute-1".into())), "{fired:?}");
    assert!(fired.contains(&("instance unreachable".into(), "web-1".into())), "{fired:?}");
    delivered(&[&a, &b], 1.0);
    let failed = "alertmanager_notification_requests_failed_total{integration=\"webhook\"}";
    assert!(metric(b.addr, failed) >= 1.0, "the member behind the proxy retried");
    let events = "causeway_events_total{source=\"alertmanager\"}";
    assert_eq!(
        metric(causeway, events),
        1.0,
        "one raise: the other member and the retry changed nothing"
    );

    let end = "2026-01-01T00:10:00Z";
    for am in [&a, &b] {
        let (status, answer) = post(am.addr, "/api/v2/alerts", &alert(Some(end)));
        assert_eq!(status, 200, "{answer}");
    }
    wait_for("the resolved alert to clear the use case", || {
        alarms(causeway).is_empty().then_some(())
    });
    delivered(&[&a, &b], 2.0);
    assert_eq!(metric(causeway, events), 2.0, "one raise and one clear");

    // A body sent again (Alertmanager's retry after a lost answer) is answered as a duplicate.
    let resent = json!({
        "version": "4", "status": "resolved", "receiver": "causeway", "groupKey": "{}",
        "alerts": [{"status": "resolved", "labels": alert(None)[0]["labels"].clone(),
                    "annotations": {}, "startsAt": "2026-01-01T00:00:00Z", "endsAt": end,
                    "fingerprint": fingerprint(causeway)}],
    });
    let (status, answer) = post(causeway, "/v1/causeway/alertmanager", &resent);
    assert_eq!((status, &answer["duplicates"]), (200, &json!(1)), "{answer}");
    assert_eq!(metric(causeway, events), 2.0);
    assert!(alarms(causeway).is_empty());

    drop((a, b));
    drop(running);
    runtime.shutdown_timeout(Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A proxy to causeway that forwards every request but answers the first with a 503, as if
/// causeway's answer had been lost after the batch was stored.
fn lossy_proxy(causeway: SocketAddr) -> SocketAddr {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("a proxy port");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().flatten().enumerate() {
            let mut reader = BufReader::new(match stream.try_clone() {
                Ok(s) => s,
                Err(_) => continue,
            });
            let (mut path, mut length) = (String::new(), 0usize);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 0) && line != "\r\n" {
                if path.is_empty() {
                    path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let forwarded = Conn::connect(causeway, Duration::from_secs(10))
                .and_then(|mut c| c.post(&path, &body));
            let (status, answer) = match forwarded {
                Ok(r) if n > 0 => (r.status, r.body),
                _ => (503, Vec::new()),
            };
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                answer.len()
            );
            let mut out = stream;
            let _ = out.write_all(head.as_bytes()).and_then(|()| out.write_all(&answer));
        }
    });
    addr
}

/// The fingerprint Alertmanager gave the alert, from causeway's alarm history.
fn fingerprint(causeway: SocketAddr) -> String {
    let Some((200, body)) = get(causeway, "/v1/alarm/history?all_tenants=true") else {
        panic!("no alarm history");
    };
    let history: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    history
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|a| a["fingerprint"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no prometheus alarm in the history: {history}"))
}
