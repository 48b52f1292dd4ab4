//! Equivalence templates: groups of entity property sets that match interchangeably.
//!
//! Vitrage does not validate them and fails only when its equivalence repository loads them;
//! causeway validates their structure and the two load-time rules (an entity twice in one
//! equivalence, an entity in two equivalences of the same set) up front.

use super::codes;
use super::model::{Prop, props_of};
use super::yaml::Node;
use crate::diagnostic::{Diagnostic, Stage};
use serde::Serialize;

/// One equivalence template.
#[derive(Debug, Clone, Serialize)]
pub struct Equivalence {
    /// The file.
    pub file: String,
    /// `metadata.name`.
    pub name: String,
    /// Each group: entity property sets (sorted, graph names) that are equivalent.
    pub groups: Vec<Vec<Vec<Prop>>>,
}

/// Reads and checks one equivalence template.
pub fn load(file: &str, t: &Node) -> Result<Equivalence, Diagnostic> {
    let syntax = |n: &Node| Diagnostic::new(codes::EQUIVALENCE_SYNTAX, Stage::Template, n.pos);
    let metadata = t.get("metadata").ok_or_else(|| Diagnostic::new(62, Stage::Template, t.pos))?;
    let name =
        metadata.get("name").ok_or_else(|| Diagnostic::new(60, Stage::Template, metadata.pos))?;
    let list = t.get("equivalences").ok_or_else(|| syntax(t))?;
    let mut groups: Vec<Vec<Vec<Prop>>> = Vec::new();
    for item in list.as_seq().ok_or_else(|| syntax(list))? {
        let members = item.get("equivalence").and_then(Node::as_seq).ok_or_else(|| syntax(item))?;
        let mut group: Vec<Vec<Prop>> = Vec::new();
        for member in members {
            let entity = member
                .get("entity")
                .filter(|e| e.as_map().is_some())
                .ok_or_else(|| syntax(member))?;
            let mut props = props_of(entity, &[]);
            props.sort();
            if group.contains(&props) {
                return Err(Diagnostic::new(
                    codes::EQUIVALENCE_DUPLICATE,
                    Stage::Template,
                    member.pos,
                ));
            }
            if groups.iter().flatten().any(|p| *p == props) {
                return Err(Diagnostic::new(
                    codes::EQUIVALENCE_OVERLAP,
                    Stage::Template,
                    member.pos,
                ));
            }
            group.push(props);
        }
        groups.push(group);
    }
    Ok(Equivalence { file: file.to_string(), name: name.py_str(), groups })
}

/// Checks that no entity is in two equivalences across a set; the first offender's file.
pub fn check_set(set: &[Equivalence]) -> Result<(), (usize, Diagnostic)> {
    for (i, eq) in set.iter().enumerate() {
        for earlier in &set[..i] {
            let clash =
                eq.groups.iter().flatten().any(|p| earlier.groups.iter().flatten().any(|q| q == p));
            if clash {
                let message = format!(
                    "{} (also in {})",
                    codes::message(codes::EQUIVALENCE_OVERLAP).unwrap_or(""),
                    earlier.file
                );
                let d = Diagnostic::with_message(
                    codes::EQUIVALENCE_OVERLAP,
                    Stage::Template,
                    Default::default(),
                    message,
                );
                return Err((i, d));
            }
        }
    }
    Ok(())
}
