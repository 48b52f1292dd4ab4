//! A hash table split into many small tables, so that growing it never stops the world.
//!
//! A single `HashTable` doubles by rehashing every entry at once: at a few million interned
//! strings that is tens of milliseconds, paid by whichever event happens to insert the entry
//! that crosses the boundary. Here the hash picks one of [`SHARDS`] tables and only that one
//! grows, so a growth step moves about 1/1024 of the entries (tens of microseconds at a
//! million). Hashes are uniform, so the shards stay within a few percent of each other and
//! one insert triggers at most one small rehash.

use hashbrown::HashTable;

/// The number of shards: small enough to cost nothing on an empty graph (32 bytes each,
/// nothing allocated), large enough that a shard of a 4M-entry table rehashes in ~100 µs.
const SHARDS: usize = 1024;

/// A `HashTable<T>` of [`SHARDS`] shards; the caller supplies hashes and equality, as with
/// `hashbrown::HashTable`.
#[derive(Debug, Clone)]
pub(crate) struct ShardedTable<T> {
    shards: Box<[HashTable<T>]>,
}

impl<T> Default for ShardedTable<T> {
    fn default() -> Self {
        ShardedTable::new()
    }
}

/// The shard of a hash. hashbrown places entries by the low bits and tags them with the top
/// seven, so the shard comes from bits in between: entries of one shard still differ in both.
fn shard(hash: u64) -> usize {
    (hash >> 32) as usize & (SHARDS - 1)
}

impl<T> ShardedTable<T> {
    /// An empty table; no shard allocates until it holds an entry.
    pub(crate) fn new() -> ShardedTable<T> {
        ShardedTable { shards: (0..SHARDS).map(|_| HashTable::new()).collect() }
    }

    /// An empty table with room for about `capacity` entries spread over the shards.
    pub(crate) fn with_capacity(capacity: usize) -> ShardedTable<T> {
        let each = capacity.div_ceil(SHARDS);
        let shards = (0..SHARDS).map(|_| HashTable::with_capacity(each)).collect();
        ShardedTable { shards }
    }

    /// The entry with `hash` for which `eq` holds.
    pub(crate) fn find(&self, hash: u64, eq: impl FnMut(&T) -> bool) -> Option<&T> {
        self.shards[shard(hash)].find(hash, eq)
    }

    /// [`ShardedTable::find`], mutably.
    pub(crate) fn find_mut(&mut self, hash: u64, eq: impl FnMut(&T) -> bool) -> Option<&mut T> {
        self.shards[shard(hash)].find_mut(hash, eq)
    }

    /// Inserts `value`, known not to be present; `hasher` rehashes entries of its shard when
    /// that shard grows.
    pub(crate) fn insert_unique(&mut self, hash: u64, value: T, hasher: impl Fn(&T) -> u64) {
        self.shards[shard(hash)].insert_unique(hash, value, hasher);
    }

    /// Removes and returns the entry with `hash` for which `eq` holds.
    pub(crate) fn remove(&mut self, hash: u64, eq: impl FnMut(&T) -> bool) -> Option<T> {
        let entry = self.shards[shard(hash)].find_entry(hash, eq).ok()?;
        Some(entry.remove().0)
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.shards.iter().flat_map(|s| s.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, RandomState};

    #[test]
    fn finds_what_was_inserted_and_forgets_what_was_removed() {
        let hasher = RandomState::new();
        let mut t = ShardedTable::new();
        for i in 0..50_000u32 {
            t.insert_unique(hasher.hash_one(i), i, |&v| hasher.hash_one(v));
        }
        assert_eq!(t.iter().count(), 50_000);
        assert!((0..50_000u32).all(|i| t.find(hasher.hash_one(i), |&v| v == i) == Some(&i)));
        assert_eq!(t.remove(hasher.hash_one(7u32), |&v| v == 7), Some(7));
        assert_eq!(t.find(hasher.hash_one(7u32), |&v| v == 7), None);
        assert_eq!(t.remove(hasher.hash_one(7u32), |&v| v == 7), None);
        assert_eq!(t.iter().count(), 49_999);
        if let Some(v) = t.find_mut(hasher.hash_one(8u32), |&v| v == 8) {
            *v = 1_000_000;
        }
        assert_eq!(t.find(hasher.hash_one(8u32), |&v| v == 1_000_000), Some(&1_000_000));
    }
}
