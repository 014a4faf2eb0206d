//! The token mapfile: one rule per line, first match wins.
//!
//! ```text
//! # issuer                           kind   value                   account
//! "https://cms-auth.web.cern.ch/"    sub    "bd1c1ae5-1d6a-4f1e"    cmsprd
//! "https://cms-auth.web.cern.ch/"    group  "/cms/production"       cmsprd
//! "https://cms-auth.web.cern.ch/"    group  "/cms"                  cmsuser
//! ```
//!
//! The issuer and the value are double-quoted (`\"` and `\\` escape);
//! `sub` compares the token's `sub` byte for byte, `group` looks for the
//! group (starting with `/`) in `wlcg.groups`. The account is a plain
//! local user name. Blank lines and lines starting with `#` are ignored.
//! A malformed line makes the whole file invalid (the error names
//! `file:line`).

use std::path::Path;

use crate::config::MAX_CONFIG_BYTES;
use crate::jwks::read_site_file;
use crate::verify::Claims;

/// What a rule matches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The `sub` claim.
    Sub(String),
    /// A `wlcg.groups` entry.
    Group(String),
}

/// One mapfile line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Issuer (`iss`).
    pub issuer: String,
    /// Subject or group.
    pub what: Match,
    /// Local account.
    pub account: String,
    /// Line number (1-based).
    pub line: usize,
}

/// A parsed mapfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenMapfile {
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

fn quoted(s: &str) -> Result<(String, &str), &'static str> {
    let s = s.trim_start();
    let Some(rest) = s.strip_prefix('"') else {
        return Err("expected a double-quoted string");
    };
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &rest[i + 1..])),
            '\\' => match chars.next() {
                Some((_, c @ ('"' | '\\'))) => out.push(c),
                _ => return Err("bad escape (only \\\" and \\\\)"),
            },
            c if c.is_control() => return Err("control character in a quoted string"),
            c => out.push(c),
        }
    }
    Err("unterminated quoted string")
}

fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s.find(|c: char| c.is_ascii_whitespace()).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// A local account name as `useradd` accepts it (no `/`, no leading `-`).
pub fn valid_account(a: &str) -> bool {
    let b = a.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

fn parse_line(line: &str, n: usize) -> Result<Option<Rule>, &'static str> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    let (issuer, rest) = quoted(t)?;
    if issuer.is_empty() {
        return Err("empty issuer");
    }
    let (kind, rest) = word(rest);
    let (value, rest) = quoted(rest)?;
    let what = match kind {
        "sub" if !value.is_empty() => Match::Sub(value),
        "sub" => return Err("empty subject"),
        "group" if value.starts_with('/') && value.len() > 1 => Match::Group(value),
        "group" => return Err("a group starts with / (e.g. \"/cms/production\")"),
        _ => return Err("expected sub or group after the issuer"),
    };
    let (account, rest) = word(rest);
    if account.is_empty() {
        return Err("no account");
    }
    if !valid_account(account) {
        return Err("invalid account name");
    }
    let rest = rest.trim();
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err("text after the account");
    }
    Ok(Some(Rule {
        issuer,
        what,
        account: account.to_string(),
        line: n,
    }))
}

impl TokenMapfile {
    /// Parse `text` (from `path`, for messages).
    pub fn parse(path: &Path, text: &str) -> Result<TokenMapfile, String> {
        let mut rules = Vec::new();
        for (i, line) in text.lines().enumerate() {
            match parse_line(line, i + 1) {
                Ok(Some(r)) => rules.push(r),
                Ok(None) => {}
                Err(e) => return Err(format!("{}:{}: {e}", path.display(), i + 1)),
            }
        }
        Ok(TokenMapfile { rules })
    }

    /// Read and parse `path` (in a privileged process, a file only root
    /// can change: [`lcmaps_core::trust`]).
    pub fn load(path: &Path) -> Result<TokenMapfile, String> {
        let text = read_site_file(path, MAX_CONFIG_BYTES)?;
        let text = String::from_utf8(text).map_err(|_| format!("{}: not UTF-8", path.display()))?;
        TokenMapfile::parse(path, &text)
    }

    /// The first rule matching the claims (and, when given, mapping to
    /// `requested`).
    pub fn lookup(&self, claims: &Claims, requested: Option<&str>) -> Option<&Rule> {
        self.rules.iter().find(|r| {
            r.issuer == claims.iss
                && requested.map_or(true, |a| a == r.account)
                && match &r.what {
                    Match::Sub(s) => *s == claims.sub,
                    Match::Group(g) => claims.groups.iter().any(|h| h == g),
                }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let m = TokenMapfile::parse(
            Path::new("m"),
            "# c\n\n\"https://i\" sub \"a \\\"b\" alice # x\n  \"https://i\"  group \"/cms\"\tcms01\n",
        )
        .unwrap();
        assert_eq!(m.rules.len(), 2);
        assert_eq!(m.rules[0].what, Match::Sub("a \"b".into()));
        assert_eq!(m.rules[1].line, 4);
        for (bad, why) in [
            ("https://i sub \"x\" a", "double-quoted"),
            ("\"https://i\" user \"x\" a", "sub or group"),
            ("\"https://i\" group \"cms\" a", "starts with /"),
            ("\"https://i\" sub \"x\"", "no account"),
            ("\"https://i\" sub \"x\" ../root", "invalid account"),
            ("\"https://i\" sub \"x\" a b", "after the account"),
            ("\"https://i\" sub \"x a", "unterminated"),
        ] {
            let e =
                TokenMapfile::parse(Path::new("/etc/m"), &format!("# ok\n{bad}\n")).unwrap_err();
            assert!(e.starts_with("/etc/m:2: "), "{e}");
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
