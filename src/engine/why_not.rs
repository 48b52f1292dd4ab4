//! "Why didn't it fire": the closest partial matches of a rule around one vertex, and the first
//! atom each one failed on.
//!
//! From the vertex bound to one variable, the rule's join plan is followed as the anchored
//! evaluator follows it, but instead of dropping a branch that fails, the deepest branches are
//! kept with the reason they stopped: no edge with the label, neighbours that are not the
//! entity (and which property differed), a vertex bound twice, a positive edge missing between
//! two bound vertices, or a witness blocking a `NOT`.

use super::compiled::{Compiled, CompiledRule};
use super::eval::negation_witness;
use crate::compile::ir::Var;
use crate::graph::{EdgeKey, Graph, Label, VertexId};

/// Why a partial match stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The clause's entities are not connected by its relationships, so it never matches
    /// (causeway's code 9401).
    NotConnected,
    /// The anchor vertex is not the entity: the reason, in words.
    Anchor(String),
    /// No edge `label` leads from the vertex of `from` (forward: as source) to any vertex.
    NoEdge {
        /// The bound variable the step starts from.
        from: Var,
        /// The variable the step would bind.
        to: Var,
        /// The edge label.
        label: Label,
        /// Whether `from` is the edge's source.
        forward: bool,
    },
    /// Edges lead on, but no vertex at their end is the entity `to`: each with its reason.
    NoMatch {
        /// The variable the step would bind.
        to: Var,
        /// The vertices reached, with why each is not the entity.
        candidates: Vec<(VertexId, String)>,
    },
    /// A positive edge between two bound vertices is missing.
    MissingEdge {
        /// Source variable.
        source: Var,
        /// Target variable.
        target: Var,
        /// Label.
        label: Label,
    },
    /// The edge `witness` blocks the rule's negation number `negation`.
    Blocked {
        /// Which negation.
        negation: usize,
        /// The edge that exists.
        witness: (VertexId, VertexId),
    },
}

/// A partial match: what was bound, and why it went no further.
#[derive(Debug, Clone, PartialEq)]
pub struct NearMiss {
    /// Bound variables, in the order they were bound.
    pub bound: Vec<(Var, VertexId)>,
    /// Why it stopped.
    pub failure: Failure,
}

/// The closest partial matches of rule `r` with `anchor` bound to `v` (at most `limit`);
/// empty when the rule matches there.
pub fn why_not(
    c: &Compiled,
    r: usize,
    anchor: Var,
    v: VertexId,
    graph: &Graph,
    limit: usize,
) -> Vec<NearMiss> {
    let rule = &c.rules[r];
    let Some(Some(steps)) = rule.plans.get(anchor.0 as usize) else {
        return vec![NearMiss { bound: Vec::new(), failure: Failure::NotConnected }];
    };
    if let Some(reason) = c.mismatch(rule.relations[anchor.0 as usize], graph, v) {
        return vec![NearMiss { bound: Vec::new(), failure: Failure::Anchor(reason) }];
    }
    let mut misses = Vec::new();
    let mut binding = vec![None; rule.relations.len()];
    binding[anchor.0 as usize] = Some(v);
    let mut order = vec![(anchor, v)];
    if explore(c, rule, steps, graph, &mut binding, &mut order, &mut misses) {
        return Vec::new();
    }
    let deepest = misses.iter().map(|m: &NearMiss| m.bound.len()).max().unwrap_or(0);
    misses.retain(|m| m.bound.len() == deepest);
    misses.truncate(limit);
    misses
}

/// Follows the plan; true as soon as a full match holds.
fn explore(
    c: &Compiled,
    rule: &CompiledRule,
    steps: &[super::compiled::Step],
    graph: &Graph,
    binding: &mut Vec<Option<VertexId>>,
    order: &mut Vec<(Var, VertexId)>,
    misses: &mut Vec<NearMiss>,
) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        let full: Vec<VertexId> = binding.iter().map(|b| b.unwrap_or(VertexId(0))).collect();
        match last_check(c, rule, graph, &full) {
            None => return true,
            Some(failure) => misses.push(NearMiss { bound: order.clone(), failure }),
        }
        return false;
    };
    let Some(from) = binding[step.from.0 as usize] else { return false };
    let reached: Vec<VertexId> = if step.forward {
        graph.out_neighbours(from, step.label).collect()
    } else {
        graph.in_neighbours(from, step.label).collect()
    };
    if reached.is_empty() {
        let failure = Failure::NoEdge {
            from: step.from,
            to: step.var,
            label: step.label,
            forward: step.forward,
        };
        misses.push(NearMiss { bound: order.clone(), failure });
        return false;
    }
    let relation = rule.relations[step.var.0 as usize];
    let mut rejected = Vec::new();
    for n in reached {
        if binding.contains(&Some(n)) {
            rejected.push((n, "it is bound to another entity already".to_string()));
            continue;
        }
        if let Some(reason) = c.mismatch(relation, graph, n) {
            rejected.push((n, reason));
            continue;
        }
        binding[step.var.0 as usize] = Some(n);
        order.push((step.var, n));
        let matched = explore(c, rule, rest, graph, binding, order, misses);
        order.pop();
        binding[step.var.0 as usize] = None;
        if matched {
            return true;
        }
    }
    if !rejected.is_empty() {
        misses.push(NearMiss {
            bound: order.clone(),
            failure: Failure::NoMatch { to: step.var, candidates: rejected },
        });
    }
    false
}

/// What fails of a full binding: injectivity is kept by construction, so a positive edge that
/// no step followed, or a negation.
fn last_check(c: &Compiled, rule: &CompiledRule, graph: &Graph, b: &[VertexId]) -> Option<Failure> {
    for &(s, t, label) in &rule.edges {
        let key = EdgeKey { source: b[s.0 as usize], target: b[t.0 as usize], label };
        if graph.edge(key).is_none_or(|e| e.is_deleted) {
            return Some(Failure::MissingEdge { source: s, target: t, label });
        }
    }
    rule.negations.iter().enumerate().find_map(|(k, n)| {
        negation_witness(c, n, graph, b).map(|witness| Failure::Blocked { negation: k, witness })
    })
}
