//! Turning the runner's graph into the [`View`] the API reads, with what Vitrage shows and the
//! graph does not keep: `vitrage_id`s, timestamps, and alarms' `vitrage_resource_id` as the
//! resource's `vitrage_id`.
//!
//! Everything here is a function of the event log: ids are UUID v5 of the vertex's identity
//! and slot, and timestamps are the log time of the batch that changed the vertex, so a
//! restarted service shows the same ids and times as before the restart.

use super::view::{EdgeView, VertexView, View};
use crate::graph::{Category, Graph, Label, Value, VertexId, names};
use crate::runner::Outcome;
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

/// The namespace of `vitrage_id`s.
const VITRAGE_ID_NAMESPACE: uuid::Uuid = uuid::uuid!("4a1f4f0c-5b2e-4c61-9a5e-8f1a3c7d2b90");

/// When each vertex appeared and last changed, in log time.
#[derive(Debug, Default, Clone)]
pub struct Stamps {
    times: HashMap<VertexId, (String, String)>,
}

impl Stamps {
    /// Records that the vertices `outcome` names changed at `at` (RFC 3339).
    pub fn record(&mut self, outcome: &Outcome, at: &str) {
        let touched = outcome
            .alarms_activated
            .iter()
            .chain(&outcome.alarms_updated)
            .chain(&outcome.alarms_deactivated)
            .chain(&outcome.resources_added)
            .chain(&outcome.resources_changed)
            .chain(&outcome.resources_deleted);
        for v in touched {
            let entry = self.times.entry(*v).or_insert_with(|| (at.to_string(), at.to_string()));
            entry.1 = at.to_string();
        }
    }

    /// Forgets the vertices `outcome` deleted: nothing shows them again, and a stamp kept for
    /// every alarm ever raised would grow without end.
    pub fn forget(&mut self, graph: &Graph, outcome: &Outcome) {
        for v in outcome.alarms_deactivated.iter().chain(&outcome.resources_deleted) {
            if graph.vertex(*v).is_none_or(|x| x.is_deleted()) {
                self.times.remove(v);
            }
        }
    }

    /// (first seen, last changed) of `v`.
    pub fn of(&self, v: VertexId) -> Option<&(String, String)> {
        self.times.get(&v)
    }
}

/// The `vitrage_id` of vertex `v`: stable across restarts, and new for a vertex made again
/// with the identity of a deleted one (as Vitrage gives a re-raised alarm a new id).
pub fn vitrage_id(graph: &Graph, v: VertexId) -> String {
    let Some(vertex) = graph.vertex(v) else { return String::new() };
    let key = format!(
        "{}\u{1f}{}\u{1f}{}",
        graph.resolve(vertex.vitrage_type()),
        graph.resolve(vertex.entity_id()),
        v.index()
    );
    uuid::Uuid::new_v5(&VITRAGE_ID_NAMESPACE, key.as_bytes()).to_string()
}

/// The vertex with `vitrage_id` among the live vertices.
pub fn find(graph: &Graph, id: &str) -> Option<VertexId> {
    graph
        .vertices()
        .filter(|(_, v)| !v.is_deleted())
        .map(|(v, _)| v)
        .find(|&v| vitrage_id(graph, v) == id)
}

/// The view of the live graph after `generation` batches.
pub fn view(graph: &Graph, stamps: &Stamps, generation: u64) -> View {
    let mut index: HashMap<VertexId, usize> = HashMap::default();
    let mut vertices = Vec::new();
    for (v, vertex) in graph.vertices() {
        if vertex.is_deleted() {
            continue;
        }
        index.insert(v, vertices.len());
        vertices.push(VertexView { props: vertex_props(graph, stamps, v) });
    }
    let mut edges = Vec::new();
    for label in graph.labels() {
        for (s, t) in graph.edges_with_label(label) {
            let (Some(&source), Some(&target)) = (index.get(&s), index.get(&t)) else { continue };
            let mut props = Map::new();
            props.insert("vitrage_is_deleted".into(), Json::Bool(false));
            edges.push(EdgeView {
                source,
                target,
                relationship_type: graph.resolve(label.sym()).to_string(),
                props,
            });
        }
    }
    // Alarms name their resource by its vitrage_id.
    for e in &edges {
        if e.relationship_type != graph.resolve(Label::ON.sym()) {
            continue;
        }
        let resource = &vertices[e.target].props;
        let rid = resource.get("vitrage_id").cloned().unwrap_or(Json::Null);
        let project = resource.get("project_id").cloned();
        let alarm = &mut vertices[e.source].props;
        alarm.insert("vitrage_resource_id".into(), rid);
        if let Some(p) = project {
            alarm.insert("vitrage_resource_project_id".into(), p);
        }
    }
    // Ids and edges were built from one graph, so the view is consistent by construction.
    View::new(generation, vertices, edges).unwrap_or_else(|_| View::empty())
}

/// The property dict of alarm `v` as the API lists it: [`vertex_props`], with
/// `vitrage_resource_id` the `vitrage_id` of the resource it is on (the graph keeps the
/// resource's own id there).
pub fn alarm_props(graph: &Graph, stamps: &Stamps, v: VertexId) -> Map<String, Json> {
    let mut props = vertex_props(graph, stamps, v);
    if let Some(resource) = graph.out_neighbours(v, Label::ON).next() {
        props.insert("vitrage_resource_id".into(), Json::String(vitrage_id(graph, resource)));
        let project = graph
            .vertex(resource)
            .and_then(|r| graph.interner().get("project_id").and_then(|k| r.get_str(k)))
            .map(|p| Json::String(graph.resolve(p).to_string()));
        if let Some(p) = project {
            props.insert("vitrage_resource_project_id".into(), p);
        }
    }
    props
}

/// The property dict Vitrage shows for vertex `v`.
pub fn vertex_props(graph: &Graph, stamps: &Stamps, v: VertexId) -> Map<String, Json> {
    let mut props = Map::new();
    let Some(vertex) = graph.vertex(v) else { return props };
    props.insert("vitrage_id".into(), Json::String(vitrage_id(graph, v)));
    let category = match vertex.category() {
        Category::Alarm => "ALARM",
        _ => "RESOURCE",
    };
    props.insert("vitrage_category".into(), category.into());
    props.insert("vitrage_type".into(), graph.resolve(vertex.vitrage_type()).into());
    for (key, value) in vertex.props().iter() {
        let json = match value {
            Value::Str(s) | Value::Num(s) => Json::String(graph.resolve(s).to_string()),
            Value::Bool(b) => Json::Bool(b),
            Value::Null => continue,
        };
        props.insert(graph.resolve(key).to_string(), json);
    }
    props.insert("vitrage_is_deleted".into(), Json::Bool(vertex.is_deleted()));
    props.insert("vitrage_is_placeholder".into(), Json::Bool(vertex.is_placeholder()));
    if vertex.category() == Category::Alarm && !props.contains_key("vitrage_resource_type") {
        props.insert("vitrage_resource_type".into(), Json::Null);
    }
    if vertex.category() == Category::Resource && !props.contains_key("is_marked_down") {
        props.insert(graph.resolve(names::IS_MARKED_DOWN).to_string(), Json::Bool(false));
    }
    if let Some((first, last)) = stamps.of(v) {
        props.insert("vitrage_sample_timestamp".into(), Json::String(last.clone()));
        props.insert("update_timestamp".into(), Json::String(last.clone()));
        if vertex.category() == Category::Alarm {
            props.insert("start_timestamp".into(), Json::String(first.clone()));
        }
    }
    props
}
