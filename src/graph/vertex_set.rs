//! A set of vertex ids as one bit per slot.
//!
//! The graph's type and label indexes change on every vertex and edge an event adds or
//! deletes, and are read whole only by full evaluations and writers. A bit per slot makes the
//! change a single word write, where a sorted tree paid a descent and node splits; reading
//! stays in id order. Slots are dense (freed ones are reused), so the bits of a million-vertex
//! graph take 125 KiB per set.

use super::VertexId;

/// Vertex ids, iterated in id order.
#[derive(Debug, Default)]
pub(crate) struct VertexSet {
    words: Vec<u64>,
    len: usize,
}

impl VertexSet {
    /// Adds `v`; returns whether it was absent.
    pub(crate) fn insert(&mut self, v: VertexId) -> bool {
        let (w, bit) = place(v);
        if w >= self.words.len() {
            // At least double: slots grow one at a time, and so would the words.
            let room = (w + 1).max(self.words.len() * 2);
            self.words.resize(room, 0);
        }
        let added = self.words[w] & bit == 0;
        self.words[w] |= bit;
        self.len += usize::from(added);
        added
    }

    /// Removes `v`; returns whether it was present.
    pub(crate) fn remove(&mut self, v: VertexId) -> bool {
        let (w, bit) = place(v);
        let Some(word) = self.words.get_mut(w) else { return false };
        let removed = *word & bit != 0;
        *word &= !bit;
        self.len -= usize::from(removed);
        removed
    }

    /// Whether the set holds no id.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ids in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = VertexId> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| Bits(word).map(move |b| (w, b))).map(
            |(w, b)| {
                // Ids are u32, so every word index times 64 fits.
                VertexId((w * 64) as u32 + b)
            },
        )
    }
}

/// Equal when they hold the same ids, however much room each has grown.
impl PartialEq for VertexSet {
    fn eq(&self, other: &VertexSet) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl FromIterator<VertexId> for VertexSet {
    fn from_iter<I: IntoIterator<Item = VertexId>>(ids: I) -> VertexSet {
        let mut set = VertexSet::default();
        for v in ids {
            set.insert(v);
        }
        set
    }
}

fn place(v: VertexId) -> (usize, u64) {
    (v.0 as usize / 64, 1 << (v.0 % 64))
}

/// The set bits of a word, lowest first.
struct Bits(u64);

impl Iterator for Bits {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.0 == 0 {
            return None;
        }
        let b = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_back_in_order_once_each_and_are_counted() {
        let mut s = VertexSet::default();
        for v in [130, 3, 64, 3, 0, 63] {
            s.insert(VertexId(v));
        }
        let ids: Vec<u32> = s.iter().map(|v| v.0).collect();
        assert_eq!(ids, [0, 3, 63, 64, 130]);
        assert_eq!(s.len, 5);
        assert!(s.remove(VertexId(64)) && !s.remove(VertexId(64)) && !s.remove(VertexId(9999)));
        assert_eq!((s.len, s.iter().count()), (4, 4));
    }

    #[test]
    fn sets_with_the_same_ids_are_equal_whatever_their_room() {
        let mut grown: VertexSet = [VertexId(1), VertexId(5000)].into_iter().collect();
        grown.remove(VertexId(5000));
        let small: VertexSet = [VertexId(1)].into_iter().collect();
        assert_eq!(grown, small);
        assert_ne!(small, VertexSet::default());
        assert!(VertexSet::default().is_empty());
    }
}
