//! Diagnostics: a Vitrage status code and message, where it happened, and a hint.
//!
//! The code, message and description are what Vitrage's validate API answers, so a
//! diagnostic can be turned into that JSON unchanged; the position and hint are causeway's
//! addition, rendered with a source snippet for people.

use crate::template::codes;
use crate::template::yaml::Pos;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;
use std::borrow::Cow;

/// How many characters of a template's own text (a condition, an id) a message repeats.
/// Vitrage repeats the whole condition; a 100 KB condition would make a 100 KB message.
pub const ECHO_LIMIT: usize = 200;

/// How long any message may get, whatever it quotes: a bound for the places that do not
/// clip what they quote themselves. Vitrage's longest messages are about 300 characters.
pub const MESSAGE_LIMIT: usize = 1000;

/// `text` as a message quotes it: whole up to `limit` characters, else its first `limit`
/// characters, `…` and the full length.
pub fn clip(text: &str, limit: usize) -> Cow<'_, str> {
    match text.char_indices().nth(limit) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}… ({} chars)", &text[..end], text.chars().count())),
    }
}

/// Which validation stage produced a diagnostic (Vitrage's `description` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Stage {
    /// `Template syntax validation` (v1/v2 schema checks).
    Syntax,
    /// `Template content validation` (v1/v2 cross-reference checks).
    Content,
    /// `Template validation` (v3, parameters and causeway's own checks).
    Template,
}

impl Stage {
    /// The text Vitrage puts in `description`.
    pub fn description(self) -> &'static str {
        match self {
            Stage::Syntax => "Template syntax validation",
            Stage::Content => "Template content validation",
            Stage::Template => "Template validation",
        }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The template is rejected.
    Error,
    /// The template is accepted, but probably not what its author meant.
    Warning,
}

/// One finding about a template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Vitrage's status code, or causeway's own (9000 and up).
    pub code: u32,
    /// Vitrage's message (its `comment`), exactly as Vitrage words it.
    pub message: String,
    /// The stage, rendered as Vitrage's description.
    pub stage: Stage,
    /// Error or warning.
    pub severity: Severity,
    /// The file, as given by the caller.
    pub file: String,
    /// Where in the file.
    pub pos: Pos,
    /// How to fix it.
    pub hint: String,
    /// Text at or after `pos` that the diagnostic is about (an id inside a condition), so
    /// that [`Diagnostic::focus_in`] can move the position onto it.
    #[serde(skip)]
    pub focus: Option<String>,
}

impl Diagnostic {
    /// An error with Vitrage's plain message for `code`.
    pub fn new(code: u32, stage: Stage, pos: Pos) -> Diagnostic {
        Diagnostic::with_message(code, stage, pos, codes::message(code).unwrap_or("").to_string())
    }

    /// An error with a message built by the caller, clipped to [`MESSAGE_LIMIT`].
    pub fn with_message(code: u32, stage: Stage, pos: Pos, message: String) -> Diagnostic {
        let message = match clip(&message, MESSAGE_LIMIT) {
            Cow::Borrowed(_) => message,
            Cow::Owned(clipped) => clipped,
        };
        Diagnostic {
            code,
            message,
            stage,
            severity: Severity::Error,
            file: String::new(),
            pos,
            hint: codes::hint(code).to_string(),
            focus: None,
        }
    }

    /// The same diagnostic, about `text` found at or after its position.
    pub fn focused(mut self, text: &str) -> Diagnostic {
        self.focus = Some(text.to_string());
        self
    }

    /// Moves the position onto the focus text when `source` has it within the next lines of
    /// the position (a condition spans a few lines at most).
    pub fn focus_in(&mut self, source: &str) {
        let Some(focus) = self.focus.as_deref().filter(|f| !f.trim().is_empty()) else { return };
        let focus = focus.trim();
        let Some(range) = byte_range(source, self.pos) else { return };
        let window_end = source[range.start..]
            .match_indices('\n')
            .nth(4)
            .map_or(source.len(), |(i, _)| range.start + i);
        let Some(found) = find_word(&source[range.start..window_end], focus) else { return };
        let at = range.start + found;
        let line = source[..at].matches('\n').count() as u32 + 1;
        let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..at].chars().count() as u32 + 1;
        self.pos = Pos { line, column };
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Diagnostic {
        self.severity = Severity::Warning;
        self
    }

    /// The same diagnostic, attributed to `file`.
    pub fn in_file(mut self, file: &str) -> Diagnostic {
        self.file = file.to_string();
        self
    }

    /// Renders the diagnostic with a snippet of `source` around its position, without colour.
    pub fn render(&self, source: &str) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = format!("[{}] {}", self.code, clip(self.message.trim_end(), MESSAGE_LIMIT));
        let mut group = Group::with_title(level.primary_title(title));
        if let Some(range) = byte_range(source, self.pos) {
            group =
                group.element(Snippet::source(source).path(self.file.as_str()).annotation(
                    AnnotationKind::Primary.span(range).label(self.stage.description()),
                ));
        }
        let report = [group, Group::with_title(Level::HELP.secondary_title(self.hint.as_str()))];
        let text = Renderer::plain().render(&report);
        let mut out = String::new();
        if byte_range(source, self.pos).is_none() {
            out.push_str(&format!("{}:{}: ", self.file, self.pos));
        }
        for line in text.lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The first occurrence of `word` in `text` not inside a longer identifier.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back().is_none_or(|c| !is_word(c));
        let after = text[i + word.len()..].chars().next().is_none_or(|c| !is_word(c));
        before && after
    })
}

/// The bytes of the token at `pos`: from the column to the next whitespace or end of line.
fn byte_range(source: &str, pos: Pos) -> Option<std::ops::Range<usize>> {
    let line_start = if pos.line <= 1 {
        0
    } else {
        source.match_indices('\n').nth(pos.line as usize - 2).map(|(i, _)| i + 1)?
    };
    let line = &source[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let col = pos.column.saturating_sub(1) as usize;
    let start = line.char_indices().nth(col).map(|(i, _)| i).unwrap_or(line.len());
    let rest = &line[start..];
    let len = rest.find(char::is_whitespace).unwrap_or(rest.len()).max(1);
    let end = (start + len).min(line.len()).max(start);
    Some(line_start + start..line_start + end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_points_at_the_position() {
        let src = "metadata:\n  name: x\nscenarios: []\n";
        let d = Diagnostic::new(81, Stage::Syntax, Pos { line: 3, column: 12 }).in_file("t.yaml");
        let text = d.render(src);
        assert!(text.contains("[81] At least one scenario must be defined."), "{text}");
        assert!(text.contains("t.yaml:3:12"), "{text}");
        assert!(text.contains("help:"), "{text}");
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_on_a_character() {
        assert_eq!(clip("a [on] b", 200), "a [on] b");
        assert_eq!(clip(&"é".repeat(300), 200), format!("{}… (300 chars)", "é".repeat(200)));
        let d = Diagnostic::with_message(85, Stage::Template, Pos::default(), "x".repeat(5000));
        assert!(d.message.ends_with("… (5000 chars)"));
        assert!(d.render("").len() < MESSAGE_LIMIT + 300);
    }

    #[test]
    fn render_survives_positions_outside_the_source() {
        let d = Diagnostic::new(5, Stage::Syntax, Pos { line: 99, column: 7 }).in_file("t.yaml");
        assert!(d.render("a: b\n").contains("t.yaml:99:7"));
    }
}
