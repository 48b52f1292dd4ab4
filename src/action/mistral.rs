//! Deciding `execute_mistral`, and the identity of each request.
//!
//! A workflow runs once per *activation*, when it appears, and is never undone or re-sent
//! (DESIGN.md "Mistral"). Two clauses matching the same vertices support one activation; it
//! appears with its first support and disappears with its last. When it appears again later
//! (the alarm cleared and came back), that is a new activation with the next count.
//!
//! The request's [`MistralKey`] must be the same when the event log is replayed after a
//! crash, so it names what the activation bound by their *external* identity (vertex type
//! and entity id, which the monitors give) rather than by slot [`VertexId`], and counts
//! appearances by that identity. Mistral's execution id is a UUID v5 of the key: a repeated
//! `POST /v2/executions` with it returns the execution already started.

use super::ActionId;
use super::bound_ids::BoundIds;
use crate::graph::ShardedMap;
use crate::graph::VertexId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// The namespace of causeway's execution ids (UUID v5 of [`MistralKey::text`]).
pub const EXECUTION_NAMESPACE: uuid::Uuid = uuid::uuid!("6dadc862-c485-490b-a93c-a97ec67a5170");

/// What identifies one workflow request across restarts and replays.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MistralKey {
    /// `metadata.name` of the template.
    pub template: Arc<str>,
    /// `<template name>-scenario<i>`.
    pub scenario: Arc<str>,
    /// `<scenario id>-action<j>`.
    pub action: ActionId,
    /// External identities (`<vitrage_type>:<entity id>`) of the bound vertices, sorted;
    /// shared with the count of appearances of the activation.
    pub bound: BoundIds,
    /// 1 for the activation's first appearance, then 2, 3, ...
    pub count: u32,
}

impl MistralKey {
    /// The canonical text of the key: a JSON array, so no field can run into the next.
    pub fn text(&self) -> String {
        serde_json::json!([self.template, self.scenario, self.action, self.bound, self.count])
            .to_string()
    }

    /// Mistral's execution id for this request, in the fixed namespace.
    pub fn execution_id(&self) -> uuid::Uuid {
        self.execution_id_in(&EXECUTION_NAMESPACE)
    }

    /// Mistral's execution id for this request in a deployment's own namespace: two
    /// deployments (or a data directory started afresh) sending the same activation to one
    /// Mistral must not find each other's executions and run nothing.
    pub fn execution_id_in(&self, deployment: &uuid::Uuid) -> uuid::Uuid {
        uuid::Uuid::new_v5(deployment, self.text().as_bytes())
    }
}

/// A workflow run an activation asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct MistralRequest {
    /// Its identity.
    pub key: MistralKey,
    /// Workflow name.
    pub workflow: String,
    /// Input with `get_attr` evaluated (null where it has no value).
    pub input: Map<String, Json>,
    /// The vertices the activation bound, in the rule's variable order.
    pub bound: Arc<[VertexId]>,
}

/// The `execute_mistral` activations: which are live, and how often each appeared.
///
/// Both maps are saved in snapshots: without the counts, a restarted service would number an
/// activation's next appearance 1 again and ask Mistral for a run it already has.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflows {
    /// Supports of each live activation: (action, sorted trigger vertices).
    live: ShardedMap<(ActionId, Arc<[VertexId]>), u32>,
    /// Appearances so far per (action, external identities). It keeps one entry per distinct
    /// activation ever seen: that is what makes the next count right after a restart.
    appearances: ShardedMap<(ActionId, BoundIds), u32>,
}

/// The resolved workflow name and input of a request, and the vertices its activation bound.
pub type Resolution = (String, Map<String, Json>, Arc<[VertexId]>);

/// What a new request is made of, computed only when an activation really appears.
pub struct Appearing {
    /// Template name.
    pub template: Arc<str>,
    /// Scenario id.
    pub scenario: Arc<str>,
    /// External identities of the bound vertices, sorted.
    pub bound: BoundIds,
}

impl Workflows {
    /// An activation of `action` with `trigger` gained a support. When it is its first, the
    /// activation appeared: its request, from `identity` and the resolved `workflow`/`input`
    /// (`None` when the action does not resolve for this binding).
    pub fn appeared(
        &mut self,
        action: &ActionId,
        trigger: &Arc<[VertexId]>,
        identity: impl FnOnce() -> Appearing,
        resolved: impl FnOnce() -> Option<Resolution>,
    ) -> Option<MistralRequest> {
        let support = self.live.entry((action.clone(), trigger.clone())).or_insert(0);
        *support += 1;
        if *support > 1 {
            return None;
        }
        let (workflow, input, vertices) = resolved()?;
        let who = identity();
        let bound = who.bound;
        let count = self.appearances.entry((action.clone(), bound.clone())).or_insert(0);
        *count += 1;
        let key = MistralKey {
            template: who.template,
            scenario: who.scenario,
            action: action.clone(),
            bound,
            count: *count,
        };
        Some(MistralRequest { key, workflow, input, bound: vertices })
    }

    /// An activation lost a support; with its last it is gone (nothing is undone).
    pub fn disappeared(&mut self, action: &ActionId, trigger: &Arc<[VertexId]>) {
        let key = (action.clone(), trigger.clone());
        if let Some(mut support) = self.live.occupied(&key) {
            *support.get_mut() -= 1;
            if *support.get_mut() == 0 {
                support.remove();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Appearing {
        Appearing {
            template: "nic_failure".into(),
            scenario: "nic_failure-scenario1".into(),
            bound: BoundIds::of(&mut [
                ("nova.instance", "vm-1"),
                ("vitrage", "host nic failure:host-1"),
            ]),
        }
    }

    fn resolved() -> Option<Resolution> {
        Some(("migrate_instance".into(), Map::new(), vec![VertexId(1)].into()))
    }

    #[test]
    fn an_activation_asks_once_however_many_clauses_support_it() {
        let mut w = Workflows::default();
        let (a, t): (ActionId, Arc<[VertexId]>) =
            (ActionId::new("s-action0"), vec![VertexId(1)].into());
        let first = w.appeared(&a, &t, who, resolved).expect("request");
        assert_eq!(first.key.count, 1);
        assert!(w.appeared(&a, &t, who, resolved).is_none());
        w.disappeared(&a, &t);
        w.disappeared(&a, &t);
        // A new vertex slot for the same resources is the same activation, counted again.
        let t2: Arc<[VertexId]> = vec![VertexId(7)].into();
        let again = w.appeared(&a, &t2, who, resolved).expect("request");
        assert_eq!(again.key.count, 2);
        assert_ne!(again.key.execution_id(), first.key.execution_id());
    }

    #[test]
    fn the_execution_id_is_a_function_of_the_key() {
        let key = MistralKey {
            template: "t".into(),
            scenario: "t-scenario0".into(),
            action: "t-scenario0-action0".into(),
            bound: BoundIds::of(&mut [("nova.instance", "vm-1")]),
            count: 1,
        };
        assert_eq!(key.execution_id(), key.clone().execution_id());
        assert_eq!(key.execution_id().get_version_num(), 5);
        let other = MistralKey { count: 2, ..key.clone() };
        assert_ne!(key.execution_id(), other.execution_id());
        let elsewhere = uuid::Uuid::new_v4();
        assert_ne!(key.execution_id_in(&elsewhere), key.execution_id());
    }

    /// Pinned to what Python's `json.dumps(..., separators=(',', ':'))` and `uuid.uuid5`
    /// give for the key: a request replayed after an upgrade must find its execution.
    #[test]
    fn the_key_text_and_execution_id_are_pinned() {
        let key = MistralKey {
            template: "nic_failure".into(),
            scenario: "nic_failure-scenario1".into(),
            action: "nic_failure-scenario1-action0".into(),
            bound: who().bound,
            count: 2,
        };
        let text = r#"["nic_failure","nic_failure-scenario1","nic_failure-scenario1-action0",["nova.instance:vm-1","vitrage:host nic failure:host-1"],2]"#;
        assert_eq!(key.text(), text);
        assert_eq!(key.execution_id().to_string(), "62894510-b145-53c6-b0af-4da992e7daea");
    }
}
