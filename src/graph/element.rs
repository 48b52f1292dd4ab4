//! Vertices, edges and their ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::names;
use super::{Props, Sym, Value};

/// A vertex's index in its graph. Ids are dense, so side tables can be `Vec`s; the id of a
/// hard-removed vertex may be reused by a later one (see [`super::GraphChange::VertexRemoved`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VertexId(pub(crate) u32);

impl VertexId {
    /// The dense index of this vertex.
    pub fn index(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for VertexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl fmt::Display for VertexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// An edge label (Vitrage's `relationship_type`), interned in the graph's interner.
///
/// Labels are not a closed set: datasources and templates may use any string. The standard
/// ones are constants such as [`Label::CONTAINS`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Label(pub(crate) Sym);

impl Label {
    /// The interned text of this label.
    pub fn sym(self) -> Sym {
        self.0
    }
}

/// Vitrage's `vitrage_category`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Category {
    /// `RESOURCE`: a host, an instance, a switch...
    Resource,
    /// `ALARM`: an alarm from a monitor, or one deduced by a template (`vitrage`).
    Alarm,
}

impl Category {
    /// The interned category name, `RESOURCE` or `ALARM`.
    pub fn sym(self) -> Sym {
        match self {
            Category::Resource => names::CATEGORY_RESOURCE,
            Category::Alarm => names::CATEGORY_ALARM,
        }
    }

    /// Parses `RESOURCE` or `ALARM` (exact case, as Vitrage writes them).
    pub fn parse(s: &str) -> Option<Category> {
        match s {
            "RESOURCE" => Some(Category::Resource),
            "ALARM" => Some(Category::Alarm),
            _ => None,
        }
    }
}

/// A directed, labelled edge. The graph is a multigraph over labels: two vertices can be joined
/// by one edge per label and direction, so the key identifies the edge.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct EdgeKey {
    /// Where the edge starts (the alarm of `on`, the host of `contains`).
    pub source: VertexId,
    /// Where the edge ends.
    pub target: VertexId,
    /// The relationship type.
    pub label: Label,
}

impl fmt::Display for EdgeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -[label {}]-> {}", self.source, self.label.0.index(), self.target)
    }
}

/// A stored edge, live or soft-deleted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Edge {
    /// Its key.
    pub key: EdgeKey,
    /// Its `vitrage_is_deleted`.
    pub is_deleted: bool,
}

impl Edge {
    /// The value of an edge property: `relationship_type` and `vitrage_is_deleted`, the only
    /// edge properties templates can test.
    pub fn get(&self, key: Sym) -> Option<Value> {
        match key {
            names::RELATIONSHIP_TYPE => Some(Value::Str(self.key.label.0)),
            names::VITRAGE_IS_DELETED => Some(Value::Bool(self.is_deleted)),
            _ => None,
        }
    }
}

/// What a new vertex is made of; see [`super::Graph::add_vertex`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVertex {
    /// Resource or alarm.
    pub category: Category,
    /// The datasource type (`nova.host`, `zabbix`, `vitrage`...).
    pub vitrage_type: Sym,
    /// The entity's identity within its type, which with the type identifies it across
    /// updates: Vitrage's entity key is `<category>:<vitrage_type>:<entity id>`, as in
    /// `RESOURCE:nova.host:host-1` or `ALARM:vitrage:<alarm name>:<target id>`. For a resource
    /// it is its `id`; passing the same symbol as the `id` property stores the text once.
    pub entity_id: Sym,
    /// Whether the vertex is known only as a neighbour reference.
    pub is_placeholder: bool,
    /// Every other property. The four properties held by the vertex itself
    /// (`vitrage_category`, `vitrage_type`, `vitrage_is_deleted`, `vitrage_is_placeholder`)
    /// are refused here.
    pub props: Props,
}

/// A stored vertex, live or soft-deleted.
///
/// The category, type and flags are fields rather than properties, so that indexes cannot
/// disagree with them; [`Vertex::get`] still answers for them as Vitrage properties.
#[derive(Clone, Debug, PartialEq)]
pub struct Vertex {
    pub(crate) vitrage_type: Sym,
    pub(crate) entity_id: Sym,
    pub(crate) category: Category,
    pub(crate) is_deleted: bool,
    pub(crate) is_placeholder: bool,
    pub(crate) props: Props,
    /// Incident edges in both directions, sorted by (direction, label, other end); see
    /// [`Adj`].
    pub(crate) adj: AdjList,
}

impl Vertex {
    /// `vitrage_category`.
    pub fn category(&self) -> Category {
        self.category
    }

    /// `vitrage_type`.
    pub fn vitrage_type(&self) -> Sym {
        self.vitrage_type
    }

    /// The entity's identity within its type; see [`NewVertex::entity_id`].
    pub fn entity_id(&self) -> Sym {
        self.entity_id
    }

    /// `vitrage_is_deleted`.
    pub fn is_deleted(&self) -> bool {
        self.is_deleted
    }

    /// `vitrage_is_placeholder`.
    pub fn is_placeholder(&self) -> bool {
        self.is_placeholder
    }

    /// The properties other than the four held in fields.
    pub fn props(&self) -> &Props {
        &self.props
    }

    /// The value of any Vitrage property, including `vitrage_category`, `vitrage_type`,
    /// `vitrage_is_deleted` and `vitrage_is_placeholder`.
    pub fn get(&self, key: Sym) -> Option<Value> {
        match key {
            names::VITRAGE_CATEGORY => Some(Value::Str(self.category.sym())),
            names::VITRAGE_TYPE => Some(Value::Str(self.vitrage_type)),
            names::VITRAGE_IS_DELETED => Some(Value::Bool(self.is_deleted)),
            names::VITRAGE_IS_PLACEHOLDER => Some(Value::Bool(self.is_placeholder)),
            _ => self.props.get(key),
        }
    }

    /// The symbol of a string property; `None` when it is absent or not a string.
    pub fn get_str(&self, key: Sym) -> Option<Sym> {
        self.get(key).and_then(Value::as_str)
    }

    /// Whether this vertex is neither deleted nor a placeholder: the vertices that template
    /// entities can match.
    pub fn is_matchable(&self) -> bool {
        !self.is_deleted && !self.is_placeholder
    }
}

/// Whether an adjacency entry is an edge leaving or entering its vertex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) enum Dir {
    Out,
    In,
}

/// One edge as seen from one of its ends: 12 bytes, stored once at each end.
///
/// The deleted flag is kept at both ends so that live neighbours can be listed without
/// looking anything up elsewhere; [`super::Graph`] updates both copies together.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Adj {
    pub(crate) dir: Dir,
    pub(crate) label: Label,
    pub(crate) other: VertexId,
    pub(crate) is_deleted: bool,
}

impl Adj {
    /// The sort key of adjacency lists.
    pub(crate) fn order(&self) -> (Dir, Label, VertexId) {
        (self.dir, self.label, self.other)
    }

    /// Whether this is the `In` entry of a self-loop at `owner`. A self-loop appears twice in
    /// its vertex's list; code that walks a list to act on each edge once skips this copy.
    pub(crate) fn is_loop_mirror(&self, owner: VertexId) -> bool {
        self.dir == Dir::In && self.other == owner
    }

    /// The key of the edge this entry belongs to, given the vertex that holds the entry.
    pub(crate) fn edge_key(&self, owner: VertexId) -> EdgeKey {
        match self.dir {
            Dir::Out => EdgeKey { source: owner, target: self.other, label: self.label },
            Dir::In => EdgeKey { source: self.other, target: owner, label: self.label },
        }
    }
}

/// A vertex's sorted adjacency list.
///
/// Most vertices of a cloud (instances, ports, volumes, alarms) have a single edge, so a single
/// entry is kept inline: the list stays 24 bytes, like a `Vec`, but saves a 32-byte heap
/// allocation for each such vertex.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum AdjList {
    #[default]
    Empty,
    One(Adj),
    Many(Vec<Adj>),
}

impl AdjList {
    pub(crate) fn as_slice(&self) -> &[Adj] {
        match self {
            AdjList::Empty => &[],
            AdjList::One(entry) => std::slice::from_ref(entry),
            AdjList::Many(entries) => entries,
        }
    }

    /// The position of the entry that sorts as `probe`.
    pub(crate) fn position(&self, probe: &Adj) -> Option<usize> {
        self.as_slice().binary_search_by_key(&probe.order(), Adj::order).ok()
    }

    /// Whether another entry of the same direction and label as the one at `at` is live.
    ///
    /// Looked for nearest first, on both sides: a vertex's edges of one label are often
    /// deleted one after another in list order (a deduced alarm's causal edges, as its
    /// instances' alarms clear), so a scan from the start of the run would pass over every
    /// entry deleted before this one, quadratic in the vertex's degree.
    pub(crate) fn live_near(&self, at: usize) -> bool {
        let entries = self.as_slice();
        let Some(entry) = entries.get(at) else { return false };
        let run = |a: &&Adj| (a.dir, a.label) == (entry.dir, entry.label);
        let mut after = entries[at + 1..].iter().take_while(run);
        let mut before = entries[..at].iter().rev().take_while(run);
        loop {
            match (after.next(), before.next()) {
                (None, None) => return false,
                (a, b) => {
                    if a.is_some_and(|a| !a.is_deleted) || b.is_some_and(|b| !b.is_deleted) {
                        return true;
                    }
                }
            }
        }
    }

    /// Sets the deleted flag of the entry at `pos`, if there is one.
    pub(crate) fn set_deleted(&mut self, pos: usize, deleted: bool) {
        let entry = match self {
            AdjList::Empty => None,
            AdjList::One(entry) => Some(entry),
            AdjList::Many(entries) => entries.get_mut(pos),
        };
        if let Some(entry) = entry {
            entry.is_deleted = deleted;
        }
    }

    /// Inserts `entry` in order.
    ///
    /// A `Vec`'s first growth reserves four slots, so small lists grow one slot at a time;
    /// past eight entries the usual doubling keeps inserts amortised for hubs such as a zone
    /// containing thousands of hosts.
    pub(crate) fn insert(&mut self, entry: Adj) {
        match self {
            AdjList::Empty => *self = AdjList::One(entry),
            AdjList::One(first) => {
                let mut entries = Vec::with_capacity(2);
                entries.push(*first);
                let pos = usize::from(first.order() < entry.order());
                entries.insert(pos, entry);
                *self = AdjList::Many(entries);
            }
            AdjList::Many(entries) => {
                let pos = entries.partition_point(|a| a.order() < entry.order());
                if entries.len() == entries.capacity() && entries.len() < 8 {
                    entries.reserve_exact(1);
                }
                entries.insert(pos, entry);
            }
        }
    }

    /// Removes the entry at `pos`, if there is one.
    pub(crate) fn remove(&mut self, pos: usize) {
        match self {
            AdjList::One(_) if pos == 0 => *self = AdjList::Empty,
            AdjList::Many(entries) if pos < entries.len() => {
                entries.remove(pos);
                match entries.as_slice() {
                    [] => *self = AdjList::Empty,
                    [only] => *self = AdjList::One(*only),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[(Dir, Label, u32, bool)]) -> AdjList {
        let mut adj = AdjList::default();
        for &(dir, label, other, is_deleted) in entries {
            adj.insert(Adj { dir, label, other: VertexId(other), is_deleted });
        }
        adj
    }

    #[test]
    fn live_near_looks_only_at_the_entries_of_the_same_direction_and_label() {
        let (on, causes) = (Label::ON, Label::CAUSES);
        let adj = list(&[
            (Dir::Out, on, 1, false),
            (Dir::Out, causes, 2, true),
            (Dir::Out, causes, 3, false),
            (Dir::Out, causes, 4, true),
            (Dir::In, causes, 5, false),
        ]);
        let at = |dir, label, other| {
            adj.position(&Adj { dir, label, other: VertexId(other), is_deleted: false })
        };
        let (two, three, four) =
            (at(Dir::Out, causes, 2), at(Dir::Out, causes, 3), at(Dir::Out, causes, 4));
        assert!(two.is_some_and(|p| adj.live_near(p)));
        assert!(four.is_some_and(|p| adj.live_near(p)));
        // 3 is the only live one of its run; the live `on` and incoming entries do not count.
        assert!(three.is_some_and(|p| !adj.live_near(p)));
        assert!(!adj.live_near(99));
    }
}
