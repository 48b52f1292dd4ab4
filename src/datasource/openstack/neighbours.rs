//! What the translator last reported as each resource's neighbours, so that a report of the
//! neighbours a resource has now also removes the edges to those it no longer has.
//!
//! The memory starts empty (or seeded from the graph by the service). An edge it never heard
//! of cannot be removed by a notification; the API poll's resync removes it.

use super::{kind, label, placeholder};
use crate::runner::Change;
use std::collections::{BTreeMap, BTreeSet};

/// One kind of neighbour a resource reports: its type, the edge's label and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slot {
    /// The host that contains an instance (`host -contains-> instance`).
    InstanceHost,
    /// The network that contains a port (`network -contains-> port`).
    PortNetwork,
    /// The instance a port is attached to (`port -attached-> instance`).
    PortInstance,
    /// The instances a volume is attached to (`volume -attached-> instance`).
    VolumeInstances,
}

impl Slot {
    /// Every slot.
    pub const ALL: [Slot; 4] =
        [Slot::InstanceHost, Slot::PortNetwork, Slot::PortInstance, Slot::VolumeInstances];

    /// (owner type, neighbour type, label, whether the owner is the edge's source).
    pub fn shape(self) -> (&'static str, &'static str, &'static str, bool) {
        match self {
            Slot::InstanceHost => (kind::INSTANCE, kind::HOST, label::CONTAINS, false),
            Slot::PortNetwork => (kind::PORT, kind::NETWORK, label::CONTAINS, false),
            Slot::PortInstance => (kind::PORT, kind::INSTANCE, label::ATTACHED, true),
            Slot::VolumeInstances => (kind::VOLUME, kind::INSTANCE, label::ATTACHED, true),
        }
    }

    /// The slot an edge fills, given its endpoints' types: (slot, owner id, neighbour id).
    pub fn of_edge<'a>(
        source: (&str, &'a str),
        relationship_type: &str,
        target: (&str, &'a str),
    ) -> Option<(Slot, &'a str, &'a str)> {
        Slot::ALL.into_iter().find_map(|slot| {
            let (owner, neighbour, label, owner_is_source) = slot.shape();
            let (o, n) = if owner_is_source { (source, target) } else { (target, source) };
            (label == relationship_type && o.0 == owner && n.0 == neighbour)
                .then_some((slot, o.1, n.1))
        })
    }

    fn edge(self, owner: &str, neighbour: &str, add: bool) -> Change {
        let (_, _, label, owner_is_source) = self.shape();
        let (source, target) =
            if owner_is_source { (owner, neighbour) } else { (neighbour, owner) };
        let (source, target, relationship_type) =
            (source.to_owned(), target.to_owned(), label.to_owned());
        if add {
            Change::AddEdge { source, target, relationship_type }
        } else {
            Change::DeleteEdge { source, target, relationship_type }
        }
    }
}

/// Each resource's last reported neighbours, by slot.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Neighbours(BTreeMap<(String, Slot), BTreeSet<String>>);

impl Neighbours {
    /// Records that `owner` has `neighbour` in `slot` (the graph already shows it).
    pub fn remember(&mut self, owner: &str, slot: Slot, neighbour: &str) {
        self.0.entry((owner.to_owned(), slot)).or_default().insert(neighbour.to_owned());
    }

    /// Whether anything is remembered about `owner`.
    pub fn knows(&self, owner: &str) -> bool {
        self.0.keys().any(|(o, _)| o == owner)
    }

    /// The changes that make `owner`'s neighbours in `slot` exactly `now`: edges to those it
    /// no longer has go, each new one is ensured (a placeholder) and linked.
    pub fn relate(
        &mut self,
        owner: &str,
        slot: Slot,
        now: BTreeSet<String>,
        out: &mut Vec<Change>,
    ) {
        let before = self.0.remove(&(owner.to_owned(), slot)).unwrap_or_default();
        out.extend(before.difference(&now).map(|gone| slot.edge(owner, gone, false)));
        let (_, neighbour_kind, _, _) = slot.shape();
        for n in &now {
            out.push(placeholder(neighbour_kind, n));
            out.push(slot.edge(owner, n, true));
        }
        if !now.is_empty() {
            self.0.insert((owner.to_owned(), slot), now);
        }
    }

    /// Forgets a deleted resource (its edges go with its vertex).
    pub fn forget(&mut self, owner: &str) {
        self.0.retain(|(o, _), _| o != owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_neighbour_replaces_the_remembered_one() {
        let mut memory = Neighbours::default();
        memory.remember("vm", Slot::InstanceHost, "h1");
        let mut out = Vec::new();
        memory.relate("vm", Slot::InstanceHost, BTreeSet::from(["h2".to_owned()]), &mut out);
        let edge = |s: &str, add| Slot::InstanceHost.edge("vm", s, add);
        assert_eq!(out, vec![edge("h1", false), placeholder(kind::HOST, "h2"), edge("h2", true)]);
        assert_eq!(Slot::InstanceHost.edge("vm", "h2", true).edge().unwrap().0.source, "h2");
    }

    #[test]
    fn an_edge_of_the_graph_is_recognised_by_its_endpoint_types() {
        let found = Slot::of_edge((kind::HOST, "h"), label::CONTAINS, (kind::INSTANCE, "vm"));
        assert_eq!(found, Some((Slot::InstanceHost, "vm", "h")));
        let found = Slot::of_edge((kind::VOLUME, "v"), label::ATTACHED, (kind::INSTANCE, "vm"));
        assert_eq!(found, Some((Slot::VolumeInstances, "v", "vm")));
        assert_eq!(Slot::of_edge((kind::HOST, "h"), label::ATTACHED, (kind::INSTANCE, "v")), None);
    }
}
