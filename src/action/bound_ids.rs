//! The external identities an activation bound, as a workflow request's key names them.
//!
//! A request's key, and the count of its activation's appearances (kept for ever, as it
//! numbers the next request), name the bound vertices by `<vitrage_type>:<entity id>`,
//! sorted, so that a replay after a crash, where slot ids may differ, asks for the same
//! execution. They are kept in one allocation, each identity after its length: as a list
//! of strings they were five allocations per request and ~190 bytes per activation for ever.
//! (Kept as their JSON array instead, they cost more to write than the list did: escaping
//! goes byte by byte.)

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::sync::Arc;

/// The sorted external identities of an activation's vertices.
///
/// Each identity is held as its length in bytes (4, little-endian) and its text: a list's
/// encoding is its own, so two are equal exactly when their lists are. Ordered as the lists
/// are (identity by identity), so a map keyed by them is saved in the order it was when it
/// held lists of strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BoundIds(Arc<[u8]>);

/// The bytes a list of this size is written in on the stack before its one allocation.
const STACK: usize = 256;

impl BoundIds {
    /// The identities `<type>:<id>` of the (type, entity id) pairs, sorted by that text as
    /// its strings would sort; `pairs` is sorted in place.
    pub fn of(pairs: &mut [(&str, &str)]) -> BoundIds {
        pairs.sort_unstable_by(joined_order);
        let len = pairs.iter().map(|(ty, id)| 4 + ty.len() + 1 + id.len()).sum();
        let (mut stack, mut heap) = ([0u8; STACK], Vec::new());
        let buf = match stack.get_mut(..len) {
            Some(buf) => buf,
            None => {
                heap.resize(len, 0);
                &mut heap[..]
            }
        };
        let mut out = Writer { buf, at: 0 };
        for (ty, id) in pairs.iter() {
            out.put(&length(ty.len() + 1 + id.len()));
            out.put(ty.as_bytes());
            out.put(b":");
            out.put(id.as_bytes());
        }
        BoundIds(Arc::from(&*out.buf))
    }

    /// The identities of a list already sorted (a saved one), kept in its order.
    pub fn from_sorted<S: AsRef<str>>(ids: &[S]) -> BoundIds {
        let mut bytes = Vec::new();
        for id in ids {
            bytes.extend_from_slice(&length(id.as_ref().len()));
            bytes.extend_from_slice(id.as_ref().as_bytes());
        }
        BoundIds(Arc::from(bytes))
    }

    /// The identities, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        Ids(&self.0)
    }
}

/// The identities of an encoded list, read one after the other.
struct Ids<'a>(&'a [u8]);

impl<'a> Iterator for Ids<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (len, after) = self.0.split_first_chunk::<4>()?;
        let n = u32::from_le_bytes(*len) as usize;
        let id = after.get(..n)?;
        self.0 = &after[n..];
        std::str::from_utf8(id).ok()
    }
}

impl PartialOrd for BoundIds {
    fn partial_cmp(&self, other: &BoundIds) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BoundIds {
    fn cmp(&self, other: &BoundIds) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

/// An identity's length as it is written before it (no identity is 4 GiB long).
fn length(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

/// Writes pieces one after the other into a buffer made to their total length.
struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, piece: &[u8]) {
        if let Some(room) = self.buf.get_mut(self.at..self.at + piece.len()) {
            room.copy_from_slice(piece);
            self.at += piece.len();
        }
    }
}

/// The order of `<type>:<id>` texts, without building them. Types are most often equal
/// (an activation's instances), and then the ids decide.
fn joined_order(a: &(&str, &str), b: &(&str, &str)) -> Ordering {
    if a.0 == b.0 {
        return a.1.cmp(b.1);
    }
    match a.0.len().min(b.0.len()) {
        // Unless one type is a prefix of the other, the types' first difference decides.
        n if a.0.as_bytes()[..n] != b.0.as_bytes()[..n] => a.0.cmp(b.0),
        _ => joined_bytes(a).cmp(joined_bytes(b)),
    }
}

fn joined_bytes<'a>(&(ty, id): &(&'a str, &'a str)) -> impl Iterator<Item = u8> + 'a {
    ty.bytes().chain(std::iter::once(b':')).chain(id.bytes())
}

/// Saved as the list of strings it stands for.
impl Serialize for BoundIds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // With its length first: the snapshot format needs it before the elements.
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.iter().count()))?;
        for id in self.iter() {
            seq.serialize_element(id)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for BoundIds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ids: Vec<String> = Deserialize::deserialize(d)?;
        Ok(BoundIds::from_sorted(&ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the list of strings was: each `<type>:<id>` built, then sorted.
    fn joined_and_sorted(pairs: &[(&str, &str)]) -> Vec<String> {
        let mut ids: Vec<String> = pairs.iter().map(|(ty, id)| format!("{ty}:{id}")).collect();
        ids.sort();
        ids
    }

    #[test]
    fn identities_sort_as_their_joined_text_would() {
        let cases: &[&[(&str, &str)]] = &[
            &[
                ("nova.instance", "vm-2"),
                ("vitrage", "host nic failure:h"),
                ("nova.instance", "vm-10"),
            ],
            // A type that is a prefix of another, with ids around ':' and '.' in byte order.
            &[("vitrage.x", "a"), ("vitrage", "b"), ("vitrage", ".z"), ("vit", "rage:a")],
            &[("a", "b!"), ("a", "b"), ("a:b", ""), ("a", ""), ("", "a")],
            &[("é", "x"), ("e", "\u{301}"), ("zabbix", "quote \" and \\ and \n")],
        ];
        for pairs in cases {
            let ids = BoundIds::of(&mut pairs.to_vec());
            let strings = joined_and_sorted(pairs);
            assert_eq!(ids.iter().collect::<Vec<_>>(), strings, "{pairs:?}");
            assert_eq!(BoundIds::from_sorted(&strings), ids);
        }
    }

    #[test]
    fn lists_are_equal_and_ordered_as_their_identities_are() {
        let lists: &[&[&str]] =
            &[&[], &[""], &["", ""], &["a", "b"], &["a;b"], &["1;a", "b"], &["1;a1;b"], &["12;"]];
        for (i, a) in lists.iter().enumerate() {
            let ids = BoundIds::from_sorted(a);
            assert_eq!(ids.iter().collect::<Vec<_>>(), *a);
            for b in &lists[i + 1..] {
                assert_ne!(ids, BoundIds::from_sorted(b), "{a:?} {b:?}");
                assert_eq!(ids.cmp(&BoundIds::from_sorted(b)), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn identities_are_saved_as_the_list_of_strings() {
        let ids = BoundIds::of(&mut [("nova.instance", "vm-1"), ("nova.host", "h-1")]);
        let text = serde_json::to_string(&ids).expect("saves");
        assert_eq!(text, r#"["nova.host:h-1","nova.instance:vm-1"]"#);
        assert_eq!(serde_json::from_str::<BoundIds>(&text).expect("reads"), ids);
    }
}
