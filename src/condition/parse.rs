//! The pest parser for v1/v2 and v3 conditions, after Vitrage's operator replacement.

use super::{Expr, Term};
use pest::Parser;
use pest::iterators::Pair;
use pest_derive::Parser;
use std::collections::HashMap;

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
    /// Which kind of refusal this is.
    pub kind: ParseErrorKind,
}

/// What stopped the parser: the grammar, one of Python's nesting limits (where Vitrage's
/// conversion fails too), or the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The text is not a condition.
    Syntax,
    /// More than [`MAX_BRACKETS`] brackets are open at once.
    Brackets,
    /// The expression nests deeper than [`MAX_EXPR_DEPTH`].
    Depth,
    /// The parser ran out of stack before any limit was reached.
    Stack,
}

/// Python's tokenizer refuses the 201st open bracket ("too many nested parentheses"), and
/// sympy's parser has put each plain name inside one more (`Symbol('x')`), so 200
/// parentheses around an id already fail in Vitrage (85). The brackets are counted before
/// pest runs, since pest's recursion, and building the tree, follow them.
pub const MAX_BRACKETS: usize = 200;

/// The deepest expression Python's compiler takes, in nodes on the longest path; past it,
/// "maximum recursion depth exceeded during compilation" and Vitrage fails (85). A chain of
/// n `and`s or a run of n `~` nests about n deep without brackets. Python's limit is 3,000
/// less three per frame already on its stack when Vitrage calls sympy, so it moves a little
/// with the caller: 2,955 under the oracle's validator (a few nodes below it Vitrage may
/// also crash after compiling).
pub const MAX_EXPR_DEPTH: usize = 2955;

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

/// Parses a v3 condition (entity ids and `source [label] target` relationships).
///
/// As in Vitrage's loader, each relationship first becomes the symbol `source__label__target`
/// (so an id such as `x_not` is never taken for the operator `not `), then the operators are
/// replaced and the result parsed.
pub fn parse_v3(text: &str) -> Result<Expr, ParseError> {
    // The first relationship a symbol stands for wins (`a__b [c] d` and `a [b__c] d` meet).
    let mut relationships: HashMap<String, Term> = HashMap::new();
    let symbols = super::pattern::replace_relationships(text, |r| {
        let symbol = format!("{}__{}__{}", r.source, r.label, r.target);
        let term = Term::Relationship {
            source: r.source.into(),
            label: r.label.into(),
            target: r.target.into(),
        };
        relationships.entry(symbol.clone()).or_insert(term);
        symbol
    });
    crate::stack::with_stack(|| {
        let expr = parse(Rule::v2_condition, &normalize(&symbols))?;
        Ok(map_terms(expr, &|t| match t {
            Term::Id(id) => relationships.get(&id).cloned().unwrap_or(Term::Id(id)),
            other => other,
        }))
    })
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

/// The most brackets Python's tokenizer has open at once in the text sympy compiles, with
/// the offset where that happens: the text's own brackets, plus the `Symbol(` sympy puts
/// around each name that is not a constant, keyword or one of its own names.
fn bracket_depth(text: &str) -> (usize, usize) {
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if c.is_alphanumeric() || c == '_' {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = word_start.take() {
            let word = &text[start..i];
            let bare = matches!(word, "True" | "False" | "None" | "and" | "or" | "not");
            if depth + 1 > deepest && !bare && !super::is_reserved_name(word) {
                (deepest, at) = (depth + 1, start);
            }
        }
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > deepest {
                    (deepest, at) = (depth, i);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (deepest, at)
}

fn parse(rule: Rule, text: &str) -> Result<Expr, ParseError> {
    let refuse = |kind, message: &str, offset| {
        Err(ParseError { message: message.to_string(), offset, kind })
    };
    if let Some(offset) = newline_outside_parentheses(text) {
        return refuse(ParseErrorKind::Syntax, "line break outside parentheses", offset);
    }
    let (brackets, at) = bracket_depth(text);
    if brackets > MAX_BRACKETS {
        return refuse(ParseErrorKind::Brackets, "too many nested parentheses", at);
    }
    crate::stack::with_stack(|| {
        let mut pairs = ConditionParser::parse(rule, text).map_err(|e| {
            let offset = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            let message = e.variant.message().into_owned();
            // pest's own guard: it stops, instead of overflowing, when the stack runs low.
            let kind = if message.contains("limit reached") {
                ParseErrorKind::Stack
            } else {
                ParseErrorKind::Syntax
            };
            ParseError { message, offset, kind }
        })?;
        let Some(top) = pairs.next().and_then(|p| p.into_inner().next()) else {
            return refuse(ParseErrorKind::Syntax, "empty condition", 0);
        };
        let built = build(top);
        if built.depth > MAX_EXPR_DEPTH {
            let message = "maximum recursion depth exceeded during compilation";
            return refuse(ParseErrorKind::Depth, message, 0);
        }
        Ok(built.expr)
    })
}

/// A subtree and its depth as Python's compiler counts it: nodes on the longest path, where a
/// name is `Symbol('x')` (a call over a constant, two) unless sympy leaves it bare (one).
struct Built {
    expr: Expr,
    depth: usize,
}

impl Built {
    fn new(expr: Expr, depth: usize) -> Built {
        Built { expr, depth }
    }
}

/// Recurses once per bracket (`parse` bounds them) plus the fixed rule levels in between:
/// chains and prefix runs are iterated, never recursed into.
fn build(pair: Pair<'_, Rule>) -> Built {
    match pair.as_rule() {
        Rule::v2_or | Rule::v3_or => chain(pair, Expr::Or),
        Rule::v2_and | Rule::v3_and => chain(pair, Expr::And),
        Rule::v2_unary | Rule::v3_unary => {
            let (tildes, operand) = prefixed(pair, Rule::tilde);
            let Some(operand) = operand else { return Built::new(Expr::False, 1) };
            Built::new(negate(operand.expr, tildes), operand.depth + tildes)
        }
        // Python's `a or b` is `a` and `a and b` is `b` (sympy objects are truthy), and
        // `not a` is False: what sympy then receives. Python still compiles every operand.
        Rule::v2_py | Rule::v3_py => bool_op(pair, |items| items.into_iter().next()),
        Rule::v2_py_and | Rule::v3_py_and => bool_op(pair, |items| items.into_iter().last()),
        Rule::v2_py_not | Rule::v3_py_not => {
            let (nots, operand) = prefixed(pair, Rule::py_not);
            let depth = operand.as_ref().map_or(1, |b| b.depth) + nots;
            match operand {
                Some(b) if nots == 0 => b,
                _ => Built::new(Expr::False, depth),
            }
        }
        // `Function('f')(args)`: a call whose function is itself a call over a constant.
        Rule::call => {
            let args = pair.into_inner().skip(1).map(|p| build(p).depth).max().unwrap_or(0);
            Built::new(Expr::Call, 1 + args.max(2))
        }
        Rule::relationship => {
            let parts: Vec<String> = pair.into_inner().map(|p| p.as_str().to_string()).collect();
            let expr = match <[String; 3]>::try_from(parts) {
                Ok([source, label, target]) => {
                    Expr::Term(Term::Relationship { source, label, target })
                }
                Err(_) => Expr::False,
            };
            Built::new(expr, 2)
        }
        _ => {
            let name = pair.as_str();
            let bare = matches!(name, "True" | "False" | "None") || super::is_reserved_name(name);
            Built::new(Expr::Term(Term::Id(name.to_string())), if bare { 1 } else { 2 })
        }
    }
}

/// `a & b & c` (or `|`): Python nests binary operators to the left, so operand `i` sits
/// `k - max(i, 1)` levels below the top of a chain of `k`.
fn chain(pair: Pair<'_, Rule>, make: fn(Vec<Expr>) -> Expr) -> Built {
    let items: Vec<Built> = pair.into_inner().map(build).collect();
    let k = items.len();
    let depth = items.iter().enumerate().map(|(i, b)| b.depth + k - i.max(1)).max();
    let depth = if k == 1 { items[0].depth } else { depth.unwrap_or(1) };
    let mut exprs: Vec<Expr> = items.into_iter().map(|b| b.expr).collect();
    let expr = if exprs.len() == 1 { exprs.remove(0) } else { make(exprs) };
    Built::new(expr, depth)
}

/// Python's `and` / `or` keywords: one node over all operands, whose value is `pick`'s.
fn bool_op(pair: Pair<'_, Rule>, pick: fn(Vec<Expr>) -> Option<Expr>) -> Built {
    let items: Vec<Built> = pair.into_inner().map(build).collect();
    let extra = usize::from(items.len() > 1);
    let depth = items.iter().map(|b| b.depth).max().unwrap_or(0) + extra;
    let expr = pick(items.into_iter().map(|b| b.expr).collect()).unwrap_or(Expr::False);
    Built::new(expr, depth)
}

/// The number of leading `prefix` pairs and the operand after them.
fn prefixed(pair: Pair<'_, Rule>, prefix: Rule) -> (usize, Option<Built>) {
    let mut count = 0;
    let mut operand = None;
    for inner in pair.into_inner() {
        if inner.as_rule() == prefix {
            count += 1;
        } else {
            operand = Some(build(inner));
        }
    }
    (count, operand)
}

/// `~` applied `n` times, kept to at most two levels: sympy removes double negations, and
/// only whether a call sits under an operator depends on more than the parity.
fn negate(expr: Expr, n: usize) -> Expr {
    match n {
        0 => expr,
        _ if n % 2 == 1 => Expr::Not(Box::new(expr)),
        _ => Expr::Not(Box::new(Expr::Not(Box::new(expr)))),
    }
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
    fn brackets_are_counted_as_pythons_tokenizer_sees_them() {
        assert_eq!(bracket_depth("((a))").0, 3);
        assert_eq!(bracket_depth("((E))").0, 2);
        assert_eq!(bracket_depth("(True)&f(x)").0, 2);
        let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert!(parse_v2(&deep(MAX_BRACKETS - 1)).is_ok());
        let e = parse_v2(&deep(MAX_BRACKETS)).expect_err("too deep");
        assert_eq!((e.kind, e.offset), (ParseErrorKind::Brackets, MAX_BRACKETS));
    }

    #[test]
    fn chains_and_runs_are_as_deep_as_python_nests_them() {
        // `a & a & ... & a` of k operands is k - 1 operators over `Symbol('a')` (two levels).
        let chain = |k: usize| vec!["a"; k].join(" and ");
        assert!(parse_v2(&chain(MAX_EXPR_DEPTH - 1)).is_ok());
        assert_eq!(
            parse_v2(&chain(MAX_EXPR_DEPTH)).map_err(|e| e.kind),
            Err(ParseErrorKind::Depth)
        );
        let run = |n: usize| format!("{}a", "~".repeat(n));
        assert_eq!(
            parse_v2(&run(MAX_EXPR_DEPTH - 2)).expect("parses"),
            Expr::Not(Box::new(id("a")))
        );
        assert!(parse_v2(&run(MAX_EXPR_DEPTH - 1)).is_err());
        // Runs keep their parity and at most two levels.
        let twice = Expr::Not(Box::new(Expr::Not(Box::new(id("a")))));
        assert_eq!(parse_v2("~~~~a").expect("parses"), twice);
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
