//! YAML loaded the way Vitrage loads it: every scalar is a string, and every node keeps the
//! line and column where it was written.
//!
//! Vitrage reads templates with PyYAML's `BaseLoader`, so `version: 3` is `"3"`, `on` is `"on"`
//! and an empty value is `""`. serde-saphyr resolves plain scalars to numbers and booleans, so
//! such scalars are recovered from the source text through their spans. Merge keys (`<<`) are
//! ordinary keys (as with `BaseLoader`), a repeated key keeps its first position and its last
//! value (as a Python dict does), and serde-saphyr's budget bounds depth, aliases and size, so
//! alias bombs and deep nesting end in an error instead of exhausting memory or the stack.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, Options, Spanned};
use std::fmt;

/// A 1-based line and column in a template file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node: a string, a sequence or a mapping, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The content.
    pub value: Value,
    /// Where the node starts.
    pub pos: Pos,
    /// Whether the node is an alias (`*name`) of an anchored node: Python shares one object
    /// between both places, and Vitrage's loader mutates it.
    pub alias: bool,
}

/// The content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Any scalar, as its text.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// Why a file is not YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// The parser's message, without location.
    pub message: String,
    /// Where the parser stopped, when it knows.
    pub pos: Option<Pos>,
    /// The document nests deeper than [`MAX_DEPTH`]: causeway's bound, not a YAML error.
    pub too_deep: bool,
}

/// The deepest nesting of sequences and mappings read. Every walk over a [`Node`] recurses
/// along it, and templates nest about eight levels; PyYAML reads a few hundred levels before
/// Python's recursion limit stops it (Vitrage's code 5).
pub const MAX_DEPTH: usize = 64;

impl Node {
    /// A string node, for values made up by the loader.
    pub fn str(s: impl Into<String>, pos: Pos) -> Node {
        Node { value: Value::Str(s.into()), pos, alias: false }
    }

    /// The string, when this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, when this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, when this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value under a string key of a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v))
    }

    /// Whether a mapping has this key (Python's `key in dict`).
    pub fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// The string under a key, if it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// Python truthiness: empty strings, sequences and mappings are false.
    pub fn truthy(&self) -> bool {
        match &self.value {
            Value::Str(s) => !s.is_empty(),
            Value::Seq(s) => !s.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// What Python's `for x in node` visits: the items of a sequence, the keys of a mapping,
    /// the characters of a string (each as a string node at the string's position).
    pub fn py_iter(&self) -> Vec<Node> {
        match &self.value {
            Value::Seq(s) => s.clone(),
            Value::Map(m) => m.iter().map(|(k, _)| k.clone()).collect(),
            Value::Str(s) => s.chars().map(|c| Node::str(c.to_string(), self.pos)).collect(),
        }
    }

    /// The node as Python's `repr` shows the loaded value (used in Vitrage's messages).
    pub fn py_repr(&self) -> String {
        match &self.value {
            Value::Str(s) => py_repr_str(s),
            Value::Seq(items) => {
                let parts: Vec<String> = items.iter().map(Node::py_repr).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.py_repr(), v.py_repr()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }

    /// The node as Python's `str` shows it: strings bare, containers as their repr.
    pub fn py_str(&self) -> String {
        match &self.value {
            Value::Str(s) => s.clone(),
            _ => self.py_repr(),
        }
    }
}

/// Python's `repr` of a string: single quotes unless the text has a single quote and no double.
pub fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Parses one YAML document into a [`Node`] tree.
pub fn parse(src: &str) -> Result<Node, YamlError> {
    if let Some(e) = pyyaml_refusal(src) {
        return Err(e);
    }
    let mut options = Options::default();
    options.duplicate_keys = DuplicateKeyPolicy::LastWins;
    options.merge_keys = MergeKeyPolicy::AsOrdinary;
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = 10_000;
    budget.max_nodes = 1_000_000;
    options.budget = Some(budget);
    // Deserializing recurses once per level, with large frames in debug builds.
    crate::stack::with_stack(|| {
        let raw: Spanned<Raw> = serde_saphyr::from_str_with_options(src, options).map_err(|e| {
            let pos =
                e.location().map(|l| Pos { line: l.line() as u32, column: l.column() as u32 });
            let e = e.without_snippet();
            if is_too_deep(e) {
                let message = format!("sequences and mappings nested more than {MAX_DEPTH} deep");
                return YamlError { message, pos, too_deep: true };
            }
            YamlError { message: first_line(&e.to_string()), pos, too_deep: false }
        })?;
        to_node(raw, src)
    })
}

/// The depth budget, or the scanner's own nesting limit, which a long run of flow brackets
/// (`[[[[...`) reaches before the budget sees the nodes.
fn is_too_deep(e: &serde_saphyr::Error) -> bool {
    use serde_saphyr::budget::BudgetBreach;
    use serde_saphyr::granit_parser::ErrorKind;
    use serde_saphyr::localizer::ExternalMessageSource;
    match e {
        serde_saphyr::Error::Budget { breach: BudgetBreach::Depth { .. }, .. } => true,
        serde_saphyr::Error::ExternalMessage { source, .. } => matches!(
            source.as_ref(),
            ExternalMessageSource::Parser(s) if matches!(s.kind(), ErrorKind::RecursionLimitExceeded)
        ),
        _ => false,
    }
}

/// What PyYAML refuses and serde-saphyr accepts: a tab outside quoted scalars, comments and
/// block scalar contents (PyYAML skips only spaces between tokens), and the Unicode line
/// breaks NEL, LS and PS outside quoted scalars (PyYAML breaks lines there, and the rest of the
/// line is then not a key).
fn pyyaml_refusal(src: &str) -> Option<YamlError> {
    let mut quote: Option<char> = None;
    let mut block_indent: Option<usize> = None;
    for (n, line) in src.split('\n').enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_indent {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_indent = None;
        }
        let mut prev = ' ';
        let mut chars = line.char_indices().peekable();
        let mut code_end = line.len();
        while let Some((i, c)) = chars.next() {
            let at = |column: usize| Pos { line: n as u32 + 1, column: column as u32 + 1 };
            match quote {
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some(q) if c == q => {
                    if q == '\'' && chars.peek().is_some_and(|&(_, d)| d == '\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                Some(_) => {}
                None if (c == '"' || c == '\'') && " \t:-[{,?".contains(prev) => quote = Some(c),
                None if c == '#' && (prev == ' ' || prev == '\t' || i == 0) => {
                    code_end = i;
                    break;
                }
                None if c == '\t' => {
                    let message = "while scanning for the next token, found character '\\t' that cannot start any token";
                    return Some(YamlError {
                        message: message.into(),
                        pos: Some(at(line[..i].chars().count())),
                        too_deep: false,
                    });
                }
                None if matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => {
                    let message = "while scanning a simple key, could not find expected ':' (a Unicode line break)";
                    return Some(YamlError {
                        message: message.into(),
                        pos: Some(at(line[..i].chars().count())),
                        too_deep: false,
                    });
                }
                None => {}
            }
            prev = c;
        }
        if quote.is_none() {
            let code = line[..code_end].trim_end();
            let last = code.rsplit([' ', ':']).next().unwrap_or("");
            let is_indicator = !last.is_empty()
                && (last.starts_with('|') || last.starts_with('>'))
                && last[1..].chars().all(|c| c == '-' || c == '+' || c.is_ascii_digit());
            if is_indicator && code.len() > last.len() {
                block_indent = Some(indent);
            }
        }
    }
    None
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("invalid YAML").trim().to_string()
}

/// The deserialized shape before scalars are turned back into their source text.
#[derive(Debug)]
enum Raw {
    Str(String),
    /// A scalar serde-saphyr resolved to a number, boolean or null.
    Plain,
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

fn to_node(raw: Spanned<Raw>, src: &str) -> Result<Node, YamlError> {
    // Aliases point back at their anchor, so the anchor's text is what a scalar was written as.
    let loc = raw.defined;
    let alias = raw.referenced.span() != raw.defined.span();
    let pos = Pos { line: loc.line() as u32, column: loc.column() as u32 };
    let value = match raw.value {
        Raw::Str(s) => Value::Str(s),
        Raw::Plain => {
            let span = loc.span();
            let text = match (span.byte_offset(), span.byte_len()) {
                (Some(o), Some(l)) => src.get(o as usize..(o + l) as usize).unwrap_or(""),
                _ => "",
            };
            Value::Str(text.trim().to_string())
        }
        Raw::Seq(items) => {
            Value::Seq(items.into_iter().map(|i| to_node(i, src)).collect::<Result<_, _>>()?)
        }
        Raw::Map(entries) => {
            let mut out: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let (k, v) = (to_node(k, src)?, to_node(v, src)?);
                if k.as_str().is_none() {
                    // PyYAML builds a dict, whose keys must be hashable.
                    return Err(YamlError {
                        message: "while constructing a mapping, found unhashable key".into(),
                        pos: Some(k.pos),
                        too_deep: false,
                    });
                }
                match out.iter_mut().find(|(old, _)| old.value == k.value) {
                    Some(slot) => slot.1 = v,
                    None => out.push((k, v)),
                }
            }
            Value::Map(out)
        }
    };
    let pos = Pos { line: pos.line.max(1), column: pos.column.max(1) };
    Ok(Node { value, pos, alias })
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML node")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Plain)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_strings_as_written() {
        let n = parse("version: 3\non: true\nempty:\nf: 1.10\nt: ~\n").expect("yaml");
        assert_eq!(n.get_str("version"), Some("3"));
        assert_eq!(n.get_str("on"), Some("true"));
        assert_eq!(n.get_str("empty"), Some(""));
        assert_eq!(n.get_str("f"), Some("1.10"));
        assert_eq!(n.get_str("t"), Some("~"));
    }

    #[test]
    fn positions_are_one_based() {
        let n = parse("a:\n  b: c\n").expect("yaml");
        let b = n.get("a").and_then(|a| a.get("b")).expect("b");
        assert_eq!(b.pos, Pos { line: 2, column: 6 });
    }

    #[test]
    fn repeated_key_keeps_first_place_and_last_value() {
        let n = parse("a: 1\nb: 2\na: 3\n").expect("yaml");
        let keys: Vec<_> = n.as_map().expect("map").iter().map(|(k, _)| k.py_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(n.get_str("a"), Some("3"));
    }

    #[test]
    fn alias_bomb_is_an_error() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&src).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let src = format!("{}x{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&src).is_err());
    }

    #[test]
    fn tabs_are_refused_where_pyyaml_refuses_them() {
        assert!(parse("a:\tb\n").is_err());
        assert!(parse("a: b\t# c\n").is_err());
        assert!(parse("a: 'x\ty'\nb: \"x\ty\"\nc: d # x\ty\n").is_ok());
        assert!(parse("a: |\n  x\ty\nb: c\n").is_ok());
        assert!(parse("a: don't\tstop\n").is_err());
        assert!(parse("a: x\u{2028}y\n").is_err());
    }

    #[test]
    fn repr_matches_python() {
        assert_eq!(py_repr_str("a'b"), "\"a'b\"");
        assert_eq!(py_repr_str("ab"), "'ab'");
        assert_eq!(py_repr_str("a'b\""), "'a\\'b\"'");
    }
}
