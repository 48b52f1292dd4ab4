//! A set of vertex ids as one bit per slot.
//!
//! The graph's type and label indexes change on every vertex and edge an event adds or
//! deletes, and are read whole only by full evaluations and writers. A bit per slot makes the
//! change a single word write, where a sorted tree paid a descent and node splits; reading
//! stays in id order. Slots are dense (freed ones are reused), so the bits of a million-vertex
//! graph take 125 KiB per set.
//!
//! The bits are kept in chunks of 4,096 ids, each allocated when it gets its first id. One
//! array for the whole range was zeroed up to the highest id at a set's first insert and
//! doubled past it: in a loaded million-vertex graph, the first deduced alarm (a new type,
//! its `on` edge a label's first source) made two sets of 125 KiB at once, page faults and
//! zeroing inside the event, and each later slot past the end copied a set whole.

use super::VertexId;

/// log2 of the ids of a chunk.
const CHUNK_BITS: u32 = 12;
const CHUNK_WORDS: usize = 1 << (CHUNK_BITS - 6);

type Chunk = Box<[u64; CHUNK_WORDS]>;

/// Vertex ids, iterated in id order.
#[derive(Debug, Default)]
pub(crate) struct VertexSet {
    chunks: Vec<Option<Chunk>>,
    len: usize,
}

impl VertexSet {
    /// Adds `v`; returns whether it was absent.
    pub(crate) fn insert(&mut self, v: VertexId) -> bool {
        let (c, w, bit) = place(v);
        if c >= self.chunks.len() {
            self.chunks.resize_with(c + 1, || None);
        }
        let chunk = self.chunks[c].get_or_insert_with(|| Box::new([0; CHUNK_WORDS]));
        let added = chunk[w] & bit == 0;
        chunk[w] |= bit;
        self.len += usize::from(added);
        added
    }

    /// Removes `v`; returns whether it was present. Its chunk stays, for the ids near it.
    pub(crate) fn remove(&mut self, v: VertexId) -> bool {
        let (c, w, bit) = place(v);
        let Some(Some(chunk)) = self.chunks.get_mut(c) else { return false };
        let removed = chunk[w] & bit != 0;
        chunk[w] &= !bit;
        self.len -= usize::from(removed);
        removed
    }

    /// Whether the set holds no id.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ids in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = VertexId> + '_ {
        let words = self.chunks.iter().enumerate().flat_map(|(c, chunk)| {
            let words = chunk.as_deref().map_or(&[][..], |words| &words[..]);
            words.iter().enumerate().map(move |(w, &word)| (c * CHUNK_WORDS + w, word))
        });
        words.flat_map(|(w, word)| Bits(word).map(move |b| (w, b))).map(|(w, b)| {
            // Ids are u32, so every word index times 64 fits.
            VertexId((w * 64) as u32 + b)
        })
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

/// The chunk, the word in it and the bit of `v`.
fn place(v: VertexId) -> (usize, usize, u64) {
    let i = v.0 as usize;
    (i >> CHUNK_BITS, (i >> 6) & (CHUNK_WORDS - 1), 1 << (v.0 % 64))
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

    #[test]
    fn a_high_id_takes_one_chunk_and_ids_across_chunks_keep_their_order() {
        let mut s = VertexSet::default();
        let ids = [1_000_020, 4_095, 4_096, 0, 8_191, 900_000, 64];
        for v in ids {
            assert!(s.insert(VertexId(v)));
        }
        assert_eq!(s.chunks.iter().flatten().count(), 4);
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        assert_eq!(s.iter().map(|v| v.0).collect::<Vec<_>>(), sorted);
        assert!(s.remove(VertexId(4_096)) && !s.remove(VertexId(4_096)));
        assert!(!s.remove(VertexId(2_000_000)) && !s.remove(VertexId(20_000)));
        assert_eq!(s.iter().count(), s.len);
    }
}
