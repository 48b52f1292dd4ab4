//! The state of a run in the RESULT.json shape of `scenario-format.md`.

use super::Runner;
use crate::graph::{Category, Graph, Label, Value, VertexId, names};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// The result keys that describe the graph and the workflow runs.
pub type Snapshot = serde_json::Map<String, Json>;

fn text(graph: &Graph, v: Option<Value>) -> Json {
    match v {
        Some(Value::Str(s)) | Some(Value::Num(s)) => Json::String(graph.resolve(s).to_string()),
        Some(Value::Bool(b)) => Json::Bool(b),
        _ => Json::Null,
    }
}

fn sorted(mut items: Vec<Json>) -> Json {
    items.sort_by_cached_key(|j| j.to_string());
    Json::Array(items)
}

impl Runner {
    /// The current state: resources, edges, alarms, causal edges, marked-down resources and
    /// workflow runs.
    pub fn snapshot(&self) -> Snapshot {
        let g = &self.graph;
        let mut resources = Vec::new();
        let mut deleted = Vec::new();
        let mut marked_down = Vec::new();
        let mut deduced = Vec::new();
        let mut external = Vec::new();
        let mut ident: HashMap<VertexId, Json> = HashMap::new();
        for (id, v) in g.vertices() {
            let get = |k| text(g, v.get(k));
            match v.category() {
                Category::Resource => {
                    if v.is_deleted() {
                        deleted.push(get(names::ID));
                        continue;
                    }
                    if v.is_placeholder() {
                        continue;
                    }
                    let md = v.get(names::IS_MARKED_DOWN) == Some(Value::Bool(true));
                    if md {
                        marked_down.push(get(names::ID));
                    }
                    resources.push(json!({
                        "aggregated_state": get(names::VITRAGE_AGGREGATED_STATE),
                        "id": get(names::ID),
                        "marked_down": md,
                        "name": get(names::NAME),
                        "operational_state": get(names::VITRAGE_OPERATIONAL_STATE),
                        "state": get(names::STATE),
                        "type": g.resolve(v.vitrage_type()),
                        "vitrage_state": get(names::VITRAGE_STATE),
                    }));
                }
                Category::Alarm => {
                    if v.is_deleted() {
                        continue;
                    }
                    let target = get(names::VITRAGE_RESOURCE_ID);
                    ident.insert(id, json!([get(names::NAME), target.clone()]));
                    if g.resolve(v.vitrage_type()) == "vitrage" {
                        deduced.push(json!({
                            "aggregated_severity": get(names::VITRAGE_AGGREGATED_SEVERITY),
                            "name": get(names::NAME),
                            "operational_severity": get(names::VITRAGE_OPERATIONAL_SEVERITY),
                            "severity": get(names::SEVERITY),
                            "target": target,
                            "target_type": get(names::VITRAGE_RESOURCE_TYPE),
                        }));
                    } else {
                        external.push(json!({
                            "name": get(names::NAME),
                            "severity": get(names::SEVERITY),
                            "target": target,
                            "type": g.resolve(v.vitrage_type()),
                        }));
                    }
                }
            }
        }
        let mut edges = Vec::new();
        let mut causal = Vec::new();
        for label in g.labels() {
            for (s, t) in g.edges_with_label(label) {
                let (Some(sv), Some(tv)) = (g.vertex(s), g.vertex(t)) else { continue };
                if sv.is_deleted() || tv.is_deleted() {
                    continue;
                }
                if label == Label::CAUSES {
                    if let (Some(a), Some(b)) = (ident.get(&s), ident.get(&t)) {
                        causal.push(json!({"caused": b, "causing": a}));
                    }
                } else if sv.category() == Category::Resource && tv.category() == Category::Resource
                {
                    edges.push(json!([
                        text(g, sv.get(names::ID)),
                        g.resolve(label.sym()),
                        text(g, tv.get(names::ID))
                    ]));
                }
            }
        }
        resources.sort_by_cached_key(|r| (r["id"].to_string(), r["type"].to_string()));
        let calls: Vec<Json> = self
            .mistral_calls
            .iter()
            .map(|c| json!({"input": c.input, "step": c.step, "workflow": c.workflow}))
            .collect();
        let mut out = Snapshot::new();
        out.insert("causal_edges".into(), sorted(causal));
        out.insert("deduced_alarms".into(), sorted(deduced));
        out.insert("deleted_resources".into(), sorted(deleted));
        out.insert("edges".into(), sorted(edges));
        out.insert("external_alarms".into(), sorted(external));
        out.insert("marked_down".into(), sorted(marked_down));
        out.insert("mistral_calls".into(), Json::Array(calls));
        out.insert("resources".into(), Json::Array(resources));
        out
    }
}
