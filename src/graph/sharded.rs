//! A hash table split into many small tables, so that growing it never stops the world.
//!
//! A single `HashTable` doubles by rehashing every entry at once: at a few million interned
//! strings that is tens of milliseconds, paid by whichever event happens to insert the entry
//! that crosses the boundary. Here the hash picks one of [`SHARDS`] tables and only that one
//! grows, so a growth step moves about 1/1024 of the entries (tens of microseconds at a
//! million).
//!
//! Shards of equal size would all reach their boundary together: an event inserting a few
//! hundred entries spread over every shard then rehashes most of them, and a map that grows
//! by a NIC failure's worth of activations paid that as a wave of events three times slower
//! than the rest. So the shards are of unequal sizes ([`skewed`]): shard `j` of `n` draws
//! about `1 + j/n` parts of the entries, their sizes span a factor of two, and their
//! boundaries are spread evenly over every doubling of the whole table; an event rehashes a
//! few shards, whatever the table's size.

use hashbrown::HashTable;

/// The hasher of the tables whose keys come from input (interned strings, vertex keys): seeded
/// per table, so a client cannot pick ids that collide, yet a fraction of SipHash's cost on
/// the short strings of ids and names, which every event hashes several times.
pub(crate) type SeededHasher = foldhash::fast::RandomState;

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

/// log2 of [`SHARDS`].
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// The shard of a hash; see [`skewed`].
fn shard(hash: u64) -> usize {
    skewed(hash, SHARD_BITS)
}

/// The shard of `hash` among `2^bits`, drawn so that shard `j` holds a share of the entries
/// proportional to about `1 + j / 2^bits`: two thirds of the keys pick a shard uniformly
/// (share 1 each), a third pick the larger of two uniform picks (share `(2j + 1) / 2^bits`).
///
/// hashbrown places entries by the low bits of the hash and tags them with the top seven,
/// so the three picks come from the bits in between, 32 to 56: entries of one shard still
/// differ in both. `bits` is at most 10, which leaves the third pick 5 bits.
fn skewed(hash: u64, bits: u32) -> usize {
    let mask = (1u64 << bits) - 1;
    let first = (hash >> 32) & mask;
    let second = (hash >> (32 + bits)) & mask;
    let (rbits, third) = third_pick(bits);
    let draw = (hash >> (32 + 2 * bits)) & ((1 << rbits) - 1);
    (if draw < third { first.max(second) } else { first }) as usize
}

/// The bits of [`skewed`]'s third pick among `2^bits` shards, and the draws below which a
/// key takes the larger of two picks: the nearest to a third of them.
fn third_pick(bits: u32) -> (u32, u64) {
    let rbits = 25 - 2 * bits;
    (rbits, ((1u64 << rbits) + 1) / 3)
}

/// The part of `n` entries that shard `j` of `2^bits` expects under [`skewed`], rounded up.
fn share(n: usize, j: usize, bits: u32) -> usize {
    let shards = (1u64 << bits) as f64;
    let (rbits, third) = third_pick(bits);
    let p = third as f64 / (1u64 << rbits) as f64;
    let part = (1.0 - p) / shards + p * (2 * j + 1) as f64 / (shards * shards);
    (n as f64 * part).ceil() as usize
}

impl<T> ShardedTable<T> {
    /// An empty table; no shard allocates until it holds an entry.
    pub(crate) fn new() -> ShardedTable<T> {
        ShardedTable { shards: (0..SHARDS).map(|_| HashTable::new()).collect() }
    }

    /// An empty table with room for about `capacity` entries spread over the shards.
    pub(crate) fn with_capacity(capacity: usize) -> ShardedTable<T> {
        let room = |j| HashTable::with_capacity(share(capacity, j, SHARD_BITS));
        let shards = (0..SHARDS).map(room).collect();
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

    /// Makes room for about `additional` more entries spread over the shards; `hasher`
    /// rehashes the entries a shard already has.
    pub(crate) fn reserve(&mut self, additional: usize, hasher: impl Fn(&T) -> u64) {
        for (j, shard) in self.shards.iter_mut().enumerate() {
            shard.reserve(share(additional, j, SHARD_BITS), &hasher);
        }
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
    fn a_sharded_map_is_a_map_saved_sorted() {
        let mut m: ShardedMap<u32, u32> = (0..1000).map(|i| (i, i * 2)).collect();
        *m.entry(5).or_insert(0) += 1;
        assert_eq!((m.len(), m.get(&5)), (1000, Some(&11)));
        assert_eq!(m.occupied(&6).map(OccupiedEntry::remove), Some(12));
        assert!(m.get(&6).is_none() && m.iter().count() == 999);
        let text = serde_json::to_string(&m).expect("json");
        assert!(text.starts_with("[[0,0],[1,2],[2,4],[3,6],[4,8],[5,11],[7,14]"), "{text}");
        let back: ShardedMap<u32, u32> = serde_json::from_str(&text).expect("reads");
        assert!(back == m);
        assert!(serde_json::from_str::<ShardedMap<u32, u32>>("[[1,2],[1,3]]").is_err());
    }

    #[test]
    fn room_made_for_more_keeps_every_entry_findable() {
        let hasher = RandomState::new();
        let mut t = ShardedTable::new();
        for i in 0..3_000u32 {
            t.insert_unique(hasher.hash_one(i), i, |&v| hasher.hash_one(v));
        }
        t.reserve(100_000, |&v| hasher.hash_one(v));
        for i in 3_000..5_000u32 {
            t.insert_unique(hasher.hash_one(i), i, |&v| hasher.hash_one(v));
        }
        assert_eq!(t.iter().count(), 5_000);
        assert!((0..5_000u32).all(|i| t.find(hasher.hash_one(i), |&v| v == i) == Some(&i)));
    }

    #[test]
    fn shards_draw_shares_from_one_to_two_parts() {
        // A fixed hasher: with ~1,500 keys a shard, 10% is ~4 standard deviations, which one
        // of 1,024 shards crossed now and then under a random seed (a flaky test).
        let hasher =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
        let n = 2_000_000u64;
        let mut counts = vec![0usize; SHARDS];
        for i in 0..n {
            counts[shard(hasher.hash_one(i))] += 1;
        }
        let expected = |j: usize| share(n as usize, j, SHARD_BITS) as f64;
        // ~2,000 a shard: within 10% of the expected share, which doubles from first to last.
        for (j, &c) in counts.iter().enumerate() {
            assert!((c as f64 - expected(j)).abs() < 0.1 * expected(j), "shard {j}: {c}");
        }
        let ratio = expected(SHARDS - 1) / expected(0);
        assert!((1.9..2.1).contains(&ratio), "{ratio}");
        let total: usize = (0..SHARDS).map(|j| share(n as usize, j, SHARD_BITS)).sum();
        assert!(total >= n as usize && total <= n as usize + SHARDS, "{total}");
    }

    /// A map that grows by 300 entries an event, as with NIC failures on hosts of 100
    /// instances. With shards of one size, most of them rehashed within a few events of each
    /// doubling: one event moved 18,802 entries, 63 times what it inserted. With unequal
    /// shards the moves spread over the doubling: at most 2,238 in one event here.
    #[test]
    fn a_growing_map_rehashes_a_few_shards_per_event() {
        let mut m: ShardedMap<(u32, u32), u32> = ShardedMap::default();
        let capacities = |m: &ShardedMap<(u32, u32), u32>| {
            m.shards.iter().map(|s| (s.capacity(), s.len())).collect::<Vec<_>>()
        };
        let mut before = capacities(&m);
        let mut worst = 0;
        for event in 0..400u32 {
            for i in 0..300 {
                m.insert((event, i), i);
            }
            let now = capacities(&m);
            let moved: usize =
                before.iter().zip(&now).filter(|(a, b)| a.0 != b.0).map(|(a, _)| a.1).sum();
            worst = worst.max(moved);
            before = now;
        }
        assert_eq!(m.len(), 120_000);
        assert!(worst <= 10 * 300, "one event moved {worst} entries");
    }

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

/// A hash map split into [`MAP_SHARDS`] tables by the key's hash, for the maps that grow with
/// the live activations (the tracker's, the workflows', the evaluator's): they grow together,
/// by about a hundred entries per NIC failure on a large host, and one `HashMap` each would
/// rehash all of them in the same event. Each operation hashes its key once: the hash picks
/// the shard and places the entry in it. Only the methods those maps use are here.
#[derive(Clone)]
pub struct ShardedMap<K, V> {
    shards: Box<[HashTable<(K, V)>]>,
}

/// The number of shards of a [`ShardedMap`].
const MAP_SHARDS: usize = 256;

/// The room every shard has from the start (16 buckets); every map is made by
/// [`ShardedMap::default`], and a table keeps its room when emptied or cloned. Growing from
/// hashbrown's smallest table through 4 and 8 buckets made two extra allocations and rehashes
/// per shard, ~8% of a NIC failure's instructions while the maps fill, and making that room on
/// a shard's first entry another 2%. A map thus takes 256 × 16 entries from the start (under
/// 300 KiB for the largest entries here; about 1 MiB for the five maps of a runner).
const FIRST_SHARD_ROOM: usize = 14;

fn hash_of<Q: std::hash::Hash + ?Sized>(key: &Q) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// The shard of a [`ShardedMap`] hash, of unequal sizes like a table's ([`skewed`]).
fn map_shard(hash: u64) -> usize {
    skewed(hash, MAP_SHARDS.trailing_zeros())
}

impl<K, V> Default for ShardedMap<K, V> {
    fn default() -> Self {
        let room = || HashTable::with_capacity(FIRST_SHARD_ROOM);
        ShardedMap { shards: (0..MAP_SHARDS).map(|_| room()).collect() }
    }
}

/// What needs no hash of a key.
impl<K, V> ShardedMap<K, V> {
    /// The number of entries.
    pub fn len(&self) -> usize {
        self.shards.iter().map(HashTable::len).sum()
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.shards.iter().flat_map(|s| s.iter()).map(|(k, v)| (k, v))
    }
}

/// The place of a key in a [`ShardedMap`]: its entry, or room for it.
pub enum MapEntry<'a, K, V> {
    /// The key has a value.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key has none; inserting puts the key given to [`ShardedMap::entry`] there.
    Vacant(VacantEntry<'a, K, V>),
}

/// A key's entry in a [`ShardedMap`].
pub struct OccupiedEntry<'a, K, V>(hashbrown::hash_table::OccupiedEntry<'a, (K, V)>);

/// Room for a key in a [`ShardedMap`].
pub struct VacantEntry<'a, K, V> {
    room: hashbrown::hash_table::VacantEntry<'a, (K, V)>,
    key: K,
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    /// The value.
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.0.get_mut().1
    }

    /// The value, for as long as the map is borrowed.
    pub fn into_mut(self) -> &'a mut V {
        &mut self.0.into_mut().1
    }

    /// Removes the entry; its value.
    pub fn remove(self) -> V {
        self.0.remove().0.1
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    /// Puts `value` there under the key; the value, in the map.
    pub fn insert(self, value: V) -> &'a mut V {
        &mut self.room.insert((self.key, value)).into_mut().1
    }
}

impl<'a, K, V> MapEntry<'a, K, V> {
    /// The value, `value` inserted when there was none.
    pub fn or_insert(self, value: V) -> &'a mut V {
        self.or_insert_with(|| value)
    }

    /// The value, `make`'s inserted when there was none.
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V {
        match self {
            MapEntry::Occupied(e) => e.into_mut(),
            MapEntry::Vacant(e) => e.insert(make()),
        }
    }
}

impl<K: std::hash::Hash + Eq, V> ShardedMap<K, V> {
    /// The entry of `key`, or room for it.
    pub fn entry(&mut self, key: K) -> MapEntry<'_, K, V> {
        let hash = hash_of(&key);
        let shard = &mut self.shards[map_shard(hash)];
        match shard.entry(hash, |(k, _)| *k == key, |(k, _)| hash_of(k)) {
            hashbrown::hash_table::Entry::Occupied(e) => MapEntry::Occupied(OccupiedEntry(e)),
            hashbrown::hash_table::Entry::Vacant(room) => {
                MapEntry::Vacant(VacantEntry { room, key })
            }
        }
    }

    /// The entry of `key` if it has one: to change or remove its value with one lookup.
    pub fn occupied<Q>(&mut self, key: &Q) -> Option<OccupiedEntry<'_, K, V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let hash = hash_of(key);
        let shard = &mut self.shards[map_shard(hash)];
        shard.find_entry(hash, |(k, _)| k.borrow() == key).ok().map(OccupiedEntry)
    }

    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let hash = hash_of(key);
        self.shards[map_shard(hash)].find(hash, |(k, _)| k.borrow() == key).map(|(_, v)| v)
    }

    /// Sets the value of `key`; the previous one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.entry(key) {
            MapEntry::Occupied(mut e) => Some(std::mem::replace(e.get_mut(), value)),
            MapEntry::Vacant(e) => {
                e.insert(value);
                None
            }
        }
    }
}

impl<K: std::hash::Hash + Eq, V> FromIterator<(K, V)> for ShardedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut map = ShardedMap::default();
        for (k, v) in items {
            map.insert(k, v);
        }
        map
    }
}

impl<K: std::hash::Hash + Eq, V: PartialEq> PartialEq for ShardedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for ShardedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Written as [`crate::persist::sorted_map`] writes a `HashMap`: the entries sorted by key,
/// so the same state gives the same bytes.
impl<K: Ord + serde::Serialize, V: serde::Serialize> serde::Serialize for ShardedMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, &V)> = self.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_seq(entries)
    }
}

impl<'de, K, V> serde::Deserialize<'de> for ShardedMap<K, V>
where
    K: serde::Deserialize<'de> + std::hash::Hash + Eq,
    V: serde::Deserialize<'de>,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries: Vec<(K, V)> = serde::Deserialize::deserialize(d)?;
        let len = entries.len();
        let map: ShardedMap<K, V> = entries.into_iter().collect();
        if map.len() != len {
            return Err(serde::de::Error::custom("a map key is repeated"));
        }
        Ok(map)
    }
}
