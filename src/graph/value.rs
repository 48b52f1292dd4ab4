//! Property values and the compact per-vertex property list.

use serde::{Deserialize, Serialize};

use super::intern::Sym;

/// A property value.
///
/// Vitrage's vertex properties are strings, booleans (`vitrage_is_deleted`, `is_marked_down`)
/// or null. Template matching compares strings exactly, so only [`Value::Str`] can ever equal a
/// template value: `Bool(true)` does not equal the template string `"True"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    /// Null (Python `None`).
    Null,
    /// A boolean.
    Bool(bool),
    /// An interned string.
    Str(Sym),
    /// A number, kept as the interned text of its literal (for example from a JSON topology).
    /// It is a separate variant so that the number `4` never equals the string `"4"`.
    Num(Sym),
}

impl Value {
    /// The symbol of a string value; `None` for every other kind.
    pub fn as_str(self) -> Option<Sym> {
        match self {
            Value::Str(sym) => Some(sym),
            _ => None,
        }
    }

    /// The value of a boolean; `None` for every other kind.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// A vertex's properties: a boxed slice of `(key, value)` pairs sorted by key.
///
/// A million vertices with a handful of properties each make a `HashMap` per vertex far too
/// expensive; a sorted slice costs 12 bytes a property plus one allocation, and lookups are a
/// binary search over a few entries. Updates rebuild the slice, which also lets the previous
/// slice be handed to the change log without copying.
///
/// It is saved as its pairs; a graph being restored checks that they are sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Props(Box<[(Sym, Value)]>);

impl Props {
    /// Builds a property list; a later entry for the same key overrides an earlier one.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Sym, Value)>) -> Props {
        let mut pairs: Vec<(Sym, Value)> = pairs.into_iter().collect();
        // A stable sort keeps equal keys in input order, so keeping the last of each run
        // implements "later overrides earlier". Done in place: one list is allocated.
        pairs.sort_by_key(|&(key, _)| key);
        let mut kept = 0;
        for i in 0..pairs.len() {
            if kept > 0 && pairs[kept - 1].0 == pairs[i].0 {
                pairs[kept - 1].1 = pairs[i].1;
            } else {
                pairs[kept] = pairs[i];
                kept += 1;
            }
        }
        pairs.truncate(kept);
        // Exactly as long as the properties: a vertex keeps its list for its whole life, and
        // shrinking in place (mimalloc keeps a block shrunk by up to half) would keep the room.
        if pairs.capacity() == kept {
            Props(pairs.into_boxed_slice())
        } else {
            Props(pairs.as_slice().into())
        }
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: Sym) -> Option<Value> {
        let index = self.0.binary_search_by_key(&key, |&(k, _)| k).ok()?;
        Some(self.0[index].1)
    }

    /// The properties in key (symbol) order.
    pub fn iter(&self) -> impl Iterator<Item = (Sym, Value)> + '_ {
        self.0.iter().copied()
    }

    /// The number of properties.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns these properties merged with `updates`, or `None` when nothing changes.
    ///
    /// As in Vitrage's `update_vertex`, an update to [`Value::Null`] removes the property.
    pub(crate) fn merged(&self, updates: &Props) -> Option<Props> {
        let changes = updates.iter().any(|(key, value)| match self.get(key) {
            Some(old) => value == Value::Null || old != value,
            None => value != Value::Null,
        });
        if !changes {
            return None;
        }
        let mut out = Vec::with_capacity(self.0.len() + updates.0.len());
        let (mut old, mut new) = (self.0.iter().peekable(), updates.0.iter().peekable());
        loop {
            let next = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(_), None) => old.next(),
                (None, Some(_)) => new.next(),
                (Some(a), Some(b)) if a.0 < b.0 => old.next(),
                (Some(a), Some(b)) if a.0 > b.0 => new.next(),
                (Some(_), Some(_)) => {
                    old.next();
                    new.next()
                }
            };
            if let Some(&(key, value)) = next
                && value != Value::Null
            {
                out.push((key, value));
            }
        }
        Some(Props(out.into_boxed_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> Sym {
        Sym(n)
    }

    #[test]
    fn from_pairs_sorts_and_later_wins() {
        let props = Props::from_pairs([
            (s(5), Value::Bool(true)),
            (s(2), Value::Str(s(9))),
            (s(5), Value::Bool(false)),
        ]);
        assert_eq!(
            props.iter().collect::<Vec<_>>(),
            [(s(2), Value::Str(s(9))), (s(5), Value::Bool(false))]
        );
        assert_eq!(props.get(s(5)), Some(Value::Bool(false)));
        assert_eq!(props.get(s(3)), None);
    }

    #[test]
    fn merge_updates_adds_and_removes_with_null() {
        let props = Props::from_pairs([(s(1), Value::Str(s(10))), (s(3), Value::Str(s(30)))]);
        let updates = Props::from_pairs([
            (s(1), Value::Null),
            (s(2), Value::Bool(true)),
            (s(3), Value::Str(s(31))),
            (s(4), Value::Null),
        ]);
        let merged = props.merged(&updates).expect("changed");
        assert_eq!(
            merged.iter().collect::<Vec<_>>(),
            [(s(2), Value::Bool(true)), (s(3), Value::Str(s(31)))]
        );
    }

    #[test]
    fn merge_without_effect_is_none() {
        let props = Props::from_pairs([(s(1), Value::Str(s(10)))]);
        let same = Props::from_pairs([(s(1), Value::Str(s(10))), (s(2), Value::Null)]);
        assert_eq!(props.merged(&same), None);
    }
}
