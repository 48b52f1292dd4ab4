//! `causeway serve` as a child process on a free loopback port, the way an operator starts it:
//! the tests that need the real binary (signals, python-vitrageclient, Mistral) share this one
//! spawner. It reads the address from the first line the service prints, drains the rest so
//! the process never blocks on a full pipe, and kills the process when dropped.
#![allow(dead_code)] // each test crate uses a part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `causeway serve`.
pub struct Serve {
    /// The process.
    pub child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// `causeway serve --listen 127.0.0.1:0 --data-dir DATA ARGS...` with `env` added, its
    /// stderr the test's own; `RUST_LOG` is `warn` unless the test run sets it.
    pub fn start(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Serve {
        Serve::spawn(data, args, env, Stdio::inherit())
    }

    /// [`Serve::start`] with the service's stderr written to `log`.
    pub fn start_logged(data: &Path, args: &[&str], env: &[(&str, &str)], log: &Path) -> Serve {
        let file = std::fs::File::create(log).expect("log file");
        Serve::spawn(data, args, env, Stdio::from(file))
    }

    fn spawn(data: &Path, args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Serve {
        let mut command = Command::new(env!("CARGO_BIN_EXE_causeway"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(args)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("causeway serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let port = announced_port(&line);
        let mut serve = Serve { child, port: port.unwrap_or(0) };
        if port.is_none() {
            let status = serve.child.wait().ok();
            panic!("causeway serve printed {line:?} and exited with {status:?}");
        }
        serve
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `GET /v1/status` answers 200 (the first view is published), or panics.
    pub fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        while status_of(self.port, "/v1/status") != 200 {
            assert!(Instant::now() < deadline, "causeway serve is not ready after {within:?}");
            assert!(self.child.try_wait().ok().flatten().is_none(), "causeway serve exited");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`, and wait for it.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits until the process exits by itself (a signal, a test hook); its exit status.
    pub fn wait_exit(mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("causeway did not exit within {within:?}");
    }
}

/// The port of `causeway serving on http://127.0.0.1:PORT`.
fn announced_port(line: &str) -> Option<u16> {
    let addr = line.trim().strip_prefix("causeway serving on http://")?;
    addr.rsplit(':').next()?.parse().ok()
}

/// The status of a bare `GET`; 0 when nothing answers.
fn status_of(port: u16, path: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return 0 };
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}
