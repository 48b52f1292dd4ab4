//! OpenStack notifications end to end: a real `rabbitmq-server` node of the test's own, real
//! oslo.messaging notifiers (`tools/oslo/notify.py`, driver messagingv2) publishing to the
//! `nova` exchange, and `causeway serve` consuming `vitrage_notifications.info`, checked
//! through the API after each step, across a broker killed with SIGKILL and restarted. At the
//! end, use case 1 runs on the topology the notifications taught: a Zabbix NIC problem on the
//! host nova reported deduces the instance's alarm, and the recovery clears it.
//!
//! Skipped (with a line saying why) when rabbitmq-server or the oslo venv is missing; under
//! `CI` it fails instead (`.ci/run` installs both).

#[path = "mistral_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;
use support::{Scratch, Serve, eventually, http};

const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const CTL: &str = "/usr/lib/rabbitmq/bin/rabbitmqctl";
const SETTLE: Duration = Duration::from_secs(60);
const VM: &str = "5f2d4c1e-8a3b-4c6d-9e0f-1a2b3c4d5e6f";

/// What the test needs, or why it cannot run.
fn prerequisites(test: &str) -> Option<PathBuf> {
    let python = std::env::var_os("CAUSEWAY_OSLO_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/oslo-venv/bin/python")
    });
    let missing = if !Path::new(SERVER).exists() {
        Some(format!("{SERVER} is not installed"))
    } else if !python.exists() {
        Some(format!("{} is missing (tools/oslo/install.sh)", python.display()))
    } else {
        None
    };
    match missing {
        None => Some(python),
        Some(why) if std::env::var_os("CI").is_some() => panic!("{test}: CI is set but {why}"),
        Some(why) => {
            println!("skipped: {test}: {why}");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// A RabbitMQ node of this test's own: its own name, ports, epmd, cookie and directories.
struct Broker {
    dir: PathBuf,
    port: u16,
    env: Vec<(String, String)>,
    epmd: Child,
    server: Option<Child>,
}

impl Broker {
    fn start(dir: &Path) -> Broker {
        let (port, dist, epmd_port) = (free_port(), free_port(), free_port());
        let name = format!("causeway-test-{}@localhost", std::process::id());
        let d = dir.display();
        std::fs::write(dir.join("enabled_plugins"), "[].\n").expect("plugins file");
        let env: Vec<(String, String)> = [
            ("HOME", format!("{d}")),
            ("RABBITMQ_NODENAME", name),
            ("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1".into()),
            ("RABBITMQ_NODE_PORT", port.to_string()),
            ("RABBITMQ_DIST_PORT", dist.to_string()),
            ("ERL_EPMD_PORT", epmd_port.to_string()),
            ("RABBITMQ_MNESIA_BASE", format!("{d}/mnesia")),
            ("RABBITMQ_LOG_BASE", format!("{d}/log")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", format!("{d}/enabled_plugins")),
            ("RABBITMQ_PID_FILE", format!("{d}/pid")),
            ("RABBITMQ_CONFIG_FILE", format!("{d}/rabbitmq")),
            ("RABBITMQ_ADVANCED_CONFIG_FILE", format!("{d}/advanced.config")),
            ("RABBITMQ_CONF_ENV_FILE", format!("{d}/rabbitmq-env.conf")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let epmd = Command::new("epmd")
            .args(["-port", &epmd_port.to_string(), "-address", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("epmd starts");
        let mut broker = Broker { dir: dir.to_path_buf(), port, env, epmd, server: None };
        broker.boot();
        broker
    }

    /// Starts the node and waits until it takes connections.
    fn boot(&mut self) {
        let log = std::fs::File::create(self.dir.join("server.out")).expect("log");
        let server = Command::new(SERVER)
            .current_dir(&self.dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("rabbitmq-server starts");
        self.server = Some(server);
        // The first await_startup can return before the node has registered with epmd.
        eventually(SETTLE, "rabbitmqctl await_startup", || {
            let ok = Command::new(CTL)
                .args(["await_startup", "--timeout", "30"])
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                std::thread::sleep(Duration::from_millis(500));
            }
            ok.then_some(())
        });
    }

    /// The URL of the default vhost `/`, which lapin writes `%2f` and oslo leaves empty.
    fn url(&self, scheme: &str) -> String {
        let vhost = if scheme == "amqp" { "%2f" } else { "" };
        format!("{scheme}://guest:guest@127.0.0.1:{}/{vhost}", self.port)
    }

    /// SIGKILL to the Erlang VM (the pid file's; the start script runs it as a child), as a
    /// crashed broker: nothing is flushed, connections drop.
    fn kill(&mut self) {
        let Some(mut server) = self.server.take() else { return };
        let pid = std::fs::read_to_string(self.dir.join("pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<u32>() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = server.kill();
        let _ = server.wait();
        let _ = std::fs::remove_file(self.dir.join("pid"));
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
        let _ = self.epmd.kill();
        let _ = self.epmd.wait();
    }
}

/// A real oslo.messaging notifier process.
struct Notifier {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Notifier {
    fn start(python: &Path, url: &str) -> Notifier {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/oslo/notify.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("notify.py starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Notifier { child, stdin, stdout }
    }

    /// Publishes one notification from nova and waits until the broker has it.
    fn nova(&mut self, publisher: &str, event_type: &str, payload: Value) {
        let line = json!({"exchange": "nova", "publisher_id": publisher,
                          "event_type": event_type, "payload": payload});
        writeln!(self.stdin, "{line}").expect("send to notify.py");
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).expect("notify.py answers");
        assert_eq!(answer.trim(), format!("sent {event_type}"), "notify.py");
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `InstancePayload` as nova's notification samples show it, on `host`.
fn instance(host: &str, state: &str) -> Value {
    json!({
        "nova_object.name": "InstanceActionPayload", "nova_object.namespace": "nova",
        "nova_object.version": "1.8",
        "nova_object.data": {
            "uuid": VM, "display_name": "web-9", "host_name": "web-9", "host": host, "node": host,
            "state": state, "power_state": "running", "task_state": null,
            "tenant_id": "6f70656e737461636b20342065766572", "user_id": "fake",
            "availability_zone": "nova", "flavor": {"nova_object.data": {"name": "m1.tiny"}},
            "ip_addresses": [], "block_devices": [], "metadata": {}, "locked": false,
            "created_at": "2026-12-01T10:00:00Z", "launched_at": "2026-12-01T10:00:05Z",
            "deleted_at": null, "terminated_at": null, "fault": null
        }
    })
}

/// A `ServiceStatusPayload` of an up and enabled nova-compute on `host`.
fn service(host: &str) -> Value {
    json!({
        "nova_object.name": "ServiceStatusPayload", "nova_object.namespace": "nova",
        "nova_object.version": "1.1",
        "nova_object.data": {
            "host": host, "binary": "nova-compute", "topic": "compute", "disabled": false,
            "disabled_reason": null, "forced_down": false, "last_seen_up": "2026-12-01T10:00:00Z",
            "report_count": 1, "version": 66, "availability_zone": null,
            "uuid": "fa69c544-906b-4a6a-a9c6-c1f7a8078c73"
        }
    })
}

/// The hosts that contain the instance, and whether it exists, as the topology shows them.
fn hosts_of_vm(serve: &Serve) -> Option<Vec<String>> {
    let (code, body) =
        http(&serve.url(), "POST", "/v1/topology/", r#"{"all_tenants": true}"#, "application/json");
    if code != 200 {
        return None;
    }
    let graph: Value = serde_json::from_str(&body).ok()?;
    let nodes = graph["nodes"].as_array()?;
    let index = nodes.iter().position(|n| n["id"] == VM)?;
    let hosts = graph["links"]
        .as_array()?
        .iter()
        .filter(|l| l["target"] == json!(index) && l["relationship_type"] == "contains");
    let hosts = hosts.filter_map(|l| nodes.get(l["source"].as_u64()? as usize));
    Some(hosts.filter_map(|n| n["id"].as_str().map(String::from)).collect())
}

fn vm_is_gone(serve: &Serve) -> bool {
    let (code, body) =
        http(&serve.url(), "POST", "/v1/topology/", r#"{"all_tenants": true}"#, "application/json");
    code == 200 && !body.contains(VM)
}

fn health(serve: &Serve) -> Value {
    let (_, body) = http(&serve.url(), "GET", "/v1/status/", "", "application/json");
    let status: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    status["datasources"]["openstack_notifications"].clone()
}

#[test]
fn notifications_create_migrate_and_delete_an_instance_across_a_broker_crash_and_a_causeway_crash()
{
    let Some(python) = prerequisites("rabbitmq") else { return };
    let scratch = Scratch::new("rabbitmq");
    let broker_dir = scratch.path().join("broker");
    std::fs::create_dir_all(&broker_dir).expect("broker dir");
    let mut broker = Broker::start(&broker_dir);
    let config = scratch.path().join("causeway.toml");
    let table = format!("[rabbitmq]\nurl = \"{}\"\n", broker.url("amqp"));
    std::fs::write(&config, table).expect("config");
    let data = scratch.path().join("data");
    let serve = Serve::start(&data, &["--config", &config.display().to_string()], &[]);

    // The instance starts on compute-1, a host of the demo cloud.
    let mut nova = Notifier::start(&python, &broker.url("rabbit"));
    nova.nova("nova-compute:compute-1", "instance.create.end", instance("compute-1", "active"));
    eventually(SETTLE, "the instance on compute-1", || {
        (hosts_of_vm(&serve)? == ["compute-1"]).then_some(())
    });

    // The broker crashes; the notifiers come back after it and publish the migration to a host
    // nobody reported yet (a placeholder until nova's host report).
    drop(nova);
    broker.kill();
    broker.boot();
    let mut nova = Notifier::start(&python, &broker.url("rabbit"));
    let post_dest = "instance.live_migration_post_dest.end";
    nova.nova("nova-compute:compute-9", post_dest, instance("compute-9", "active"));
    eventually(SETTLE, "the instance left compute-1", || {
        hosts_of_vm(&serve)?.is_empty().then_some(())
    });
    // compute-9 is a placeholder, which the topology does not show, until nova reports it.
    nova.nova("nova-compute:compute-9", "service.update", service("compute-9"));
    eventually(SETTLE, "the instance on compute-9", || {
        (hosts_of_vm(&serve)? == ["compute-9"]).then_some(())
    });

    // A notification that cannot be translated is counted and dropped; the next one passes.
    let errors_before = health(&serve)["errors"].as_u64().unwrap_or(0);
    nova.nova(
        "nova-compute:compute-9",
        "instance.update",
        json!({"nova_object.data": {"host": "x"}}),
    );
    nova.nova("nova-compute:compute-9", "instance.delete.end", instance("compute-9", "deleted"));
    eventually(SETTLE, "the instance deleted", || vm_is_gone(&serve).then_some(()));
    let after = health(&serve);
    assert_eq!(after["errors"], json!(errors_before + 1), "{after}");
    let why = "instance.update: payload field uuid is missing or not a string";
    assert_eq!(after["last_error"], why, "{after}");
    assert!(after["last_success"].is_number(), "{after}");

    // causeway crashes; what nova publishes meanwhile waits in the queue for its restart.
    serve.kill9();
    nova.nova("nova-compute:compute-9", "instance.create.end", instance("compute-9", "active"));
    let serve = Serve::start(&data, &["--config", &config.display().to_string()], &[]);
    eventually(SETTLE, "the instance created while causeway was down", || {
        (hosts_of_vm(&serve)? == ["compute-9"]).then_some(())
    });

    // Use case 1 on what the notifications taught: a Zabbix problem on compute-9 (a host and
    // an instance only nova reported) deduces the instance alarm; the recovery clears it.
    let zabbix = |value: &str| {
        let body = json!({
            "host": "compute-9", "trigger_id": "20001", "trigger_name": "nic failure",
            "rawtext": "nic failure", "severity": "5", "event_id": format!("e-{value}"),
            "value": value, "time": "2026.12.02 06:01:02",
        });
        let (code, answer) = serve.post("/v1/causeway/zabbix", &body.to_string());
        assert_eq!(code, 200, "{answer}");
    };
    zabbix("1");
    eventually(SETTLE, "instance unreachable on the instance nova reported", || {
        deduced_on_vm(&serve).then_some(())
    });
    zabbix("0");
    eventually(SETTLE, "the recovery clears it", || (!deduced_on_vm(&serve)).then_some(()));
}

/// Whether the deduced `instance unreachable` is raised on the instance.
fn deduced_on_vm(serve: &Serve) -> bool {
    let (_, body) =
        http(&serve.url(), "GET", "/v1/alarm/?all_tenants=true", "", "application/json");
    let alarms: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    alarms.as_array().into_iter().flatten().any(|a| {
        a["name"] == "instance unreachable"
            && a["resource_id"] == VM
            && a["vitrage_type"] == "vitrage"
    })
}
