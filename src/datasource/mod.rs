//! Turning what inventories and monitors report into runner [`Change`]s.
//!
//! Every datasource does one thing: it translates what its source sends (a webhook body, a
//! notification, a file, an API listing) into [`Batch`]es of graph changes. It opens no socket
//! and reads no file: the service feeds it and hands its batches to the evaluation task, which
//! logs each batch whole before anything is acknowledged. That split keeps every translation a
//! plain function, testable from the real payloads alone.
//!
//! Sources overlap (a Zabbix problem names a host the inventory owns), so [`identity`]
//! resolves every datasource batch against the graph before it is staged: placeholders for
//! what others own, updates for what exists. Built: [`doctor`] events, [`alertmanager`]
//! webhooks, [`zabbix`] media-type events, the static directory ([`static_dir`]), OpenStack
//! notifications and API listings ([`openstack`]) and topology files ([`topology_file`]); the
//! README lists the rest.

pub mod alertmanager;
pub mod doctor;
pub mod identity;
pub mod openstack;
pub mod static_dir;
pub mod topology_file;
pub mod zabbix;

use crate::runner::Change;
use std::time::SystemTime;

/// Names a datasource in the event log, in `/v1/status` and in `/metrics`: a short fixed
/// word (`alertmanager`, `static`, `nova`), never something a sender chose, so that metric
/// labels cannot grow without bound.
pub type SourceName = &'static str;

/// What a datasource hands to the service: changes evaluated as one batch, all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Which datasource produced it.
    pub source: SourceName,
    /// When the source says it happened (the service's clock when it does not say).
    pub time: Option<SystemTime>,
    /// An idempotency key: a batch whose key is already in the event log changes nothing.
    /// Derived from the report itself (an alert's fingerprint, status and times; a message
    /// id), so a resend or a duplicate from an HA pair maps to the same key.
    pub request_id: Option<String>,
    /// The changes, in order.
    pub changes: Vec<Change>,
}

impl Batch {
    /// A batch of `changes` from `source` with no key and no time of its own.
    pub fn new(source: SourceName, changes: Vec<Change>) -> Batch {
        Batch { source, time: None, request_id: None, changes }
    }
}

/// One kind of source. `Input` is what the service receives from it; a translation that
/// fails says why and produces nothing, so a malformed report never half-applies.
pub trait Datasource {
    /// What the service hands over: a parsed body, a message, a file's text.
    type Input;
    /// Why an input cannot be translated.
    type Error: std::error::Error;

    /// The name its batches carry.
    fn name(&self) -> SourceName;

    /// The batches `input` means, in order; none when it means nothing to the graph.
    fn translate(&mut self, input: Self::Input) -> Result<Vec<Batch>, Self::Error>;
}

/// How a datasource is doing, as `/v1/status` and `/metrics` report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The last time one of its batches was durable (or it had nothing new to report).
    pub last_success: Option<SystemTime>,
    /// Inputs it could not translate, and batches the service refused or could not store.
    pub errors: u64,
    /// The latest of those errors, in words.
    pub last_error: Option<String>,
}

impl Health {
    /// Records a success at `at`.
    pub fn succeeded(&mut self, at: SystemTime) {
        self.last_success = Some(at);
    }

    /// Records an error.
    pub fn failed(&mut self, error: impl std::fmt::Display) {
        self.errors += 1;
        self.last_error = Some(error.to_string());
    }
}
