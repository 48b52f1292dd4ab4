//! Heat: stacks (`orchestration.stack.*`), Vitrage's event list.
//!
//! The payload names the stack (`stack_identity`, its uuid; an old Heat sent the ARN
//! `arn:openstack:heat::<tenant>:stacks/<name>/<uuid>`, whose last segment is the uuid),
//! `stack_name` and `state` (`CREATE_COMPLETE`). It does not list the stack's resources:
//! Vitrage asks the API for them, and so does causeway's poller (`comprised` edges).

use super::{Neighbours, NotificationError, Payload, kind, resource, text};
use crate::runner::Change;

const EVENTS: &[&str] = &[
    "orchestration.stack.create.end",
    "orchestration.stack.update.error",
    "orchestration.stack.update.end",
    "orchestration.stack.suspend.error",
    "orchestration.stack.suspend.end",
    "orchestration.stack.resume.error",
    "orchestration.stack.resume.end",
];

/// The changes of a stack notification.
pub(super) fn stack(
    p: &Payload<'_>,
    memory: &mut Neighbours,
) -> Result<Vec<Change>, NotificationError> {
    let data = p.object("")?;
    let identity = p.id(data, "stack_identity")?;
    let id = match identity.strip_prefix("arn:") {
        Some(arn) => arn.rsplit('/').next().unwrap_or(arn),
        None => identity,
    };
    if p.event == "orchestration.stack.delete.end" {
        memory.forget(id);
        return Ok(vec![Change::DeleteResource { id: id.to_owned() }]);
    }
    if !EVENTS.contains(&p.event) {
        return Ok(Vec::new());
    }
    Ok(vec![resource(
        kind::STACK,
        id,
        text(data, "stack_name"),
        text(data, "state"),
        &[("project_id", data.get("tenant_id"))],
    )])
}
