//! The rule IR: entity-match relations, one rule per DNF clause, and action specs.
//!
//! Variables are the template entities a clause binds positively; every rule is injective
//! (its variables bind distinct vertices), and a negated relationship is a `!exists` over the
//! vertices matching its free end (distinct from every bound vertex, as Vitrage excludes
//! already used vertices from candidates).

use crate::template::model::Prop;
use crate::template::yaml::Pos;
use serde::Serialize;

/// Index of a template in [`RuleSet::templates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TemplateId(pub u32);

/// Index of an entity relation in [`RuleSet::relations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RelationId(pub u32);

/// Index of a scenario in [`RuleSet::scenarios`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ScenarioId(pub u32);

/// Index of a variable in its rule's [`Rule::vars`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Var(pub u32);

/// An edge label (`on`, `contains`, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Label(pub String);

/// A compiled template set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleSet {
    /// The standard templates, in load order.
    pub templates: Vec<TemplateInfo>,
    /// Unary relations: the vertices matching an entity (or one of its equivalents).
    pub relations: Vec<EntityRelation>,
    /// Scenarios with their actions.
    pub scenarios: Vec<ScenarioSpec>,
    /// One rule per DNF clause of every scenario.
    pub rules: Vec<Rule>,
}

/// Where a template came from.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateInfo {
    /// File path as given.
    pub file: String,
    /// `metadata.name`.
    pub name: String,
    /// Template format version.
    pub version: u8,
}

/// `entity_x(V) :- V matches one of the alternatives.`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityRelation {
    /// Printable name, unique in the set (`entity_host`).
    pub name: String,
    /// Property sets; a vertex matches if it matches every property of one set. More than
    /// one set comes from equivalence templates.
    pub alternatives: Vec<Vec<Prop>>,
}

/// A scenario and the actions its rules fire.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSpec {
    /// `<template name>-scenario<i>`.
    pub id: String,
    /// Its template.
    pub template: TemplateId,
    /// The condition as written.
    pub condition: String,
    /// Where the condition is.
    pub pos: Pos,
    /// Actions in order.
    pub actions: Vec<ActionSpec>,
}

/// An action with its targets named by template entity id: the template model's action,
/// whose target the compiler checked to be bound by the scenario's rules.
pub type ActionSpec = crate::template::model::Action;

/// One clause of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Printable head name, `fire_s<scenario>_c<clause>`.
    pub name: String,
    /// The scenario it fires.
    pub scenario: ScenarioId,
    /// The clause's index in the scenario's DNF.
    pub clause: u32,
    /// Positive variables, in binding order.
    pub vars: Vec<VarSpec>,
    /// Edges that must exist.
    pub edges: Vec<EdgeAtom>,
    /// Edges that must not exist.
    pub negations: Vec<Negation>,
}

impl Rule {
    /// The variable bound to template entity `entity`, by index in [`Rule::vars`].
    pub fn var_of(&self, entity: &str) -> Option<usize> {
        self.vars.iter().position(|v| v.entity == entity)
    }
}

/// A variable: a template entity and the relation its vertex must be in.
#[derive(Debug, Clone, Serialize)]
pub struct VarSpec {
    /// Template entity id.
    pub entity: String,
    /// Printable variable name.
    pub name: String,
    /// The entity's relation.
    pub relation: RelationId,
}

/// `label(source, target)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdgeAtom {
    /// Edge label.
    pub label: Label,
    /// Source variable.
    pub source: Var,
    /// Target variable.
    pub target: Var,
}

/// An end of a negated edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum End {
    /// A variable bound positively in the rule.
    Bound(Var),
    /// Any vertex of the relation that is not bound by the rule.
    Free {
        /// Template entity id.
        entity: String,
        /// Its relation.
        relation: RelationId,
    },
}

/// `!exists free ends: label(source, target)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negation {
    /// Edge label.
    pub label: Label,
    /// Source end.
    pub source: End,
    /// Target end.
    pub target: End,
}
