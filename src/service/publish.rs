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
use std::collections::BTreeMap;
use std::sync::Arc;

/// The namespace of `vitrage_id`s.
const VITRAGE_ID_NAMESPACE: uuid::Uuid = uuid::uuid!("4a1f4f0c-5b2e-4c61-9a5e-8f1a3c7d2b90");

/// When each vertex appeared and last changed, in log time. Service snapshots save it, since
/// the times are those of the batches that changed each vertex, which replay after a snapshot
/// does not see again.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stamps {
    times: HashMap<VertexId, (String, String)>,
}

/// Saved as the distinct times, sorted, and each vertex's pair as indexes into them, by
/// vertex: times are those of batches, so a hundred thousand vertices loaded together share
/// one.
impl serde::Serialize for Stamps {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut times: Vec<&str> =
            self.times.values().flat_map(|(a, b)| [a.as_str(), b.as_str()]).collect();
        times.sort_unstable();
        times.dedup();
        let index = |t: &str| times.binary_search(&t).map_or(0, |i| i as u32);
        let mut rows: Vec<(VertexId, u32, u32)> =
            self.times.iter().map(|(v, (a, b))| (*v, index(a), index(b))).collect();
        rows.sort_unstable();
        serde::Serialize::serialize(&(&times, rows), s)
    }
}

impl<'de> serde::Deserialize<'de> for Stamps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stamps, D::Error> {
        use serde::de::Error;
        let (times, rows): (Vec<String>, Vec<(VertexId, u32, u32)>) =
            serde::Deserialize::deserialize(d)?;
        let time = |i: u32| times.get(i as usize).cloned().ok_or_else(|| D::Error::custom("time"));
        let mut stamps = Stamps::default();
        for (v, first, last) in rows {
            if stamps.times.insert(v, (time(first)?, time(last)?)).is_some() {
                return Err(D::Error::custom("a vertex is stamped twice"));
            }
        }
        Ok(stamps)
    }
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

/// The view, kept up to date batch by batch. Each vertex and edge is drawn once and shared by
/// every view until a batch changes it, so publishing after a batch costs the vertices it
/// touched plus a pointer per vertex and edge, where [`view`] draws the whole graph.
#[derive(Debug, Default)]
pub struct Publisher {
    /// The live vertices as drawn, in id order (the order the API lists them).
    vertices: BTreeMap<VertexId, Arc<VertexView>>,
    /// The live edges as the last view drew them (their ends as positions in it), in view
    /// order: by label, source and target.
    edges: Vec<((Label, VertexId, VertexId), Arc<EdgeView>)>,
}

impl Publisher {
    /// The view of the whole graph, every vertex drawn anew.
    pub fn redraw(&mut self, graph: &Graph, stamps: &Stamps, generation: u64) -> View {
        self.vertices.clear();
        self.edges.clear();
        let all: Vec<VertexId> = graph.vertices().map(|(v, _)| v).collect();
        self.update(graph, stamps, &all, generation)
    }

    /// The view after a batch whose outcome `touched` these vertices.
    ///
    /// A vertex's dict is a function of its own properties and stamps, and for an alarm of the
    /// `vitrage_id` and `project_id` of the resource it is on: the vertices to redraw are the
    /// touched ones and the alarms on touched resources. Edges are listed from the graph and
    /// drawn again when their ends moved in the vertex list.
    pub fn update(
        &mut self,
        graph: &Graph,
        stamps: &Stamps,
        touched: &[VertexId],
        generation: u64,
    ) -> View {
        let mut redraw = touched.to_vec();
        for &v in touched {
            if graph.vertex(v).is_some_and(|x| x.category() == Category::Resource) {
                redraw.extend(graph.in_neighbours(v, Label::ON));
            }
        }
        redraw.sort_unstable();
        redraw.dedup();
        for v in redraw {
            match graph.vertex(v) {
                Some(vertex) if !vertex.is_deleted() => {
                    let props = match vertex.category() {
                        Category::Alarm => alarm_props(graph, stamps, v),
                        _ => vertex_props(graph, stamps, v),
                    };
                    self.vertices.insert(v, Arc::new(VertexView { props }));
                }
                _ => {
                    self.vertices.remove(&v);
                }
            }
        }
        let slots = self.vertices.keys().next_back().map_or(0, |v| v.index() as usize + 1);
        let mut position = vec![usize::MAX; slots];
        let mut vertices = Vec::with_capacity(self.vertices.len());
        for (i, (v, drawn)) in self.vertices.iter().enumerate() {
            position[v.index() as usize] = i;
            vertices.push(drawn.clone());
        }
        let at =
            |v: VertexId| position.get(v.index() as usize).copied().filter(|&p| p != usize::MAX);
        // Both lists are in view order: walk the last one alongside to find what is unchanged.
        let mut last = std::mem::take(&mut self.edges).into_iter().peekable();
        let mut edges = Vec::with_capacity(last.len());
        for label in graph.labels() {
            for (s, t) in graph.edges_with_label(label) {
                let (Some(source), Some(target)) = (at(s), at(t)) else { continue };
                let key = (label, s, t);
                while last.next_if(|(k, _)| *k < key).is_some() {}
                let edge = match last.next_if(|(k, _)| *k == key) {
                    Some((_, e)) if e.source == source && e.target == target => e,
                    _ => {
                        let relationship_type = graph.resolve(label.sym()).to_string();
                        let mut props = Map::new();
                        props.insert("vitrage_is_deleted".into(), Json::Bool(false));
                        props.insert("relationship_type".into(), relationship_type.clone().into());
                        Arc::new(EdgeView { source, target, relationship_type, props })
                    }
                };
                self.edges.push((key, edge.clone()));
                edges.push(edge);
            }
        }
        // Ids and edges were drawn from one graph, so the view is consistent by construction.
        View::shared(generation, vertices, edges).unwrap_or_else(|_| View::empty())
    }
}

/// The view of the live graph after `generation` batches, drawn whole: what [`Publisher`]
/// must always agree with.
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
    // With several `on` edges (which no change makes), the last one, as [`view`] has it.
    if let Some(resource) = graph.out_neighbours(v, Label::ON).last() {
        props.insert("vitrage_resource_id".into(), Json::String(vitrage_id(graph, resource)));
        let project = graph
            .vertex(resource)
            .and_then(|r| graph.interner().get("project_id").and_then(|k| r.props().get(k)))
            .and_then(|p| shown(graph, p));
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
        let Some(json) = shown(graph, value) else { continue };
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

/// A property value as the API shows it; a null is not shown.
fn shown(graph: &Graph, value: Value) -> Option<Json> {
    match value {
        Value::Str(s) | Value::Num(s) => Some(Json::String(graph.resolve(s).to_string())),
        Value::Bool(b) => Some(Json::Bool(b)),
        Value::Null => None,
    }
}
