//! The state of a run in the RESULT.json shape of `scenario-format.md`.
//!
//! Typed structs rather than JSON trees: a snapshot of a million resources is written, not
//! held as a tree of maps. Field order is alphabetical, as the reference results have it.

use super::Runner;
use crate::graph::{Category, Graph, Label, Value, VertexId, names};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::HashMap;

/// The graph and workflow part of a result (and of every checkpoint).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// `causes` edges between live alarms.
    pub causal_edges: Vec<Causal>,
    /// Live deduced alarms.
    pub deduced_alarms: Vec<Deduced>,
    /// Ids of deleted resources.
    pub deleted_resources: Vec<Json>,
    /// Live edges between live resources: (source id, label, target id).
    pub edges: Vec<(Json, String, Json)>,
    /// Live external alarms.
    pub external_alarms: Vec<External>,
    /// Ids of marked-down resources.
    pub marked_down: Vec<Json>,
    /// Workflow runs in order.
    pub mistral_calls: Vec<Call>,
    /// Live resources, by id.
    pub resources: Vec<ResourceState>,
}

/// An alarm named by (alarm name, id of the resource it is on).
pub type AlarmName = (Json, Json);

/// A causal edge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Causal {
    /// The caused alarm.
    pub caused: AlarmName,
    /// The causing alarm.
    pub causing: AlarmName,
}

/// A deduced alarm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deduced {
    /// Upper-cased severity.
    pub aggregated_severity: Json,
    /// Alarm name.
    pub name: Json,
    /// Normalised severity.
    pub operational_severity: Json,
    /// Severity as written.
    pub severity: Json,
    /// Id of the resource it is on.
    pub target: Json,
    /// Type of that resource.
    pub target_type: Json,
}

/// An external alarm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct External {
    /// Alarm name.
    pub name: Json,
    /// Severity.
    pub severity: Json,
    /// Id of the resource it is on.
    pub target: Json,
    /// The monitor.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A workflow run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// Workflow input.
    pub input: serde_json::Map<String, Json>,
    /// The step that caused it.
    pub step: Json,
    /// Workflow name.
    pub workflow: String,
}

/// A live resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceState {
    /// Winning raw state, upper-cased.
    pub aggregated_state: Json,
    /// Resource id.
    pub id: Json,
    /// `is_marked_down`.
    pub marked_down: bool,
    /// Name.
    pub name: Json,
    /// Normalised state.
    pub operational_state: Json,
    /// Raw state.
    pub state: Json,
    /// Datasource type.
    #[serde(rename = "type")]
    pub kind: String,
    /// State set by `set_state`.
    pub vitrage_state: Json,
}

fn text(graph: &Graph, v: Option<Value>) -> Json {
    match v {
        Some(Value::Str(s)) | Some(Value::Num(s)) => Json::String(graph.resolve(s).to_string()),
        Some(Value::Bool(b)) => Json::Bool(b),
        _ => Json::Null,
    }
}

/// Sorts by each item's JSON text, as the result format asks.
fn by_text<T: Serialize>(items: &mut [T]) {
    items.sort_by_cached_key(|i| serde_json::to_string(i).unwrap_or_default());
}

impl Runner {
    /// The current state: resources, edges, alarms, causal edges and marked-down resources.
    /// `mistral_calls` is left empty: the runner keeps no history, its caller does.
    pub fn snapshot(&self) -> Snapshot {
        let g = &self.graph;
        let mut s = Snapshot::default();
        let mut ident: HashMap<VertexId, AlarmName> = HashMap::new();
        for (id, v) in g.vertices() {
            let get = |k| text(g, v.get(k));
            match v.category() {
                Category::Resource if v.is_deleted() => s.deleted_resources.push(get(names::ID)),
                Category::Resource if v.is_placeholder() => {}
                Category::Resource => {
                    let marked_down = v.get(names::IS_MARKED_DOWN) == Some(Value::Bool(true));
                    if marked_down {
                        s.marked_down.push(get(names::ID));
                    }
                    s.resources.push(ResourceState {
                        aggregated_state: get(names::VITRAGE_AGGREGATED_STATE),
                        id: get(names::ID),
                        marked_down,
                        name: get(names::NAME),
                        operational_state: get(names::VITRAGE_OPERATIONAL_STATE),
                        state: get(names::STATE),
                        kind: g.resolve(v.vitrage_type()).to_string(),
                        vitrage_state: get(names::VITRAGE_STATE),
                    });
                }
                Category::Alarm if v.is_deleted() => {}
                Category::Alarm => {
                    let target = get(names::VITRAGE_RESOURCE_ID);
                    ident.insert(id, (get(names::NAME), target.clone()));
                    let kind = g.resolve(v.vitrage_type());
                    if kind == "vitrage" {
                        s.deduced_alarms.push(Deduced {
                            aggregated_severity: get(names::VITRAGE_AGGREGATED_SEVERITY),
                            name: get(names::NAME),
                            operational_severity: get(names::VITRAGE_OPERATIONAL_SEVERITY),
                            severity: get(names::SEVERITY),
                            target,
                            target_type: get(names::VITRAGE_RESOURCE_TYPE),
                        });
                    } else {
                        s.external_alarms.push(External {
                            name: get(names::NAME),
                            severity: get(names::SEVERITY),
                            target,
                            kind: kind.to_string(),
                        });
                    }
                }
            }
        }
        for label in g.labels() {
            for (src, dst) in g.edges_with_label(label) {
                let (Some(sv), Some(tv)) = (g.vertex(src), g.vertex(dst)) else { continue };
                if sv.is_deleted() || tv.is_deleted() {
                    continue;
                }
                if label == Label::CAUSES {
                    if let (Some(a), Some(b)) = (ident.get(&src), ident.get(&dst)) {
                        s.causal_edges.push(Causal { caused: b.clone(), causing: a.clone() });
                    }
                } else if sv.category() == Category::Resource && tv.category() == Category::Resource
                {
                    let name = g.resolve(label.sym()).to_string();
                    s.edges.push((text(g, sv.get(names::ID)), name, text(g, tv.get(names::ID))));
                }
            }
        }
        s.resources.sort_by_cached_key(|r| (r.id.to_string(), r.kind.clone()));
        by_text(&mut s.causal_edges);
        by_text(&mut s.deduced_alarms);
        by_text(&mut s.deleted_resources);
        by_text(&mut s.edges);
        by_text(&mut s.external_alarms);
        by_text(&mut s.marked_down);
        s
    }
}
