//! Stratification: a template set must not recurse through negation.
//!
//! A scenario *feeds* another when what its actions deduce (a `vitrage` alarm with its
//! `on` and `causes` edges, a state, a mark-down, a causal edge) can match what the other's
//! condition reads. It feeds it *negatively* when the match is under a `NOT`. A cycle of
//! feeding that contains a negative step has no well-defined fixpoint (the deduction removes
//! its own premise), so the set is rejected and the cycle named.

use super::ir::{End, RelationId, RuleSet};
use crate::diagnostic::{Diagnostic, Stage};
use crate::template::codes;
use crate::template::model::{ActionKind, Expr, Prop};
use crate::template::pyregex::Pattern;

/// What an action deduces, as far as matching goes.
enum Output {
    Alarm { name: Option<String>, severity: Option<String> },
    State(Option<String>),
    MarkDown,
    Causes,
}

/// Rejects a set with recursion through negation.
pub fn check(set: &RuleSet) -> Result<(), Diagnostic> {
    let n = set.scenarios.len();
    // edges[a] = (b, negative): scenario a feeds scenario b.
    let mut edges: Vec<Vec<(usize, bool)>> = vec![Vec::new(); n];
    for (a, scenario) in set.scenarios.iter().enumerate() {
        let outputs: Vec<Output> =
            scenario.actions.iter().filter_map(|x| output(&x.kind)).collect();
        for rule in &set.rules {
            let b = rule.scenario.0 as usize;
            let reads = |rel: RelationId| {
                outputs.iter().any(|o| may_match(o, &set.relations[rel.0 as usize].alternatives))
            };
            // An edge is deduced when its source is a deduced alarm (`on`, `causes`) or it is
            // a deduced causal link; it is read where its label and source entity fit.
            let edge_read = |label: &str, source: RelationId| {
                outputs.iter().any(|o| match o {
                    Output::Alarm { .. } => {
                        (label == "on" || label == "causes")
                            && may_match(o, &set.relations[source.0 as usize].alternatives)
                    }
                    Output::Causes => label == "causes",
                    _ => false,
                })
            };
            let relation_of = |end: &End| match end {
                End::Bound(v) => rule.vars[v.0 as usize].relation,
                End::Free { relation, .. } => *relation,
            };
            let positive = rule.vars.iter().any(|v| reads(v.relation))
                || rule
                    .edges
                    .iter()
                    .any(|e| edge_read(&e.label.0, rule.vars[e.source.0 as usize].relation));
            let negative = rule.negations.iter().any(|neg| {
                let free_read = [&neg.source, &neg.target].into_iter().any(|end| match end {
                    End::Free { relation, .. } => reads(*relation),
                    End::Bound(_) => false,
                });
                free_read || edge_read(&neg.label.0, relation_of(&neg.source))
            });
            if positive {
                edges[a].push((b, false));
            }
            if negative {
                edges[a].push((b, true));
            }
        }
    }
    for start in 0..n {
        if let Some(cycle) = negative_cycle(&edges, start) {
            let names: Vec<String> = cycle
                .iter()
                .map(|s| {
                    let spec = &set.scenarios[*s];
                    format!("{} ({})", spec.id, set.templates[spec.template.0 as usize].file)
                })
                .collect();
            let message = format!(
                "{} - {} feeds a NOT it depends on: {}",
                codes::message(codes::NOT_STRATIFIABLE).unwrap_or(""),
                names.first().cloned().unwrap_or_default(),
                names.join(" -> ")
            );
            let first = &set.scenarios[cycle[0]];
            let file = &set.templates[first.template.0 as usize].file;
            return Err(Diagnostic::with_message(
                codes::NOT_STRATIFIABLE,
                Stage::Template,
                first.pos,
                message,
            )
            .in_file(file));
        }
    }
    Ok(())
}

/// A path start → ... → start that uses at least one negative edge.
fn negative_cycle(edges: &[Vec<(usize, bool)>], start: usize) -> Option<Vec<usize>> {
    // States: (scenario, used a negative edge yet). Breadth-first with parents.
    let n = edges.len();
    let mut parent: Vec<[Option<(usize, bool)>; 2]> = vec![[None, None]; n];
    let mut queue = std::collections::VecDeque::new();
    for &(b, neg) in &edges[start] {
        let st = neg as usize;
        if parent[b][st].is_none() {
            parent[b][st] = Some((start, false));
            queue.push_back((b, neg));
        }
    }
    while let Some((v, neg)) = queue.pop_front() {
        if v == start && neg {
            let mut path = vec![start];
            let (mut cur, mut cur_neg) = (v, neg);
            while let Some((p, pneg)) = parent[cur][cur_neg as usize] {
                if p == start && path.len() > 1 || path.len() > n + 1 {
                    break;
                }
                path.push(p);
                cur = p;
                cur_neg = pneg;
                if cur == start {
                    break;
                }
            }
            path.reverse();
            path.push(start);
            path.dedup();
            return Some(path);
        }
        for &(b, eneg) in &edges[v] {
            let nneg = neg || eneg;
            if parent[b][nneg as usize].is_none() {
                parent[b][nneg as usize] = Some((v, neg));
                queue.push_back((b, nneg));
            }
        }
    }
    None
}

fn literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(s) => Some(s.to_string()),
        _ => None,
    }
}

fn output(kind: &ActionKind) -> Option<Output> {
    Some(match kind {
        ActionKind::RaiseAlarm { alarm_name, severity, .. } => {
            Output::Alarm { name: literal(alarm_name), severity: literal(severity) }
        }
        ActionKind::SetState { state } => Output::State(literal(state)),
        ActionKind::MarkDown => Output::MarkDown,
        ActionKind::AddCausalRelationship => Output::Causes,
        ActionKind::ExecuteMistral { .. } => return None,
    })
}

/// Whether a deduced fact could make a vertex match one of the alternatives.
fn may_match(output: &Output, alternatives: &[Vec<Prop>]) -> bool {
    alternatives.iter().any(|props| match output {
        Output::Alarm { name, severity } => props.iter().all(|p| {
            let known = match p.key.as_str() {
                "vitrage_category" => Some("ALARM".to_string()),
                "vitrage_type" => Some("vitrage".to_string()),
                "name" => name.clone(),
                "severity" => severity.clone(),
                "state" => Some("Active".to_string()),
                _ => None,
            };
            match known {
                None => true,
                Some(v) => value_matches(p, &v),
            }
        }),
        Output::State(state) => {
            props.iter().any(|p| p.key.starts_with("vitrage_") && p.key.contains("state"))
                && props
                    .iter()
                    .filter(|p| p.key == "vitrage_state")
                    .all(|p| state.as_ref().is_none_or(|s| value_matches(p, s)))
        }
        Output::MarkDown => props.iter().any(|p| p.key == "is_marked_down"),
        Output::Causes => false,
    })
}

fn value_matches(p: &Prop, value: &str) -> bool {
    if p.regex {
        // A pattern that does not compile was refused by validation; assume it may match.
        Pattern::compile(&p.value).is_none_or(|re| re.is_match(value))
    } else {
        p.value == value
    }
}
