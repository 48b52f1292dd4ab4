//! The evaluator's index: the live activations of each rule under each vertex they bind.
//!
//! Every region an event recomputes reads the activations stored for its (rule, vertex), and
//! every activation that appears or disappears is written under each vertex it binds: on a
//! NIC failure on a host of 100 instances, about a thousand lookups. In a hash map keyed by
//! (rule, vertex), each hashed its key and probed a table of every bound vertex of every
//! rule, and the table grew (rehashing a shard at a time) inside the events that added
//! deduced alarms: an eighth of such an event's time (perf, wall clock). Vertex ids are
//! dense indices, so the index is a slot per vertex in a [`Chunked`] list, which grows by
//! whole chunks without moving anything, and a vertex's slot lists the few rules that bind
//! it.

use super::incremental::Activation;
use crate::graph::{Chunked, VertexId};

/// The live activations by (rule, vertex).
#[derive(Debug, Default)]
pub(super) struct ByVertex {
    /// Per vertex index: (rule, its activations binding the vertex), one per rule with any.
    slots: Chunked<Vec<(u32, Bound)>>,
}

impl ByVertex {
    /// The activations of `rule` that bind `v`.
    pub(super) fn get(&self, rule: u32, v: VertexId) -> Option<&Bound> {
        let slot = self.slots.get(v.index() as usize)?;
        slot.iter().find(|(r, _)| *r == rule).map(|(_, b)| b)
    }

    /// Makes a slot for every vertex index below `slots`: the graph's, at every batch, so
    /// that the load makes them all and an event only those of the vertices it adds (made
    /// at the first activation of a vertex far past the last slot, the slots of a whole
    /// topology were written inside an event: a 0.2 ms first event at 10k).
    pub(super) fn cover(&mut self, slots: usize) {
        self.slots.reserve(slots.saturating_sub(self.slots.len()));
        while self.slots.len() < slots {
            self.slots.push(Vec::new());
        }
    }

    /// Stores `a`, an activation of `rule` binding `v`.
    pub(super) fn insert(&mut self, rule: u32, v: VertexId, a: Activation) {
        let i = v.index() as usize;
        if i >= self.slots.len() {
            // Past the batch's cover only when a saved evaluator is restored, before any batch.
            self.cover(i + 1);
        }
        let Some(slot) = self.slots.get_mut(i) else { return };
        match slot.iter_mut().find(|(r, _)| *r == rule) {
            Some((_, bound)) => bound.push(a),
            None => {
                // A vertex is bound by a few rules: its list grows one entry at a time
                // rather than to four at once.
                if slot.len() == slot.capacity() && slot.len() < 8 {
                    slot.reserve_exact(1);
                }
                slot.push((rule, Bound::One(a)));
            }
        }
    }

    /// Forgets `a`, a copy of a stored activation of `rule` binding `v`; whether it was
    /// there. A vertex left with none frees its list: most such are deduced alarms, deleted
    /// with their last activation.
    pub(super) fn remove(&mut self, rule: u32, v: VertexId, a: &Activation) -> bool {
        let Some(slot) = self.slots.get_mut(v.index() as usize) else { return false };
        let Some(at) = slot.iter().position(|(r, _)| *r == rule) else { return false };
        let (removed, empty) = slot[at].1.remove(a);
        if empty {
            slot.swap_remove(at);
            if slot.is_empty() {
                *slot = Vec::new();
            }
        }
        removed
    }

    /// Every (rule, vertex) with its activations, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = ((u32, VertexId), &Bound)> + '_ {
        let slots = self.slots.iter().enumerate();
        slots.flat_map(|(i, slot)| slot.iter().map(move |(r, b)| ((*r, VertexId(i as u32)), b)))
    }
}

/// Whether `x` and `a`, one of them a copy of a stored activation, are the same activation.
/// Every copy of a stored activation shares its binding (the evaluator stores them so), so
/// the binding's address tells: a host's list holds one activation per instance, and when the
/// host's alarm clears, each is searched for in that list (comparing bindings element by
/// element was a third of the evaluator's own instructions on hosts of 100 instances).
fn same(x: &Activation, a: &Activation) -> bool {
    let same = std::sync::Arc::ptr_eq(&x.binding, &a.binding);
    debug_assert_eq!(same, x == a, "two copies of one activation with bindings of their own");
    same
}

/// The activations of one rule that bind one vertex.
#[derive(Debug)]
pub(super) enum Bound {
    /// Just one, the usual case, without a list to allocate.
    One(Activation),
    /// Two or more (none only while the entry is being removed).
    Many(Vec<Activation>),
}

impl Bound {
    pub(super) fn iter(&self) -> std::slice::Iter<'_, Activation> {
        match self {
            Bound::One(a) => std::slice::from_ref(a).iter(),
            Bound::Many(list) => list.iter(),
        }
    }

    fn push(&mut self, a: Activation) {
        match self {
            Bound::One(first) => {
                // A second one is a host's or an alarm's, in one activation per instance:
                // room for eight, so that such lists grow once or twice rather than from two.
                let mut list = Vec::with_capacity(8);
                list.extend([first.clone(), a]);
                *self = Bound::Many(list);
            }
            Bound::Many(list) => list.push(a),
        }
    }

    /// Removes `a`, a copy of a stored activation: whether it was there, and whether none
    /// is left.
    ///
    /// Looked for from the end: a region's stale activations are removed last first, and
    /// the lists they share were filled in the same order (a host's alarm clears: each
    /// activation of its instances leaves the host's list too), so the one looked for is
    /// the last. From the front, the search walked half the list each time, quadratic in
    /// a host's instances.
    fn remove(&mut self, a: &Activation) -> (bool, bool) {
        match self {
            Bound::One(x) => {
                let removed = same(x, a);
                (removed, removed)
            }
            Bound::Many(list) => {
                let Some(i) = list.iter().rposition(|x| same(x, a)) else { return (false, false) };
                list.swap_remove(i);
                if let [last] = list.as_slice() {
                    *self = Bound::One(last.clone());
                }
                (true, false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn activation(rule: u32, ids: &[u32]) -> Activation {
        let binding: Vec<VertexId> = ids.iter().map(|&i| VertexId(i)).collect();
        Activation { rule, binding: Arc::from(binding) }
    }

    fn listed(index: &ByVertex, rule: u32, v: u32) -> Vec<Activation> {
        index.get(rule, VertexId(v)).map(|b| b.iter().cloned().collect()).unwrap_or_default()
    }

    #[test]
    fn rules_binding_one_vertex_are_kept_apart() {
        let mut index = ByVertex::default();
        let (a, b, c) = (activation(0, &[3, 9]), activation(0, &[3, 10]), activation(2, &[3]));
        index.insert(0, VertexId(3), a.clone());
        index.insert(0, VertexId(3), b.clone());
        index.insert(2, VertexId(3), c.clone());
        assert_eq!(listed(&index, 0, 3), [a.clone(), b.clone()]);
        assert_eq!(listed(&index, 2, 3), [c]);
        assert!(index.get(1, VertexId(3)).is_none());
        assert!(index.get(0, VertexId(4_000_000)).is_none(), "past the last slot");
        let mut all: Vec<_> = index.iter().map(|(key, b)| (key, b.iter().count())).collect();
        all.sort();
        assert_eq!(all, [((0, VertexId(3)), 2), ((2, VertexId(3)), 1)]);
    }

    #[test]
    fn removing_finds_the_stored_copy_and_frees_an_emptied_slot() {
        let mut index = ByVertex::default();
        let (a, b) = (activation(1, &[5, 6]), activation(1, &[5, 7]));
        index.insert(1, VertexId(5), a.clone());
        index.insert(1, VertexId(5), b.clone());
        assert!(!index.remove(1, VertexId(5), &activation(1, &[5, 8])), "never stored");
        assert!(index.remove(1, VertexId(5), &b));
        assert_eq!(listed(&index, 1, 5), vec![a.clone()]);
        assert!(index.remove(1, VertexId(5), &a));
        assert!(index.get(1, VertexId(5)).is_none());
        assert_eq!(index.slots.get(5).map(Vec::capacity), Some(0), "the slot's list is freed");
    }

    #[test]
    fn cover_makes_slots_without_activations() {
        let mut index = ByVertex::default();
        index.cover(10_000);
        assert_eq!(index.slots.len(), 10_000);
        assert_eq!(index.iter().count(), 0);
        index.cover(5);
        assert_eq!(index.slots.len(), 10_000, "never shrinks");
    }
}
