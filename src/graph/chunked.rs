//! Storage that grows without moving what it holds.
//!
//! A `Vec` grows by copying everything into one twice as large: the graph's vertex slots
//! at a million vertices are 64 MiB, its interner's spans 16 MiB, moved with both copies
//! resident by whichever event adds the element past the capacity the load reserved (a
//! first deduced alarm, say), and the world stops for milliseconds. A [`Chunked`] keeps its
//! elements in chunks of [`CHUNK`] that are allocated at full size and never grow, so adding
//! past the last chunk allocates one more and moves only the list of chunks (8 bytes per
//! chunk). Reading an element is one more indexed load than a `Vec`.

/// Elements per chunk: 4,096 (256 KiB of 64-byte vertex slots), allocated when the first
/// is pushed.
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A vector that is only appended to and indexed. Two are equal when they hold equal
/// elements: the chunks follow from the length.
#[derive(Debug, PartialEq)]
pub(crate) struct Chunked<T> {
    /// Every chunk but the last is full; none ever exceeds its capacity of [`CHUNK`].
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new(), len: 0 }
    }
}

impl<T> Chunked<T> {
    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Element `i`, if there is one.
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i >> CHUNK_BITS)?.get(i & (CHUNK - 1))
    }

    /// [`Chunked::get`], mutably.
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i >> CHUNK_BITS)?.get_mut(i & (CHUNK - 1))
    }

    /// Appends `value` at index [`Chunked::len`].
    pub(crate) fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// Room in the list of chunks for `additional` more elements; the chunks themselves are
    /// allocated as they are first used, so reserving costs no memory for elements.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let wanted = (self.len + additional).div_ceil(CHUNK);
        self.chunks.reserve(wanted.saturating_sub(self.chunks.len()));
    }

    /// Every element in index order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_past_a_chunk_stay_where_they_were_put() {
        let mut c: Chunked<Option<Box<u32>>> = Chunked::default();
        c.reserve(10);
        let n = 2 * CHUNK as u32 + 3;
        for i in 0..n {
            c.push((i % 5 != 0).then(|| Box::new(i)));
        }
        let first = c.get(1).and_then(Option::as_ref).map(|v| v.as_ref() as *const u32);
        let chunk_before = c.chunks.as_ptr();
        c.reserve(5 * CHUNK);
        c.push(Some(Box::new(n)));
        let after = c.get(1).and_then(Option::as_ref).map(|v| v.as_ref() as *const u32);
        assert_eq!(first, after, "growing moved an element");
        assert_ne!(chunk_before, c.chunks.as_ptr(), "the list of chunks moved, as it may");
        assert_eq!(c.len(), n as usize + 1);
        assert!(c.chunks.iter().all(|chunk| chunk.capacity() == CHUNK));
        for (i, slot) in c.iter().enumerate() {
            let expect = (i % 5 != 0 || i == n as usize).then_some(i as u32);
            assert_eq!(slot.as_deref().copied(), expect, "element {i}");
            assert_eq!(c.get(i).and_then(Option::as_deref).copied(), expect);
        }
        assert!(c.get(n as usize + 1).is_none());
        if let Some(slot) = c.get_mut(CHUNK) {
            *slot = None;
        }
        assert!(c.get(CHUNK).is_some_and(Option::is_none));
    }
}
