//! Binary snapshots of in-memory state: the frame around them, and the serde helpers that make
//! an encoding a function of the state alone.
//!
//! # Encoding
//!
//! Payloads are [postcard](https://docs.rs/postcard) 1.x, through serde:
//! - Its wire format is a published specification, stable across the 1.x releases, so a
//!   snapshot written by one build reads in the next as long as the types keep their shape
//!   (and when they do not, the frame's version refuses it).
//! - Integers are varints. A runner's state is mostly `u32` ids (vertices, symbols, rules),
//!   which take one to three bytes instead of four or eight, with no compression pass.
//! - It writes no field names or type tags (unlike JSON, CBOR or MessagePack), and it decodes
//!   with serde's bounded pre-allocation, so a corrupt length cannot allocate gigabytes.
//! - bincode 2, the other serde binary format of that kind, is unmaintained since its authors
//!   stopped development (RUSTSEC-2025-0141, which names postcard as an alternative).
//!
//! # Frame
//!
//! ```text
//! magic (4 bytes) | version (1 byte) | payload length (u64 LE) | CRC-32 of the payload (u32 LE) | payload
//! ```
//!
//! The magic says what the bytes are, the version refuses a format this build does not read,
//! and the checksum turns a corrupt or truncated payload into an error before anything is
//! decoded. Bytes after the frame are returned to the caller, so frames can be concatenated.
//!
//! # Determinism
//!
//! Hash maps and sets are written sorted ([`sorted_map`], [`sorted_set`]): the same state gives
//! the same bytes, whatever the maps' iteration order, so a test can compare two states by
//! their snapshots.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a frame holds, and which version of its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// Four bytes naming the kind of snapshot.
    pub magic: [u8; 4],
    /// The version of the payload's shape: a build reads only its own.
    pub version: u8,
}

/// The length of a frame's header.
const HEADER: usize = 4 + 1 + 8 + 4;

/// Why bytes do not decode as a frame of a format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a snapshot of this kind.
    #[error("not a {expected} snapshot")]
    NotASnapshot {
        /// The magic expected, as text.
        expected: String,
    },
    /// The snapshot is of another version of the format.
    #[error("snapshot format version {found}; this build reads version {supported}")]
    Version {
        /// The version in the snapshot.
        found: u8,
        /// The version this build reads.
        supported: u8,
    },
    /// The payload is shorter than its header says, or does not match its checksum.
    #[error("snapshot is corrupt: {0}")]
    Corrupt(String),
}

/// Writes `value` in a frame of `format`.
pub fn encode<T: Serialize + ?Sized>(
    format: Format,
    value: &T,
) -> Result<Vec<u8>, postcard::Error> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(&format.magic);
    out.push(format.version);
    out.extend_from_slice(&[0; 12]);
    let mut out = postcard::to_extend(value, out)?;
    let payload = &out[HEADER..];
    let len = (payload.len() as u64).to_le_bytes();
    let crc = crc32fast::hash(payload).to_le_bytes();
    out[5..13].copy_from_slice(&len);
    out[13..HEADER].copy_from_slice(&crc);
    Ok(out)
}

/// Reads a frame of `format` from the start of `bytes`: the value, and the bytes after the
/// frame.
pub fn decode<T: DeserializeOwned>(
    format: Format,
    bytes: &[u8],
) -> Result<(T, &[u8]), DecodeError> {
    let not_ours =
        || DecodeError::NotASnapshot { expected: String::from_utf8_lossy(&format.magic).into() };
    if bytes.get(..4) != Some(&format.magic[..]) {
        return Err(not_ours());
    }
    let header = bytes.get(..HEADER).ok_or_else(|| corrupt("truncated header"))?;
    if header[4] != format.version {
        return Err(DecodeError::Version { found: header[4], supported: format.version });
    }
    let len = u64::from_le_bytes(header[5..13].try_into().map_err(|_| corrupt("header"))?);
    let crc = u32::from_le_bytes(header[13..HEADER].try_into().map_err(|_| corrupt("header"))?);
    let rest = &bytes[HEADER..];
    let len = usize::try_from(len).ok().filter(|&n| n <= rest.len()).ok_or_else(|| {
        corrupt(&format!("{} bytes of payload, the header says {len}", rest.len()))
    })?;
    let (payload, after) = rest.split_at(len);
    if crc32fast::hash(payload) != crc {
        return Err(corrupt("checksum mismatch"));
    }
    let (value, unread) = postcard::take_from_bytes(payload)
        .map_err(|e| corrupt(&format!("does not decode: {e}")))?;
    if !unread.is_empty() {
        return Err(corrupt(&format!("{} bytes left after the value", unread.len())));
    }
    Ok((value, after))
}

fn corrupt(why: &str) -> DecodeError {
    DecodeError::Corrupt(why.to_string())
}

/// A hash map as a sequence of `(key, value)` pairs sorted by key; a repeated key is refused
/// on reading. For `#[serde(with = "crate::persist::sorted_map")]`.
pub mod sorted_map {
    use super::*;
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash};

    /// Writes the entries sorted by key.
    pub fn serialize<K, V, H, S>(map: &HashMap<K, V, H>, s: S) -> Result<S::Ok, S::Error>
    where
        K: Ord + Serialize,
        V: Serialize,
        S: Serializer,
    {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_seq(entries)
    }

    /// Reads the entries.
    pub fn deserialize<'de, K, V, H, D>(d: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let entries: Vec<(K, V)> = Vec::deserialize(d)?;
        let mut map = HashMap::with_capacity_and_hasher(entries.len(), H::default());
        for (k, v) in entries {
            if map.insert(k, v).is_some() {
                return Err(D::Error::custom("a map key is repeated"));
            }
        }
        Ok(map)
    }
}

/// A hash set as a sorted sequence; a repeated element is refused on reading. For
/// `#[serde(with = "crate::persist::sorted_set")]`.
pub mod sorted_set {
    use super::*;
    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hash};

    /// Writes the elements sorted.
    pub fn serialize<T, H, S>(set: &HashSet<T, H>, s: S) -> Result<S::Ok, S::Error>
    where
        T: Ord + Serialize,
        S: Serializer,
    {
        let mut items: Vec<&T> = set.iter().collect();
        items.sort_unstable();
        s.collect_seq(items)
    }

    /// Reads the elements.
    pub fn deserialize<'de, T, H, D>(d: D) -> Result<HashSet<T, H>, D::Error>
    where
        T: Deserialize<'de> + Eq + Hash,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let items: Vec<T> = Vec::deserialize(d)?;
        let mut set = HashSet::with_capacity_and_hasher(items.len(), H::default());
        for item in items {
            if !set.insert(item) {
                return Err(D::Error::custom("a set element is repeated"));
            }
        }
        Ok(set)
    }
}

/// A JSON object as its text: binary formats without type tags cannot read JSON's
/// self-described values. For `#[serde(with = "crate::persist::json_text")]`.
pub mod json_text {
    use super::*;
    use serde_json::{Map, Value};

    /// Writes the object as JSON text.
    pub fn serialize<S: Serializer>(map: &Map<String, Value>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Value::Object(map.clone()).to_string())
    }

    /// Reads the object from JSON text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustc_hash::FxHashMap;

    const F: Format = Format { magic: *b"TEST", version: 3 };

    #[test]
    fn a_frame_round_trips_and_keeps_what_follows_it() {
        let value: (u32, String) = (7, "seven".into());
        let mut bytes = encode(F, &value).expect("encodes");
        bytes.extend_from_slice(b"tail");
        let (back, rest): ((u32, String), &[u8]) = decode(F, &bytes).expect("decodes");
        assert_eq!(back, value);
        assert_eq!(rest, b"tail");
    }

    #[test]
    fn bad_frames_are_errors() {
        let bytes = encode(F, &(1u32, "x".to_string())).expect("encodes");
        let read = |b: &[u8]| decode::<(u32, String)>(F, b).map(|(v, _)| v);
        assert!(matches!(read(b"JUNK...."), Err(DecodeError::NotASnapshot { .. })));
        assert!(matches!(read(&bytes[..3]), Err(DecodeError::NotASnapshot { .. })));
        for n in 4..bytes.len() {
            assert!(matches!(read(&bytes[..n]), Err(DecodeError::Corrupt(_))), "cut at {n}");
        }
        let mut newer = bytes.clone();
        newer[4] = 4;
        assert_eq!(read(&newer), Err(DecodeError::Version { found: 4, supported: 3 }));
        for i in HEADER..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x10;
            assert!(matches!(read(&flipped), Err(DecodeError::Corrupt(_))), "flip at {i}");
        }
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Maps {
        #[serde(with = "sorted_map")]
        m: FxHashMap<u32, String>,
    }

    #[test]
    fn maps_are_written_sorted_whatever_their_insertion_order() {
        let mut a = Maps { m: FxHashMap::default() };
        let mut b = Maps { m: FxHashMap::default() };
        for i in 0..100 {
            a.m.insert(i, i.to_string());
            b.m.insert(99 - i, (99 - i).to_string());
        }
        let (ea, eb) = (encode(F, &a).expect("a"), encode(F, &b).expect("b"));
        assert_eq!(ea, eb);
        let (back, _): (Maps, _) = decode(F, &ea).expect("decodes");
        assert_eq!(back, a);
        let repeated = encode(F, &vec![(1u32, "a"), (1, "b")]).expect("encodes");
        assert!(matches!(decode::<Maps>(F, &repeated), Err(DecodeError::Corrupt(_))));
    }
}
