//! Template set → rule IR: entity relations (with equivalences), one rule per DNF clause,
//! action specs with their targets, and the static checks across the set.
//!
//! ```
//! use causeway::template::{self, Checked, Context};
//! let src = "metadata: {version: 3, name: t, type: standard}\n\
//!            entities: {a: {type: zabbix}, h: {type: nova.host}}\n\
//!            scenarios:\n- condition: a [on] h\n  actions:\n  - mark_down: {target: h}\n";
//! let doc = template::load("t.yaml", src.as_bytes()).unwrap();
//! let Ok(Checked::Standard(t)) = template::check("t.yaml", &doc, None, &Context::default())
//! else { panic!() };
//! let compiled = causeway::compile::lower(&[t], &[]).unwrap();
//! assert!(compiled.rules.to_string().contains("on(A, H)"));
//! ```

mod datalog;
pub mod ir;
mod strata;

use crate::diagnostic::{Diagnostic, ECHO_LIMIT, Stage, clip};
use crate::template::codes;
use crate::template::equivalence::Equivalence;
use crate::template::model::{Literal, Prop, Template};
use ir::*;
use std::collections::BTreeMap;

/// A compiled template set with the warnings found on the way.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// The rules.
    pub rules: RuleSet,
    /// Findings that do not reject the set (unused entities, disconnected conditions).
    pub warnings: Vec<Diagnostic>,
}

/// Own warning code: an entity no condition uses.
pub const UNUSED_ENTITY: u32 = 9400;
/// Own warning code: an action target bound by some clauses of its condition but not all.
pub const PARTIAL_TARGET: u32 = 9402;
/// Own warning code: a clause whose positive part is not connected; Vitrage never matches it.
pub const DISCONNECTED_CLAUSE: u32 = 9401;

/// Compiles standard templates, with the equivalences, into one rule set.
pub fn lower(
    templates: &[Template],
    equivalences: &[Equivalence],
) -> Result<Compiled, Vec<Diagnostic>> {
    let mut out = Compiled::default();
    let mut errors = Vec::new();
    let mut relations = Relations::new(equivalences);
    for (t_index, t) in templates.iter().enumerate() {
        let tid = TemplateId(t_index as u32);
        out.rules.templates.push(TemplateInfo {
            file: t.file.clone(),
            name: t.name.clone(),
            version: t.version,
        });
        warn_unused_entities(t, &mut out.warnings);
        for scenario in &t.scenarios {
            let sid = ScenarioId(out.rules.scenarios.len() as u32);
            let mut rules = Vec::new();
            for (c, clause) in scenario.clauses.iter().enumerate() {
                let rule = lower_clause(t, clause, sid, c as u32, &mut relations);
                if !connected(&rule) {
                    let d = Diagnostic::with_message(
                        DISCONNECTED_CLAUSE,
                        Stage::Template,
                        scenario.pos,
                        format!(
                            "clause {c} of {} binds entities that no relationship connects; Vitrage never matches such a clause",
                            scenario.id
                        ),
                    );
                    out.warnings.push(d.warning().in_file(&t.file));
                }
                rules.push(rule);
            }
            for action in &scenario.actions {
                for (role, entity) in [("target", &action.target), ("source", &action.source)] {
                    let Some(entity) = entity else { continue };
                    let binds = |r: &Rule| r.var_of(entity).is_some();
                    let bound = rules.iter().filter(|r| binds(r)).count();
                    if bound == rules.len() {
                        continue;
                    }
                    let (code, text) = if bound == 0 {
                        (codes::TARGET_OUTSIDE_CONDITION, "is not bound by the condition")
                    } else {
                        (
                            PARTIAL_TARGET,
                            "is not bound by every clause; the clauses without it do not fire this action",
                        )
                    };
                    let message = format!(
                        "{role} {entity} of {} {text} `{}`",
                        action.id,
                        clip(scenario.condition.trim(), ECHO_LIMIT)
                    );
                    let d = Diagnostic::with_message(code, Stage::Template, action.pos, message)
                        .in_file(&t.file);
                    if bound == 0 {
                        errors.push(d);
                    } else {
                        out.warnings.push(d.warning());
                    }
                }
            }
            out.rules.rules.extend(rules);
            out.rules.scenarios.push(ScenarioSpec {
                id: scenario.id.clone(),
                template: tid,
                condition: scenario.condition.clone(),
                pos: scenario.pos,
                actions: scenario.actions.clone(),
            });
        }
    }
    out.rules.relations = relations.list;
    if let Err(d) = strata::check(&out.rules) {
        errors.push(d);
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Entity relations shared across the set: identical property sets share one relation.
struct Relations<'a> {
    list: Vec<EntityRelation>,
    equivalences: &'a [Equivalence],
}

impl<'a> Relations<'a> {
    fn new(equivalences: &'a [Equivalence]) -> Relations<'a> {
        Relations { list: Vec::new(), equivalences }
    }

    /// The relation for an entity: its property set, or the whole equivalence group when the
    /// set equals a member (Vitrage's `_expand_equivalence`, as a union instead of clones).
    fn get(&mut self, id: &str, props: &[Prop]) -> RelationId {
        let mut key: Vec<Prop> = props.to_vec();
        key.sort();
        let group =
            self.equivalences.iter().flat_map(|e| e.groups.iter()).find(|g| g.contains(&key));
        let alternatives = match group {
            Some(g) => g.clone(),
            None => vec![key],
        };
        if let Some(i) = self.list.iter().position(|r| r.alternatives == alternatives) {
            return RelationId(i as u32);
        }
        let base = format!("entity_{}", sanitize(id));
        let mut name = base.clone();
        let mut n = 2;
        while self.list.iter().any(|r| r.name == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.list.push(EntityRelation { name, alternatives });
        RelationId(self.list.len() as u32 - 1)
    }
}

fn sanitize(id: &str) -> String {
    id.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// `host_alarm` → `HostAlarm`; unique within the rule.
fn var_name(entity: &str, taken: &[VarSpec]) -> String {
    let mut name: String = entity
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next().map(|c| c.to_uppercase().chain(cs).collect::<String>()).unwrap_or_default()
        })
        .collect();
    if name.is_empty() || !name.starts_with(|c: char| c.is_alphabetic()) {
        name = format!("V{name}");
    }
    let base = name.clone();
    let mut n = 2;
    while taken.iter().any(|v| v.name == name)
        || name.starts_with('N') && name[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

fn lower_clause(
    t: &Template,
    clause: &[Literal],
    sid: ScenarioId,
    c: u32,
    rels: &mut Relations<'_>,
) -> Rule {
    let mut vars: Vec<VarSpec> = Vec::new();
    let props = |id: &str| {
        t.entities.iter().find(|e| e.id == id).map(|e| e.props.clone()).unwrap_or_default()
    };
    let bind = |id: &str, vars: &mut Vec<VarSpec>, rels: &mut Relations<'_>| -> Var {
        if let Some(i) = vars.iter().position(|v| v.entity == id) {
            return Var(i as u32);
        }
        let relation = rels.get(id, &props(id));
        let name = var_name(id, vars);
        vars.push(VarSpec { entity: id.to_string(), name, relation });
        Var(vars.len() as u32 - 1)
    };
    let mut edges = Vec::new();
    for lit in clause {
        match lit {
            Literal::Entity(id) => {
                bind(id, &mut vars, rels);
            }
            Literal::Edge { source, label, target, positive: true } => {
                let s = bind(source, &mut vars, rels);
                let d = bind(target, &mut vars, rels);
                edges.push(EdgeAtom { label: Label(label.clone()), source: s, target: d });
            }
            Literal::Edge { positive: false, .. } => {}
        }
    }
    let mut negations = Vec::new();
    for lit in clause {
        if let Literal::Edge { source, label, target, positive: false } = lit {
            let mut end = |id: &str| match vars.iter().position(|v| v.entity == id) {
                Some(i) => End::Bound(Var(i as u32)),
                None => End::Free { entity: id.to_string(), relation: rels.get(id, &props(id)) },
            };
            let negation =
                Negation { label: Label(label.clone()), source: end(source), target: end(target) };
            if !negations.contains(&negation) {
                negations.push(negation);
            }
        }
    }
    Rule { name: format!("fire_s{}_c{c}", sid.0), scenario: sid, clause: c, vars, edges, negations }
}

/// Whether the positive variables form one connected pattern.
fn connected(rule: &Rule) -> bool {
    let n = rule.vars.len();
    if n <= 1 {
        return true;
    }
    let mut seen = vec![false; n];
    let mut stack = vec![0usize];
    seen[0] = true;
    while let Some(v) = stack.pop() {
        for e in &rule.edges {
            let (s, t) = (e.source.0 as usize, e.target.0 as usize);
            for (a, b) in [(s, t), (t, s)] {
                if a == v && !seen[b] {
                    seen[b] = true;
                    stack.push(b);
                }
            }
        }
    }
    seen.iter().all(|s| *s)
}

fn warn_unused_entities(t: &Template, warnings: &mut Vec<Diagnostic>) {
    let mut used: BTreeMap<&str, ()> = BTreeMap::new();
    for s in &t.scenarios {
        for lit in s.clauses.iter().flatten() {
            match lit {
                Literal::Entity(id) => {
                    used.insert(id, ());
                }
                Literal::Edge { source, target, .. } => {
                    used.insert(source, ());
                    used.insert(target, ());
                }
            }
        }
    }
    for e in &t.entities {
        if !used.contains_key(e.id.as_str()) {
            let message = format!("entity {} is not used by any condition of {}", e.id, t.name);
            warnings.push(
                Diagnostic::with_message(UNUSED_ENTITY, Stage::Template, e.pos, message)
                    .warning()
                    .in_file(&t.file),
            );
        }
    }
}
