//! Fuzz the SciTokens token mapfile parser
//! (`lcmaps_scitokens::mapfile::TokenMapfile::parse`): any text gives rules
//! or an error, never a panic; an error names a line that exists; every
//! rule has an issuer, a valid account, a subject or a `/group`, and the
//! line it came from; the rules written back out parse to the same rules.
#![no_main]

use std::path::Path;

use lcmaps_scitokens::mapfile::{valid_account, Match, TokenMapfile};
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
            let n: usize = rest
                .split_once(": ")
                .and_then(|(n, _)| n.parse().ok())
                .unwrap_or_else(|| panic!("{e:?} names no line"));
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
        assert!(valid_account(&r.account), "{:?}", r.account);
        let (kind, value) = match &r.what {
            Match::Sub(s) => {
                assert!(!s.is_empty());
                ("sub", s)
            }
            Match::Group(g) => {
                assert!(g.starts_with('/') && g.len() > 1, "{g:?}");
                ("group", g)
            }
        };
        again.push_str(&format!(
            "{} {kind} {} {}\n",
            quote(&r.issuer),
            quote(value),
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
