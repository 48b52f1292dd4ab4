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

/// The live resources and their edges in the result's order, as vertex ids: the order of
/// the whole result's text, computed from ids and names alone.
pub(crate) struct TopologyOrder {
    /// Live resources that are not placeholders, by (id text, type).
    pub(crate) resources: Vec<VertexId>,
    /// Live edges between live resources (not `causes`), by their `[source id, label,
    /// target id]` text.
    pub(crate) edges: Vec<(VertexId, Label, VertexId)>,
}

impl Runner {
    /// The current state: resources, edges, alarms, causal edges and marked-down resources.
    /// `mistral_calls` is left empty: the runner keeps no history, its caller does.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = self.summary();
        let order = self.topology_order();
        s.resources = order.resources.iter().map(|&v| resource_state(&self.graph, v)).collect();
        s.edges = order.edges.iter().map(|&e| edge_item(&self.graph, e)).collect();
        s
    }

    /// [`Runner::snapshot`] without `resources` and `edges`, the two lists that grow with
    /// the cloud; [`TopologyOrder`] gives them item by item.
    pub(crate) fn summary(&self) -> Snapshot {
        let g = &self.graph;
        let mut s = Snapshot::default();
        let mut ident: HashMap<VertexId, AlarmName> = HashMap::new();
        for (id, v) in g.vertices() {
            let get = |k| text(g, v.get(k));
            match v.category() {
                Category::Resource if v.is_deleted() => s.deleted_resources.push(get(names::ID)),
                Category::Resource if v.is_placeholder() => {}
                Category::Resource => {
                    if v.get(names::IS_MARKED_DOWN) == Some(Value::Bool(true)) {
                        s.marked_down.push(get(names::ID));
                    }
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
        for (src, dst) in g.edges_with_label(Label::CAUSES) {
            if let (Some(a), Some(b)) = (ident.get(&src), ident.get(&dst)) {
                s.causal_edges.push(Causal { caused: b.clone(), causing: a.clone() });
            }
        }
        by_text(&mut s.causal_edges);
        by_text(&mut s.deduced_alarms);
        by_text(&mut s.deleted_resources);
        by_text(&mut s.external_alarms);
        by_text(&mut s.marked_down);
        s
    }

    /// The order of the result's `resources` and `edges`. Both sort by JSON text, and a
    /// string's text (quoted, escaped) is never a prefix of another's, so sorting by the text
    /// of each field in turn is sorting by the whole item's text: edges are ranked by their
    /// ends' ranks among the resources' ids, without writing any text.
    pub(crate) fn topology_order(&self) -> TopologyOrder {
        let g = &self.graph;
        let mut live: Vec<(JsonText<'_>, &str, VertexId, bool)> = g
            .vertices()
            .filter(|(_, v)| v.category() == Category::Resource && !v.is_deleted())
            .map(|(id, v)| {
                let key = JsonText::of(g, v.get(names::ID));
                (key, g.resolve(v.vitrage_type()), id, v.is_placeholder())
            })
            .collect();
        live.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let slots = live.iter().map(|l| l.2.index() as usize + 1).max().unwrap_or(0);
        let mut rank = vec![0u32; slots];
        let mut r = 0u32;
        for (i, l) in live.iter().enumerate() {
            if i > 0 && live[i - 1].0 != l.0 {
                r += 1;
            }
            rank[l.2.index() as usize] = r;
        }
        let resources = live.into_iter().filter(|l| !l.3).map(|l| l.2).collect();
        let mut labels: Vec<Label> = g.labels().filter(|&l| l != Label::CAUSES).collect();
        labels.sort_by_cached_key(|l| JsonText::string(g.resolve(l.sym())));
        let is_resource = |v: VertexId| {
            g.vertex(v).is_some_and(|v| v.category() == Category::Resource && !v.is_deleted())
        };
        let mut edges: Vec<(u32, u32, u32, VertexId, Label, VertexId)> = Vec::new();
        for (lr, &label) in labels.iter().enumerate() {
            for (s, t) in g.edges_with_label(label) {
                if is_resource(s) && is_resource(t) {
                    let key = (rank[s.index() as usize], lr as u32, rank[t.index() as usize]);
                    edges.push((key.0, key.1, key.2, s, label, t));
                }
            }
        }
        edges.sort_unstable_by_key(|e| (e.0, e.1, e.2));
        let edges = edges.into_iter().map(|e| (e.3, e.4, e.5)).collect();
        TopologyOrder { resources, edges }
    }
}

/// The result's entry for a live resource.
pub(crate) fn resource_state(g: &Graph, id: VertexId) -> ResourceState {
    let v = g.vertex(id);
    let get = |k| text(g, v.and_then(|v| v.get(k)));
    ResourceState {
        aggregated_state: get(names::VITRAGE_AGGREGATED_STATE),
        id: get(names::ID),
        marked_down: v.and_then(|v| v.get(names::IS_MARKED_DOWN)) == Some(Value::Bool(true)),
        name: get(names::NAME),
        operational_state: get(names::VITRAGE_OPERATIONAL_STATE),
        state: get(names::STATE),
        kind: v.map(|v| g.resolve(v.vitrage_type()).to_string()).unwrap_or_default(),
        vitrage_state: get(names::VITRAGE_STATE),
    }
}

/// The result's entry for an edge: (source id, label, target id).
pub(crate) fn edge_item(
    g: &Graph,
    (s, label, t): (VertexId, Label, VertexId),
) -> (Json, String, Json) {
    let id = |v: VertexId| text(g, g.vertex(v).and_then(|v| v.get(names::ID)));
    (id(s), g.resolve(label.sym()).to_string(), id(t))
}

/// A property value as [`text`] shows it, ordered as its JSON text is: the result's lists are
/// sorted by JSON text, and this orders them so without writing the text of every item.
#[derive(Debug, Clone, PartialEq, Eq)]
enum JsonText<'a> {
    /// A string serde_json writes as is between quotes.
    Plain(&'a str),
    /// The whole JSON text (quotes and escapes) of any other string.
    Escaped(String),
    Bool(bool),
    Null,
}

impl<'a> JsonText<'a> {
    fn of(graph: &'a Graph, v: Option<Value>) -> JsonText<'a> {
        match v {
            Some(Value::Str(s)) | Some(Value::Num(s)) => JsonText::string(graph.resolve(s)),
            Some(Value::Bool(b)) => JsonText::Bool(b),
            _ => JsonText::Null,
        }
    }

    fn string(s: &'a str) -> JsonText<'a> {
        if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            JsonText::Escaped(serde_json::to_string(s).unwrap_or_default())
        } else {
            JsonText::Plain(s)
        }
    }

    /// Where the text starts: `"`, `f`alse, `n`ull, `t`rue.
    fn first(&self) -> u8 {
        match self {
            JsonText::Plain(_) | JsonText::Escaped(_) => b'"',
            JsonText::Bool(false) => b'f',
            JsonText::Null => b'n',
            JsonText::Bool(true) => b't',
        }
    }
}

impl Ord for JsonText<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (JsonText::Plain(a), JsonText::Plain(b)) => {
                // Both texts are the string between quotes; the closing quote ends the
                // shorter one, and it sorts after a space or `!` only.
                let n = a.len().min(b.len());
                match a.as_bytes()[..n].cmp(&b.as_bytes()[..n]) {
                    Ordering::Equal => match (a.as_bytes().get(n), b.as_bytes().get(n)) {
                        (None, None) => Ordering::Equal,
                        (None, Some(&c)) => b'"'.cmp(&c),
                        (Some(&c), _) => c.cmp(&b'"'),
                    },
                    unequal => unequal,
                }
            }
            (
                JsonText::Plain(_) | JsonText::Escaped(_),
                JsonText::Plain(_) | JsonText::Escaped(_),
            ) => {
                let text = |t: &JsonText<'_>| match t {
                    JsonText::Plain(s) => format!("\"{s}\""),
                    JsonText::Escaped(s) => s.clone(),
                    _ => String::new(),
                };
                text(self).cmp(&text(other))
            }
            _ => self.first().cmp(&other.first()),
        }
    }
}

impl PartialOrd for JsonText<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::JsonText;

    #[test]
    fn json_text_orders_as_the_serialized_text_does() {
        let strings =
            ["", "a", "a b", "a!", "a-b", "a\"", "a\\", "a\nb", "a\u{1}", "ab", "é", "a~"];
        let mut values: Vec<(JsonText<'_>, String)> = strings
            .iter()
            .map(|s| (JsonText::string(s), serde_json::to_string(s).unwrap_or_default()))
            .collect();
        values.push((JsonText::Null, "null".into()));
        values.push((JsonText::Bool(true), "true".into()));
        values.push((JsonText::Bool(false), "false".into()));
        for (a, ta) in &values {
            for (b, tb) in &values {
                // Compared as the start of a longer text, as in a list item.
                assert_eq!(a.cmp(b), format!("{ta},").cmp(&format!("{tb},")), "{ta} vs {tb}");
            }
        }
    }
}
