//! Cinder: volumes (`volume.*`), Vitrage's event list: create, attach, detach (start and end)
//! and delete.
//!
//! The payload is flat (`volume_id`, `display_name`, `status`, `tenant_id`) with
//! `volume_attachment`, the attachments the volume has at that moment; a detach's `.end`
//! lists those left, so the detached instance's edge goes.

use super::{Neighbours, NotificationError, Payload, Slot, kind, resource, text};
use crate::runner::Change;
use serde_json::Value;
use std::collections::BTreeSet;

const EVENTS: &[&str] = &[
    "volume.create.start",
    "volume.create.end",
    "volume.attach.start",
    "volume.attach.end",
    "volume.detach.start",
    "volume.detach.end",
    "volume.delete.start",
];

/// The changes of a volume notification.
pub(super) fn volume(
    p: &Payload<'_>,
    memory: &mut Neighbours,
) -> Result<Vec<Change>, NotificationError> {
    let data = p.object("")?;
    if p.event == "volume.delete.end" {
        let id = p.id(data, "volume_id")?;
        memory.forget(id);
        return Ok(vec![Change::DeleteResource { id: id.to_owned() }]);
    }
    if !EVENTS.contains(&p.event) {
        return Ok(Vec::new());
    }
    let id = p.id(data, "volume_id")?;
    let instances: BTreeSet<String> = data
        .get("volume_attachment")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("instance_uuid").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut out = vec![resource(
        kind::VOLUME,
        id,
        text(data, "display_name"),
        text(data, "status"),
        &[
            ("project_id", data.get("tenant_id")),
            ("size", data.get("size")),
            ("volume_type", data.get("volume_type")),
        ],
    )];
    memory.relate(id, Slot::VolumeInstances, instances, &mut out);
    Ok(out)
}
