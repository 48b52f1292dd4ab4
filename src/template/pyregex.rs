//! Whether a pattern compiles as a Python `re` pattern (Vitrage's code 47).
//!
//! Patterns are compiled with the `regex` crate where possible (linear time), and with
//! `fancy-regex` for the Python features `regex` lacks (look-around, back-references).
//! Escapes Python rejects but Rust accepts (`\p{L}`, `\z`, ...) and Rust-only named groups
//! `(?<name>...)` are refused, so a template Vitrage rejects is rejected here too.

/// Whether Vitrage's `re.compile(pattern)` succeeds.
pub fn compiles(pattern: &str) -> bool {
    if has_python_bad_escape(pattern)
        || pattern.contains("(?<") && !angle_groups_are_lookbehind(pattern)
        || has_reversed_repeat(pattern)
        || has_late_global_flags(pattern)
    {
        return false;
    }
    regex::Regex::new(pattern).is_ok() || fancy_regex::Regex::new(pattern).is_ok()
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
    }
}
