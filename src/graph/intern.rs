//! String interning: every property key, string value, vitrage type, edge label and entity id
//! is stored once and referred to by a 4-byte [`Sym`].

use std::fmt;
use std::hash::BuildHasher;

use super::sharded::{SeededHasher, ShardedTable};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::GraphError;

/// An interned string. Two `Sym`s from the same [`Interner`] are equal exactly when their
/// strings are equal, so comparing properties never touches the text.
///
/// The order of `Sym`s is the order in which strings were first interned, not lexical order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sym(pub(crate) u32);

impl Sym {
    /// The dense index of this symbol, for use as a key in side tables.
    pub fn index(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sym({})", self.0)
    }
}

/// Stores interned strings in one contiguous buffer.
///
/// A graph of a million resources interns a few million strings, so the interner spends as
/// little as possible per string: the text lives in a single `String` (no allocation per
/// string), each symbol is a `(start, len)` span into it, and the lookup table holds only the
/// 4-byte symbols, comparing candidates through their spans. A `HashMap<String, Sym>` would
/// cost about five times as much. The table is sharded ([`ShardedTable`]) so that interning
/// a new alarm id never pauses to rehash every string.
#[derive(Debug)]
pub struct Interner {
    text: String,
    spans: Vec<(u32, u32)>,
    table: ShardedTable<Sym>,
    hasher: SeededHasher,
}

impl Interner {
    /// Creates an interner holding `seed` at symbols `0..seed.len()`, in order.
    ///
    /// The graph seeds it with the well-known names of [`super::names`], so that those
    /// symbols are compile-time constants; a test checks that the seed has no duplicates,
    /// which would shift the later constants.
    pub fn with_seed(seed: &[&str]) -> Interner {
        let mut interner = Interner {
            text: String::new(),
            spans: Vec::new(),
            table: ShardedTable::new(),
            hasher: SeededHasher::default(),
        };
        for name in seed {
            // A seed is a short constant list, far from the 4 GiB limit, so this cannot fail.
            let _ = interner.intern(name);
        }
        interner
    }

    /// Returns the symbol of `s`, adding it if it is new.
    ///
    /// Fails only when the interner would exceed `u32::MAX` symbols or 4 GiB of text, far
    /// beyond what the memory budget allows.
    pub fn intern(&mut self, s: &str) -> Result<Sym, GraphError> {
        let hash = self.hasher.hash_one(s);
        if let Some(&sym) = self.table.find(hash, |&sym| resolve(&self.text, &self.spans, sym) == s)
        {
            return Ok(sym);
        }
        let start = u32::try_from(self.text.len()).map_err(|_| GraphError::InternerFull)?;
        let len = u32::try_from(s.len()).map_err(|_| GraphError::InternerFull)?;
        start.checked_add(len).ok_or(GraphError::InternerFull)?;
        let sym = Sym(u32::try_from(self.spans.len()).map_err(|_| GraphError::InternerFull)?);
        self.text.push_str(s);
        self.spans.push((start, len));
        let (text, spans, hasher) = (&self.text, &self.spans, &self.hasher);
        self.table.insert_unique(hash, sym, |&sym| hasher.hash_one(resolve(text, spans, sym)));
        Ok(sym)
    }

    /// Makes room for about `strings` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.text.reserve(bytes);
        self.spans.reserve(strings);
        let (text, spans, hasher) = (&self.text, &self.spans, &self.hasher);
        self.table.reserve(strings, |&sym| hasher.hash_one(resolve(text, spans, sym)));
    }

    /// Returns the symbol of `s` if it was interned, without adding it.
    ///
    /// A string that was never interned cannot be the value of any property, which lets a
    /// template value that is absent here be rejected without scanning the graph.
    pub fn get(&self, s: &str) -> Option<Sym> {
        let hash = self.hasher.hash_one(s);
        self.table.find(hash, |&sym| self.resolve(sym) == s).copied()
    }

    /// Returns the text of `sym`, or `""` for a symbol from another interner that is out of
    /// range here.
    pub fn resolve(&self, sym: Sym) -> &str {
        resolve(&self.text, &self.spans, sym)
    }

    /// The number of interned strings.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether nothing is interned (never true for a graph's interner, which is seeded).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// An interner is saved as its text and the length of each string, in symbol order (the
/// strings are contiguous in the text), and read back with its lookup table rebuilt: the same
/// strings get the same symbols. Text that does not split into distinct strings at character
/// boundaries is refused.
impl Serialize for Interner {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let lens: Vec<u32> = self.spans.iter().map(|&(_, len)| len).collect();
        (&self.text, lens).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Interner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Interner, D::Error> {
        use serde::de::Error;
        let (text, lens): (String, Vec<u32>) = Deserialize::deserialize(d)?;
        let mut interner = Interner {
            text,
            spans: Vec::with_capacity(lens.len()),
            table: ShardedTable::with_capacity(lens.len()),
            hasher: SeededHasher::default(),
        };
        let mut start = 0u32;
        for len in lens {
            let end =
                start.checked_add(len).ok_or_else(|| D::Error::custom("interner overflow"))?;
            let Some(s) = interner.text.get(start as usize..end as usize) else {
                return Err(D::Error::custom("interner text does not split into its strings"));
            };
            let hash = interner.hasher.hash_one(s);
            let (text, spans) = (&interner.text, &interner.spans);
            if interner.table.find(hash, |&sym| resolve(text, spans, sym) == s).is_some() {
                return Err(D::Error::custom("interner holds a string twice"));
            }
            let sym = Sym(u32::try_from(interner.spans.len())
                .map_err(|_| D::Error::custom("interner overflow"))?);
            interner.spans.push((start, len));
            let (text, spans, hasher) = (&interner.text, &interner.spans, &interner.hasher);
            interner
                .table
                .insert_unique(hash, sym, |&sym| hasher.hash_one(resolve(text, spans, sym)));
            start = end;
        }
        if start as usize != interner.text.len() {
            return Err(D::Error::custom("interner text is longer than its strings"));
        }
        Ok(interner)
    }
}

/// The text of `sym`; a free function so that the table's rehash callback can borrow the text
/// while the table itself is borrowed mutably.
fn resolve<'a>(text: &'a str, spans: &[(u32, u32)], sym: Sym) -> &'a str {
    let Some(&(start, len)) = spans.get(sym.0 as usize) else {
        return "";
    };
    let start = start as usize;
    text.get(start..start + len as usize).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent_and_resolves() {
        let mut interner = Interner::with_seed(&["a", "b"]);
        assert_eq!(interner.get("a"), Some(Sym(0)));
        let x = interner.intern("host-1").expect("intern");
        assert_eq!(interner.intern("host-1").expect("intern"), x);
        assert_eq!(interner.resolve(x), "host-1");
        assert_eq!(interner.get("host-2"), None);
        assert_eq!(interner.len(), 3);
        let empty = interner.intern("").expect("intern");
        assert_eq!(interner.resolve(empty), "");
        assert_eq!(interner.get(""), Some(empty));
        assert_eq!(interner.resolve(Sym(99)), "");
    }

    #[test]
    fn many_strings_survive_table_growth() {
        let mut interner = Interner::with_seed(&[]);
        let syms: Vec<Sym> =
            (0..10_000).map(|i| interner.intern(&format!("s{i}")).expect("intern")).collect();
        for (i, sym) in syms.iter().enumerate() {
            assert_eq!(interner.get(&format!("s{i}")), Some(*sym));
            assert_eq!(interner.resolve(*sym), format!("s{i}"));
        }
    }
}
