//! Diagnostics for configuration files, rendered like compiler messages:
//!
//! ```text
//! error: variable `good` is already defined
//!   --> /etc/lcmaps/lcmaps.db:7:1
//!    |
//!  7 | good = "lcmaps_dummy_good.mod"
//!    | ^^^^
//!    = hint: rename one of them; the first definition is on line 3
//! ```

use std::fmt;

/// How bad a diagnostic is. Errors make a configuration unusable; warnings
/// point at something that works but is probably not what the admin meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The configuration cannot be used.
    Error,
    /// The configuration works, but something in it is suspicious.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A place in a source file: 1-based line and column (columns count
/// characters), the length of the marked text, and the text of that line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// File name as given by the user.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Number of characters to underline (at least 1 when rendered).
    pub len: usize,
    /// The whole source line, without its line end.
    pub source_line: String,
}

/// One message about a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where; `None` for whole-file problems such as an unreadable file.
    pub location: Option<Location>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A new error diagnostic.
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    /// A new warning diagnostic.
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    /// Attach a location.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Attach a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Write [`Diagnostic::one_line`] to the `log` facade: errors at error
    /// level, warnings at warn level.
    pub fn log(&self) {
        if self.is_error() {
            log::error!("{}", self.one_line());
        } else {
            log::warn!("{}", self.one_line());
        }
    }

    /// The one-line form used in log files:
    /// `file:line:col: error: message (hint: ...)`.
    pub fn one_line(&self) -> String {
        let mut s = String::new();
        if let Some(loc) = &self.location {
            s.push_str(&format!("{}:{}:{}: ", loc.file, loc.line, loc.col));
        }
        s.push_str(&format!("{}: {}", self.severity, self.message));
        if let Some(h) = &self.hint {
            s.push_str(&format!(" (hint: {h})"));
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.severity, escape(&self.message))?;
        if let Some(loc) = &self.location {
            let num = loc.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad}--> {}:{}:{}", escape(&loc.file), loc.line, loc.col)?;
            writeln!(f, "{pad} |")?;
            // Each character as shown (see `shown`), and how many columns
            // it takes, so that the caret lines up under the marked text.
            let shown: Vec<String> = loc.source_line.chars().map(shown).collect();
            let width = |c: &String| c.chars().count();
            writeln!(f, "{num} | {}", shown.concat())?;
            let line_chars = shown.len();
            let max_len = (line_chars + 1).saturating_sub(loc.col).max(1);
            let len = loc.len.clamp(1, max_len);
            let before = loc.col.saturating_sub(1);
            // A column past the end of the line counts one per character.
            let indent: usize = shown.iter().take(before).map(width).sum::<usize>()
                + before.saturating_sub(line_chars);
            let marked: usize = shown.iter().skip(before).take(len).map(width).sum();
            writeln!(
                f,
                "{pad} | {}{}",
                " ".repeat(indent),
                "^".repeat(marked.max(1))
            )?;
            if let Some(h) = &self.hint {
                writeln!(f, "{pad} = hint: {}", escape(h))?;
            }
        } else if let Some(h) = &self.hint {
            writeln!(f, "  = hint: {}", escape(h))?;
        }
        Ok(())
    }
}

/// Whether `c` must not reach a terminal as it is: control characters
/// (C0, DEL, C1: terminal escape sequences start with them) and the
/// invisible marks and overrides of bidirectional text, which make a line
/// show something else than what it holds.
fn hostile(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// How a character of a source line is shown: a tab as one space, a
/// [`hostile`] character escaped (`\x1b`, `\u{202e}`), anything else as
/// it is.
fn shown(c: char) -> String {
    match c {
        '\t' => " ".into(),
        c if hostile(c) && (c as u32) < 0x80 => format!("\\x{:02x}", c as u32),
        c if hostile(c) => format!("\\u{{{:x}}}", c as u32),
        c => c.into(),
    }
}

/// `s` with its [`hostile`] characters escaped as in source lines (tabs
/// and newlines kept), for the message, the hint and the file name, which
/// may quote the file too.
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| hostile(c) && c != '\t' && c != '\n') {
        return s.into();
    }
    s.chars()
        .map(|c| match c {
            '\t' | '\n' => c.to_string(),
            c => shown(c),
        })
        .collect::<String>()
        .into()
}

/// Source text with a line index, to turn byte offsets into locations.
#[derive(Debug)]
pub struct Source<'a> {
    name: String,
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    /// Index `text`, which is called `name` in diagnostics.
    pub fn new(name: impl Into<String>, text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The file name used in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &'a str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        &self.text[start..end.max(start)]
    }

    /// Location of the byte range `start..end` (clipped to its first line).
    pub fn location(&self, start: usize, end: usize) -> Location {
        let start = floor_char_boundary(self.text, start.min(self.text.len()));
        let line = self.line_of(start);
        let line_start = self.line_starts[line - 1];
        let col = self.text[line_start..start].chars().count() + 1;
        let line_text = self.line_text(line);
        let line_end = line_start + line_text.len();
        let end = floor_char_boundary(self.text, end.clamp(start, line_end.max(start)));
        let len = self.text[start..end].chars().count();
        Location {
            file: self.name.clone(),
            line,
            col,
            len,
            source_line: line_text.to_string(),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Render a list of diagnostics followed by a summary line such as
/// `2 errors, 1 warning`.
pub fn render_all(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out
}

/// `N errors, M warnings` for a list of diagnostics.
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_the_marked_text() {
        let src = Source::new("x.db", "a = \"b\"\nfoo -> bar\n");
        let d = Diagnostic::error("oops")
            .at(src.location(12, 14))
            .hint("fix it");
        assert_eq!(
            d.to_string(),
            "error: oops\n --> x.db:2:5\n  |\n2 | foo -> bar\n  |     ^^\n  = hint: fix it\n"
        );
    }

    #[test]
    fn control_characters_are_escaped_and_the_caret_stays_aligned() {
        // A hostile file: an escape sequence that would clear the screen and
        // retitle the terminal, a bell, C1 CSI, a right-to-left override.
        let text = "\x1b[2J\x1b]0;pwned\x07x = \"\u{9b}31m\u{202e}y\" oops\n";
        let src = Source::new("x.db", text);
        let start = text.find("oops").unwrap();
        let d = Diagnostic::error("unexpected `oops\x1b[0m`")
            .at(src.location(start, start + 4))
            .hint("remove \x1b[1m it");
        let r = d.to_string();
        assert!(!r.chars().any(|c| c != '\n' && hostile(c)), "{r:?}");
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[0], "error: unexpected `oops\\x1b[0m`");
        assert_eq!(
            lines[3],
            "1 | \\x1b[2J\\x1b]0;pwned\\x07x = \"\\u{9b}31m\\u{202e}y\" oops"
        );
        // The caret is under `oops` as shown.
        let at = lines[3].find("oops").unwrap();
        assert_eq!(lines[4], format!("  | {}^^^^", " ".repeat(at - 4)));
        assert_eq!(lines[5], "  = hint: remove \\x1b[1m it");
        // The marked text itself escaped: one caret per column shown.
        let d = Diagnostic::error("e").at(src.location(0, 1));
        assert_eq!(d.to_string().lines().nth(4), Some("  | ^^^^"));
        // The location keeps the text as it is; only rendering escapes.
        assert_eq!(src.location(0, 1).source_line, text.trim_end_matches('\n'));
    }

    #[test]
    fn tabs_show_as_one_space_and_a_column_past_the_end() {
        let src = Source::new("t", "\ta\tb");
        let d = Diagnostic::error("e").at(src.location(4, 4));
        assert_eq!(d.location.as_ref().map(|l| l.col), Some(5));
        assert_eq!(d.to_string().lines().nth(3), Some("1 |  a b"));
        assert_eq!(d.to_string().lines().nth(4), Some("  |     ^"));
    }

    #[test]
    fn line_of_offsets() {
        let src = Source::new("x", "ab\ncd\n\nef");
        assert_eq!(src.line_of(0), 1);
        assert_eq!(src.line_of(2), 1);
        assert_eq!(src.line_of(3), 2);
        assert_eq!(src.line_of(6), 3);
        assert_eq!(src.line_of(7), 4);
        assert_eq!(src.line_text(3), "");
        assert_eq!(src.line_text(4), "ef");
        let loc = src.location(10, 10);
        assert_eq!((loc.line, loc.col), (4, 3));
    }

    #[test]
    fn one_line_form() {
        let src = Source::new("f", "x\n");
        let d = Diagnostic::warning("w").at(src.location(0, 1)).hint("h");
        assert_eq!(d.one_line(), "f:1:1: warning: w (hint: h)");
        assert_eq!(
            summary(&[d.clone(), Diagnostic::error("e")]),
            "1 error, 1 warning"
        );
    }
}
