//! Vitrage's three fixed condition patterns, matched by hand.
//!
//! Vitrage rewrites v3 condition text with Python regexes whose `\w`, `\s` and `\b` are
//! Unicode classes. Built with the `regex` crate, those classes cost about four million
//! instructions per pattern, paid once per process: more than validating the templates they
//! serve, and the largest part of loading a small template set. Each pattern here is one
//! deterministic scan (its classes are disjoint, so greedy matching never backtracks), tried
//! at every position after the last match as the regex's leftmost-first search does, and the
//! tests check each against the regex it stands for.

use regex_syntax::is_word_character as word;

/// A `source [label] target` relationship, as Vitrage's
/// `(\w+)\s*\[\s*(\w+)\s*\]\s*(\w+)` captures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship<'a> {
    /// The first capture.
    pub source: &'a str,
    /// The second capture.
    pub label: &'a str,
    /// The third capture.
    pub target: &'a str,
}

/// `text` with every relationship replaced by what `with` makes of it (the regex's
/// `replace_all`).
pub fn replace_relationships(text: &str, with: impl FnMut(Relationship<'_>) -> String) -> String {
    replace_all(text, relationship_at, with)
}

/// `text` with every `\s+\[\s*\w+\s*\]\s+` (a bracketed label between spaces) replaced by one
/// space.
pub fn replace_labels(text: &str) -> String {
    replace_all(text, label_at, |()| String::from(" "))
}

/// `text` without the operators `\b(AND|OR|NOT|and|or|not)\b`.
pub fn remove_operators(text: &str) -> String {
    replace_all(text, operator_at, |()| String::new())
}

/// `Regex::new(r"\b<id>\b").replace_all(text, " ")` without building the regex, for an id
/// that is a literal pattern starting and ending with a word character, where `\b` means "no
/// word character next to it". Building one regex per entity id per scenario (its Unicode
/// word boundaries make each a few million instructions) was most of loading a template.
/// `None` for any other id, which takes the regex.
pub fn replace_word(text: &str, id: &str) -> Option<String> {
    let (first, last) = (id.chars().next()?, id.chars().next_back()?);
    // What is special in a pattern outside a class, when the `x` flag is off.
    let special = ['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$'];
    if !word(first) || !word(last) || id.contains(special) {
        return None;
    }
    let at = |text: &str, i: usize| {
        let end = i + id.len();
        let inside = text[i..].starts_with(id)
            && !text[..i].chars().next_back().is_some_and(word)
            && !text[end..].chars().next().is_some_and(word);
        inside.then_some((end, ()))
    };
    Some(replace_all(text, at, |()| String::from(" ")))
}

/// The regex `replace_all` for a pattern that never matches empty: `at(text, i)` is the end
/// of the match starting at byte `i` and its captures, if there is one.
fn replace_all<'t, T>(
    text: &'t str,
    at: impl Fn(&'t str, usize) -> Option<(usize, T)>,
    mut with: impl FnMut(T) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut from) = (0, 0);
    while let Some((start, (end, captures))) =
        text[from..].char_indices().find_map(|(i, _)| Some(from + i).zip(at(text, from + i)))
    {
        out.push_str(&text[copied..start]);
        out.push_str(&with(captures));
        (copied, from) = (end, end);
    }
    out.push_str(&text[copied..]);
    out
}

/// The end of the run of chars from `i` that `class` takes (`i` if none).
fn run(text: &str, i: usize, class: impl Fn(char) -> bool) -> usize {
    text[i..].char_indices().find(|&(_, c)| !class(c)).map_or(text.len(), |(j, _)| i + j)
}

/// The end of `run` if it takes at least one char.
fn run1(text: &str, i: usize, class: impl Fn(char) -> bool) -> Option<usize> {
    Some(run(text, i, class)).filter(|&end| end > i)
}

fn byte(text: &str, i: usize, b: u8) -> Option<usize> {
    (text.as_bytes().get(i) == Some(&b)).then_some(i + 1)
}

/// `\[\s*\w+\s*\]` from `i`: the end and the label.
fn bracketed(text: &str, i: usize) -> Option<(usize, &str)> {
    let open = run(text, byte(text, i, b'[')?, char::is_whitespace);
    let label_end = run1(text, open, word)?;
    let close = byte(text, run(text, label_end, char::is_whitespace), b']')?;
    Some((close, &text[open..label_end]))
}

fn label_at(text: &str, i: usize) -> Option<(usize, ())> {
    let (end, _) = bracketed(text, run1(text, i, char::is_whitespace)?)?;
    Some((run1(text, end, char::is_whitespace)?, ()))
}

fn relationship_at(text: &str, i: usize) -> Option<(usize, Relationship<'_>)> {
    let source_end = run1(text, i, word)?;
    let (close, label) = bracketed(text, run(text, source_end, char::is_whitespace))?;
    let target = run(text, close, char::is_whitespace);
    let end = run1(text, target, word)?;
    let (source, target) = (&text[i..source_end], &text[target..end]);
    Some((end, Relationship { source, label, target }))
}

fn operator_at(text: &str, i: usize) -> Option<(usize, ())> {
    if text[..i].chars().next_back().is_some_and(word) {
        return None;
    }
    let rest = &text[i..];
    let op =
        ["AND", "OR", "NOT", "and", "or", "not"].into_iter().find(|op| rest.starts_with(op))?;
    let end = i + op.len();
    (!text[end..].chars().next().is_some_and(word)).then_some((end, ()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    const LABELS: &str = r"\s+\[\s*\w+\s*\]\s+";
    const OPERATORS: &str = r"\b(AND|OR|NOT|and|or|not)\b";
    const RELATIONSHIP: &str = r"(\w+)\s*\[\s*(\w+)\s*\]\s*(\w+)";

    /// Texts made of the pieces the patterns care about, Unicode words and spaces among them.
    fn texts() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(" "),
            Just("  "),
            Just("\t"),
            Just("\u{3000}"),
            Just("\n"),
            Just("["),
            Just("]"),
            Just("("),
            Just(")"),
            Just("_"),
            Just("-"),
            Just("a"),
            Just("host"),
            Just("é"),
            Just("٣"),
            Just("x_1"),
            Just("on"),
            Just("and"),
            Just("AND"),
            Just("or"),
            Just("OR"),
            Just("not"),
            Just("NOT"),
            Just("And"),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn labels_are_replaced_as_the_regex_replaces_them(text in texts()) {
            let re = Regex::new(LABELS).expect("regex");
            prop_assert_eq!(replace_labels(&text), re.replace_all(&text, " ").into_owned());
        }

        #[test]
        fn operators_are_removed_as_the_regex_removes_them(text in texts()) {
            let re = Regex::new(OPERATORS).expect("regex");
            prop_assert_eq!(remove_operators(&text), re.replace_all(&text, "").into_owned());
        }

        #[test]
        fn relationships_are_captured_as_the_regex_captures_them(text in texts()) {
            let re = Regex::new(RELATIONSHIP).expect("regex");
            let want = re.replace_all(&text, "<${1}|${2}|${3}>").into_owned();
            let got = replace_relationships(&text, |r| format!("<{}|{}|{}>", r.source, r.label, r.target));
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn an_id_is_replaced_where_its_word_boundary_regex_would_replace_it() {
        let texts = [
            " host [contains] instance ",
            "hostx host xhost host_alarm (host) host",
            "aa aaa  aa_aa a-aa-a ",
            "x-a-a-a a-a ",
            "é_host hosté host· ǅhost host\u{300} host",
            "",
        ];
        let ids = ["host", "aa", "a-a", "a", "x", "host_alarm", "é_host", "ǅhost", "a a", "a#a"];
        for text in texts {
            for id in ids {
                let regex = Regex::new(&format!(r"\b{id}\b")).expect("pattern");
                let want = regex.replace_all(text, " ").into_owned();
                assert_eq!(replace_word(text, id).as_deref(), Some(&*want), "{id:?} in {text:?}");
            }
        }
        for id in ["a.b", "-a", "a-", "", "a|b", "a\\d"] {
            assert_eq!(replace_word("a.b -a a- a|b", id), None, "{id:?} takes the regex");
        }
    }

    #[test]
    fn a_relationship_is_split_into_its_three_words() {
        let got = replace_relationships("alarm_1 [ on ]host and not h [contains]  vm", |r| {
            format!("{}__{}__{}", r.source, r.label, r.target)
        });
        assert_eq!(got, "alarm_1__on__host and not h__contains__vm");
    }

    #[test]
    fn an_operator_inside_a_word_stays() {
        assert_eq!(remove_operators("not_a and band NOT"), "not_a  band ");
    }
}
