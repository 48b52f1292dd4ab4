//! Condition checks of v1/v2 and v3 templates, in Vitrage's order, with Vitrage's messages.

use super::codes;
use super::content::{Index, unknown_id};
use super::yaml::{Node, Pos};
use crate::condition::{
    self, Dnf, Expr, ParseError, ParseErrorKind, Term, is_reserved_name, to_dnf,
};
use crate::diagnostic::{Diagnostic, ECHO_LIMIT, Stage, clip};
use regex::Regex;
use std::collections::BTreeSet;

/// v1/v2: parse (85), `not` only on relationships (86), ids (3), a positive term (134),
/// a common entity (135).
pub fn check_v2(condition: &Node, index: &Index<'_>) -> Result<Dnf, Diagnostic> {
    let text = condition.as_str().unwrap_or_default();
    let content = |code: u32| Diagnostic::new(code, Stage::Content, condition.pos);
    if top_level_comma(&condition::normalize(text)) {
        // sympy returns a tuple for `a, b`, and Vitrage's `not` check crashes on it.
        return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Content, condition.pos));
    }
    let dnf = parse_dnf(text, condition::parse_v2).map_err(|no| {
        no.diagnostic(Stage::Content, condition.pos, |_| codes::message(85).unwrap_or("").into())
    })?;
    for clause in &dnf {
        let mut negated: Vec<&Term> =
            clause.iter().filter(|l| !l.positive).map(|l| &l.term).collect();
        negated.sort();
        for term in negated {
            let symbol = term.symbol();
            let is_rel = index.get(&symbol).is_some_and(|d| d.has("relationship_type"));
            if !is_rel {
                let message = format!(
                    "{} template id: {}",
                    codes::message(86).unwrap_or(""),
                    clip(&symbol, ECHO_LIMIT)
                );
                let d = Diagnostic::with_message(86, Stage::Content, condition.pos, message);
                return Err(d.focused(&symbol));
            }
        }
    }
    for token in v2_tokens(text) {
        if index.get(&token).is_none() {
            return Err(unknown_id(&token, condition));
        }
    }
    if dnf.is_empty() {
        // Vitrage's `parse_condition` returns None for a condition that is not a boolean
        // expression of symbols, and its structure check crashes on it.
        return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Content, condition.pos));
    }
    if !has_positive(&dnf) {
        return Err(content(134));
    }
    let targets = common_targets(&dnf, |term| {
        let ends = || {
            let def = index.get(&term.symbol())?;
            if def.has("relationship_type") {
                Some(vec![def.get_str("source")?.to_string(), def.get_str("target")?.to_string()])
            } else {
                Some(vec![def.get("template_id")?.py_str()])
            }
        };
        ends().unwrap_or_default()
    });
    if targets.is_empty() {
        return Err(content(135));
    }
    Ok(dnf)
}

fn top_level_comma(text: &str) -> bool {
    let mut depth = 0i32;
    text.chars().any(|c| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        c == ',' && depth == 0
    })
}

/// The ids Vitrage's v1/v2 check looks up: the text with lower-case operators and
/// parentheses replaced by spaces, split on single spaces.
fn v2_tokens(text: &str) -> Vec<String> {
    let mut s = text.to_string();
    for op in [" and ", " or ", " not ", "not ", "(", ")"] {
        s = s.replace(op, " ");
    }
    s.split(' ').filter(|t| !t.trim().is_empty()).map(str::to_string).collect()
}

/// Why a condition has no DNF.
enum NoDnf {
    /// Vitrage's conversion fails too (85): the reason v3's message gives after the
    /// condition, and a hint when the reason is one of Python's nesting limits.
    Convert { reason: String, hint: Option<&'static str> },
    /// The parser's stack ran out before any limit (causeway's own code).
    Stack,
}

impl NoDnf {
    fn unparsed() -> NoDnf {
        NoDnf::Convert { reason: "could not parse the condition".into(), hint: None }
    }

    /// Code 85 with the message `convert` makes of the reason, or [`codes::TOO_DEEP`].
    fn diagnostic(self, stage: Stage, pos: Pos, convert: impl Fn(&str) -> String) -> Diagnostic {
        match self {
            NoDnf::Convert { reason, hint } => {
                let mut d = Diagnostic::with_message(85, stage, pos, convert(&reason));
                if let Some(hint) = hint {
                    d.hint = hint.into();
                }
                d
            }
            NoDnf::Stack => stack_exhausted(stage, pos),
        }
    }
}

impl From<ParseError> for NoDnf {
    fn from(e: ParseError) -> NoDnf {
        let hint = match e.kind {
            ParseErrorKind::Syntax => return NoDnf::unparsed(),
            ParseErrorKind::Stack => return NoDnf::Stack,
            ParseErrorKind::Brackets => {
                "Vitrage's parser (Python) takes at most 199 brackets around an id; drop redundant parentheses"
            }
            ParseErrorKind::Depth => {
                "Vitrage's parser (Python) takes expressions about 2,955 levels deep, and a chain of n `and`s or a run of n `~` is n levels: split the condition into several scenarios"
            }
        };
        NoDnf::Convert { reason: e.message, hint: Some(hint) }
    }
}

fn stack_exhausted(stage: Stage, pos: Pos) -> Diagnostic {
    let m = codes::message(codes::TOO_DEEP).unwrap_or("");
    let message = format!("{m} - the condition nests deeper than the parser's stack holds");
    Diagnostic::with_message(codes::TOO_DEEP, stage, pos, message)
}

/// Parses and converts to DNF; an error where Vitrage's sympy conversion fails.
fn parse_dnf(
    text: &str,
    parse: fn(&str) -> Result<Expr, condition::ParseError>,
) -> Result<Dnf, NoDnf> {
    // The tree is dropped inside too: dropping recurses as deep as parsing.
    crate::stack::with_stack(|| {
        let expr = parse(text)?;
        if expr.has_nested_call() {
            return Err(NoDnf::unparsed());
        }
        if let Expr::Term(Term::Id(id)) = &expr {
            // sympy converts a lone name such as `E` to its own object instead of failing;
            // Vitrage then crashes on the result. `Ok(vec![])` carries no clause, and the
            // callers report a shape error for it.
            if is_reserved_name(id) {
                return Ok(Vec::new());
            }
        }
        let dnf = to_dnf(&expr).ok_or_else(NoDnf::unparsed)?;
        let reserved = dnf.iter().flatten().any(|l| match &l.term {
            Term::Id(id) => is_reserved_name(id),
            Term::Relationship { .. } => false,
        });
        if reserved { Err(NoDnf::unparsed()) } else { Ok(dnf) }
    })
}

fn has_positive(dnf: &Dnf) -> bool {
    dnf.iter().flatten().any(|l| l.positive)
}

/// The entities every clause binds positively (Vitrage's `get_condition_common_targets`).
pub fn common_targets(dnf: &Dnf, ends: impl Fn(&Term) -> Vec<String>) -> BTreeSet<String> {
    let mut common: Option<BTreeSet<String>> = None;
    for clause in dnf {
        let mut here = BTreeSet::new();
        for lit in clause.iter().filter(|l| l.positive) {
            here.extend(ends(&lit.term));
        }
        common = Some(match common {
            None => here,
            Some(c) => c.intersection(&here).cloned().collect(),
        });
    }
    common.unwrap_or_default()
}

/// v3, per scenario: brackets (85) and unknown ids (10200), then `not` only on
/// relationships (86), a positive term (134) and parsing (85).
pub fn check_v3_text(condition: &Node, entity_ids: &[String]) -> Result<(), Diagnostic> {
    let text = condition.as_str().unwrap_or_default();
    let custom = |code: u32, details: String| {
        let m = codes::message(code).unwrap_or("");
        Diagnostic::with_message(code, Stage::Template, condition.pos, format!("{m} - {details}"))
    };
    let shown = clip(text, ECHO_LIMIT);
    let padded = format!(" {text} ");
    let mut rest = condition::replace_labels(&padded);
    if rest.contains('[') || rest.contains(']') {
        return Err(custom(85, shown.into_owned()));
    }
    rest = condition::remove_operators(&rest);
    for id in entity_ids {
        if let Some(replaced) = condition::replace_word(&rest, id) {
            rest = replaced;
            continue;
        }
        // Vitrage builds `\b<id>\b` from the raw id; an id that is no valid pattern crashes it.
        let Ok(re) = Regex::new(&format!(r"\b{id}\b")) else {
            return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, condition.pos));
        };
        rest = re.replace_all(&rest, " ").into_owned();
    }
    rest = rest.replace(['(', ')'], "");
    if !rest.trim().is_empty() {
        let first = rest.split_whitespace().next().unwrap_or("").to_string();
        let details = format!("{shown},{}", clip(&rest, ECHO_LIMIT));
        return Err(custom(10200, details).focused(&first));
    }
    let collapsed = condition::replace_relationships(text, |_| "relationship".into());
    let dnf = parse_dnf(&collapsed, condition::parse_v2).map_err(|no| {
        no.diagnostic(Stage::Template, condition.pos, |reason| {
            format!("{} - {shown},{reason}", codes::message(85).unwrap_or(""))
        })
    })?;
    for clause in &dnf {
        let mut negated: Vec<String> =
            clause.iter().filter(|l| !l.positive).map(|l| l.term.symbol()).collect();
        negated.sort();
        if let Some(bad) = negated.iter().find(|s| !s.starts_with("relationship")) {
            return Err(custom(86, format!("{},{shown}", clip(bad, ECHO_LIMIT))).focused(bad));
        }
    }
    if !has_positive(&dnf) {
        return Err(custom(134, format!(",{shown}")));
    }
    Ok(())
}

/// v3 trial load of one scenario: its DNF over entity ids and relationships, or 135.
pub fn load_v3(condition: &Node, index: usize, entity_ids: &[String]) -> Result<Dnf, Diagnostic> {
    let text = condition.as_str().unwrap_or_default();
    let processed = condition::replace_relationships(text, |r| {
        format!("{}__{}__{}", r.source, r.label, r.target)
    });
    let bad = |code: u32, details: String| {
        let m = codes::message(code).unwrap_or("");
        Diagnostic::with_message(code, Stage::Template, condition.pos, format!("{m} - {details}"))
    };
    // The validation above parsed this condition with every relationship as one symbol; the
    // loader's symbols (`1host__on__x`, ...) can still fail, and Vitrage's loader crashes then.
    let crash = || Diagnostic::new(codes::BAD_SHAPE, Stage::Template, condition.pos);
    if entity_ids.iter().any(String::is_empty) {
        return Err(crash());
    }
    let parsed = crate::stack::with_stack(|| condition::parse_v3(text).map(|expr| to_dnf(&expr)));
    let dnf = match parsed {
        Ok(Some(dnf)) => dnf,
        Ok(None) => {
            return Err(bad(85, format!("{},condition too large", clip(text, ECHO_LIMIT))));
        }
        Err(e) if e.kind == ParseErrorKind::Stack => {
            return Err(stack_exhausted(Stage::Template, condition.pos));
        }
        Err(_) => return Err(crash()),
    };
    let known = |id: &String| entity_ids.contains(id);
    let all_known = dnf.iter().flatten().all(|l| match &l.term {
        Term::Id(id) => known(id),
        Term::Relationship { source, target, .. } => known(source) && known(target),
    });
    if !all_known || dnf.is_empty() {
        // A symbol that is no entity (the id check uses ids as regexes, so `a.b` lets
        // `axb` through) makes Vitrage's loader crash.
        return Err(Diagnostic::new(codes::BAD_SHAPE, Stage::Template, condition.pos));
    }
    let ends = |t: &Term| match t {
        Term::Id(id) => vec![id.clone()],
        Term::Relationship { source, target, .. } => vec![source.clone(), target.clone()],
    };
    if common_targets(&dnf, ends).is_empty() {
        return Err(bad(135, format!("scenario {index},{}", clip(&processed, ECHO_LIMIT))));
    }
    Ok(dnf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_tokens_keep_upper_case_operators() {
        assert_eq!(v2_tokens("a AND b"), ["a", "AND", "b"]);
        assert_eq!(v2_tokens("not (a or b) and c"), ["a", "b", "c"]);
    }
}
