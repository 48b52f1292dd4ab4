//! Bad input never panics: mutated templates, random bytes and random condition strings go
//! through the loader, the validator, the condition parser and the compiler.

use causeway::check::{Input, Options, check_set};
use causeway::condition::{MAX_BRACKETS, parse_v2, parse_v3, to_dnf};
use proptest::prelude::*;
use std::path::Path;

fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        "templates",
        "tests/fixtures/compile",
        "tests/fixtures/invalid",
        "tests/fixtures/equivalence",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        out.extend(files.iter().map(|f| std::fs::read(f).expect("read")));
    }
    out
}

fn check(bytes: Vec<u8>) {
    let input = Input { file: "mutant.yaml".into(), bytes };
    let options = Options::default();
    let result = check_set(std::slice::from_ref(&input), &options);
    if let Some(d) = &result.files[0].error {
        let _ = d.render(&String::from_utf8_lossy(&input.bytes));
    }
    let _ = result.compiled.rules.to_string();
}

/// One edit of a template: delete, duplicate or replace a byte range, or splice a token
/// that templates are sensitive to.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, &'static str),
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Delete(a, n) => {
                let a = a % len;
                let b = (a + n % 16).min(bytes.len());
                if a < b {
                    bytes.drain(a..b);
                }
            }
            Edit::Duplicate(a, n) => {
                let a = a % len;
                let b = (a + n % 64).min(bytes.len());
                if a < b {
                    let piece = bytes[a..b].to_vec();
                    bytes.splice(b..b, piece);
                }
            }
            Edit::Insert(a, s) => {
                let a = (a % len).min(bytes.len());
                bytes.splice(a..a, s.bytes());
            }
        }
    }
    bytes
}

const TOKENS: &[&str] = &[
    " and ",
    " or ",
    " not ",
    " AND ",
    "(",
    ")",
    "[",
    "]",
    " [on] ",
    ":",
    "- ",
    "\n",
    "  ",
    "{",
    "}",
    "&a",
    "*a",
    "get_param(x)",
    "get_attr(",
    "'",
    "\"",
    "~",
    ".regex",
    "entity:",
    "E",
    "\u{feff}",
    "\t",
    "scenario:",
    "template_id: 1",
    "version: 3",
    "version: 2",
    "\x00",
    "\u{ff}",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Edit::Insert(a, TOKENS[t])),
    ]
}

/// Layers of nesting around an id, innermost first: brackets, `~` and `not ` runs, Python's
/// `not(`, and `and` / `or` chains, each up to a few hundred deep (issue 11).
fn nested_condition() -> impl Strategy<Value = String> {
    prop::collection::vec((0..6usize, 1..300usize), 0..10).prop_map(|layers| {
        let mut text = String::from("a");
        for (kind, n) in layers {
            text = match kind {
                0 => format!("{}{text}{}", "(".repeat(n), ")".repeat(n)),
                1 => format!("{}{text}", "~".repeat(n)),
                2 => format!("{}{text}", "not ".repeat(n)),
                3 => format!("{}{text}{}", "not(".repeat(n), ")".repeat(n)),
                4 => format!("{} and ({text})", vec!["b"; n].join(" and ")),
                _ => format!("({text}) or {}", vec!["b"; n].join(" or ")),
            };
        }
        text
    })
}

fn max_brackets(text: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    deepest
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn nested_conditions_never_panic(text in nested_condition()) {
        for expr in [parse_v2(&text), parse_v3(&text)].into_iter().flatten() {
            // An id sits inside the innermost bracket: one more level for sympy's `Symbol(`.
            prop_assert!(max_brackets(&text) < MAX_BRACKETS);
            let _ = to_dnf(&expr);
        }
        let v3 = format!(
            "metadata: {{version: 3, name: n, type: standard}}\nentities: {{a: {{type: x}}, b: {{type: y}}}}\nscenarios:\n- condition: {text}\n  actions:\n  - mark_down: {{target: a}}\n"
        );
        check(v3.into_bytes());
    }

    #[test]
    fn mutated_templates_never_panic(seed in 0usize..64, edits in prop::collection::vec(edit(), 1..6)) {
        let seeds = seeds();
        let base = seeds[seed % seeds.len()].clone();
        check(apply(base, &edits));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(bytes);
    }

    #[test]
    fn random_conditions_never_panic(text in "[a-c ()\\[\\]ANDORTnotr_]{0,60}") {
        for expr in [parse_v2(&text), parse_v3(&text)].into_iter().flatten() {
            let _ = to_dnf(&expr);
        }
    }
}

#[test]
fn huge_and_deep_inputs_are_errors_not_crashes() {
    check(format!("metadata: {}x{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes());
    check(format!("a: {}", "x".repeat(5_000_000)).into_bytes());
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    check(bomb.into_bytes());
    let cond = (0..200).map(|i| format!("(a{i} or b{i})")).collect::<Vec<_>>().join(" and ");
    let template = format!(
        "metadata: {{version: 3, name: big, type: standard}}\nentities: {{a0: {{type: x}}}}\nscenarios:\n- condition: {cond}\n  actions: []\n"
    );
    check(template.into_bytes());
}
