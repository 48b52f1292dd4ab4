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
/// encoding is its own, so two are equal exactly when their lists are.
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
    pub fn ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let mut rest = &self.0[..];
        while let Some((len, after)) = rest.split_first_chunk::<4>() {
            let n = u32::from_le_bytes(*len) as usize;
            let Some(id) = after.get(..n).and_then(|id| std::str::from_utf8(id).ok()) else {
                break;
            };
            ids.push(id.to_string());
            rest = &after[n..];
        }
        ids
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
        self.ids().serialize(s)
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
            assert_eq!(ids.ids(), strings, "{pairs:?}");
            assert_eq!(BoundIds::from_sorted(&strings), ids);
        }
    }

    #[test]
    fn lists_are_equal_only_when_their_identities_are() {
        let lists: &[&[&str]] =
            &[&[], &[""], &["", ""], &["a", "b"], &["a;b"], &["1;a", "b"], &["1;a1;b"], &["12;"]];
        for (i, a) in lists.iter().enumerate() {
            let ids = BoundIds::from_sorted(a);
            assert_eq!(ids.ids(), *a);
            for b in &lists[i + 1..] {
                assert_ne!(ids, BoundIds::from_sorted(b), "{a:?} {b:?}");
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
