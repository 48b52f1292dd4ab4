//! The live resources by id. Every element of a topology is checked against it (an edge's
//! two ends, a new resource's id), so at a million resources it must not cost a string
//! comparison per tree level: ids are looked up through the graph's interner (one hash of
//! the text) and then by symbol in a sharded table, which grows without a rehash pause.

use crate::graph::{Graph, ShardedTable, Sym, VertexId};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::hash::BuildHasher;

/// Resource id (as an interned symbol) to its live vertex.
#[derive(Debug, Default)]
pub(crate) struct ResourceIndex {
    table: ShardedTable<(Sym, VertexId)>,
}

fn hash(id: Sym) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(id)
}

impl ResourceIndex {
    /// The live vertex of resource `id`.
    pub(crate) fn get(&self, graph: &Graph, id: &str) -> Option<VertexId> {
        let sym = graph.interner().get(id)?;
        self.table.find(hash(sym), |&(s, _)| s == sym).map(|&(_, v)| v)
    }

    /// Records resource `id` (known not to be present) at `v`.
    pub(crate) fn insert(&mut self, id: Sym, v: VertexId) {
        self.table.insert_unique(hash(id), (id, v), |&(s, _)| hash(s));
    }

    /// Makes room for about `additional` more resources.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.table.reserve(additional, |&(s, _)| hash(s));
    }

    /// Forgets resource `id`; its vertex, if it was there.
    pub(crate) fn remove(&mut self, graph: &Graph, id: &str) -> Option<VertexId> {
        let sym = graph.interner().get(id)?;
        self.table.remove(hash(sym), |&(s, _)| s == sym).map(|(_, v)| v)
    }

    /// Every (id, vertex), sorted by id: the form a snapshot saves.
    pub(crate) fn sorted<'g>(&self, graph: &'g Graph) -> Vec<(&'g str, VertexId)> {
        let mut all: Vec<(&str, VertexId)> =
            self.table.iter().map(|&(s, v)| (graph.resolve(s), v)).collect();
        all.sort_unstable();
        all
    }

    /// The index of a saved map, its ids interned in `graph` (where they already are).
    pub(crate) fn from_saved(
        graph: &mut Graph,
        saved: &BTreeMap<String, VertexId>,
    ) -> Result<Self, String> {
        let mut index = ResourceIndex::default();
        for (id, &v) in saved {
            let sym = graph.intern(id).map_err(|e| e.to_string())?;
            index.insert(sym, v);
        }
        Ok(index)
    }
}

/// Written as the sorted map a `BTreeMap<String, VertexId>` writes.
pub(crate) struct SavingIndex<'a>(pub(crate) Vec<(&'a str, VertexId)>);

impl Serialize for SavingIndex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|&(k, v)| (k, v)))
    }
}
