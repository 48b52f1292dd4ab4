//! `causeway serve` as an operator runs it: it prints where it listens, and SIGTERM stops it
//! cleanly (exit 0) with everything it acknowledged kept for the next start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Serve {
    child: Child,
    port: u16,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on a free port and reads the port from its first line.
fn serve(dir: &std::path::Path) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("causeway starts");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    stdout.read_line(&mut line).expect("first line");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    Serve { child, port, _stdout: stdout }
}

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
    let mut first = serve(&dir);
    let raise = r#"{"changes": [{"op": "raise_alarm", "alarm": {"type": "zabbix", "name": "nic failure", "target": "compute-1"}}]}"#;
    assert_eq!(http(first.port, "POST", "/v1/causeway/changes", raise).0, 200);
    let pid = first.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let status = first.child.wait().expect("exit");
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0");
    let second = serve(&dir);
    let (code, alarms) = http(second.port, "GET", "/v1/alarm/?all_tenants=true", "");
    assert_eq!(code, 200);
    assert!(alarms.contains("\"host nic failure\""), "{alarms}");
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
