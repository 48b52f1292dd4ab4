//! Vertex storage that grows without moving what it holds.
//!
//! A `Vec<Option<Vertex>>` grows by copying every slot into one twice as large: at a million
//! vertices that is 64 MiB moved, with both copies resident, by whichever event adds the
//! vertex past the capacity the load reserved (a first deduced alarm, say), and it stops the
//! world for tens of milliseconds. Here the slots live in chunks of [`CHUNK`] that are
//! allocated at full size and never grow, so adding a slot past the last chunk allocates one
//! more and moves only the list of chunks (8 bytes per chunk). Reading a slot is one more
//! indexed load than a `Vec`.

use super::{Vertex, VertexId};

/// Slots per chunk: 4,096 slots of 64 bytes, 256 KiB, allocated when the first is used.
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Vertex slots indexed by [`VertexId`]; `None` is a freed slot. Slots are only appended
/// (freed ones are reused in place), so an id stays valid for as long as the storage lives.
/// Two storages are equal when they hold equal slots: the chunks follow from the length.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Slots {
    /// Every chunk but the last is full; none ever exceeds its capacity of [`CHUNK`].
    chunks: Vec<Vec<Option<Vertex>>>,
    len: usize,
}

impl Slots {
    /// The number of slots, freed ones included.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slot `id`, if the storage has it.
    pub(crate) fn get(&self, id: VertexId) -> Option<&Option<Vertex>> {
        let i = id.0 as usize;
        self.chunks.get(i >> CHUNK_BITS)?.get(i & (CHUNK - 1))
    }

    /// [`Slots::get`], mutably.
    pub(crate) fn get_mut(&mut self, id: VertexId) -> Option<&mut Option<Vertex>> {
        let i = id.0 as usize;
        self.chunks.get_mut(i >> CHUNK_BITS)?.get_mut(i & (CHUNK - 1))
    }

    /// Appends a slot at index [`Slots::len`].
    pub(crate) fn push(&mut self, slot: Option<Vertex>) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(slot),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(slot);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// Room in the list of chunks for `additional` more slots; the chunks themselves are
    /// allocated as they are first used, so reserving costs no memory for slots.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let wanted = (self.len + additional).div_ceil(CHUNK);
        self.chunks.reserve(wanted.saturating_sub(self.chunks.len()));
    }

    /// Every slot in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Option<Vertex>> + '_ {
        self.chunks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::element::AdjList;
    use crate::graph::{Category, Props, Sym};

    fn vertex(n: u32) -> Vertex {
        Vertex {
            vitrage_type: Sym(0),
            entity_id: Sym(n),
            category: Category::Resource,
            is_deleted: false,
            is_placeholder: false,
            props: Props::default(),
            adj: AdjList::Empty,
        }
    }

    #[test]
    fn slots_past_a_chunk_stay_where_they_were_put() {
        let mut slots = Slots::default();
        slots.reserve(10);
        let n = 2 * CHUNK as u32 + 3;
        for i in 0..n {
            slots.push((i % 5 != 0).then(|| vertex(i)));
        }
        let first = slots.get(VertexId(1)).and_then(Option::as_ref).map(|v| v as *const Vertex);
        slots.push(Some(vertex(n)));
        let after = slots.get(VertexId(1)).and_then(Option::as_ref).map(|v| v as *const Vertex);
        assert_eq!(first, after, "growing moved a slot");
        assert_eq!(slots.len(), n as usize + 1);
        assert!(slots.chunks.iter().all(|c| c.capacity() == CHUNK));
        for (i, slot) in slots.iter().enumerate() {
            let id = VertexId(i as u32);
            let expect = (i % 5 != 0 || i == n as usize).then_some(Sym(i as u32));
            assert_eq!(slot.as_ref().map(|v| v.entity_id), expect, "slot {i}");
            assert_eq!(slots.get(id).and_then(Option::as_ref).map(|v| v.entity_id), expect);
        }
        assert!(slots.get(VertexId(n + 1)).is_none());
        if let Some(slot) = slots.get_mut(VertexId(CHUNK as u32)) {
            *slot = None;
        }
        assert!(slots.get(VertexId(CHUNK as u32)).is_some_and(Option::is_none));
    }
}
