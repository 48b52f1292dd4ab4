//! The identity of an action, compared and hashed without reading its text.
//!
//! Every action instance the tracker and the workflows hold names its action
//! (`<scenario id>-action<j>`, some 40 bytes), and every event hashes and compares a few
//! hundred of them as map keys. An `Arc<str>` compares its text even against itself (the
//! standard library's pointer shortcut needs a sized type), and hashes all of it each time.
//! An [`ActionId`] keeps the hash of its text, so hashing it writes one word, and compares
//! the pointers, then the hashes, before the text.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

/// An action id, shared rather than copied. Equal texts are equal ids whatever their
/// allocation; ordered, shown and saved as the text.
///
/// One pointer wide: an id is in every key of the tracker's and the workflows' maps and in
/// every resolved action, so its width is paid per activation several times over (with the
/// text's `Arc<str>` and the hash beside it, 24 bytes, the tracker's buckets were a fifth
/// larger). The hash sits behind the pointer with the text, in memory all the ids of one
/// action share.
#[derive(Clone)]
pub struct ActionId(Arc<Shared>);

struct Shared {
    /// The hash of `text` with a fixed hasher: the same in every process.
    hash: u64,
    text: Box<str>,
}

impl ActionId {
    /// The id with text `text`.
    pub fn new(text: &str) -> ActionId {
        let hash = rustc_hash::FxBuildHasher.hash_one(text);
        ActionId(Arc::new(Shared { hash, text: text.into() }))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }
}

impl From<&str> for ActionId {
    fn from(text: &str) -> ActionId {
        ActionId::new(text)
    }
}

impl std::ops::Deref for ActionId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.text
    }
}

/// The same allocation first (the ids of one action are clones of the rule set's), then the
/// hashes, then the text.
impl PartialEq for ActionId {
    fn eq(&self, other: &ActionId) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash && self.0.text == other.0.text)
    }
}

impl Eq for ActionId {}

impl Hash for ActionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl PartialOrd for ActionId {
    fn partial_cmp(&self, other: &ActionId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ActionId {
    fn cmp(&self, other: &ActionId) -> std::cmp::Ordering {
        self.0.text.cmp(&other.0.text)
    }
}

impl std::fmt::Debug for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0.text, f)
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl Serialize for ActionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.text)
    }
}

impl<'de> Deserialize<'de> for ActionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ActionId, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(ActionId::new(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_one_text_are_one_id_whatever_their_allocation() {
        let (a, b, c) =
            (ActionId::new("s-action0"), ActionId::new("s-action0"), ActionId::new("s-action1"));
        assert!(a == b && !Arc::ptr_eq(&a.0, &b.0) && a != c);
        assert_eq!(std::mem::size_of::<ActionId>(), std::mem::size_of::<usize>());
        let hash = |id: &ActionId| rustc_hash::FxBuildHasher.hash_one(id);
        assert_eq!(hash(&a), hash(&b));
        assert!(a < c && format!("{a} {a:?}") == "s-action0 \"s-action0\"");
        let text = serde_json::to_string(&a).expect("json");
        assert_eq!(text, "\"s-action0\"");
        assert_eq!(serde_json::from_str::<ActionId>(&text).expect("reads"), a);
    }
}
