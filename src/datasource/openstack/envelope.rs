//! The oslo.messaging wire format: what a notifier puts in an AMQP message body.
//!
//! With `driver = messagingv2` the body is `{"oslo.version": "2.0", "oslo.message": "<json>"}`,
//! the inner message a JSON *string* that must be parsed a second time; with the older
//! `driver = messaging` the inner dict is the body itself. Both are accepted, since a cloud
//! can run services configured either way. Keys other than the ones read here (`_context_*`,
//! `_unique_id`) are ignored: older releases add them, newer ones do not.

use super::NotificationError;
use crate::store::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One notification, unwrapped.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The notifier's id for it, unique per notification: a redelivery carries the same one.
    pub message_id: Option<String>,
    /// `instance.create.end`, `port.update.end`, ...
    pub event_type: String,
    /// `nova-compute:compute-1`, ...
    pub publisher_id: Option<String>,
    /// When the notifier sent it (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC).
    pub timestamp: Option<SystemTime>,
    /// What the event is about; its shape depends on the service and event type.
    pub payload: Value,
}

#[derive(Deserialize)]
struct Inner {
    #[serde(default)]
    message_id: Option<String>,
    event_type: String,
    #[serde(default)]
    publisher_id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    payload: Value,
}

/// Unwraps an AMQP message body.
pub fn parse(body: &[u8]) -> Result<Notification, NotificationError> {
    let outer: Value = serde_json::from_slice(body)
        .map_err(|e| NotificationError::Json { event_type: None, message: e.to_string() })?;
    let inner = match outer.get("oslo.message") {
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|e| {
            NotificationError::Json { event_type: None, message: format!("oslo.message: {e}") }
        })?,
        Some(_) => return Err(NotificationError::Envelope("oslo.message is not a string".into())),
        None => outer,
    };
    let event_type = inner.get("event_type").and_then(Value::as_str).map(str::to_owned);
    let inner: Inner = serde_json::from_value(inner)
        .map_err(|e| NotificationError::Json { event_type, message: e.to_string() })?;
    Ok(Notification {
        message_id: inner.message_id,
        timestamp: inner.timestamp.as_deref().and_then(oslo_time),
        event_type: inner.event_type,
        publisher_id: inner.publisher_id,
        payload: inner.payload,
    })
}

/// `2026-12-01 20:44:52.675146` (UTC, no zone; the fraction may be absent) as a time.
fn oslo_time(text: &str) -> Option<SystemTime> {
    let (date_time, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rfc = format!("{}.{fraction:0<6}Z", date_time.replacen(' ', "T", 1));
    let micros = u64::try_from(Timestamp::parse(&rfc).ok()?.unix_micros()).ok()?;
    Some(UNIX_EPOCH + Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = include_str!("samples/oslo-v2-instance-delete-end.json");

    #[test]
    fn a_v2_envelope_is_unwrapped_with_its_inner_message_parsed_again() {
        let n = parse(V2.as_bytes()).unwrap();
        assert_eq!(n.event_type, "instance.delete.end");
        assert_eq!(n.message_id.as_deref(), Some("042c854c-6c57-4a4f-9a43-d7a5e1f3b0f1"));
        assert_eq!(n.publisher_id.as_deref(), Some("nova-compute:compute-1"));
        assert_eq!(n.payload["nova_object.data"]["host"], "compute-1");
        let at = n.timestamp.unwrap().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(at.as_micros(), 1_796_157_892_675_146);
    }

    #[test]
    fn a_v1_body_is_the_message_itself() {
        let body = r#"{"event_type": "port.delete.end", "payload": {"port_id": "p1"},
                       "timestamp": "2026-12-01 20:44:52"}"#;
        let n = parse(body.as_bytes()).unwrap();
        assert_eq!(n.event_type, "port.delete.end");
        assert_eq!(n.message_id, None);
        assert!(n.timestamp.is_some());
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        assert!(matches!(parse(b"not json"), Err(NotificationError::Json { .. })));
        let not_string = r#"{"oslo.version": "2.0", "oslo.message": {"event_type": "x"}}"#;
        assert!(matches!(parse(not_string.as_bytes()), Err(NotificationError::Envelope(_))));
        let broken = r#"{"oslo.version": "2.0", "oslo.message": "{\"event_type\": "}"#;
        assert!(matches!(parse(broken.as_bytes()), Err(NotificationError::Json { .. })));
        let no_type = r#"{"payload": {}}"#;
        assert!(matches!(parse(no_type.as_bytes()), Err(NotificationError::Json { .. })));
    }

    #[test]
    fn an_unreadable_timestamp_is_no_time_rather_than_an_error() {
        let body = r#"{"event_type": "x", "timestamp": "yesterday"}"#;
        assert_eq!(parse(body.as_bytes()).unwrap().timestamp, None);
    }
}
