//! Fuzz the SciTokens token mapfile parser
//! (`lcmaps_scitokens::mapfile::TokenMapfile::parse`): any text gives rules
//! or an error, never a panic; an error names a line and column that
//! exist; every rule has an issuer, a valid account (or `.POOL`), a
//! non-empty subject, `/group` or claim value (any regular expression), a
//! valid claim name, and the line it came from; the rules written back
//! out (every kind: sub, group, claim:NAME; exact, prefix, regex) parse to
//! the same rules.
#![no_main]

use std::path::Path;

use lcmaps_scitokens::identity::valid_claim_name;
use lcmaps_scitokens::mapfile::{valid_target_account, Op, Target, TokenMapfile};
use libfuzzer_sys::fuzz_target;

const NAME: &str = "/etc/lcmaps/token-mapfile";

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A regex source as a raw quoted value: `\X` pairs are kept as written,
/// a lone `"` is written `\"`.
fn quote_raw(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    let m = match TokenMapfile::parse(Path::new(NAME), text) {
        Err(e) => {
            let rest = e
                .strip_prefix(NAME)
                .and_then(|r| r.strip_prefix(':'))
                .unwrap_or_else(|| panic!("{e:?} does not name the file"));
            let (at, _) = rest
                .split_once(": ")
                .unwrap_or_else(|| panic!("{e:?} names no line"));
            let (n, col) = at
                .split_once(':')
                .and_then(|(n, c)| Some((n.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
                .unwrap_or_else(|| panic!("{e:?} names no line:column"));
            let len = text.lines().nth(n.wrapping_sub(1)).map_or(0, str::len);
            assert!(col >= 1 && col <= len + 1, "column {col} of {len}: {e}");
            assert!(n >= 1 && n <= lines, "line {n} of {lines}: {e}");
            return;
        }
        Ok(m) => m,
    };
    let mut last = 0;
    let mut again = String::new();
    for r in &m.rules {
        assert!(r.line > last && r.line <= lines);
        last = r.line;
        assert!(!r.issuer.is_empty());
        assert!(valid_target_account(&r.account), "{:?}", r.account);
        let kind = match &r.what.target {
            Target::Sub => "sub".to_string(),
            Target::Group => "group".to_string(),
            Target::Claim(c) => {
                assert!(valid_claim_name(c), "{c:?}");
                format!("claim:{c}")
            }
        };
        let value = match &r.what.op {
            Op::Exact(v) | Op::Prefix(v) => {
                assert!(!v.is_empty());
                if r.what.target == Target::Group {
                    assert!(v.starts_with('/') && v.len() > 1, "{v:?}");
                }
                quote(v)
            }
            Op::Regex(p) => quote_raw(p.as_str()),
        };
        let how = match &r.what.op {
            Op::Exact(_) => "exact",
            Op::Prefix(_) => "prefix",
            Op::Regex(_) => "regex",
        };
        again.push_str(&format!(
            "{} {kind} {how} {value} {}\n",
            quote(&r.issuer),
            r.account
        ));
    }
    let m2 = TokenMapfile::parse(Path::new(NAME), &again)
        .unwrap_or_else(|e| panic!("{again:?} (written from accepted rules) is refused: {e}"));
    let strip = |m: &TokenMapfile| {
        m.rules
            .iter()
            .map(|r| (r.issuer.clone(), r.what.clone(), r.account.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&m), strip(&m2), "{again:?}");
});
