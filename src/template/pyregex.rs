//! Python `re` patterns: whether one compiles (Vitrage's code 47), and matching with it as
//! `re.match` does (anchored at the start only).
//!
//! Patterns are compiled with the `regex` crate where possible (linear time), and with
//! `fancy-regex` for the Python features `regex` lacks (look-around, back-references).
//! Escapes Python rejects but Rust accepts (`\p{L}`, `\z`, ...) and Rust-only named groups
//! `(?<name>...)` are refused, so a template Vitrage rejects is rejected here too.

/// A compiled Python pattern, matched from the start of the text.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Compiled by the linear-time `regex` crate.
    Plain(regex::Regex),
    /// Needs look-around or back-references: `fancy-regex`.
    Fancy(Box<fancy_regex::Regex>),
}

impl Pattern {
    /// Compiles `pattern` as Python's `re` would; `None` where `re.compile` fails.
    pub fn compile(pattern: &str) -> Option<Pattern> {
        if has_python_bad_escape(pattern)
            || pattern.contains("(?<") && !angle_groups_are_lookbehind(pattern)
            || has_reversed_repeat(pattern)
            || has_late_global_flags(pattern)
        {
            return None;
        }
        let anchored = format!(r"\A(?:{})", translate(pattern));
        match regex::Regex::new(&anchored) {
            Ok(r) => Some(Pattern::Plain(r)),
            Err(_) => fancy_regex::Regex::new(&anchored).ok().map(|r| Pattern::Fancy(Box::new(r))),
        }
    }

    /// Python's `re.match(pattern, text)` succeeds.
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Pattern::Plain(r) => r.is_match(text),
            Pattern::Fancy(r) => r.is_match(text).unwrap_or(false),
        }
    }
}

/// Whether Vitrage's `re.compile(pattern)` succeeds.
pub fn compiles(pattern: &str) -> bool {
    Pattern::compile(pattern).is_some()
}

/// A Python pattern in the syntax of the Rust engines: Python's octal escapes (`\0`, `\01`,
/// `\101`) become `\x{..}`; everything else is left as written.
pub fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let octal = |k: usize| chars.get(k).is_some_and(|c| ('0'..='7').contains(c));
        let (len, is_octal) = if chars[i + 1] == '0' {
            let n = 1 + usize::from(octal(i + 2)) + usize::from(octal(i + 2) && octal(i + 3));
            (n, true)
        } else if ('1'..='3').contains(&chars[i + 1]) && octal(i + 2) && octal(i + 3) {
            (3, true)
        } else {
            (1, false)
        };
        if is_octal {
            let digits: String = chars[i + 1..i + 1 + len].iter().collect();
            let value = u32::from_str_radix(&digits, 8).unwrap_or(0);
            out.push_str(&format!("\\x{{{value:x}}}"));
        } else {
            out.push(chars[i]);
            out.push(chars[i + 1]);
        }
        i += 1 + len;
    }
    out
}

/// An escape of an ASCII letter that Python's `re` does not define.
fn has_python_bad_escape(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e) if e.is_ascii_alphabetic() => {
                    if !"abBdDfnrsStvwWZAxuUN".contains(e) {
                        return true;
                    }
                    // Python's \u, \U and \x take hex digits, never Rust's braces.
                    if matches!(e, 'u' | 'U' | 'x') && chars.clone().next() == Some('{') {
                        return true;
                    }
                }
                Some(_) => {}
                None => return true,
            }
        }
    }
    false
}

/// `x{m,n}` with `m > n`: Python refuses it ("min repeat greater than max repeat").
fn has_reversed_repeat(pattern: &str) -> bool {
    static REPEAT: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\{(\d+),(\d+)\}").expect("static regex"));
    REPEAT.captures_iter(pattern).any(|c| {
        let m: u64 = c[1].parse().unwrap_or(0);
        let n: u64 = c[2].parse().unwrap_or(u64::MAX);
        m > n
    })
}

/// Global flags such as `(?i)` anywhere but at the start: an error since Python 3.11.
fn has_late_global_flags(pattern: &str) -> bool {
    static FLAGS: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\(\?[aiLmsux]+\)").expect("static regex"));
    FLAGS.find_iter(pattern).any(|m| m.start() > 0)
}

fn angle_groups_are_lookbehind(pattern: &str) -> bool {
    pattern
        .match_indices("(?<")
        .all(|(i, _)| matches!(pattern[i + 3..].chars().next(), Some('=') | Some('!')))
}

#[cfg(test)]
mod tests {
    use super::compiles;

    #[test]
    fn python_and_rust_differences() {
        assert!(compiles("host .* cpu load"));
        assert!(compiles("(?=x)abc"));
        assert!(compiles(r"(a)\1"));
        assert!(!compiles(r"\w+ c("));
        assert!(!compiles(r"\p{L}"));
        assert!(!compiles("(?<n>x)"));
        assert!(compiles("(?<=a)b"));
        assert!(!compiles("abc\\"));
        assert!(!compiles(r"\d{2,1}"));
        assert!(compiles(r"\d{1,2}"));
        assert!(!compiles("a(?i)b"));
        assert!(compiles("(?i)ab"));
        assert!(!compiles(r"\u{41}"));
        assert!(compiles(r"\101"));
        assert_eq!(super::translate(r"a\101\0b\\1"), r"a\x{41}\x{0}b\\1");
    }
}
