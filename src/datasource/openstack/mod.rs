//! OpenStack notifications (oslo.messaging over RabbitMQ) turned into graph changes, with
//! Vitrage's entity types and ids, so that a resource is the same vertex whichever source
//! (a notification, an API poll, a monitor) names it first.
//!
//! A notification names one resource and the neighbours it hangs off (the host of an
//! instance, the network and instance of a port, the instances of a volume). The resource is
//! reported whole (`add_resource`, which the identity layer turns into an update when it
//! exists); each neighbour it does not own is a placeholder `add_resource`
//! (`"is_placeholder": true`) before the edge, so the edge never points at nothing and the
//! owner's later report fills the vertex in. A notification carries only the neighbours the
//! resource has *now* (the destination host after a migration, the attachments left after a
//! detach), so the translator remembers what it reported last ([`Neighbours`]) and removes the
//! edges that are gone, as Vitrage's processor replaces a vertex's neighbours on update.

mod cinder;
pub mod envelope;
mod heat;
pub mod inventory;
mod neighbours;
mod neutron;
mod nova;

pub use envelope::Notification;
pub use neighbours::{Neighbours, Slot};

pub use super::identity::placeholder;
use super::{Batch, Datasource, SourceName};
use crate::runner::Change;
use crate::scenario::Resource;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Vitrage's entity types, as `vitrage_type` shows them.
pub mod kind {
    /// The cloud's root vertex.
    pub const CLUSTER: &str = "openstack.cluster";
    /// An availability zone (id: its name).
    pub const ZONE: &str = "nova.zone";
    /// A compute host (id: its host name).
    pub const HOST: &str = "nova.host";
    /// A server (id: its uuid).
    pub const INSTANCE: &str = "nova.instance";
    /// A network (id: its uuid).
    pub const NETWORK: &str = "neutron.network";
    /// A port (id: its uuid).
    pub const PORT: &str = "neutron.port";
    /// A volume (id: its uuid).
    pub const VOLUME: &str = "cinder.volume";
    /// A stack (id: its uuid).
    pub const STACK: &str = "heat.stack";
}

/// Vitrage's edge labels used here.
pub mod label {
    /// cluster → zone → host → instance; network → port.
    pub const CONTAINS: &str = "contains";
    /// port → instance; volume → instance.
    pub const ATTACHED: &str = "attached";
    /// stack → its resources.
    pub const COMPRISED: &str = "comprised";
}

/// The name the notification batches carry.
pub const SOURCE: SourceName = "openstack_notifications";

/// Why a notification cannot be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    /// The body or the inner message is not the JSON it should be.
    #[error("{}: not a notification: {message}", event_type.as_deref().unwrap_or("(no event_type)"))]
    Json {
        /// The event type, when it could be read.
        event_type: Option<String>,
        /// What the parser said.
        message: String,
    },
    /// The v2 envelope is malformed.
    #[error("not an oslo.messaging envelope: {0}")]
    Envelope(String),
    /// The payload lacks a field its event type needs.
    #[error("{event_type}: payload field {field} is missing or not a string")]
    Missing {
        /// The event type.
        event_type: String,
        /// The field, as a path.
        field: &'static str,
    },
}

impl NotificationError {
    /// The event type of the notification that failed, for the log.
    pub fn event_type(&self) -> Option<&str> {
        match self {
            NotificationError::Json { event_type, .. } => event_type.as_deref(),
            NotificationError::Envelope(_) => None,
            NotificationError::Missing { event_type, .. } => Some(event_type),
        }
    }
}

/// Translates notifications, one batch each, remembering the neighbours it reported.
#[derive(Debug, Default)]
pub struct Notifications {
    /// What was last reported as each resource's neighbours; the service may seed it from the
    /// graph when it starts.
    pub neighbours: Neighbours,
}

impl Datasource for Notifications {
    type Input = Vec<u8>;
    type Error = NotificationError;

    fn name(&self) -> SourceName {
        SOURCE
    }

    fn translate(&mut self, body: Vec<u8>) -> Result<Vec<Batch>, NotificationError> {
        let n = envelope::parse(&body)?;
        let changes = self.changes(&n)?;
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let request_id = n.message_id.map(|id| format!("oslo:{id}"));
        Ok(vec![Batch { source: SOURCE, time: n.timestamp, request_id, changes }])
    }
}

impl Notifications {
    /// The changes one notification means; none for an event type that means nothing to the
    /// graph.
    pub fn changes(&mut self, n: &Notification) -> Result<Vec<Change>, NotificationError> {
        let event = n.event_type.as_str();
        let p = Payload { event, value: &n.payload };
        let memory = &mut self.neighbours;
        if event.starts_with("instance.") || event.starts_with("compute.instance.") {
            nova::instance(&p, memory)
        } else if event == "service.update" {
            nova::service(&p)
        } else if event.starts_with("network.") {
            neutron::network(&p, memory)
        } else if event.starts_with("port.") {
            neutron::port(&p, memory)
        } else if event.starts_with("volume.") {
            cinder::volume(&p, memory)
        } else if event.starts_with("orchestration.stack.") {
            heat::stack(&p, memory)
        } else {
            Ok(Vec::new())
        }
    }
}

/// A payload with the event type its errors name.
pub(crate) struct Payload<'a> {
    event: &'a str,
    value: &'a Value,
}

impl<'a> Payload<'a> {
    /// The object at `path` (`nova_object.data`, `port`), or the payload itself for "".
    fn object(&self, path: &'static str) -> Result<&'a Map<String, Value>, NotificationError> {
        let v = if path.is_empty() { Some(self.value) } else { self.value.get(path) };
        v.and_then(Value::as_object).ok_or_else(|| self.missing(path))
    }

    fn missing(&self, field: &'static str) -> NotificationError {
        NotificationError::Missing { event_type: self.event.to_owned(), field }
    }

    /// The non-empty string at `key` of `object`.
    fn id(
        &self,
        object: &'a Map<String, Value>,
        key: &'static str,
    ) -> Result<&'a str, NotificationError> {
        text(object, key).ok_or_else(|| self.missing(key))
    }
}

/// The non-empty string at `key`.
pub(crate) fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A resource report: type, id, name, state and the properties that are set.
pub(crate) fn resource(
    kind: &str,
    id: &str,
    name: Option<&str>,
    state: Option<&str>,
    properties: &[(&str, Option<&Value>)],
) -> Change {
    let properties: BTreeMap<String, Value> = properties
        .iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_null()).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    Change::AddResource {
        resource: Resource {
            id: id.to_owned(),
            kind: kind.to_owned(),
            name: name.map(str::to_owned),
            state: state.map(str::to_owned),
            properties,
        },
    }
}

#[cfg(test)]
mod tests;
