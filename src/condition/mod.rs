//! Scenario conditions: parsing (pest), the AST, and conversion to disjunctive normal form.
//!
//! Vitrage turns a condition into DNF with sympy and validates the clauses; causeway parses it
//! with `grammar/condition.pest` and normalises it itself, giving the same clauses. Ids that
//! sympy would read as its own functions or constants (`E`, `I`, `N`, `pi`, ...) make Vitrage
//! fail with code 85, and so they do here (see [`is_reserved_name`]).

mod dnf;
mod parse;
mod pattern;

pub use dnf::{Clause, Dnf, Literal, MAX_CLAUSES, to_dnf};
pub use parse::{
    MAX_BRACKETS, MAX_EXPR_DEPTH, ParseError, ParseErrorKind, normalize, parse_v2, parse_v3,
};
pub use pattern::{
    Relationship, remove_operators, replace_labels, replace_relationships, replace_word,
};

/// A condition's syntax tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A term: an id (v1/v2: entity or relationship; v3: entity) or a v3 relationship.
    Term(Term),
    /// `not x`.
    Not(Box<Expr>),
    /// `x and y and ...`.
    And(Vec<Expr>),
    /// `x or y or ...`.
    Or(Vec<Expr>),
    /// Python's `not x` outside sympy: always false.
    False,
    /// `f(x)`: a call, which sympy keeps as a function value rather than a boolean.
    Call,
}

impl Expr {
    /// Whether a call stands under a boolean operator, where sympy fails on it.
    pub fn has_nested_call(&self) -> bool {
        fn inside(e: &Expr) -> bool {
            match e {
                Expr::Call => true,
                Expr::Not(x) => inside(x),
                Expr::And(xs) | Expr::Or(xs) => xs.iter().any(inside),
                Expr::Term(_) | Expr::False => false,
            }
        }
        match self {
            Expr::Not(x) => inside(x),
            Expr::And(xs) | Expr::Or(xs) => xs.iter().any(inside),
            _ => false,
        }
    }
}

/// A leaf of a condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    /// A template id.
    Id(String),
    /// A v3 relationship `source [label] target`.
    Relationship {
        /// Source entity id.
        source: String,
        /// Edge label.
        label: String,
        /// Target entity id.
        target: String,
    },
}

impl Term {
    /// The symbol Vitrage gives the term: the id, or `source__label__target`.
    pub fn symbol(&self) -> String {
        match self {
            Term::Id(id) => id.clone(),
            Term::Relationship { source, label, target } => format!("{source}__{label}__{target}"),
        }
    }
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Term::Id(id) => f.write_str(id),
            Term::Relationship { source, label, target } => {
                write!(f, "{source} [{label}] {target}")
            }
        }
    }
}

/// `data/condition_reserved_names.txt` as a set: every name of a condition is looked up.
static RESERVED: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| {
        let text = include_str!("../../data/condition_reserved_names.txt");
        text.lines().filter(|l| !l.starts_with('#')).collect()
    });

/// Whether Vitrage's condition parser reads `name` as something other than a plain symbol
/// (a sympy function, class or constant, a Python builtin or keyword), which makes it fail.
pub fn is_reserved_name(name: &str) -> bool {
    if matches!(name, "True" | "False" | "true" | "false") {
        // These parse as booleans and end up reported as unknown ids, not as parse failures.
        return false;
    }
    RESERVED.contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sympy_names_are_reserved() {
        for name in ["E", "I", "N", "S", "Q", "O", "pi", "test", "lambda"] {
            assert!(is_reserved_name(name), "{name}");
        }
        for name in ["host", "alarm_on_host", "instance", "True"] {
            assert!(!is_reserved_name(name), "{name}");
        }
    }
}
