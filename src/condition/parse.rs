//! The pest parser for v1/v2 and v3 conditions, after Vitrage's operator replacement.

use super::{Expr, Term};
use pest::Parser;
use pest::iterators::Pair;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../grammar/condition.pest"]
struct ConditionParser;

/// Why a condition does not parse; `offset` is a byte offset into the normalised text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at offset {offset})")]
pub struct ParseError {
    /// What the parser expected.
    pub message: String,
    /// Where in the condition it stopped.
    pub offset: usize,
}

/// Vitrage's `convert_to_dnf_format` replacement: the operators it recognises become
/// sympy's `&`, `|` and `~`; anything else is left for the grammar (and usually rejected).
pub fn normalize(text: &str) -> String {
    let mut s = text.to_string();
    for (from, to) in [
        (" and ", "&"),
        (" AND ", "&"),
        (" or ", "|"),
        (" OR ", "|"),
        (" not ", "~"),
        (" NOT ", "~"),
        ("not ", "~"),
        ("NOT ", "~"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// Parses a v1/v2 condition (template ids, `and`, `or`, `not`, parentheses).
pub fn parse_v2(text: &str) -> Result<Expr, ParseError> {
    parse(Rule::v2_condition, &normalize(text))
}

/// Vitrage's v3 relationship pattern, `source [label] target`.
pub static RELATIONSHIP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(\w+)\s*\[\s*(\w+)\s*\]\s*(\w+)").expect("static regex")
});

/// Parses a v3 condition (entity ids and `source [label] target` relationships).
///
/// As in Vitrage's loader, each relationship first becomes the symbol `source__label__target`
/// (so an id such as `x_not` is never taken for the operator `not `), then the operators are
/// replaced and the result parsed.
pub fn parse_v3(text: &str) -> Result<Expr, ParseError> {
    let mut relationships: Vec<(String, Term)> = Vec::new();
    let symbols = RELATIONSHIP.replace_all(text, |c: &regex::Captures<'_>| {
        let symbol = format!("{}__{}__{}", &c[1], &c[2], &c[3]);
        let term =
            Term::Relationship { source: c[1].into(), label: c[2].into(), target: c[3].into() };
        relationships.push((symbol.clone(), term));
        symbol
    });
    let expr = parse(Rule::v2_condition, &normalize(&symbols))?;
    Ok(map_terms(expr, &|t| match t {
        Term::Id(id) => {
            relationships.iter().find(|(s, _)| *s == id).map_or(Term::Id(id), |(_, r)| r.clone())
        }
        other => other,
    }))
}

fn map_terms(e: Expr, f: &dyn Fn(Term) -> Term) -> Expr {
    match e {
        Expr::Term(t) => Expr::Term(f(t)),
        Expr::Not(x) => Expr::Not(Box::new(map_terms(*x, f))),
        Expr::And(xs) => Expr::And(xs.into_iter().map(|x| map_terms(x, f)).collect()),
        Expr::Or(xs) => Expr::Or(xs.into_iter().map(|x| map_terms(x, f)).collect()),
        other => other,
    }
}

/// Whether a newline ends a logical line: outside parentheses, Python stops the expression
/// there, and sympy fails on what follows.
fn newline_outside_parentheses(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.trim().char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '\n' | '\r' if depth <= 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse(rule: Rule, text: &str) -> Result<Expr, ParseError> {
    if let Some(offset) = newline_outside_parentheses(text) {
        return Err(ParseError { message: "line break outside parentheses".into(), offset });
    }
    let mut pairs = ConditionParser::parse(rule, text).map_err(|e| {
        let offset = match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
        ParseError { message: e.variant.message().into_owned(), offset }
    })?;
    let top = pairs.next().and_then(|p| p.into_inner().next());
    match top {
        Some(pair) => Ok(build(pair)),
        None => Err(ParseError { message: "empty condition".into(), offset: 0 }),
    }
}

fn build(pair: Pair<'_, Rule>) -> Expr {
    match pair.as_rule() {
        Rule::v2_or | Rule::v3_or => collapse(pair.into_inner().map(build).collect(), Expr::Or),
        Rule::v2_and | Rule::v3_and => collapse(pair.into_inner().map(build).collect(), Expr::And),
        Rule::v2_unary | Rule::v3_unary => {
            let text = pair.as_str();
            match pair.into_inner().next() {
                Some(inner) if text.starts_with('~') => Expr::Not(Box::new(build(inner))),
                Some(inner) => build(inner),
                None => Expr::False,
            }
        }
        // Python's `a or b` is `a` and `a and b` is `b` (sympy objects are truthy), and
        // `not a` is False: what sympy then receives.
        Rule::v2_py | Rule::v3_py => pair.into_inner().next().map(build).unwrap_or(Expr::False),
        Rule::v2_py_and | Rule::v3_py_and => {
            pair.into_inner().last().map(build).unwrap_or(Expr::False)
        }
        Rule::v2_py_not | Rule::v3_py_not => match pair.into_inner().next() {
            // `not x` nests another not-level pair; anything else passes through.
            Some(inner) if matches!(inner.as_rule(), Rule::v2_py_not | Rule::v3_py_not) => {
                Expr::False
            }
            Some(inner) => build(inner),
            None => Expr::False,
        },
        Rule::call => Expr::Call,
        Rule::relationship => {
            let parts: Vec<String> = pair.into_inner().map(|p| p.as_str().to_string()).collect();
            match <[String; 3]>::try_from(parts) {
                Ok([source, label, target]) => {
                    Expr::Term(Term::Relationship { source, label, target })
                }
                Err(_) => Expr::False,
            }
        }
        _ => Expr::Term(Term::Id(pair.as_str().to_string())),
    }
}

fn collapse(mut items: Vec<Expr>, make: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.len() == 1 { items.remove(0) } else { make(items) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Expr {
        Expr::Term(Term::Id(s.into()))
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let e = parse_v2("a or b and c").expect("parses");
        assert_eq!(e, Expr::Or(vec![id("a"), Expr::And(vec![id("b"), id("c")])]));
    }

    #[test]
    fn not_applies_to_the_next_operand() {
        let e = parse_v2("not (a or b) and c").expect("parses");
        let not = Expr::Not(Box::new(Expr::Or(vec![id("a"), id("b")])));
        assert_eq!(e, Expr::And(vec![not, id("c")]));
    }

    #[test]
    fn v3_relationships_and_both_operator_cases() {
        let e = parse_v3("alarm [ on ] host AND NOT host [contains] vm").expect("parses");
        let on = Term::Relationship {
            source: "alarm".into(),
            label: "on".into(),
            target: "host".into(),
        };
        let contains = Term::Relationship {
            source: "host".into(),
            label: "contains".into(),
            target: "vm".into(),
        };
        assert_eq!(e, Expr::And(vec![Expr::Term(on), Expr::Not(Box::new(Expr::Term(contains)))]));
    }

    #[test]
    fn operators_are_what_vitrage_replaces() {
        assert!(parse_v2("a andb").is_err());
        assert!(parse_v2("a and").is_err());
        assert!(parse_v2("").is_err());
        assert!(parse_v2("a b").is_err());
        // ` not not ` leaves `not~b`: sympy cannot read it after `&`, and alone it is
        // Python's `not ~b`, which is False.
        assert!(parse_v2("a and not not b").is_err());
        assert_eq!(parse_v2("not not b").expect("parses"), Expr::False);
        // Python's own operators survive without spaces: `a and (b)` is `b`.
        assert_eq!(parse_v2("a and(b)").expect("parses"), id("b"));
        assert_eq!(parse_v2("a&b").expect("parses"), Expr::And(vec![id("a"), id("b")]));
    }
}
