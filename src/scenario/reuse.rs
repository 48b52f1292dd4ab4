//! Reading resources and edges into the buffers of the one read before.
//!
//! A streamed topology is handed on element by element, and each element is dropped once
//! staged: read the derived way, every resource and edge allocates three or four strings
//! only to free them again, a fifth of reading a 10k-resource cloud. These seeds overwrite
//! one [`Resource`] (or the three strings of one edge) in place instead.
//!
//! They accept exactly what the derived `Deserialize` does, which [`super::stream_slice`]
//! relies on: a fast read that fails is read again the checked way, and the checked read's
//! error is the one reported. A struct written as a JSON array, which the derived code also
//! takes, is read by the derived code. Keys are matched without copying them
//! ([`next_field`]), as the scenario's top level matches its own.

use std::fmt;

use serde::Deserialize;
use serde::de::value::SeqAccessDeserializer;
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Edge, Resource};

/// Reads a resource into `.0`, reusing its strings.
pub(super) struct ResourceInto<'r>(pub &'r mut Resource);

/// Reads an edge into the three strings, reusing them.
pub(super) struct EdgeInto<'e> {
    pub source: &'e mut String,
    pub target: &'e mut String,
    pub relationship_type: &'e mut String,
}

const RESOURCE_FIELDS: &[&str] = &["id", "type", "name", "state", "properties"];
const EDGE_FIELDS: &[&str] = &["source", "target", "relationship_type"];

impl<'de> DeserializeSeed<'de> for ResourceInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("Resource", RESOURCE_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for ResourceInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Resource")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        *self.0 = Resource::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        let mut seen = [false; 5];
        while let Some(i) = next_field(&mut map, RESOURCE_FIELDS, &mut seen)? {
            match i {
                0 => map.next_value_seed(StringInto(&mut r.id))?,
                1 => map.next_value_seed(StringInto(&mut r.kind))?,
                2 => map.next_value_seed(OptionInto(&mut r.name))?,
                3 => map.next_value_seed(OptionInto(&mut r.state))?,
                _ => r.properties = map.next_value()?,
            }
        }
        // `id` and `type` have no default.
        required(RESOURCE_FIELDS, &seen[..2])?;
        // What was not written this time is its default, not the last resource's.
        if !seen[2] {
            r.name = None;
        }
        if !seen[3] {
            r.state = None;
        }
        if !seen[4] {
            r.properties.clear();
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for EdgeInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("Edge", EDGE_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for EdgeInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Edge")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let e = Edge::deserialize(SeqAccessDeserializer::new(seq))?;
        (*self.source, *self.target, *self.relationship_type) =
            (e.source, e.target, e.relationship_type);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = [false; 3];
        while let Some(i) = next_field(&mut map, EDGE_FIELDS, &mut seen)? {
            let into = match i {
                0 => &mut *self.source,
                1 => &mut *self.target,
                _ => &mut *self.relationship_type,
            };
            map.next_value_seed(StringInto(into))?;
        }
        required(EDGE_FIELDS, &seen)
    }
}

/// The index in `fields` of the map's next key that names one, the values of other keys
/// skipped; a field named twice is refused, as the derived code refuses it. `seen` records
/// the fields named so far.
pub(super) fn next_field<'de, A: MapAccess<'de>>(
    map: &mut A,
    fields: &'static [&'static str],
    seen: &mut [bool],
) -> Result<Option<usize>, A::Error> {
    while let Some(field) = map.next_key_seed(FieldOf(fields))? {
        let Some(i) = field else {
            map.next_value::<IgnoredAny>()?;
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(A::Error::duplicate_field(fields[i]));
        }
        return Ok(Some(i));
    }
    Ok(None)
}

/// Refuses the first of the fields `seen` covers (the first of `fields`) that was not named.
fn required<E: Error>(fields: &'static [&'static str], seen: &[bool]) -> Result<(), E> {
    match seen.iter().position(|&s| !s) {
        Some(i) => Err(E::missing_field(fields[i])),
        None => Ok(()),
    }
}

/// A key: the index of the field it names, `None` for one that is ignored.
struct FieldOf(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldOf {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for FieldOf {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|f| *f == key))
    }

    fn visit_bytes<E: Error>(self, key: &[u8]) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|f| f.as_bytes() == key))
    }

    fn visit_u64<E: Error>(self, i: u64) -> Result<Option<usize>, E> {
        Ok(usize::try_from(i).ok().filter(|&i| i < self.0.len()))
    }
}

/// A string value, written over the buffer of `.0`.
struct StringInto<'s>(&'s mut String);

impl<'de> DeserializeSeed<'de> for StringInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_string(self)
    }
}

impl<'de> Visitor<'de> for StringInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<(), E> {
        self.0.clear();
        self.0.push_str(v);
        Ok(())
    }

    fn visit_string<E: Error>(self, v: String) -> Result<(), E> {
        *self.0 = v;
        Ok(())
    }

    fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<(), E> {
        let v = std::str::from_utf8(v)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(v), &self))?;
        self.visit_str(v)
    }
}

/// An optional string value (`null` is `None`), written over the buffer `.0` holds if any.
struct OptionInto<'s>(&'s mut Option<String>);

impl<'de> DeserializeSeed<'de> for OptionInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptionInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }

    fn visit_unit<E: Error>(self) -> Result<(), E> {
        self.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        StringInto(self.0.get_or_insert_default()).deserialize(d)
    }
}
