//! Carrying out tracker decisions on the graph.
//!
//! A deduced alarm is the vertex `vitrage` / `<alarm name>:<target id>`: raising it again
//! updates its severity in place; undoing it soft-deletes it (and its edges), so a later
//! raise makes a new vertex, as Vitrage gives it a new `vitrage_id`.

use super::resolve::{Resolved, ResolvedKind};
use super::tracker::Decision;
use crate::graph::values::{ValueTables, refresh_vertex};
use crate::graph::{
    Category, EdgeKey, Graph, GraphError, Label, NewVertex, Props, Value, VertexId, names,
};

/// Applies one decision; `execute_mistral` is not a graph effect and is ignored here.
pub fn apply(
    graph: &mut Graph,
    tables: &ValueTables,
    decision: &Decision,
) -> Result<(), GraphError> {
    match decision {
        Decision::Do(a) => perform(graph, tables, a),
        Decision::Undo(a) => undo(graph, tables, a),
    }
}

fn perform(graph: &mut Graph, tables: &ValueTables, a: &Resolved) -> Result<(), GraphError> {
    match &a.kind {
        ResolvedKind::SetState { state } => {
            let Some(t) = a.target else { return Ok(()) };
            let value = graph.str_value(state)?;
            graph.update_vertex(t, Props::from_pairs([(names::VITRAGE_STATE, value)]))?;
            refresh_vertex(graph, tables, t)?;
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
        ResolvedKind::RaiseAlarm { name, severity, causing } => {
            let Some(t) = a.target else { return Ok(()) };
            let alarm = raise(graph, tables, t, name, severity)?;
            if let Some(c) = *causing {
                let is_alarm = graph
                    .vertex(c)
                    .is_some_and(|v| v.category() == Category::Alarm && !v.is_deleted());
                if is_alarm {
                    graph.add_edge(EdgeKey { source: c, target: alarm, label: Label::CAUSES })?;
                }
            }
        }
        ResolvedKind::ExecuteMistral { .. } => {}
    }
    Ok(())
}

fn undo(graph: &mut Graph, tables: &ValueTables, a: &Resolved) -> Result<(), GraphError> {
    match &a.kind {
        ResolvedKind::SetState { .. } => {
            let Some(t) = a.target else { return Ok(()) };
            if graph.vertex(t).is_some_and(|v| !v.is_deleted()) {
                graph.update_vertex(t, Props::from_pairs([(names::VITRAGE_STATE, Value::Null)]))?;
                refresh_vertex(graph, tables, t)?;
            }
        }
        ResolvedKind::MarkDown => {
            let Some(t) = a.target else { return Ok(()) };
            if graph.vertex(t).is_some_and(|v| !v.is_deleted()) {
                graph.update_vertex(
                    t,
                    Props::from_pairs([(names::IS_MARKED_DOWN, Value::Bool(false))]),
                )?;
            }
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
        ResolvedKind::ExecuteMistral { .. } => {}
    }
    Ok(())
}

/// The live deduced alarm `name` on `target`.
pub fn deduced_alarm(graph: &Graph, target: VertexId, name: &str) -> Option<VertexId> {
    let target_id = target_id(graph, target)?;
    let v = graph.find_vertex("vitrage", &format!("{name}:{target_id}"))?;
    graph.vertex(v).is_some_and(|x| !x.is_deleted()).then_some(v)
}

fn target_id(graph: &Graph, target: VertexId) -> Option<String> {
    let vertex = graph.vertex(target)?;
    let id = vertex.get_str(names::ID).unwrap_or(vertex.entity_id());
    Some(graph.resolve(id).to_string())
}

fn raise(
    graph: &mut Graph,
    tables: &ValueTables,
    target: VertexId,
    name: &str,
    severity: &str,
) -> Result<VertexId, GraphError> {
    let sev = graph.str_value(severity)?;
    if let Some(existing) = deduced_alarm(graph, target, name) {
        graph.update_vertex(existing, Props::from_pairs([(names::SEVERITY, sev)]))?;
        refresh_vertex(graph, tables, existing)?;
        return Ok(existing);
    }
    let target_id = target_id(graph, target).unwrap_or_default();
    let target_type = graph.vertex(target).map(|v| v.vitrage_type());
    let entity_id = graph.intern(&format!("{name}:{target_id}"))?;
    let vitrage_type = graph.intern("vitrage")?;
    let mut props = vec![
        (names::NAME, graph.str_value(name)?),
        (names::SEVERITY, sev),
        (names::STATE, graph.str_value("Active")?),
        (names::RESOURCE_ID, graph.str_value(&target_id)?),
        (names::VITRAGE_RESOURCE_ID, graph.str_value(&target_id)?),
    ];
    if let Some(t) = target_type {
        props.push((names::VITRAGE_RESOURCE_TYPE, Value::Str(t)));
    }
    let alarm = graph.add_vertex(NewVertex {
        category: Category::Alarm,
        vitrage_type,
        entity_id,
        is_placeholder: false,
        props: Props::from_pairs(props),
    })?;
    refresh_vertex(graph, tables, alarm)?;
    graph.add_edge(EdgeKey { source: alarm, target, label: Label::ON })?;
    Ok(alarm)
}
