//! Evaluation of the compiled rules over the entity graph.
//!
//! Two evaluators share one rule preparation ([`Compiled`]):
//! - [`reference`] recomputes every rule from the whole graph with datafrog joins;
//! - [`Incremental`] keeps the activations and, for a batch of graph changes, recomputes only
//!   the bindings that can contain a changed element, reporting what appeared and disappeared.
//!
//! Property tests require both to agree after every batch of random changes.

mod bound;
mod compiled;
mod eval;
mod incremental;
mod membership;
pub mod why_not;

pub use compiled::Compiled;
pub use eval::Binding;
pub use incremental::{Activation, Delta, Incremental, SavedIncremental};

use crate::compile::ir::RelationId;
use crate::graph::{Graph, VertexId};
use std::collections::BTreeSet;

/// Every activation of every rule over the whole graph.
pub fn reference(c: &Compiled, graph: &Graph) -> BTreeSet<Activation> {
    let members = |rel: RelationId| -> Vec<VertexId> {
        graph.vertices().map(|(id, _)| id).filter(|&id| c.member(rel, graph, id)).collect()
    };
    let mut out = BTreeSet::new();
    for r in 0..c.rules.len() {
        for binding in eval::reference(c, r, graph, &members) {
            out.insert(Activation { rule: r as u32, binding });
        }
    }
    out
}
