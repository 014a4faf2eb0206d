//! From bytes to the syntax tree: encoding checks, the pest grammar, and
//! explanations for lines the grammar does not accept.

use pest::iterators::Pair;
use pest::Parser;

use super::ast::{Ast, Item, RuleAst, Span, StrLit, VarValue, Word};
use crate::diag::{Diagnostic, Source};

mod grammar {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "db/lcmaps.pest"]
    pub struct PdlParser;
}
use grammar::{PdlParser, Rule};

/// At most this many syntax errors are reported for one file; after that
/// the file is clearly not an lcmaps.db and more lines would only bury the
/// first, most useful messages.
pub const MAX_SYNTAX_ERRORS: usize = 50;

/// Check that `bytes` is text LCMAPS can read the same way we do: UTF-8
/// (ASCII in practice), no NUL bytes, Unix line ends.
///
/// LCMAPS itself reads bytes; a NUL silently truncates a flex token and a CR
/// becomes an "unrecognized token" followed by a syntax error. We refuse
/// all three up front with a message that says what to do.
pub fn check_encoding<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, Box<Diagnostic>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = e.valid_up_to();
            // Safe: the prefix up to `good` is valid UTF-8.
            let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
            let line = prefix.matches('\n').count() + 1;
            let line_start = prefix.rfind('\n').map(|i| i + 1).unwrap_or(0);
            let col = prefix[line_start..].chars().count() + 1;
            // Show the line up to 200 bytes, but always through the bad byte
            // so that the column points inside the text shown.
            let shown = (good - line_start + 1).max(200);
            let source_line = String::from_utf8_lossy(
                &bytes[line_start..]
                    .split(|b| *b == b'\n')
                    .next()
                    .unwrap_or_default()
                    .iter()
                    .take(shown)
                    .copied()
                    .collect::<Vec<u8>>(),
            )
            .into_owned();
            return Err(Box::new(Diagnostic::error(format!(
                "the file is not valid UTF-8 (byte 0x{:02x} at offset {good})",
                bytes[good]
            ))
            .at(crate::diag::Location { file: name.into(), line, col, len: 1, source_line })
            .hint(
                "lcmaps.db must be ASCII or UTF-8 text; convert it, e.g. `iconv -f latin1 -t utf-8`",
            )));
        }
    };
    let src = Source::new(name, text);
    if let Some(pos) = text.find('\0') {
        return Err(Box::new(
            Diagnostic::error("the file contains a NUL byte")
                .at(src.location(pos, pos + 1))
                .hint(
                    "lcmaps.db must be plain text; remove the NUL bytes (is this the right file?)",
                ),
        ));
    }
    if let Some(pos) = text.find('\r') {
        let count = text.matches('\r').count();
        return Err(Box::new(
            Diagnostic::error(format!(
                "the file has Windows (CRLF) line ends ({count} carriage return{})",
                if count == 1 { "" } else { "s" }
            ))
            .at(src.location(pos, pos + 1))
            .hint("LCMAPS cannot read CR characters either; convert the file with `dos2unix`"),
        ));
    }
    Ok(text)
}

/// Parse source text into items. Syntax errors come back as diagnostics in
/// the second element; the tree then holds `Item::Bad` for those lines.
pub fn parse(src: &Source<'_>) -> (Ast, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut ast = Ast::default();
    let file = match PdlParser::parse(Rule::file, src.text()) {
        Ok(mut pairs) => pairs.next().expect("file rule always yields one pair"),
        Err(e) => {
            // The grammar has a catch-all, so this only happens on input pest
            // itself cannot handle; report it rather than panic.
            diags.push(Diagnostic::error(format!("cannot parse the file: {e}")));
            return (ast, diags);
        }
    };
    let mut bad = 0usize;
    for pair in file.into_inner() {
        let item = match pair.as_rule() {
            Rule::label => {
                let w = pair.into_inner().next().expect("label has a word");
                Item::Label { name: word(w) }
            }
            Rule::path_decl => {
                let span = pair.as_span().into();
                let mut value = None;
                let mut quoted = false;
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::path_value {
                        let inner = p.into_inner().next().expect("path value has content");
                        value = Some(match inner.as_rule() {
                            Rule::quoted_path => {
                                quoted = true;
                                word(inner.into_inner().next().expect("quoted path has a word"))
                            }
                            _ => word(inner),
                        });
                    }
                }
                Item::Path {
                    value,
                    quoted,
                    span,
                }
            }
            Rule::var_decl => {
                let span = pair.as_span().into();
                let mut inner = pair.into_inner();
                let name = word(inner.next().expect("var has a name"));
                let mut strings = Vec::new();
                let mut alias = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::string => strings.push(StrLit {
                            body: p
                                .clone()
                                .into_inner()
                                .next()
                                .map(|b| b.as_str())
                                .unwrap_or("")
                                .into(),
                            span: p.as_span().into(),
                        }),
                        Rule::alias => {
                            alias = Some(word(p.into_inner().next().expect("alias has a word")))
                        }
                        _ => {}
                    }
                }
                let value = match alias {
                    Some(a) => VarValue::Alias(a),
                    None => VarValue::Strings(strings),
                };
                Item::Var { name, value, span }
            }
            Rule::rule => Item::Rule(rule(pair)),
            Rule::bad => {
                let span: Span = pair.as_span().into();
                bad += 1;
                if bad <= MAX_SYNTAX_ERRORS {
                    diags.push(explain_bad(src, span));
                } else if bad == MAX_SYNTAX_ERRORS + 1 {
                    diags.push(
                        Diagnostic::error(format!(
                            "more than {MAX_SYNTAX_ERRORS} lines could not be parsed; \
                             the rest are not reported"
                        ))
                        .at(src.location(span.start, span.end))
                        .hint("is this really an lcmaps.db file?"),
                    );
                }
                Item::Bad { span }
            }
            _ => continue,
        };
        ast.items.push(item);
    }
    (ast, diags)
}

fn word(p: Pair<'_, Rule>) -> Word {
    Word {
        text: p.as_str().to_string(),
        span: p.as_span().into(),
    }
}

fn rule(pair: Pair<'_, Rule>) -> RuleAst {
    let span: Span = pair.as_span().into();
    let inner = pair.into_inner().next().expect("rule has a form");
    let tilde = inner.as_rule() == Rule::tilde_rule;
    let words: Vec<Word> = inner
        .into_inner()
        .filter(|p| p.as_rule() == Rule::word)
        .map(word)
        .collect();
    let mut it = words.into_iter();
    let state = it.next().expect("rule has a state");
    let first = it.next();
    let second = it.next();
    if tilde {
        RuleAst {
            state,
            on_success: None,
            on_failure: first,
            tilde,
            span,
        }
    } else {
        RuleAst {
            state,
            on_success: first,
            on_failure: second,
            tilde,
            span,
        }
    }
}

fn human(r: &Rule) -> &'static str {
    match r {
        Rule::label => "a policy label (`name:`)",
        Rule::path_decl => "`path = /dir`",
        Rule::var_decl => "a declaration (`name = \"module args\"`)",
        Rule::rule | Rule::plain_rule | Rule::tilde_rule => "a rule (`a -> b`)",
        Rule::word | Rule::any_word | Rule::alias => "a name",
        Rule::string => "a quoted string",
        Rule::colon => "`:`",
        Rule::assign => "`=`",
        Rule::arrow => "`->`",
        Rule::pipe => "`|`",
        Rule::tilde => "`~`",
        Rule::path_value | Rule::quoted_path => "a directory",
        Rule::EOI => "the end of the line",
        _ => "something else",
    }
}

/// Say why a line did not parse, pointing at the first character where it
/// stops making sense.
fn explain_bad(src: &Source<'_>, span: Span) -> Diagnostic {
    let text = &src.text()[span.start..span.end];
    let generic_hint = "a line holds a declaration `name = \"module args\"`, a policy label \
                        `name:`, or a rule `a -> b`, `a -> b | c` or `~a -> b`";

    // An unterminated string is the most common mistake; say so plainly.
    if let Some(q) = unterminated_quote(text) {
        let at = span.start + q;
        return Diagnostic::error("unterminated string: a string must end on the line it starts")
            .at(src.location(at, span.end))
            .hint(
                "add the closing `\"`; to continue a plugin's arguments on the next line, \
                 close this string and start a new one there",
            );
    }
    // A label that does not start its line.
    if let Some(colon) = text.find(':') {
        let before = &text[..colon];
        if !before.is_empty()
            && before
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric() || "_./".contains(c))
        {
            let line_start = src.text()[..span.start]
                .rfind('\n')
                .map(|i| i + 1)
                .unwrap_or(0);
            if !src.text()[line_start..span.start]
                .trim_matches([' ', '\t'])
                .is_empty()
            {
                // Byte index just past the last non-word character, which
                // may be several bytes long (`i + 1` would split it).
                let wstart = before
                    .char_indices()
                    .rev()
                    .find(|(_, c)| !(c.is_ascii_alphanumeric() || "_./".contains(*c)))
                    .map_or(0, |(i, c)| i + c.len_utf8());
                return Diagnostic::error(format!(
                    "policy label `{}:` must start its own line",
                    &before[wstart..]
                ))
                .at(src.location(span.start + wstart, span.start + colon + 1))
                .hint("put the label on a line of its own, before the policy's rules");
            }
        }
    }
    // Otherwise ask the grammar what it expected where it stopped.
    match PdlParser::parse(Rule::strict_item, &src.text()[span.start..]) {
        Err(e) => {
            let pos = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            let at = (span.start + pos).min(span.end);
            let mut expected: Vec<&str> = match &e.variant {
                pest::error::ErrorVariant::ParsingError { positives, .. } => {
                    positives.iter().map(human).collect()
                }
                pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
            };
            expected.dedup();
            let found = src.text()[at..].chars().next().filter(|c| *c != '\n');
            let found = match found {
                Some(c) if c.is_control() => format!("character U+{:04X}", c as u32),
                Some(c) => format!("`{c}`"),
                None => "end of line".into(),
            };
            let message = if expected.is_empty() || at == span.start {
                format!("unexpected {found}: this is not a declaration, a label or a rule")
            } else {
                format!("unexpected {found}; expected {}", join_or(&expected))
            };
            let is_path = text
                .trim_start_matches([' ', '\t'])
                .strip_prefix("path")
                .is_some_and(|r| {
                    !r.starts_with(|c: char| c.is_ascii_alphanumeric() || "_./".contains(c))
                });
            Diagnostic::error(message)
                .at(src.location(at, at + 1))
                .hint(if is_path {
                    "`path` takes one directory of letters, digits, `_`, `.` and `/`, e.g. \
                     `path = /usr/lib/lcmaps`; remove anything else from the line"
                } else {
                    generic_hint
                })
        }
        Ok(_) => Diagnostic::error("this line cannot be parsed")
            .at(src.location(span.start, span.end))
            .hint(generic_hint),
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [a] => (*a).to_string(),
        [rest @ .., last] => format!("{} or {}", rest.join(", "), last),
    }
}

/// Byte offset of a quote in `line` that opens a string never closed on the
/// line (with `\"` counting as an escaped quote inside strings).
fn unterminated_quote(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut open: Option<usize> = None;
    while i < b.len() {
        match (open, b[i]) {
            (None, b'#') => return None,
            (None, b'"') => open = Some(i),
            (Some(_), b'\\') if b.get(i + 1) == Some(&b'"') => i += 1,
            (Some(_), b'"') => open = None,
            _ => {}
        }
        i += 1;
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> (Vec<Item>, Vec<Diagnostic>) {
        let src = Source::new("t.db", text);
        let (ast, d) = parse(&src);
        (ast.items, d)
    }

    #[test]
    fn parses_every_form() {
        let text = "# comment\npath = /usr/lib/lcmaps # trailing\n\
                    good = \"lcmaps_dummy_good.mod\"\n\
                    multi = \"lcmaps_x.mod\"\n   \"-a b\" \"-c\"\n\
                    alias = good\n\
                    pol1:\n a -> b\n b -> c | d\n ~e -> f\n  pol2:\ng -> h\n";
        let (items, d) = items(text);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(items.len(), 10);
        assert!(
            matches!(&items[0], Item::Path { value: Some(w), quoted: false, .. } if w.text == "/usr/lib/lcmaps")
        );
        match &items[2] {
            Item::Var {
                name,
                value: VarValue::Strings(s),
                ..
            } => {
                assert_eq!(name.text, "multi");
                assert_eq!(s.len(), 3);
                assert_eq!(s[1].body, "-a b");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&items[3], Item::Var { value: VarValue::Alias(w), .. } if w.text == "good")
        );
        assert!(matches!(&items[4], Item::Label { name } if name.text == "pol1"));
        match &items[7] {
            Item::Rule(r) => {
                assert!(r.tilde);
                assert_eq!(r.display(), "~e -> f");
            }
            other => panic!("{other:?}"),
        }
        match &items[6] {
            Item::Rule(r) => assert_eq!(r.display(), "b -> c | d"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_path_does_not_swallow_the_next_line() {
        let (items, d) = items("path =\nx = \"y\"\n");
        assert!(d.is_empty());
        assert!(matches!(&items[0], Item::Path { value: None, .. }));
        assert!(matches!(&items[1], Item::Var { .. }));
    }

    #[test]
    fn quoted_path_is_accepted() {
        let (items, d) = items("path = \"/opt/x\"\n");
        assert!(d.is_empty());
        assert!(
            matches!(&items[0], Item::Path { value: Some(w), quoted: true, .. } if w.text == "/opt/x")
        );
    }

    #[test]
    fn escaped_quotes_stay_in_the_body() {
        let (items, _) = items("x = \"-dn \\\"cn=a b\\\"\"\n");
        match &items[0] {
            Item::Var {
                value: VarValue::Strings(s),
                ..
            } => assert_eq!(s[0].body, "-dn \\\"cn=a b\\\""),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn path_word_is_a_keyword_not_a_state() {
        let (_, d) = items("p:\npath -> x\n");
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn junk_after_a_path_says_what_was_expected_and_what_to_do() {
        let (_, d) = items("path = /usr/lib/lcmaps;\n");
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].message, "unexpected `;`; expected the end of the line");
        assert_eq!(d[0].location.as_ref().unwrap().col, 23);
        assert!(d[0]
            .hint
            .as_deref()
            .unwrap()
            .starts_with("`path` takes one directory"));
        // Every rule the grammar can expect has words: no "something else".
        for text in [
            "path = /a b\n",
            "path = \"/a\" b\n",
            "a = \"x\" b\n",
            "p: ~a -> b | c\n",
        ] {
            let (_, d) = items(text);
            assert!(
                d.iter().all(|d| !d.message.contains("something else")),
                "{text:?}: {d:#?}"
            );
        }
    }

    #[test]
    fn bad_lines_are_reported_and_parsing_goes_on() {
        let (items, d) = items("a = \"unterminated\nb => c\np:\nx -> y\nq - r\n");
        assert_eq!(d.len(), 3, "{d:#?}");
        assert!(d[0].message.starts_with("unterminated string"));
        assert_eq!(
            d[1].message,
            "unexpected `>`; expected a name or a quoted string"
        );
        assert_eq!(d[2].message, "unexpected `-`; expected `=` or `->`");
        assert_eq!(d[2].location.as_ref().unwrap().col, 3);
        assert!(items
            .iter()
            .any(|i| matches!(i, Item::Rule(r) if r.display() == "x -> y")));
    }

    #[test]
    fn encoding_checks() {
        assert!(check_encoding("f", b"a -> b\n").is_ok());
        let e = check_encoding("f", b"x\na\xffb\n").unwrap_err();
        assert_eq!(e.location.as_ref().map(|l| (l.line, l.col)), Some((2, 2)));
        let e = check_encoding("f", b"a\0").unwrap_err();
        assert!(e.message.contains("NUL"));
        let e = check_encoding("f", b"a -> b\r\nc -> d\r\n").unwrap_err();
        assert!(e.message.contains("2 carriage returns"), "{}", e.message);
    }

    #[test]
    fn many_bad_lines_are_capped() {
        let text = "!!!\n".repeat(200);
        let (_, d) = items(&text);
        assert_eq!(d.len(), MAX_SYNTAX_ERRORS + 1);
    }
}
