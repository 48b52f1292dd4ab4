//! Carrying out tracker decisions on the graph.
//!
//! A deduced alarm is the vertex `vitrage` / `<alarm name>:<target id>`: raising it again
//! updates its severity in place; undoing it soft-deletes it (and its edges), so a later
//! raise makes a new vertex, as Vitrage gives it a new `vitrage_id`.

use std::sync::Arc;

use super::resolve::{Resolved, ResolvedKind};
use super::tracker::Decision;
use crate::graph::values::Normaliser;
use crate::graph::{
    Category, EdgeKey, Graph, GraphError, Label, NewVertex, Props, Sym, Value, VertexId, names,
};

/// Applies one decision; `execute_mistral` is not a graph effect and is ignored here.
///
/// A `Do` whose target or source vertex is deleted does nothing: deleting a resource makes
/// every activation on it disappear, and the tracker may then restore the next action of a
/// group onto the vertex just deleted, right before undoing it too. Vitrage's processor
/// ignores updates to deleted vertices in the same way, so one deletion never stops the
/// evaluation. An `Undo` still removes what the action added (its deduced alarm, its causal
/// edge) and leaves the deleted vertex itself alone.
pub fn apply(
    graph: &mut Graph,
    values: &mut Normaliser,
    decision: &Decision,
) -> Result<(), GraphError> {
    match decision {
        Decision::Do(a) => {
            let gone = |v: Option<VertexId>| v.is_some_and(|v| !is_live(graph, v));
            if gone(a.target) || gone(a.source) {
                return Ok(());
            }
            perform(graph, values, a)
        }
        Decision::Undo(a) => undo(graph, values, a),
    }
}

fn is_live(graph: &Graph, v: VertexId) -> bool {
    graph.vertex(v).is_some_and(|x| !x.is_deleted())
}

fn perform(graph: &mut Graph, values: &mut Normaliser, a: &Resolved) -> Result<(), GraphError> {
    match &a.kind {
        ResolvedKind::SetState { state } => {
            let Some(t) = a.target else { return Ok(()) };
            let value = Value::Str(graph.intern_shared(state)?);
            graph.update_vertex(t, Props::from_pairs([(names::VITRAGE_STATE, value)]))?;
            values.refresh_vertex(graph, t)?;
        }
        ResolvedKind::MarkDown => {
            let Some(t) = a.target else { return Ok(()) };
            graph.update_vertex(
                t,
                Props::from_pairs([(names::IS_MARKED_DOWN, Value::Bool(true))]),
            )?;
        }
        ResolvedKind::AddCausalRelationship => {
            if let (Some(s), Some(t)) = (a.source, a.target) {
                graph.add_edge(EdgeKey { source: s, target: t, label: Label::CAUSES })?;
            }
        }
        ResolvedKind::RaiseAlarm { name, severity, .. } => {
            let Some(t) = a.target else { return Ok(()) };
            raise(graph, values, t, name, severity)?;
        }
        ResolvedKind::ExecuteMistral(_) => {}
    }
    Ok(())
}

fn undo(graph: &mut Graph, values: &mut Normaliser, a: &Resolved) -> Result<(), GraphError> {
    match &a.kind {
        ResolvedKind::SetState { .. } => {
            let Some(t) = a.target.filter(|&t| is_live(graph, t)) else { return Ok(()) };
            graph.update_vertex(t, Props::from_pairs([(names::VITRAGE_STATE, Value::Null)]))?;
            values.refresh_vertex(graph, t)?;
        }
        ResolvedKind::MarkDown => {
            let Some(t) = a.target.filter(|&t| is_live(graph, t)) else { return Ok(()) };
            graph.update_vertex(
                t,
                Props::from_pairs([(names::IS_MARKED_DOWN, Value::Bool(false))]),
            )?;
        }
        ResolvedKind::AddCausalRelationship => {
            if let (Some(s), Some(t)) = (a.source, a.target) {
                graph.delete_edge(EdgeKey { source: s, target: t, label: Label::CAUSES })?;
            }
        }
        ResolvedKind::RaiseAlarm { name, .. } => {
            let Some(t) = a.target else { return Ok(()) };
            if let Some(alarm) = deduced_alarm(graph, t, name) {
                graph.delete_vertex(alarm)?;
            }
        }
        ResolvedKind::ExecuteMistral(_) => {}
    }
    Ok(())
}

/// Adds (`wanted`) or deletes the `causes` edge from alarm `causing` to the live deduced
/// alarm `name` on `target`; nothing when either alarm is not live. The runner decides
/// `wanted` from the live `raise_alarm` instances with that causing alarm.
pub fn set_cause(
    graph: &mut Graph,
    target: VertexId,
    name: &str,
    causing: VertexId,
    wanted: bool,
) -> Result<(), GraphError> {
    let Some(alarm) = deduced_alarm(graph, target, name) else { return Ok(()) };
    let is_alarm = graph.vertex(causing).is_some_and(|v| v.category() == Category::Alarm);
    if !is_alarm || !is_live(graph, causing) {
        return Ok(());
    }
    let key = EdgeKey { source: causing, target: alarm, label: Label::CAUSES };
    if wanted {
        graph.add_edge(key)?;
    } else if graph.edge(key).is_some_and(|e| !e.is_deleted) {
        graph.delete_edge(key)?;
    }
    Ok(())
}

/// The live deduced alarm `name` on `target`.
///
/// It is looked for first among the alarms `on` the target (a handful), compared by key
/// without building it: a vertex's key is its own, so one found there is the one the key
/// table holds. Only when none is (the alarm is gone, or no longer `on` its target) is the key
/// built and looked up; an undo and a causal edge no longer pay for that on every call.
pub fn deduced_alarm(graph: &Graph, target: VertexId, name: &str) -> Option<VertexId> {
    let target_id = graph.resolve(target_id(graph, target)?);
    let is_key = |v: VertexId| {
        graph.vertex(v).is_some_and(|x| {
            graph.resolve(x.vitrage_type()) == DEDUCED_TYPE
                && is_deduced_id(graph.resolve(x.entity_id()), name, target_id)
        })
    };
    let on = graph.in_neighbours(target, Label::ON).find(|&v| is_key(v));
    let v = match on {
        Some(v) => v,
        None => graph.find_vertex(DEDUCED_TYPE, &deduced_id(name, target_id))?,
    };
    graph.vertex(v).is_some_and(|x| !x.is_deleted()).then_some(v)
}

/// Whether `id` is [`deduced_id`]`(name, target_id)`.
fn is_deduced_id(id: &str, name: &str, target_id: &str) -> bool {
    id.len() == name.len() + 1 + target_id.len()
        && id.starts_with(name)
        && id[name.len()..].starts_with(':')
        && id.ends_with(target_id)
}

/// The `vitrage_type` of deduced alarms.
const DEDUCED_TYPE: &str = "vitrage";

/// A deduced alarm's entity id, `<alarm name>:<target id>`. Joined rather than formatted:
/// it is built for every raise, undo and causal edge, and `join` allocates once, at its size.
fn deduced_id(name: &str, target_id: &str) -> String {
    [name, target_id].join(":")
}

/// The id a deduced alarm names its target by: its `id` property, else its entity id.
fn target_id(graph: &Graph, target: VertexId) -> Option<Sym> {
    let vertex = graph.vertex(target)?;
    Some(vertex.get_str(names::ID).unwrap_or(vertex.entity_id()))
}

/// The template's literals are interned by their allocation ([`Graph::intern_shared`]):
/// every raise of an alarm hands over the same two.
fn raise(
    graph: &mut Graph,
    values: &mut Normaliser,
    target: VertexId,
    name: &Arc<str>,
    severity: &Arc<str>,
) -> Result<VertexId, GraphError> {
    let sev = graph.intern_shared(severity)?;
    // The id is made and interned once: it finds the alarm raised already, or names the new one.
    let id = deduced_id(name, target_id(graph, target).map_or("", |id| graph.resolve(id)));
    let (kind, entity_id) = (graph.intern_static(DEDUCED_TYPE)?, graph.intern(&id)?);
    let existing = graph.vertex_by_key(kind, entity_id).filter(|&v| is_live(graph, v));
    if let Some(existing) = existing {
        graph.update_vertex(existing, Props::from_pairs([(names::SEVERITY, Value::Str(sev))]))?;
        values.refresh_vertex(graph, existing)?;
        return Ok(existing);
    }
    let name = graph.intern_shared(name)?;
    let spec = AlarmSpec { kind, entity_id, name, severity: sev, target, extra: &[] };
    add_alarm(graph, values, spec)
}

/// An alarm vertex to add, its strings interned.
pub struct AlarmSpec<'a> {
    /// `vitrage_type`: the monitor, or `vitrage` for deduced alarms.
    pub kind: Sym,
    /// Identity within the type.
    pub entity_id: Sym,
    /// Alarm name.
    pub name: Sym,
    /// Severity as reported.
    pub severity: Sym,
    /// The resource it is on.
    pub target: VertexId,
    /// Further properties (e.g. zabbix's `rawtext`).
    pub extra: &'a [(crate::graph::Sym, Value)],
}

/// Adds a live alarm vertex with an `on` edge to its target and the properties Vitrage's
/// processor gives every alarm (state, resource ids and type, normalised severity).
pub fn add_alarm(
    graph: &mut Graph,
    values: &mut Normaliser,
    a: AlarmSpec<'_>,
) -> Result<VertexId, GraphError> {
    let target_id = match target_id(graph, a.target) {
        Some(id) => Value::Str(id),
        None => Value::Str(graph.intern_static("")?),
    };
    let target_type = graph.vertex(a.target).map(|v| v.vitrage_type());
    let (entity_id, vitrage_type) = (a.entity_id, a.kind);
    // Room for the normalised pair too: the list is made once.
    let mut props = Vec::with_capacity(8 + a.extra.len());
    props.extend([
        (names::NAME, Value::Str(a.name)),
        (names::SEVERITY, Value::Str(a.severity)),
        (names::STATE, Value::Str(graph.intern_static("Active")?)),
        (names::RESOURCE_ID, target_id),
        (names::VITRAGE_RESOURCE_ID, target_id),
    ]);
    if let Some(t) = target_type {
        props.push((names::VITRAGE_RESOURCE_TYPE, Value::Str(t)));
    }
    props.extend_from_slice(a.extra);
    // Normalised before the vertex exists, so adding it records no update.
    let normalised = values.normalised_props(graph, Category::Alarm, vitrage_type, &props)?;
    props.extend(normalised.into_iter().filter(|(_, v)| *v != Value::Null));
    let alarm = graph.add_vertex(NewVertex {
        category: Category::Alarm,
        vitrage_type,
        entity_id,
        is_placeholder: false,
        props: Props::from_pairs(props),
    })?;
    graph.add_edge(EdgeKey { source: alarm, target: a.target, label: Label::ON })?;
    Ok(alarm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deduced_id_is_recognised_without_being_built() {
        for (name, target) in [("host nic failure", "host-1"), ("a:b", "c"), ("é", ""), ("", "x")]
        {
            let id = deduced_id(name, target);
            assert!(is_deduced_id(&id, name, target), "{id}");
        }
        assert!(!is_deduced_id("host nic failure:host-10", "host nic failure", "host-1"));
        assert!(!is_deduced_id("host nic failure;host-1", "host nic failure", "host-1"));
        assert!(!is_deduced_id("a:b:c", "a", "c"));
        assert!(!is_deduced_id("é:x", "e", "x"));
    }
}
