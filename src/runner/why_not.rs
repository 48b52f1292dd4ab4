//! "Why didn't it fire", in words: for a scenario and a resource expected to be one of its
//! targets, the closest partial matches of each clause and the first atom each failed on.

use super::Runner;
use super::vertex_name as name;
use crate::compile::ir::{End, Var};
use crate::engine::why_not::{Failure, NearMiss, why_not};
use crate::graph::Label;

impl Runner {
    /// Why scenario `scenario` (`<template>-scenario<i>`) does not act on resource `target`:
    /// one line per near miss of each clause, or a line saying it does act.
    pub fn why_not(&self, scenario: &str, target: &str) -> Result<Vec<String>, String> {
        let rules = self.rules();
        let sid = rules.scenarios.iter().position(|s| s.id == scenario).ok_or_else(|| {
            format!(
                "no scenario {scenario:?}; the scenarios are: {}",
                rules.scenarios.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
            )
        })?;
        let v = self.resource(target).ok_or_else(|| format!("no live resource {target:?}"))?;
        let spec = &rules.scenarios[sid];
        let targets: Vec<&str> = spec.actions.iter().filter_map(|a| a.target.as_deref()).collect();
        let graph = self.graph();
        let mut lines = Vec::new();
        for (r, rule) in
            rules.rules.iter().enumerate().filter(|(_, r)| r.scenario.0 as usize == sid)
        {
            let entity = |var: Var| rule.vars[var.0 as usize].entity.clone();
            let anchors: Vec<Var> = (0..rule.vars.len())
                .map(|i| Var(i as u32))
                .filter(|&x| targets.is_empty() || targets.contains(&entity(x).as_str()))
                .collect();
            for anchor in anchors {
                let clause = format!("clause {} with {}={target}", rule.clause, entity(anchor));
                let misses = why_not(&self.compiled, r, anchor, v, graph, 3);
                if misses.is_empty() {
                    lines.push(format!("{clause}: it matches, so the scenario acts on {target}"));
                }
                for m in misses {
                    lines.push(format!("{clause}: {}", self.describe(r, &m, target)));
                }
            }
        }
        Ok(lines)
    }

    fn describe(&self, r: usize, m: &NearMiss, target: &str) -> String {
        let rule = &self.rules().rules[r];
        let graph = self.graph();
        let entity = |var: &Var| rule.vars[var.0 as usize].entity.clone();
        let label = |l: &Label| graph.resolve(l.sym()).to_string();
        let bound: Vec<String> =
            m.bound.iter().map(|(var, v)| format!("{}={}", entity(var), name(graph, *v))).collect();
        let at = if bound.len() > 1 {
            format!(" (matched {})", bound.join(", "))
        } else {
            String::new()
        };
        let vertex_of = |var: &Var| {
            m.bound.iter().find(|(x, _)| x == var).map(|(_, v)| name(graph, *v)).unwrap_or_default()
        };
        let failure = match &m.failure {
            Failure::NotConnected => {
                let code = crate::template::codes::DISCONNECTED_CLAUSE;
                let text = crate::template::codes::message(code).unwrap_or_default();
                format!("[{code}] {text} It never matches.")
            }
            Failure::Anchor(reason) => format!("{target} is not the entity: {reason}"),
            Failure::NoEdge { from, to, label: l, forward } => {
                let (s, t) = if *forward {
                    (vertex_of(from), format!("a `{}`", entity(to)))
                } else {
                    (format!("a `{}`", entity(to)), vertex_of(from))
                };
                format!("no `{}` edge from {s} to {t}", label(l))
            }
            Failure::NoMatch { to, candidates } => {
                let each: Vec<String> = candidates
                    .iter()
                    .map(|(v, why)| format!("{} ({why})", name(graph, *v)))
                    .collect();
                format!("no vertex reached is `{}`: {}", entity(to), each.join("; "))
            }
            Failure::MissingEdge { source, target, label: l } => {
                format!(
                    "the edge {} -{}-> {} is missing",
                    vertex_of(source),
                    label(l),
                    vertex_of(target)
                )
            }
            Failure::Blocked { negation, witness } => {
                let n = &rule.negations[*negation];
                let end = |e: &End| match e {
                    End::Bound(v) => entity(v),
                    End::Free { entity, .. } => entity.clone(),
                };
                format!(
                    "NOT {} [{}] {} is blocked by {} -{}-> {}",
                    end(&n.source),
                    n.label.0,
                    end(&n.target),
                    name(graph, witness.0),
                    n.label.0,
                    name(graph, witness.1)
                )
            }
        };
        format!("{failure}{at}")
    }
}
