//! Disjunctive normal form, as Vitrage's `parse_condition` produces it.
//!
//! Negations are pushed to the terms (De Morgan, double negation removed), `and` is
//! distributed over `or`, a repeated literal in a clause and a repeated clause are dropped
//! (sympy's `And`/`Or` are sets), and nothing else is simplified: `x and not x` stays a
//! clause, and `a or (a and b)` keeps both clauses.

use super::{Expr, Term};
use std::collections::HashSet;

/// A possibly negated term.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Literal {
    /// The term.
    pub term: Term,
    /// False when negated.
    pub positive: bool,
}

/// An `and` of literals.
pub type Clause = Vec<Literal>;

/// An `or` of clauses.
pub type Dnf = Vec<Clause>;

/// A bound on the number of clauses: DNF grows exponentially with nested `or`s under `and`,
/// and a condition past this size is rejected rather than expanded.
pub const MAX_CLAUSES: usize = 4096;

/// Converts a condition to DNF; `None` when it would have more than [`MAX_CLAUSES`] clauses.
pub fn to_dnf(expr: &Expr) -> Option<Dnf> {
    let clauses = crate::stack::with_stack(|| convert(expr, true))?;
    let mut out: Dnf = Vec::new();
    let mut seen_clauses: HashSet<Clause> = HashSet::new();
    for clause in clauses {
        // Sets, not scans: a chain of thousands of terms is one clause of thousands of them.
        let mut seen: HashSet<&Literal> = HashSet::new();
        let mut lits: Clause = clause.iter().filter(|l| seen.insert(*l)).cloned().collect();
        // Positive terms first, then negated ones, each sorted by symbol: sympy's order.
        lits.sort_by_cached_key(|l| (!l.positive, l.term.symbol()));
        if seen_clauses.insert(lits.clone()) {
            out.push(lits);
        }
    }
    Some(out)
}

fn convert(expr: &Expr, positive: bool) -> Option<Dnf> {
    match expr {
        Expr::Term(t) => Some(vec![vec![Literal { term: t.clone(), positive }]]),
        Expr::Not(inner) => convert(inner, !positive),
        Expr::False | Expr::Call if positive => Some(Vec::new()),
        Expr::False | Expr::Call => Some(vec![Vec::new()]),
        Expr::And(items) if positive => product(items, positive),
        Expr::Or(items) if !positive => product(items, positive),
        Expr::And(items) | Expr::Or(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(convert(item, positive)?);
                if out.len() > MAX_CLAUSES {
                    return None;
                }
            }
            Some(out)
        }
    }
}

fn product(items: &[Expr], positive: bool) -> Option<Dnf> {
    let mut acc: Dnf = vec![Vec::new()];
    for item in items {
        let next = convert(item, positive)?;
        if acc.len().saturating_mul(next.len()) > MAX_CLAUSES {
            return None;
        }
        let mut combined = Vec::with_capacity(acc.len() * next.len());
        let Some((last, others)) = next.split_last() else {
            acc = Vec::new();
            continue;
        };
        for left in acc {
            for right in others {
                let mut clause = left.clone();
                clause.extend(right.iter().cloned());
                combined.push(clause);
            }
            // The last combination takes `left` itself, so a chain of single clauses
            // (`a and b and ...`) grows one clause instead of copying it at every step.
            let mut clause = left;
            clause.extend(last.iter().cloned());
            combined.push(clause);
        }
        acc = combined;
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition::parse_v2;

    fn show(text: &str) -> Vec<Vec<String>> {
        let dnf = to_dnf(&parse_v2(text).expect("parses")).expect("small");
        dnf.iter()
            .map(|c| {
                c.iter()
                    .map(|l| format!("{}{}", if l.positive { "" } else { "~" }, l.term))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn vitrage_examples() {
        assert_eq!(show("a and (b or c)"), [["a", "b"], ["a", "c"]]);
        assert_eq!(show("not (a or b) and c"), [["c", "~a", "~b"]]);
        assert_eq!(show("a and not (b and c)"), [["a", "~b"], ["a", "~c"]]);
        assert_eq!(show("(a or b) and (c or d)").len(), 4);
    }

    #[test]
    fn nothing_is_simplified_away() {
        assert_eq!(show("x and not x"), [["x", "~x"]]);
        assert_eq!(show("a or (a and b)"), vec![vec!["a"], vec!["a", "b"]]);
        assert_eq!(show("not (not a)"), [["a"]]);
        assert!(show("not not a").is_empty());
        assert_eq!(show("a and a or a"), [["a"]]);
    }

    #[test]
    fn exponential_conditions_are_refused() {
        let text = (0..20).map(|i| format!("(a{i} or b{i})")).collect::<Vec<_>>().join(" and ");
        assert!(to_dnf(&parse_v2(&text).expect("parses")).is_none());
    }
}
