//! Property test (issue #15 item 5): grid-mapfile lookups through the
//! parsed, indexed [`Mapfile`] against a naive top-to-bottom scan.
//!
//! A mapfile is generated as a list of lines whose meaning is known by
//! construction (blank and comment lines, entries with quoted or unquoted
//! keys, `\x` escapes, mappings separated by commas and blanks, trailing
//! comments, and malformed lines: an unterminated quote, a `\` at the end),
//! then written out as text. Keys come from a small alphabet with the
//! wildcard characters, so duplicates, keys that are patterns and keys that
//! match other keys are common. The scan below walks those lines in order,
//! as upstream's `lcmaps_gridmapfile()` does: the first line whose key
//! matches (equal bytes, or `fnmatch` with wildcards on) and that has an
//! acceptable mapping wins; a malformed line reached first is an error.
//! [`Mapfile::parse`] + [`Mapfile::lookup`] must give the same hit (line and
//! mapping) or the same error line for every query.

use std::path::Path;

use lcmaps_plugin_common::fnmatch::fnmatch;
use lcmaps_plugin_common::mapfile::{Mapfile, Select};
use proptest::prelude::*;

/// A piece of text and what it stands for.
#[derive(Debug, Clone)]
struct Piece {
    /// As written in the file.
    text: String,
    /// As the key (escapes kept) or the mapping (escapes removed) means it.
    means: String,
}

#[derive(Debug, Clone)]
enum Line {
    /// Blanks only (or nothing).
    Blank(String),
    /// `#` after optional blanks.
    Comment(String),
    Entry {
        lead: String,
        quoted: bool,
        key: Vec<Piece>,
        /// Between key and the first mapping.
        sep: String,
        /// Each mapping with the separator written before the next one.
        mappings: Vec<(Vec<Piece>, String)>,
        /// ` # ...` at the end.
        comment: Option<String>,
    },
    /// A line upstream refuses: `"` never closed, or `\` at its end.
    Broken(String),
}

impl Line {
    fn text(&self) -> String {
        match self {
            Line::Blank(s) | Line::Comment(s) | Line::Broken(s) => s.clone(),
            Line::Entry {
                lead,
                quoted,
                key,
                sep,
                mappings,
                comment,
            } => {
                let mut t = lead.clone();
                let k: String = key.iter().map(|p| p.text.as_str()).collect();
                if *quoted {
                    t.push('"');
                    t.push_str(&k);
                    t.push('"');
                } else {
                    t.push_str(&k);
                }
                t.push_str(sep);
                for (m, after) in mappings {
                    t.extend(m.iter().map(|p| p.text.as_str()));
                    t.push_str(after);
                }
                if let Some(c) = comment {
                    t.push_str(c);
                }
                t
            }
        }
    }

    fn key(&self) -> Option<String> {
        match self {
            Line::Entry { key, .. } => Some(key.iter().map(|p| p.means.as_str()).collect()),
            _ => None,
        }
    }

    fn mappings(&self) -> Vec<String> {
        match self {
            Line::Entry { mappings, .. } => mappings
                .iter()
                .map(|(m, _)| m.iter().map(|p| p.means.as_str()).collect())
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn piece(text: &str, means: &str) -> Piece {
    Piece {
        text: text.into(),
        means: means.into(),
    }
}

/// A key character: a few DN characters, the wildcard characters, and
/// (quoted only) blanks and `\"`; escape pairs are kept as written.
fn key_piece(quoted: bool) -> impl Strategy<Value = Piece> {
    let mut special = vec![
        "=", "*", "?", "[", "]", "!", ",", "#", "[ab]", "[!a]", "[a-b]", "[/]", "[]a]",
    ];
    if quoted {
        special.extend([" ", "\t"]);
    } else {
        special.push("\"");
    }
    let escapes = vec!["\\\"", "\\\\", "\\a", "\\ ", "\\*"];
    prop_oneof![
        12 => proptest::sample::select(vec!["a", "b", "/"]).prop_map(|c| piece(c, c)),
        5 => proptest::sample::select(special).prop_map(|c| piece(c, c)),
        1 => proptest::sample::select(escapes).prop_map(|e| piece(e, e)),
    ]
}

fn key(quoted: bool) -> impl Strategy<Value = Vec<Piece>> {
    let min = usize::from(!quoted);
    proptest::collection::vec(key_piece(quoted), min..4)
        .prop_filter("an unquoted key cannot start with `\"` or `#`", move |k| {
            quoted || !(k[0].text.starts_with('"') || k[0].text.starts_with('#'))
        })
}

/// A mapping character; escapes stand for the escaped character.
fn mapping() -> impl Strategy<Value = Vec<Piece>> {
    let plain = vec!["a", "b", ".", "1", "_"];
    let escapes = vec![
        ("\\,", ","),
        ("\\#", "#"),
        ("\\ ", " "),
        ("\\a", "a"),
        ("\\.", "."),
    ];
    proptest::collection::vec(
        prop_oneof![
            8 => proptest::sample::select(plain).prop_map(|c| piece(c, c)),
            1 => proptest::sample::select(escapes).prop_map(|(t, m)| piece(t, m)),
        ],
        1..4,
    )
}

/// One of `choices`. (Regex strategies are slow to sample in debug builds.)
fn one_of(choices: &[&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(choices.to_vec()).prop_map(String::from)
}

fn blanks() -> impl Strategy<Value = String> {
    one_of(&["", "", " ", "\t", "  ", " \t"])
}

fn entry(quoted: bool) -> impl Strategy<Value = Line> {
    (
        blanks(),
        key(quoted),
        // An unquoted key ends at the first blank.
        if quoted {
            one_of(&["", " ", "\t", ",", " , ", ",,", "\t "])
        } else {
            one_of(&[" ", "\t", " ,", "  ", "\t,\t"])
        },
        proptest::collection::vec((mapping(), one_of(&[" ", ",", "\t", ", ", " ,\t"])), 0..4),
        proptest::option::of(one_of(&[" #", "\t# x \\", " #\"a\" b,c"])),
    )
        .prop_map(move |(lead, key, sep, mappings, comment)| Line::Entry {
            lead,
            quoted,
            key,
            sep,
            mappings,
            comment,
        })
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        3 => blanks().prop_map(Line::Blank),
        3 => (blanks(), one_of(&["", " x", "\"a\" b", "\\"])).prop_map(|(b, c)| Line::Comment(format!("{b}#{c}"))),
        20 => entry(true),
        20 => entry(false),
        // `"` never closed; `\` at the end of a mapping, of a key.
        1 => one_of(&["\"/a b", " \"a*", "\"", "\"a\" .b\\", "a\\", "\ta/\\"]).prop_map(Line::Broken),
    ]
}

#[derive(Debug, Clone)]
enum Query {
    OnlyKey,
    Include,
    Exclude,
    Exact(String),
}

impl Query {
    fn select(&self) -> Select<'_> {
        match self {
            Query::OnlyKey => Select::OnlyKey,
            Query::Include => Select::Include("."),
            Query::Exclude => Select::Exclude("."),
            Query::Exact(s) => Select::Exact(s),
        }
    }

    fn accepts(&self, m: &str) -> bool {
        match self {
            Query::OnlyKey => true,
            Query::Include => m.starts_with('.'),
            Query::Exclude => !m.starts_with('.'),
            Query::Exact(s) => m == s,
        }
    }
}

/// `Ok(Some((line, mapping)))`, `Ok(None)`, or `Err(line)`.
type Answer = Result<Option<(usize, Option<String>)>, usize>;

/// The scan: lines top to bottom.
fn scan(lines: &[Line], subject: &str, wildcards: bool, q: &Query) -> Answer {
    for (i, l) in lines.iter().enumerate() {
        let n = i + 1;
        if let Line::Broken(_) = l {
            return Err(n);
        }
        let Some(key) = l.key() else { continue };
        let matches = if wildcards {
            fnmatch(key.as_bytes(), subject.as_bytes())
        } else {
            key == subject
        };
        if !matches {
            continue;
        }
        if let Query::OnlyKey = q {
            return Ok(Some((n, None)));
        }
        if let Some(m) = l.mappings().into_iter().find(|m| q.accepts(m)) {
            return Ok(Some((n, Some(m))));
        }
    }
    Ok(None)
}

fn indexed(m: &Mapfile, subject: &str, wildcards: bool, q: &Query) -> Answer {
    match m.lookup(subject, wildcards, q.select()) {
        Ok(hit) => Ok(hit.map(|h| (h.line, h.mapping))),
        Err(e) => Err(e.line),
    }
}

/// A query: the subject is a key of the file (as written between the
/// quotes, so that it matches itself), a string a key matches as a pattern,
/// or a random string of the key alphabet; an exact mapping is one of the
/// file or a random one.
#[derive(Debug, Clone)]
struct QuerySpec {
    key: Option<proptest::sample::Index>,
    /// Replace the key's wildcards by what they match.
    instantiate: bool,
    subject: String,
    wildcards: bool,
    kind: u8,
    mapping: Option<proptest::sample::Index>,
    exact: String,
}

impl QuerySpec {
    fn resolve(&self, lines: &[Line]) -> (String, bool, Query) {
        let keys: Vec<String> = lines.iter().filter_map(Line::key).collect();
        let maps: Vec<String> = lines.iter().flat_map(Line::mappings).collect();
        let subject = match &self.key {
            Some(i) if !keys.is_empty() && self.instantiate => {
                // A string the key matches as a pattern.
                [
                    ("[ab]", "a"),
                    ("[!a]", "b"),
                    ("[a-b]", "b"),
                    ("[/]", "/"),
                    ("[]a]", "]"),
                    ("*", "ab"),
                    ("?", "a"),
                ]
                .iter()
                .fold(i.get(&keys).clone(), |k, (from, to)| k.replace(from, to))
            }
            Some(i) if !keys.is_empty() => i.get(&keys).clone(),
            _ => self.subject.clone(),
        };
        let q = match self.kind {
            0 => Query::OnlyKey,
            1 => Query::Include,
            2 => Query::Exclude,
            _ => Query::Exact(match &self.mapping {
                Some(i) if !maps.is_empty() => i.get(&maps).clone(),
                _ => self.exact.clone(),
            }),
        };
        (subject, self.wildcards, q)
    }
}

fn query() -> impl Strategy<Value = QuerySpec> {
    (
        proptest::option::weighted(0.75, any::<proptest::sample::Index>()),
        any::<bool>(),
        one_of(&["", "a", "b", "/a", "ab", "a*", "/b?", "[ab]"]),
        any::<bool>(),
        0u8..4,
        proptest::option::weighted(0.75, any::<proptest::sample::Index>()),
        one_of(&["a", ".a", "b1", "."]),
    )
        .prop_map(
            |(key, instantiate, subject, wildcards, kind, mapping, exact)| QuerySpec {
                key,
                instantiate,
                subject,
                wildcards,
                kind,
                mapping,
                exact,
            },
        )
}

/// A file and eight queries on it.
fn case() -> impl Strategy<Value = (Vec<Line>, Vec<(String, bool, Query)>)> {
    (
        proptest::collection::vec(line(), 0..24),
        proptest::collection::vec(query(), 8),
    )
        .prop_map(|(lines, qs)| {
            let queries = qs.iter().map(|q| q.resolve(&lines)).collect();
            (lines, queries)
        })
}

fn render(lines: &[Line]) -> String {
    lines.iter().map(|l| l.text() + "\n").collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Shrunk failures are printed; no regression file in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn indexed_lookup_is_the_top_to_bottom_scan((lines, queries) in case()) {
        let text = render(&lines);
        let m = Mapfile::parse(Path::new("grid-mapfile"), text.as_bytes());
        for (subject, wildcards, q) in &queries {
            prop_assert_eq!(
                indexed(&m, subject, *wildcards, q),
                scan(&lines, subject, *wildcards, q),
                "subject {:?} wildcards {} {:?} in\n{}", subject, wildcards, q, text
            );
        }
    }
}

/// The generator reaches what the property is about: hits after misses on
/// the same key, wildcard hits on other keys, and errors.
#[test]
fn queries_reach_interesting_lines() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut later_hit, mut pattern_hit, mut bracket_hit, mut errors, mut total) = (0, 0, 0, 0, 0);
    for _ in 0..200 {
        let (lines, queries) = case().new_tree(&mut runner).unwrap().current();
        for (subject, wildcards, q) in &queries {
            total += 1;
            match scan(&lines, subject, *wildcards, q) {
                Err(_) => errors += 1,
                Ok(Some((n, _))) => {
                    let first_key = lines
                        .iter()
                        .position(|l| l.key().as_deref() == Some(subject.as_str()));
                    if first_key.is_some_and(|k| k + 1 < n) {
                        later_hit += 1;
                    }
                    let key = lines[n - 1].key().unwrap_or_default();
                    if key != *subject {
                        pattern_hit += 1;
                        if key.contains('[') {
                            bracket_hit += 1;
                        }
                    }
                }
                Ok(None) => {}
            }
        }
    }
    eprintln!(
        "{total} queries: {later_hit} later hits, {pattern_hit} pattern hits \
         ({bracket_hit} bracket), {errors} errors"
    );
    assert!(later_hit > 20 && pattern_hit > 40 && bracket_hit > 10 && errors > 20);
}
