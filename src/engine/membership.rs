//! Relation membership of every vertex: which of the rules' relations (a vertex's label and
//! property tests) it is in, as a dense bit set per vertex index, with no hashing.
//!
//! The bits are kept in pages of [`PAGE`] vertices that are allocated whole and never
//! move. In one list, the first event that added a vertex past the load's last one (a NIC
//! failure's first deduced alarm) doubled it: at a million resources 8 MiB were copied,
//! 0.4 ms of a 0.9 ms event. Saved, the bits are one list, as they always were. Not a
//! [`crate::graph::Chunked`] of words: a vertex's words must stay contiguous, and the rules'
//! number of words per vertex need not divide its chunk.

use crate::compile::ir::RelationId;
use crate::graph::VertexId;
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

/// Vertices per page: 32 KiB of bits when the rules have at most 64 relations.
const PAGE: usize = 4096;

/// The memberships of every vertex, and how many members each relation has.
#[derive(Debug, Default)]
pub(super) struct Membership {
    /// Words per vertex: one bit per relation.
    words: usize,
    /// Every page holds the words of [`PAGE`] vertices, zero where nothing was set.
    pages: Vec<Box<[u64]>>,
    /// The vertices below this index have their words recorded (the saved list's length,
    /// in vertices): the first is past the last vertex ever in a relation.
    covered: usize,
    /// The number of members of each relation, kept with the bits (and counted from them
    /// again when saved bits are restored).
    members: Vec<u32>,
}

/// Saved memberships, checked against the rules before they are used.
#[derive(Debug, Deserialize)]
pub(super) struct SavedMembership {
    words: usize,
    bits: Vec<u64>,
}

impl Membership {
    /// No vertex in any of `relations` relations.
    pub(super) fn new(relations: usize) -> Membership {
        let words = relations.div_ceil(64).max(1);
        Membership { words, members: vec![0; words * 64], ..Membership::default() }
    }

    /// The words per vertex.
    pub(super) fn words(&self) -> usize {
        self.words
    }

    /// The saved memberships, for rules of `relations` relations; an error when they were
    /// saved for others.
    pub(super) fn restore(saved: SavedMembership, relations: usize) -> Result<Membership, String> {
        let mut m = Membership::new(relations);
        let SavedMembership { words, bits } = saved;
        if words != m.words || bits.len() % words != 0 {
            return Err("membership bits do not fit the rules' relations".into());
        }
        let stray = |w: usize, word: u64| {
            let valid = relations.saturating_sub((w % words) * 64).min(64);
            let mask = if valid == 64 { u64::MAX } else { (1u64 << valid) - 1 };
            word & !mask != 0
        };
        if bits.iter().enumerate().any(|(w, &word)| stray(w, word)) {
            return Err("membership bits for relations the rules do not have".into());
        }
        for (v, vertex) in bits.chunks_exact(words).enumerate() {
            let Ok(index) = u32::try_from(v) else {
                return Err("membership bits for more vertices than a graph holds".into());
            };
            m.cover(v);
            m.set(VertexId(index), vertex);
        }
        Ok(m)
    }

    /// Whether no vertex is in `rel`.
    pub(super) fn is_empty(&self, rel: RelationId) -> bool {
        self.members.get(rel.0 as usize).is_none_or(|&n| n == 0)
    }

    /// `v`'s membership words, or `None` when it is in no relation and never was.
    pub(super) fn of(&self, v: VertexId) -> Option<&[u64]> {
        let i = v.index() as usize;
        if i >= self.covered {
            return None;
        }
        let start = i % PAGE * self.words;
        self.pages.get(i / PAGE)?.get(start..start + self.words)
    }

    /// Whether `v` is in `rel`, as last recorded: every vertex a batch touched is recorded
    /// before any region of the batch is recomputed, and the others have not changed.
    pub(super) fn has(&self, v: VertexId, rel: RelationId) -> bool {
        let i = v.index() as usize;
        let word = i % PAGE * self.words + rel.0 as usize / 64;
        let page = self.pages.get(i / PAGE);
        page.and_then(|p| p.get(word)).is_some_and(|w| w >> (rel.0 % 64) & 1 == 1)
    }

    /// Sets `v`'s membership words; a vertex past the end that is in no relation leaves the
    /// bits as they are.
    pub(super) fn set(&mut self, v: VertexId, words: &[u64]) {
        let i = v.index() as usize;
        if i >= self.covered {
            if words.iter().all(|&w| w == 0) {
                return;
            }
            self.cover(i);
        }
        let start = i % PAGE * self.words;
        let Some(page) = self.pages.get_mut(i / PAGE) else { return };
        let Some(was) = page.get_mut(start..start + self.words) else { return };
        for (w, (&now, &old)) in words.iter().zip(was.iter()).enumerate() {
            let mut changed = now ^ old;
            while changed != 0 {
                let bit = changed.trailing_zeros() as usize;
                let count = &mut self.members[w * 64 + bit];
                *count = if now >> bit & 1 == 1 { *count + 1 } else { count.saturating_sub(1) };
                changed &= changed - 1;
            }
        }
        was.copy_from_slice(words);
    }

    /// Records the words of every vertex up to index `i`, adding the pages they need.
    fn cover(&mut self, i: usize) {
        while self.pages.len() <= i / PAGE {
            self.pages.push(vec![0; PAGE * self.words].into_boxed_slice());
        }
        self.covered = self.covered.max(i + 1);
    }

    /// The recorded words, vertex after vertex.
    fn bits(&self) -> impl Iterator<Item = &u64> + '_ {
        self.pages.iter().flat_map(|p| p.iter()).take(self.covered * self.words)
    }
}

/// As one list of words, vertex after vertex, up to the last one covered; its length written
/// first (the snapshot's encoding needs it).
impl Serialize for Membership {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Bits<'a>(&'a Membership);
        impl Serialize for Bits<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.covered * self.0.words))?;
                for word in self.0.bits() {
                    seq.serialize_element(word)?;
                }
                seq.end()
            }
        }
        let mut st = s.serialize_struct("Membership", 2)?;
        st.serialize_field("words", &self.words)?;
        st.serialize_field("bits", &Bits(self))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_member_counts_follow_the_bits_and_are_counted_again_on_restore() {
        let mut m = Membership::new(70);
        let (a, b) = (VertexId(3), VertexId(9));
        m.set(a, &[1 << 5, 1 << 2]);
        m.set(b, &[1 << 5, 0]);
        assert!(!m.is_empty(RelationId(5)) && !m.is_empty(RelationId(66)));
        assert!(m.is_empty(RelationId(4)), "no vertex is in relation 4");
        m.set(a, &[0, 0]);
        assert!(m.is_empty(RelationId(66)) && !m.is_empty(RelationId(5)), "b is still in 5");
        m.set(b, &[0, 0]);
        assert!(m.is_empty(RelationId(5)));
        m.set(a, &[1 << 1, 0]);
        let saved: SavedMembership = serde_json::from_value(json(&m)).expect("saved");
        let restored = Membership::restore(saved, 70).expect("restored");
        assert_eq!(restored.members, m.members);
        assert!(m.has(a, RelationId(1)) && !m.has(b, RelationId(1)));
        assert!(restored.has(a, RelationId(1)) && !restored.has(b, RelationId(1)));
    }

    fn json(m: &Membership) -> serde_json::Value {
        serde_json::to_value(m).expect("serialised")
    }

    #[test]
    fn saved_bits_are_one_list_up_to_the_last_vertex_ever_in_a_relation() {
        let mut m = Membership::new(3);
        m.set(VertexId(2), &[0b101]);
        m.set(VertexId(7), &[0]);
        assert_eq!(json(&m), serde_json::json!({"words": 1, "bits": [0, 0, 5]}));
        let far = VertexId(2 * PAGE as u32 + 1);
        m.set(far, &[0b10]);
        m.set(VertexId(2), &[0]);
        let saved = json(&m);
        assert_eq!(saved["bits"].as_array().map(Vec::len), Some(2 * PAGE + 2));
        assert_eq!(saved["bits"][2 * PAGE + 1], 2);
        let restored = Membership::restore(serde_json::from_value(saved).expect("saved"), 3);
        let restored = restored.expect("restored");
        assert!(restored.has(far, RelationId(1)) && !restored.has(VertexId(2), RelationId(0)));
        assert_eq!(restored.of(VertexId(7)), Some(&[0][..]));
        assert_eq!(restored.of(VertexId(2 * PAGE as u32 + 2)), None);
    }

    #[test]
    fn pages_added_for_a_far_vertex_leave_the_bits_before_in_place() {
        let mut m = Membership::new(1);
        m.set(VertexId(5), &[1]);
        let first = m.pages[0].as_ptr();
        m.set(VertexId(10 * PAGE as u32), &[1]);
        assert_eq!(m.pages[0].as_ptr(), first, "growing moved the bits");
        assert!(
            m.has(VertexId(5), RelationId(0)) && m.has(VertexId(10 * PAGE as u32), RelationId(0))
        );
        assert_eq!(m.of(VertexId(3 * PAGE as u32)), Some(&[0][..]), "covered, in no relation");
    }

    #[test]
    fn bits_saved_for_other_rules_are_refused() {
        let saved = |words: usize, bits: Vec<u64>| SavedMembership { words, bits };
        assert!(Membership::restore(saved(2, vec![0; 4]), 3).is_err(), "words");
        assert!(Membership::restore(saved(1, vec![0b1000]), 3).is_err(), "a fourth relation");
        assert!(Membership::restore(saved(2, vec![0; 3]), 70).is_err(), "half a vertex");
        assert!(Membership::restore(saved(2, vec![0, 1 << 5]), 70).is_ok());
    }
}
