//! `causeway serve` as an operator runs it: it prints where it listens, and SIGTERM stops it
//! cleanly (exit 0) with everything it acknowledged kept for the next start.

#[path = "common/serve.rs"]
mod serve;

use serve::Serve;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// One HTTP/1.1 request; the status and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         X-Project-Id: admin\r\nX-Roles: admin\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    let status = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn sigterm_stops_the_service_with_exit_0_and_keeps_what_it_acknowledged() {
    let dir = std::env::temp_dir().join(format!("causeway-signals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = Serve::start(&dir, &[], &[]);
    let raise = r#"{"changes": [{"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}]}"#;
    assert_eq!(http(first.port, "POST", "/v1/causeway/changes", raise).0, 200);
    let pid = first.pid().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let status = first.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0");
    let second = Serve::start(&dir, &[], &[]);
    let (code, alarms) = http(second.port, "GET", "/v1/alarm/?all_tenants=true", "");
    assert_eq!(code, 200);
    assert!(alarms.contains("\"host nic failure\""), "{alarms}");
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
