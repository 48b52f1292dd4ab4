//! Incremental evaluation: after a batch of graph changes, only the bindings that can contain
//! a changed element are recomputed, with anchored joins from that element.
//!
//! A change touches *regions* `(rule, variable, vertex)`: the bindings of the rule with the
//! variable bound to the vertex. A vertex whose relation membership changed touches the
//! regions of the variables of that relation; an edge touches the regions of the variables
//! at its ends in every rule that has an edge (positive or negated) with its label; a vertex
//! entering or leaving the relation of a negation's free end touches the regions of its
//! neighbours at the bound end. Each touched region is recomputed on the new graph and
//! compared with the activations stored for it.

use super::bound::ByVertex;
use super::compiled::Compiled;
use super::eval::{self, Binding};
use super::membership::{Membership, SavedMembership};
use crate::compile::ir::{End, RelationId, Var};
use crate::graph::{EdgeKey, Graph, GraphChange, Label, VertexId};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeSet;

/// A rule firing for a binding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Activation {
    /// Index of the rule in the rule set.
    pub rule: u32,
    /// The bound vertices, in the rule's variable order.
    pub binding: Binding,
}

/// Activations that appeared and disappeared in one batch, in a deterministic order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// New activations.
    pub appeared: Vec<Activation>,
    /// Activations that no longer hold.
    pub disappeared: Vec<Activation>,
}

/// The incremental evaluator's state: the current activations and relation memberships.
#[derive(Debug, Default)]
pub struct Incremental {
    /// The live activations by (rule, vertex) for every vertex they bind; the set of live
    /// activations is the entries under each activation's first vertex. A vertex is in few
    /// activations of one rule (a host in one per instance, an alarm in one), so a list
    /// searched linearly costs less than a set per entry, and a single one is kept inline.
    by_vertex: ByVertex,
    /// Relation memberships per vertex.
    membership: Membership,
    /// The number of live activations of each rule.
    live: Vec<u32>,
    /// Rules and variables per relation; rules and negations per label.
    uses: Uses,
    /// Buffers reused by every batch; empty between batches, and not saved.
    scratch: Scratch,
}

/// The bindings of a rule with one variable bound to one vertex: (rule, variable, vertex).
type Region = (usize, Var, VertexId);

/// Buffers of [`Incremental::apply`], kept so that once they have grown a batch allocates
/// only the activations that appear and the [`Delta`] it returns.
#[derive(Debug, Default)]
struct Scratch {
    /// The regions the batch touches.
    regions: Vec<Region>,
    /// The vertices whose properties or liveness changed.
    touched: Vec<VertexId>,
    /// One vertex's memberships now, as [`Membership`] words.
    now: Vec<u64>,
    /// Per rule, whether one of its relations has no member after the batch.
    empty: Vec<bool>,
    /// The buffers of one region's recomputation.
    region: RegionScratch,
}

/// Buffers of [`Incremental::recompute`].
#[derive(Debug, Default)]
struct RegionScratch {
    /// The region's bindings on the new graph.
    eval: eval::Scratch,
    /// The start of each of those bindings in `eval.found`, in binding order.
    order: Vec<usize>,
    /// Whether each binding, in `order`'s order, is active already.
    known: Vec<bool>,
    /// The region's activations that no longer hold.
    stale: Vec<Activation>,
}

/// Where each relation and label is used in the rules, looked up for every vertex and edge
/// an event changes. Relations are dense indices and a template set has a handful of labels,
/// so these are a vector and a sorted list rather than hash maps: an index or a few
/// comparisons instead of a hash and a probe per change.
#[derive(Debug, Default)]
struct Uses {
    vars_of_relation: ByRelation<(usize, Var)>,
    /// (rule, source var, target var) of positive edges per label.
    edges_of_label: ByLabel<(usize, Var, Var)>,
    /// (rule, negation index) per label.
    negations_of_label: ByLabel<(usize, usize)>,
    /// (rule, negation index, free end is the source) per free-end relation.
    free_ends: ByRelation<(usize, usize, bool)>,
}

impl Uses {
    fn new(c: &Compiled) -> Uses {
        let mut u = Uses::default();
        for (r, rule) in c.rules.iter().enumerate() {
            for (v, rel) in rule.relations.iter().enumerate() {
                u.vars_of_relation.push(*rel, (r, Var(v as u32)));
            }
            for &(s, t, label) in &rule.edges {
                u.edges_of_label.push(label, (r, s, t));
            }
            for (k, n) in rule.negations.iter().enumerate() {
                u.negations_of_label.push(n.label, (r, k));
                if let End::Free { relation, .. } = &n.source {
                    u.free_ends.push(*relation, (r, k, true));
                }
                if let End::Free { relation, .. } = &n.target {
                    u.free_ends.push(*relation, (r, k, false));
                }
            }
        }
        u
    }
}

/// A list per relation, indexed by the relation.
#[derive(Debug)]
struct ByRelation<T>(Vec<Vec<T>>);

impl<T> Default for ByRelation<T> {
    fn default() -> Self {
        ByRelation(Vec::new())
    }
}

impl<T> ByRelation<T> {
    fn push(&mut self, rel: RelationId, item: T) {
        let i = rel.0 as usize;
        if self.0.len() <= i {
            self.0.resize_with(i + 1, Vec::new);
        }
        self.0[i].push(item);
    }

    /// The list of `rel`; empty for a relation no rule uses.
    fn get(&self, rel: RelationId) -> &[T] {
        self.0.get(rel.0 as usize).map_or(&[], Vec::as_slice)
    }
}

/// A list per label, sorted by label.
#[derive(Debug)]
struct ByLabel<T>(Vec<(Label, Vec<T>)>);

impl<T> Default for ByLabel<T> {
    fn default() -> Self {
        ByLabel(Vec::new())
    }
}

impl<T> ByLabel<T> {
    fn push(&mut self, label: Label, item: T) {
        match self.0.binary_search_by_key(&label, |(l, _)| *l) {
            Ok(i) => self.0[i].1.push(item),
            Err(i) => self.0.insert(i, (label, vec![item])),
        }
    }

    /// The list of `label`; empty for a label no rule uses.
    fn get(&self, label: Label) -> &[T] {
        match self.0.binary_search_by_key(&label, |(l, _)| *l) {
            Ok(i) => &self.0[i].1,
            Err(_) => &[],
        }
    }
}

impl Incremental {
    /// An empty state for `c` (no vertex evaluated yet).
    pub fn new(c: &Compiled) -> Incremental {
        Incremental {
            uses: Uses::new(c),
            membership: Membership::new(c.relation_count()),
            live: vec![0; c.rules.len()],
            ..Incremental::default()
        }
    }

    /// The current activations, sorted.
    pub fn activations(&self) -> BTreeSet<Activation> {
        self.active().cloned().collect()
    }

    /// Every live activation once, in no particular order.
    fn active(&self) -> impl Iterator<Item = &Activation> + '_ {
        let first = |&(_, v): &(u32, VertexId), a: &Activation| a.binding.first() == Some(&v);
        self.by_vertex.iter().flat_map(move |(k, b)| b.iter().filter(move |a| first(&k, a)))
    }

    /// Applies a batch of changes (already made to `graph`) and returns what they changed.
    pub fn apply(&mut self, c: &Compiled, graph: &Graph, changes: &[GraphChange]) -> Delta {
        let mut delta = Delta::default();
        self.apply_into(c, graph, changes, &mut delta);
        delta
    }

    /// [`Incremental::apply`] into `delta`, emptied first: a caller that keeps one delta for
    /// every batch lets its lists grow once, not at every batch (in a NIC failure's rounds,
    /// a fifth of the reallocations).
    pub fn apply_into(
        &mut self,
        c: &Compiled,
        graph: &Graph,
        changes: &[GraphChange],
        delta: &mut Delta,
    ) {
        delta.appeared.clear();
        delta.disappeared.clear();
        self.by_vertex.cover(graph.vertex_slots());
        let mut scratch = std::mem::take(&mut self.scratch);
        let Scratch { regions, touched, now, empty, region } = &mut scratch;
        // Room for a whole topology at once, rather than lists doubled up to it: each doubling
        // frees the list before, and at a million resources the allocator returned those
        // tens of MiB to the system inside the first event after the load (20 MiB, ~2 ms).
        touched.reserve(changes.len());
        regions.reserve(2 * changes.len());
        for change in changes {
            match change {
                GraphChange::VertexAdded(v) | GraphChange::VertexDeleted(v) => touched.push(*v),
                GraphChange::VertexUpdated { id, .. } | GraphChange::VertexRemoved { id, .. } => {
                    touched.push(*id)
                }
                _ => {}
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for &v in touched.iter() {
            self.membership_regions(c, graph, v, now, regions);
        }
        empty.clear();
        empty.extend(
            c.rules
                .iter()
                .map(|rule| rule.relations.iter().any(|&rel| self.membership.is_empty(rel))),
        );
        // Edges last, so that their sources' memberships are those after the batch.
        for change in changes {
            if let GraphChange::EdgeAdded(k)
            | GraphChange::EdgeDeleted(k)
            | GraphChange::EdgeRemoved(k) = change
            {
                self.edge_regions(c, graph, *k, empty, regions);
            }
        }
        regions.retain(|&(r, _, _)| !self.idle(empty, r));
        regions.sort_unstable();
        regions.dedup();
        for &r in regions.iter() {
            self.recompute(c, graph, r, empty[r.0], region, delta);
        }
        regions.clear();
        touched.clear();
        self.scratch = scratch;
        // Each activation changes at most once in a batch: every region that holds it is
        // recomputed on the same new graph, so they agree on it, and the first one to see it
        // brings it in line. Sorting is thus all the order a delta needs.
        delta.appeared.sort_unstable();
        delta.disappeared.sort_unstable();
    }

    /// Recomputes region `(r, var, v)` and brings the activations stored for it in line,
    /// recording what appeared and disappeared in `delta`; `empty` when one of the rule's
    /// relations has no member, so that it has no binding.
    fn recompute(
        &mut self,
        c: &Compiled,
        graph: &Graph,
        (r, var, v): Region,
        empty: bool,
        s: &mut RegionScratch,
        delta: &mut Delta,
    ) {
        let membership = &self.membership;
        if empty {
            s.eval.found.clear();
        } else {
            let member = |rel: RelationId, v: VertexId| membership.has(v, rel);
            eval::anchored(c, (r, var, v), graph, member, &mut s.eval);
        }
        let arity = c.rules[r].relations.len().max(1);
        let found = &s.eval.found;
        let at = |i: usize| &found[i..i + arity];
        s.order.clear();
        s.order.extend((0..found.len()).step_by(arity));
        s.known.clear();
        s.known.resize(s.order.len(), false);
        // Matched by sorting, not hashing: a region holds a handful of bindings, often
        // none. With nothing stored for the vertex (a new alarm's region, a host's when its
        // first alarm arrives), every binding is new and the order is the delta's to set.
        if let Some(stored) = self.by_vertex.get(r as u32, v) {
            s.order.sort_unstable_by(|&i, &j| at(i).cmp(at(j)));
            for a in stored.iter() {
                if a.binding[var.0 as usize] != v {
                    continue;
                }
                match s.order.binary_search_by(|&i| at(i).cmp(&a.binding)) {
                    Ok(k) => s.known[k] = true,
                    Err(_) => s.stale.push(a.clone()),
                }
            }
        }
        // Last first, as `Bound::remove` looks for them; recorded first first, the order the
        // delta's final sort finds cheapest.
        let gone = delta.disappeared.len();
        for a in s.stale.drain(..).rev() {
            if self.remove(&a) {
                delta.disappeared.push(a);
            }
        }
        delta.disappeared[gone..].reverse();
        for (&i, _) in s.order.iter().zip(&s.known).filter(|(_, known)| !**known) {
            let a = Activation { rule: r as u32, binding: Binding::from(at(i)) };
            // Not stored for the region, so not live: no binding is found twice.
            self.insert(a.clone());
            delta.appeared.push(a);
        }
    }

    /// Pushes the regions that `v`'s change of relation memberships touches, and records its
    /// memberships now; `now` is a buffer.
    fn membership_regions(
        &mut self,
        c: &Compiled,
        graph: &Graph,
        v: VertexId,
        now: &mut Vec<u64>,
        regions: &mut Vec<Region>,
    ) {
        now.clear();
        now.resize(self.membership.words(), 0);
        c.each_relation_of(graph, v, |rel| now[rel.0 as usize / 64] |= 1 << (rel.0 % 64));
        let before = self.membership.of(v);
        let was = |w: usize| before.map_or(0, |b| b[w]);
        if (0..now.len()).all(|w| now[w] == was(w)) {
            return;
        }
        for (w, &word) in now.iter().enumerate() {
            let mut changed = word ^ was(w);
            while changed != 0 {
                let rel = RelationId(w as u32 * 64 + changed.trailing_zeros());
                changed &= changed - 1;
                self.relation_regions(c, graph, rel, v, regions);
            }
        }
        self.membership.set(v, now);
    }

    /// Pushes the regions touched by `v` entering or leaving relation `rel`.
    fn relation_regions(
        &self,
        c: &Compiled,
        graph: &Graph,
        rel: RelationId,
        v: VertexId,
        regions: &mut Vec<Region>,
    ) {
        for &(r, var) in self.uses.vars_of_relation.get(rel) {
            regions.push((r, var, v));
        }
        for &(r, k, free_is_source) in self.uses.free_ends.get(rel) {
            let n = &c.rules[r].negations[k];
            let bound_end = if free_is_source { &n.target } else { &n.source };
            match bound_end {
                End::Bound(var) => {
                    each_neighbour(graph, v, n.label, free_is_source, |w| {
                        regions.push((r, *var, w))
                    });
                }
                End::Free { .. } => {
                    let mut any = false;
                    each_neighbour(graph, v, n.label, free_is_source, |_| any = true);
                    if any {
                        self.whole_rule(c, r, graph, regions);
                    }
                }
            }
        }
    }

    /// Whether rule `r`'s regions hold nothing to find and nothing to drop: one of its
    /// relations has nobody in it (`empty`, as in a graph without alarms, when a topology is
    /// first loaded), so it has no binding, and it has no live activation either.
    fn idle(&self, empty: &[bool], r: usize) -> bool {
        empty[r] && self.live.get(r).is_none_or(|&n| n == 0)
    }

    /// Pushes the regions edge `k` touches, once the batch's memberships are recorded; `empty`
    /// says which rules have a relation nobody is in.
    fn edge_regions(
        &self,
        c: &Compiled,
        graph: &Graph,
        k: EdgeKey,
        empty: &[bool],
        regions: &mut Vec<Region>,
    ) {
        for &(r, s, _) in self.uses.edges_of_label.get(k.label) {
            // A binding through the edge has its source at `s`. When the source is outside
            // `s`'s relation now (a deduced alarm's `on` edge, for a rule on monitor alarms),
            // no binding holds; one that held had the source in the relation, which it then
            // left in this batch, and leaving pushed this region already. An idle rule's
            // regions would be dropped: not pushing them spares a first evaluation one per
            // edge.
            let rel = c.rules[r].relations[s.0 as usize];
            if !self.idle(empty, r) && self.membership.has(k.source, rel) {
                regions.push((r, s, k.source));
            }
        }
        for &(r, n) in self.uses.negations_of_label.get(k.label) {
            let neg = &c.rules[r].negations[n];
            match (&neg.source, &neg.target) {
                (End::Bound(s), _) => {
                    regions.push((r, *s, k.source));
                }
                (_, End::Bound(t)) => {
                    regions.push((r, *t, k.target));
                }
                // Both ends free: the edge can block or unblock any binding of the rule,
                // including ones not active now, so the whole rule is recomputed.
                _ => self.whole_rule(c, r, graph, regions),
            }
        }
    }

    /// Every region of rule `r`: its first variable bound to each member of its relation,
    /// and to the first vertex of each active binding (which may just have left it). Only a
    /// negation with both ends free needs this; its cost is the size of that relation.
    fn whole_rule(&self, c: &Compiled, r: usize, graph: &Graph, regions: &mut Vec<Region>) {
        let Some(&first) = c.rules[r].relations.first() else { return };
        for (v, _) in graph.vertices() {
            if c.member(first, graph, v) {
                regions.push((r, Var(0), v));
            }
        }
        for a in self.active().filter(|a| a.rule as usize == r) {
            regions.push((r, Var(0), a.binding[0]));
        }
    }

    /// Stores `a`, known not to be live, under each vertex it binds: as copies sharing one
    /// binding, which is how [`same`] tells them from other activations.
    fn insert(&mut self, a: Activation) {
        if let Some(n) = self.live.get_mut(a.rule as usize) {
            *n += 1;
        }
        for &v in a.binding.iter() {
            self.by_vertex.insert(a.rule, v, a.clone());
        }
    }

    /// Forgets `a`, a copy of a stored activation; whether it was live.
    fn remove(&mut self, a: &Activation) -> bool {
        let mut found = false;
        for &v in a.binding.iter() {
            found |= self.by_vertex.remove(a.rule, v, a);
        }
        if let Some(n) = self.live.get_mut(a.rule as usize).filter(|_| found) {
            *n -= 1;
        }
        found
    }

    /// Whether `a` is live.
    fn contains(&self, a: &Activation) -> bool {
        let Some(&first) = a.binding.first() else { return false };
        self.by_vertex.get(a.rule, first).is_some_and(|b| b.iter().any(|x| x == a))
    }
}

/// The evaluator is saved as its activations (sorted) and its membership bits; the index by
/// vertex and the uses of relations and labels are rebuilt from them and from the rules when
/// it is read back with [`Incremental::restore`].
impl Serialize for Incremental {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut active: Vec<&Activation> = self.active().collect();
        active.sort_unstable();
        Saved { active, membership: &self.membership }.serialize(s)
    }
}

/// A saved [`Incremental`], to be restored for the rules it was saved with.
#[derive(Debug, Deserialize)]
pub struct SavedIncremental(Saved<Vec<Activation>, SavedMembership>);

/// What is saved of an evaluator; generic so that writing borrows and reading owns.
#[derive(Debug, Serialize, Deserialize)]
struct Saved<A, M> {
    active: A,
    membership: M,
}

impl Incremental {
    /// The evaluator of `c` over `graph` that was saved, with its indexes rebuilt; an error
    /// when the activations or memberships do not fit the rules and the graph.
    pub fn restore(
        c: &Compiled,
        graph: &Graph,
        saved: SavedIncremental,
    ) -> Result<Incremental, String> {
        let Saved { active, membership } = saved.0;
        let membership = Membership::restore(membership, c.relation_count())?;
        let live = vec![0; c.rules.len()];
        let mut inc =
            Incremental { uses: Uses::new(c), membership, live, ..Incremental::default() };
        for a in active {
            let arity = c.rules.get(a.rule as usize).map(|r| r.relations.len());
            if arity != Some(a.binding.len()) {
                return Err(format!("activation of rule {} does not fit the rules", a.rule));
            }
            if a.binding.iter().any(|&v| graph.vertex(v).is_none()) {
                return Err(format!("activation of rule {} binds a vertex not stored", a.rule));
            }
            // The live set is read from each activation's first vertex: a vertex bound
            // twice would list it twice (and no rule binds one vertex twice).
            if a.binding.iter().enumerate().any(|(i, v)| a.binding[i + 1..].contains(v)) {
                return Err(format!("activation of rule {} binds a vertex twice", a.rule));
            }
            if inc.contains(&a) {
                return Err("an activation is saved twice".into());
            }
            inc.insert(a);
        }
        Ok(inc)
    }
}

/// Calls `f` with each live neighbour of `v` along `label`: the targets of the edges leaving
/// it when `out`, the sources of the edges entering it otherwise.
fn each_neighbour(graph: &Graph, v: VertexId, label: Label, out: bool, f: impl FnMut(VertexId)) {
    if out {
        graph.out_neighbours(v, label).for_each(f);
    } else {
        graph.in_neighbours(v, label).for_each(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_tables_give_each_key_its_items_in_order_and_nothing_to_others() {
        let mut by_rel = ByRelation::default();
        by_rel.push(RelationId(4), 'a');
        by_rel.push(RelationId(1), 'b');
        by_rel.push(RelationId(4), 'c');
        assert_eq!(
            (by_rel.get(RelationId(4)), by_rel.get(RelationId(1))),
            (&['a', 'c'][..], &['b'][..])
        );
        assert!(by_rel.get(RelationId(0)).is_empty() && by_rel.get(RelationId(99)).is_empty());
        let mut by_label = ByLabel::default();
        by_label.push(Label::ON, 1);
        by_label.push(Label::CONTAINS, 2);
        by_label.push(Label::ON, 3);
        assert_eq!(
            (by_label.get(Label::ON), by_label.get(Label::CONTAINS)),
            (&[1, 3][..], &[2][..])
        );
        assert!(by_label.get(Label::CAUSES).is_empty());
    }
}
