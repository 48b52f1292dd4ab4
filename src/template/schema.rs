//! A small schema checker that reports errors the way voluptuous does.
//!
//! Vitrage validates v1/v2 sections and whole v3 templates with voluptuous, and its status
//! codes and messages are built from the *first* error voluptuous reports, rendered as
//! `<msg>[ for dictionary value] @ data['key'][0]...`. Which error comes first depends on
//! voluptuous' traversal (mapping keys in document order, then missing required keys; a
//! sequence stops at the first item whose error is deeper than the item), so this module
//! follows that traversal rather than a declarative "is it valid" check.

use super::yaml::{Node, Pos, Value, py_repr_str};

/// One step of a path into the template.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElem {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// One voluptuous error.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The message, e.g. `expected str` or a status code such as `126`.
    pub msg: String,
    /// Where, from the validated value.
    pub path: Vec<PathElem>,
    /// `dictionary value` when the error is about a mapping value.
    pub error_type: Option<&'static str>,
    /// The node the error is about.
    pub pos: Pos,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)?;
        if let Some(t) = self.error_type {
            write!(f, " for {t}")?;
        }
        if !self.path.is_empty() {
            let parts: Vec<String> = self
                .path
                .iter()
                .map(|p| match p {
                    PathElem::Key(k) => py_repr_str(k),
                    PathElem::Index(i) => i.to_string(),
                })
                .collect();
            write!(f, " @ data[{}]", parts.join("]["))?;
        }
        Ok(())
    }
}

impl Invalid {
    /// Vitrage's `get_status_code`: the message's first word if it is a number, else 4.
    pub fn status_code(&self) -> u32 {
        let first = self.msg.split(' ').next().unwrap_or("").trim();
        if !first.is_empty() && first.chars().all(|c| c.is_ascii_digit()) {
            first.parse().unwrap_or(4)
        } else {
            4
        }
    }
}

/// The message of a check that makes Vitrage's validator raise a Python exception (not a
/// voluptuous error): validation stops there and Vitrage crashes.
pub const CRASH: &str = "<crash>";

/// A value check that returns the error message when the value is rejected.
pub type Check = Box<dyn Fn(&Node) -> Option<String>>;

/// What a value must look like.
pub enum Schema {
    /// `Any(str)`: a string.
    Str,
    /// The type `dict`.
    Dict,
    /// The type `list`.
    List,
    /// A nested mapping schema.
    Map(MapSchema),
    /// A list whose items each match one of the schemas.
    Seq(Vec<Schema>),
    /// The first schema that accepts the value; else the deepest error.
    AnyOf(Vec<Schema>),
    /// A string out of a fixed set; the message when it is not.
    In(Vec<String>, String),
    /// A custom check.
    Check(Check),
}

/// A mapping schema: known keys, optionally any string key, optionally extra keys allowed.
#[derive(Default)]
pub struct MapSchema {
    /// Known keys in declaration order.
    pub keys: Vec<KeyRule>,
    /// The value schema for any other string key (`{Any(str): ...}`).
    pub any_key: Option<Box<Schema>>,
    /// Whether unknown keys are accepted (`extra=True`).
    pub extra: bool,
}

/// One known key of a mapping.
pub struct KeyRule {
    /// The key.
    pub name: &'static str,
    /// `Some(msg)` when required; `msg` is what voluptuous reports when it is missing.
    pub required: Option<String>,
    /// The value's schema.
    pub value: Schema,
}

impl MapSchema {
    /// A schema with no keys yet.
    pub fn new() -> MapSchema {
        MapSchema::default()
    }

    /// Adds a required key reported with status `code` when missing.
    pub fn required(mut self, name: &'static str, code: u32, value: Schema) -> MapSchema {
        self.keys.push(KeyRule { name, required: Some(code.to_string()), value });
        self
    }

    /// Adds an optional key.
    pub fn optional(mut self, name: &'static str, value: Schema) -> MapSchema {
        self.keys.push(KeyRule { name, required: None, value });
        self
    }

    /// Accepts any other string key with this value schema.
    pub fn any_key(mut self, value: Schema) -> MapSchema {
        self.any_key = Some(Box::new(value));
        self
    }

    /// Accepts unknown keys.
    pub fn allow_extra(mut self) -> MapSchema {
        self.extra = true;
        self
    }
}

/// Validates `node`; the errors in voluptuous' order (the first is the one reported).
pub fn validate(schema: &Schema, node: &Node) -> Vec<Invalid> {
    match check(schema, &[], node) {
        Ok(()) => Vec::new(),
        Err(errors) => errors,
    }
}

type Result = std::result::Result<(), Vec<Invalid>>;

fn invalid(msg: impl Into<String>, path: &[PathElem], pos: Pos) -> Vec<Invalid> {
    vec![Invalid { msg: msg.into(), path: path.to_vec(), error_type: None, pos }]
}

fn check(schema: &Schema, path: &[PathElem], node: &Node) -> Result {
    match schema {
        Schema::Str => match node.value {
            Value::Str(_) => Ok(()),
            _ => Err(invalid("expected str", path, node.pos)),
        },
        Schema::Dict => match node.value {
            Value::Map(_) => Ok(()),
            _ => Err(invalid("expected dict", path, node.pos)),
        },
        Schema::List => match node.value {
            Value::Seq(_) => Ok(()),
            _ => Err(invalid("expected list", path, node.pos)),
        },
        Schema::Map(map) => check_map(map, path, node),
        Schema::Seq(items) => check_seq(items, path, node),
        Schema::AnyOf(options) => {
            let mut best: Option<Vec<Invalid>> = None;
            for option in options {
                match check(option, path, node) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        let deeper = match &best {
                            None => true,
                            Some(b) => e[0].path.len() > b[0].path.len(),
                        };
                        if deeper {
                            best = Some(e);
                        }
                    }
                }
            }
            Err(best.unwrap_or_default())
        }
        Schema::In(allowed, msg) => match node.as_str() {
            Some(s) if allowed.iter().any(|a| a == s) => Ok(()),
            _ => Err(invalid(msg.clone(), path, node.pos)),
        },
        Schema::Check(f) => match f(node) {
            None => Ok(()),
            Some(msg) => Err(invalid(msg, path, node.pos)),
        },
    }
}

fn check_map(schema: &MapSchema, path: &[PathElem], node: &Node) -> Result {
    let Some(entries) = node.as_map() else {
        return Err(invalid("expected a dictionary", path, node.pos));
    };
    let mut errors = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    for (key, value) in entries {
        let key_text = key.py_str();
        let mut key_path = path.to_vec();
        key_path.push(PathElem::Key(key_text.clone()));
        let rule = schema.keys.iter().find(|r| key.as_str() == Some(r.name));
        let value_schema = match (rule, &schema.any_key) {
            (Some(r), _) => {
                seen.push(r.name);
                Some(&r.value)
            }
            (None, Some(any)) if key.as_str().is_some() => Some(any.as_ref()),
            _ => None,
        };
        match value_schema {
            Some(s) => {
                if let Err(found) = check(s, &key_path, value) {
                    for mut e in found {
                        if e.path.len() <= key_path.len() {
                            e.error_type = Some("dictionary value");
                        }
                        errors.push(e);
                    }
                }
            }
            None if schema.extra => {}
            None => errors.extend(invalid("extra keys not allowed", &key_path, key.pos)),
        }
    }
    for rule in &schema.keys {
        if let Some(msg) = rule.required.as_ref().filter(|_| !seen.contains(&rule.name)) {
            let mut p = path.to_vec();
            p.push(PathElem::Key(rule.name.to_string()));
            errors.extend(invalid(msg.clone(), &p, node.pos));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn check_seq(options: &[Schema], path: &[PathElem], node: &Node) -> Result {
    let Some(items) = node.as_seq() else {
        return Err(invalid("expected a list", path, node.pos));
    };
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut index_path = path.to_vec();
        index_path.push(PathElem::Index(i));
        let mut last = None;
        let mut accepted = false;
        for option in options {
            match check(option, &index_path, item) {
                Ok(()) => {
                    accepted = true;
                    break;
                }
                Err(e) if e[0].path.len() > index_path.len() => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        if !accepted {
            errors.extend(last.unwrap_or_default());
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::yaml::parse;

    fn first(schema: &Schema, src: &str) -> String {
        let node = parse(src).expect("yaml");
        validate(schema, &node).first().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn wrong_value_type_reads_like_voluptuous() {
        let s = Schema::Map(MapSchema::new().optional("includes", Schema::List));
        assert_eq!(
            first(&s, "includes:\n"),
            "expected list for dictionary value @ data['includes']"
        );
    }

    #[test]
    fn key_errors_come_before_missing_keys() {
        let s = Schema::Map(
            MapSchema::new().required("name", 60, Schema::Str).optional("type", Schema::Str),
        );
        assert_eq!(first(&s, "id: x\n"), "extra keys not allowed @ data['id']");
        assert_eq!(first(&s, "type: x\n"), "60 @ data['name']");
    }

    #[test]
    fn sequence_stops_at_a_deep_error() {
        let item = Schema::Map(MapSchema::new().required("condition", 83, Schema::Str));
        let s = Schema::Seq(vec![item]);
        let node = parse("- {}\n- {}\n").expect("yaml");
        let errors = validate(&s, &node);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "83 @ data[0]['condition']");
        assert_eq!(errors[0].status_code(), 83);
    }
}
