//! Mistral: the REST v2 client, Keystone auth, and the dispatcher that takes the outbox's
//! execution requests to Mistral exactly once and follows each to its final state.
//!
//! The outbox row is written with the change that caused it (see `service::core`); its execution
//! id is a UUID v5 of the request's stable key, and Mistral answers a repeated
//! `POST /v2/executions` with that id with the execution it already has. So the dispatcher may
//! send a request again whenever it does not know that an answer was recorded (after a crash,
//! a timeout, a lost connection): Mistral still holds one execution per request.
//!
//! The dispatcher never writes the store itself: it hands each state change to a [`Sink`]
//! (the evaluation task, the store's single writer) and reads with its own connection.

mod client;
mod dispatch;
mod keystone;

pub use client::{Client, Execution, Fault, classify};
pub use dispatch::{Backoff, Durable, Event, Hook, OutboxUpdate, Sink, dispatch};
pub use keystone::{Keystone, KeystoneConfig, endpoint};
pub(crate) use keystone::{default_domain, default_interface};

use serde::Deserialize;
use std::time::Duration;

/// How causeway reaches Mistral: flags `--mistral-*`, or the `[mistral]` table of the TOML file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MistralConfig {
    /// Mistral's base URL (`http://host:8989`, with or without `/v2`). Without it, and without
    /// Keystone, requests stay `PENDING`.
    pub url: Option<String>,
    /// How many requests to Mistral are in flight at once.
    pub concurrency: usize,
    /// The longest wait for one answer, in milliseconds.
    pub timeout_ms: u64,
    /// The first retry's delay, in milliseconds; each next one doubles, with jitter.
    pub backoff_min_ms: u64,
    /// The longest delay between two tries, in milliseconds.
    pub backoff_max_ms: u64,
    /// How many times an answer that is neither an acceptance nor a refusal (a 500 of another
    /// kind, an unreadable body) is retried before the request is recorded as refused.
    /// Unreachability and timeouts are retried without limit: the outbox keeps the request.
    pub max_attempts: u32,
    /// How often a running execution is polled, in milliseconds.
    pub poll_ms: u64,
    /// Keystone v3 password authentication; none when Mistral runs with `auth_enable = False`.
    pub keystone: Option<KeystoneConfig>,
}

impl Default for MistralConfig {
    fn default() -> MistralConfig {
        MistralConfig {
            url: None,
            concurrency: 16,
            timeout_ms: 10_000,
            backoff_min_ms: 200,
            backoff_max_ms: 30_000,
            max_attempts: 20,
            poll_ms: 500,
            keystone: None,
        }
    }
}

impl MistralConfig {
    /// Whether requests are sent at all.
    pub fn is_configured(&self) -> bool {
        self.url.is_some() || self.keystone.is_some()
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }

    /// The retry schedule.
    pub fn backoff(&self) -> Backoff {
        let min = Duration::from_millis(self.backoff_min_ms.max(1));
        Backoff { min, max: Duration::from_millis(self.backoff_max_ms).max(min) }
    }
}

/// `http://h:8989/v2/` and `http://h:8989` both become `http://h:8989`.
pub fn base_url(url: &str) -> String {
    let url = url.trim_end_matches('/');
    url.strip_suffix("/v2").unwrap_or(url).to_string()
}
