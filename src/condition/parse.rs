//! The pest parser for v1/v2 and v3 conditions.

use super::{Expr, Term};
use pest::Parser;
use pest::iterators::Pair;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../grammar/condition.pest"]
struct ConditionParser;

/// Why a condition does not parse; `offset` is a byte offset into the condition text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at offset {offset})")]
pub struct ParseError {
    /// What the parser expected.
    pub message: String,
    /// Where in the condition it stopped.
    pub offset: usize,
}

/// Parses a v1/v2 condition (template ids, `and`, `or`, `not`, parentheses).
pub fn parse_v2(text: &str) -> Result<Expr, ParseError> {
    parse(Rule::v2_condition, text)
}

/// Parses a v3 condition (entity ids and `source [label] target` relationships).
pub fn parse_v3(text: &str) -> Result<Expr, ParseError> {
    parse(Rule::v3_condition, text)
}

fn parse(rule: Rule, text: &str) -> Result<Expr, ParseError> {
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
        Rule::v2_or | Rule::v3_or => {
            let items: Vec<Expr> = pair.into_inner().filter(is_operand).map(build).collect();
            collapse(items, Expr::Or)
        }
        Rule::v2_and | Rule::v3_and => {
            let items: Vec<Expr> = pair.into_inner().filter(is_operand).map(build).collect();
            collapse(items, Expr::And)
        }
        Rule::v2_unary | Rule::v3_unary => {
            let mut inner = pair.into_inner();
            match inner.next() {
                Some(first) if first.as_rule() == Rule::not_op => match inner.next() {
                    Some(operand) => Expr::Not(Box::new(build(operand))),
                    None => Expr::And(Vec::new()),
                },
                Some(first) => build(first),
                None => Expr::And(Vec::new()),
            }
        }
        Rule::relationship => {
            let parts: Vec<String> = pair.into_inner().map(|p| p.as_str().to_string()).collect();
            match <[String; 3]>::try_from(parts) {
                Ok([source, label, target]) => {
                    Expr::Term(Term::Relationship { source, label, target })
                }
                Err(_) => Expr::And(Vec::new()),
            }
        }
        _ => Expr::Term(Term::Id(pair.as_str().to_string())),
    }
}

fn is_operand(pair: &Pair<'_, Rule>) -> bool {
    !matches!(pair.as_rule(), Rule::and_op | Rule::or_op)
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
    fn operators_need_spaces() {
        assert!(parse_v2("a andb").is_err());
        assert!(parse_v2("(a or b)and c").is_err());
        assert!(parse_v2("a and").is_err());
        assert!(parse_v2("").is_err());
        assert!(parse_v2("a b").is_err());
    }
}
