//! String interning: every property key, string value, vitrage type, edge label and entity id
//! is stored once and referred to by a 4-byte [`Sym`].

use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use super::chunked::Chunked;
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

/// Stores interned strings in a few large buffers.
///
/// A graph of a million resources interns a few million strings, so the interner spends as
/// little as possible per string: the text lives in [`Text`] chunks of a megabyte (no
/// allocation per string), each symbol is a `(start, len)` span into it, and the lookup table
/// holds only the 4-byte symbols, comparing candidates through their spans. A
/// `HashMap<String, Sym>` would cost about five times as much. Nothing here grows by copying:
/// the table is sharded ([`ShardedTable`]), and the text and the spans are chunked, so that
/// interning a new alarm id never pauses to rehash or move every string (at a million
/// resources the spans alone are 16 MiB).
#[derive(Debug)]
pub struct Interner {
    text: Text,
    spans: Chunked<(u32, u32)>,
    table: ShardedTable<Sym>,
    hasher: SeededHasher,
    literals: Literals,
}

/// The symbols of strings interned again and again from one allocation: a template's
/// literals (an alarm name, a severity: one `Arc<str>` shared by every action instance) and
/// the crate's own constants (`vitrage`, `Active`), which every deduced alarm interns.
///
/// Keyed by address and length, which name the text for as long as the allocation lives: the
/// cache keeps a clone of each `Arc`, and a `'static` str never moves. A hit costs a multiply
/// and a probe where interning hashes and compares the text. It is not saved (it refills),
/// and it is emptied when full so that templates loaded and removed again and again cannot
/// keep their literals alive without bound.
#[derive(Debug, Default)]
struct Literals {
    syms: rustc_hash::FxHashMap<(usize, usize), Sym>,
    kept: Vec<Arc<str>>,
}

/// Entries of [`Literals`] before it is emptied: far more than the literals of the rule sets
/// of a cloud.
const LITERALS_MAX: usize = 4096;

/// log2 of the bytes of a [`Text`] chunk.
const TEXT_BITS: u32 = 20;
const TEXT_CHUNK: usize = 1 << TEXT_BITS;

/// Text in chunks that never grow. A string's start is an offset in a space where chunk `k`
/// begins at `k * TEXT_CHUNK`; no string crosses into the next chunk's range, and one longer
/// than a chunk has a chunk of its own, followed by empty ones for the range it covers.
#[derive(Debug, Default)]
struct Text {
    chunks: Vec<String>,
}

impl Text {
    /// The text `start..start + len`, or `None` outside the text or a character.
    fn get(&self, start: u32, len: u32) -> Option<&str> {
        let off = (start as usize) & (TEXT_CHUNK - 1);
        self.chunks.get((start >> TEXT_BITS) as usize)?.get(off..off + len as usize)
    }

    /// Appends `s`; where it starts, `None` past 4 GiB.
    fn push(&mut self, s: &str) -> Option<u32> {
        let last_index = self.chunks.len().saturating_sub(1);
        if let Some(last) = self.chunks.last_mut()
            && last.capacity() - last.len() >= s.len()
            && last.len() + s.len() <= TEXT_CHUNK
        {
            let start = (last_index << TEXT_BITS) + last.len();
            let start = u32::try_from(start).ok()?;
            last.push_str(s);
            return Some(start);
        }
        // A new chunk at the next boundary, of its own when `s` is longer than a chunk.
        let start = self.chunks.len() << TEXT_BITS;
        let covered = s.len().div_ceil(TEXT_CHUNK).max(1);
        u32::try_from(start + covered * TEXT_CHUNK - 1).ok()?;
        let mut chunk = String::with_capacity(TEXT_CHUNK.max(s.len()));
        chunk.push_str(s);
        self.chunks.push(chunk);
        self.chunks.extend((1..covered).map(|_| String::new()));
        u32::try_from(start).ok()
    }

    fn reserve(&mut self, bytes: usize) {
        self.chunks.reserve(bytes.div_ceil(TEXT_CHUNK) + 1);
    }
}

impl Interner {
    /// Creates an interner holding `seed` at symbols `0..seed.len()`, in order.
    ///
    /// The graph seeds it with the well-known names of [`super::names`], so that those
    /// symbols are compile-time constants; a test checks that the seed has no duplicates,
    /// which would shift the later constants.
    pub fn with_seed(seed: &[&str]) -> Interner {
        let mut interner = Interner {
            text: Text::default(),
            spans: Chunked::default(),
            table: ShardedTable::new(),
            hasher: SeededHasher::default(),
            literals: Literals::default(),
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
        let len = u32::try_from(s.len()).map_err(|_| GraphError::InternerFull)?;
        let sym = Sym(u32::try_from(self.spans.len()).map_err(|_| GraphError::InternerFull)?);
        let start = self.text.push(s).ok_or(GraphError::InternerFull)?;
        self.spans.push((start, len));
        let (text, spans, hasher) = (&self.text, &self.spans, &self.hasher);
        self.table.insert_unique(hash, sym, |&sym| hasher.hash_one(resolve(text, spans, sym)));
        Ok(sym)
    }

    /// [`Interner::intern`] for a constant of the program, remembered by its address.
    pub fn intern_static(&mut self, s: &'static str) -> Result<Sym, GraphError> {
        self.intern_remembered(s, None)
    }

    /// [`Interner::intern`] for a shared string, remembered by its allocation (kept alive, so
    /// that no other text can take its address while it is remembered).
    pub fn intern_shared(&mut self, s: &Arc<str>) -> Result<Sym, GraphError> {
        self.intern_remembered(s, Some(s))
    }

    /// Interns `s` through [`Literals`]; `keep` is its allocation when `s` is not `'static`.
    fn intern_remembered(&mut self, s: &str, keep: Option<&Arc<str>>) -> Result<Sym, GraphError> {
        let key = (s.as_ptr() as usize, s.len());
        if let Some(&sym) = self.literals.syms.get(&key) {
            return Ok(sym);
        }
        let sym = self.intern(s)?;
        let literals = &mut self.literals;
        if literals.syms.len() >= LITERALS_MAX {
            literals.syms.clear();
            literals.kept.clear();
        }
        literals.syms.insert(key, sym);
        literals.kept.extend(keep.cloned());
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
        self.spans.len() == 0
    }
}

/// An interner is saved as its text and the length of each string, in symbol order (the
/// strings are contiguous in the text), and read back with its lookup table rebuilt: the same
/// strings get the same symbols. Text that does not split into distinct strings at character
/// boundaries is refused.
impl Serialize for Interner {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let lens: Vec<u32> = self.spans.iter().map(|&(_, len)| len).collect();
        let bytes = lens.iter().map(|&len| len as usize).sum();
        let mut text = String::with_capacity(bytes);
        for sym in 0..self.spans.len() {
            text.push_str(self.resolve(Sym(sym as u32)));
        }
        (text, lens).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Interner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Interner, D::Error> {
        use serde::de::Error;
        let (text, lens): (String, Vec<u32>) = Deserialize::deserialize(d)?;
        let mut interner = Interner {
            text: Text::default(),
            spans: Chunked::default(),
            table: ShardedTable::with_capacity(lens.len()),
            hasher: SeededHasher::default(),
            literals: Literals::default(),
        };
        interner.spans.reserve(lens.len());
        interner.text.reserve(text.len());
        let mut start = 0usize;
        for len in lens {
            let Some(s) = text.get(start..start + len as usize) else {
                return Err(D::Error::custom("interner text does not split into its strings"));
            };
            let next = interner.len();
            let sym = interner.intern(s).map_err(|_| D::Error::custom("interner overflow"))?;
            if sym.0 as usize != next {
                return Err(D::Error::custom("interner holds a string twice"));
            }
            start += len as usize;
        }
        if start != text.len() {
            return Err(D::Error::custom("interner text is longer than its strings"));
        }
        Ok(interner)
    }
}

/// The text of `sym`; a free function so that the table's rehash callback can borrow the text
/// while the table itself is borrowed mutably.
fn resolve<'a>(text: &'a Text, spans: &Chunked<(u32, u32)>, sym: Sym) -> &'a str {
    let Some(&(start, len)) = spans.get(sym.0 as usize) else {
        return "";
    };
    text.get(start, len).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_or_static_string_gets_the_symbol_of_its_text() {
        let mut interner = Interner::with_seed(&[]);
        let before = interner.intern("host nic failure").expect("intern");
        let (a, b): (Arc<str>, Arc<str>) = ("host nic failure".into(), "critical".into());
        assert_eq!(interner.intern_shared(&a).expect("shared"), before);
        assert_eq!(interner.intern_shared(&a).expect("again"), before);
        let critical = interner.intern_shared(&b).expect("new text");
        assert_eq!(interner.intern("critical").expect("intern"), critical);
        assert_eq!(interner.intern_static("critical").expect("static"), critical);
        assert_eq!(
            interner.intern_static("Active").expect("static"),
            interner.intern("Active").expect("intern")
        );
    }

    #[test]
    fn shared_strings_dropped_by_their_owners_never_answer_for_another_text() {
        let mut interner = Interner::with_seed(&[]);
        // Far past the cache's bound, each string dropped before the next is made: were the
        // cache not to keep them alive, an address would come back with another text.
        for i in 0..3 * LITERALS_MAX {
            let s: Arc<str> = format!("alarm {i}").into();
            let sym = interner.intern_shared(&s).expect("shared");
            drop(s);
            assert_eq!(interner.resolve(sym), format!("alarm {i}"));
        }
        assert!(interner.literals.syms.len() <= LITERALS_MAX);
        assert_eq!(interner.literals.kept.len(), interner.literals.syms.len());
    }

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

    /// Strings that fill chunks, straddle their ends and outgrow them stay where they were put,
    /// and read back the same after a save, with more interned after it.
    #[test]
    fn text_chunks_never_move_and_save_as_one_text() {
        let mut interner = Interner::with_seed(&["a"]);
        let long = "x".repeat(TEXT_CHUNK + 5);
        let mut strings: Vec<String> = (0..3_000).map(|i| format!("{i:0>500}")).collect();
        strings.insert(1_000, long.clone());
        strings.push(String::new());
        let syms: Vec<Sym> = strings.iter().map(|s| interner.intern(s).expect("intern")).collect();
        let first = interner.resolve(syms[0]).as_ptr();
        assert!(interner.text.chunks.len() > 3);
        for c in interner.text.chunks.iter().filter(|c| c.capacity() > 0) {
            assert!(c.capacity() >= TEXT_CHUNK && c.len() <= c.capacity().max(TEXT_CHUNK));
        }
        interner.intern("one more").expect("intern");
        assert_eq!(interner.resolve(syms[0]).as_ptr(), first, "a chunk moved");
        let saved = serde_json::to_string(&interner).expect("saves");
        let mut back: Interner = serde_json::from_str(&saved).expect("reads");
        for (s, sym) in strings.iter().zip(&syms) {
            assert_eq!((back.resolve(*sym), interner.resolve(*sym)), (s.as_str(), s.as_str()));
            assert_eq!(back.get(s), Some(*sym));
        }
        let next = back.intern("after the save").expect("intern");
        assert_eq!(back.resolve(next), "after the save");
        assert_eq!(back.intern(&long).expect("intern"), syms[1_000]);
        assert_eq!(serde_json::to_string(&back).ok().map(|t| t.len() > saved.len()), Some(true));
    }

    #[test]
    fn a_saved_interner_that_does_not_split_into_distinct_strings_is_refused() {
        let read = |text: &str| serde_json::from_str::<Interner>(text).map(|i| i.len());
        assert_eq!(read(r#"["abc",[1,2]]"#).ok(), Some(2));
        let refused = [
            (r#"["aa",[1,1]]"#, "holds a string twice"),
            (r#"["abc",[1,5]]"#, "does not split"),
            (r#"["abc",[1,1]]"#, "longer than its strings"),
        ];
        for (text, why) in refused {
            let error = read(text).expect_err(text).to_string();
            assert!(error.contains(why), "{text}: {error}");
        }
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
