//! The token mapfile: one rule per line, first match wins.
//!
//! ```text
//! # issuer                         claim [how]  value                        account
//! "https://cms-auth.web.cern.ch/"  sub          "bd1c1ae5-1d6a-4f1e"         cmsprd
//! "https://cms-auth.web.cern.ch/"  group        "/cms/production"            cmsprd
//! "https://cms-auth.web.cern.ch/"  group prefix "/cms/"                      .cmspool
//! "https://cms-auth.web.cern.ch/"  claim:preferred_username regex "cms[0-9]+" cmsuser
//! "https://aai.egi.eu/auth/realms/egi" claim:eduperson_entitlement exact "urn:mace:egi.eu:group:vo.example.org:role=member#aai.egi.eu" .egipool
//! ```
//!
//! * **What is matched**: `sub`; `group`, the entries of the issuer's group
//!   claim (`groups_claim`, default `wlcg.groups`) made FQAN-like (a
//!   leading `/` added where missing, [`fqan_like_group`]); or `claim:NAME`,
//!   the claim `NAME` (a string, each string of a list, a number or a
//!   boolean as JSON writes it).
//! * **How**: `exact` (the default, and the only way before: `sub "x"`
//!   and `group "/x"` mean what they meant), `prefix`, or `regex` (the
//!   whole value must match: the expression is anchored at both ends; the
//!   `regex` crate, no backtracking, see [`crate::pattern`]). A rule
//!   matches when any of the values does.
//! * The issuer and the value are double-quoted. In `exact` and `prefix`
//!   values `\"` and `\\` are the only escapes; in a `regex` value a
//!   backslash is kept as written (`"\d+"` is the expression `\d+`), but
//!   `\"` is a quote.
//! * **Account**: a local user name, or `.POOL` for a pool account of pool
//!   `POOL` leased in the gridmapdir (see [`crate::pool`]).
//!
//! Blank lines and lines starting with `#` are ignored; a `#` after the
//! account starts a comment. A malformed line makes the whole file invalid
//! (the error names `file:line:column`).

use std::path::Path;

use crate::config::MAX_CONFIG_BYTES;
use crate::explain::RuleTrial;
use crate::identity::{claim_values, fqan_like_group, valid_claim_name};
use crate::jwks::read_site_file;
use crate::pattern::Pattern;
use crate::verify::Claims;
use lcmaps_plugin_common::gridmapdir::pool_match;

/// What a rule compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The `sub` claim.
    Sub,
    /// The group claim's entries, FQAN-like.
    Group,
    /// Any claim, by name.
    Claim(String),
}

/// How a rule compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// The value is this string.
    Exact(String),
    /// The value starts with this string.
    Prefix(String),
    /// The whole value matches this expression.
    Regex(Pattern),
}

/// What a rule matches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The claim.
    pub target: Target,
    /// The comparison.
    pub op: Op,
}

/// One mapfile line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Issuer (`iss`).
    pub issuer: String,
    /// What it matches.
    pub what: Match,
    /// Local account, or `.POOL` for a pool account.
    pub account: String,
    /// Line number (1-based).
    pub line: usize,
}

impl Rule {
    /// The pool, for a `.POOL` account.
    pub fn pool(&self) -> Option<&str> {
        self.account.strip_prefix('.')
    }

    /// The rule as written (without the issuer), for explanations.
    pub fn describe(&self) -> String {
        let target = match &self.what.target {
            Target::Sub => "sub".to_string(),
            Target::Group => "group".to_string(),
            Target::Claim(c) => format!("claim:{c}"),
        };
        let (op, v) = match &self.what.op {
            Op::Exact(v) => ("exact", v.as_str()),
            Op::Prefix(v) => ("prefix", v.as_str()),
            Op::Regex(p) => ("regex", p.as_str()),
        };
        format!("{target} {op} {v:?} {}", self.account)
    }

    /// Whether the claims match (the issuer aside), with what was
    /// compared.
    pub fn matches(&self, claims: &Claims) -> (bool, String) {
        let values: Vec<String> = match &self.what.target {
            Target::Sub => vec![claims.sub.clone()],
            Target::Group => claims.groups.iter().map(|g| fqan_like_group(g)).collect(),
            Target::Claim(c) => claim_values(claims.payload.get(c)),
        };
        let hit = values.iter().find(|v| match &self.what.op {
            Op::Exact(x) => *v == x,
            Op::Prefix(x) => v.starts_with(x.as_str()),
            Op::Regex(p) => p.matches(v),
        });
        match hit {
            Some(v) => (true, format!("{v:?} matches")),
            None if values.is_empty() => (false, "the token has no such claim".into()),
            None => {
                let mut shown: Vec<String> =
                    values.iter().take(8).map(|v| format!("{v:?}")).collect();
                if values.len() > 8 {
                    shown.push(format!("and {} more", values.len() - 8));
                }
                (false, format!("no match in {}", shown.join(", ")))
            }
        }
    }

    /// Whether this rule can give the `requested` account.
    pub fn gives(&self, requested: &str) -> bool {
        match self.pool() {
            Some(pool) => pool_match(requested, pool, true),
            None => self.account == requested,
        }
    }
}

/// A parsed mapfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenMapfile {
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// A double-quoted string at the start of `s` (after blanks) and the rest.
/// `raw`: backslashes are kept, but `\"` is a quote (regex values).
fn quoted(s: &str, raw: bool) -> Result<(String, &str), &'static str> {
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
                Some((_, c @ ('"' | '\\'))) if !raw => out.push(c),
                Some((_, '"')) => out.push('"'),
                Some((_, c)) if raw && !c.is_control() => {
                    out.push('\\');
                    out.push(c);
                }
                _ if raw => {
                    return Err("bad escape (a backslash before a control character or the end)")
                }
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

/// A mapfile account: a local account or `.POOL` with a valid pool name.
pub fn valid_target_account(a: &str) -> bool {
    valid_account(a.strip_prefix('.').unwrap_or(a))
}

/// An error at a column (1-based) of the line.
type LineError = (usize, String);

fn parse_line(line: &str, n: usize) -> Result<Option<Rule>, LineError> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    // Column of what `rest` starts with (after blanks).
    let col = |rest: &str| line.len() - rest.trim_start().len() + 1;
    let err = |rest: &str, e: &str| (col(rest), e.to_string());
    let (issuer, rest) = quoted(line, false).map_err(|e| err(line, e))?;
    if issuer.is_empty() {
        return Err(err(line, "empty issuer"));
    }
    let (kind, after_kind) = word(rest);
    let target = match kind {
        "sub" => Target::Sub,
        "group" => Target::Group,
        k => match k.strip_prefix("claim:") {
            Some(c) if valid_claim_name(c) => Target::Claim(c.to_string()),
            _ => {
                return Err(err(
                    rest,
                    "expected sub, group or claim:NAME after the issuer",
                ))
            }
        },
    };
    let (how, after_how) = word(after_kind);
    let (op_word, rest) = match how {
        "exact" | "prefix" | "regex" => (how, after_how),
        _ => ("exact", after_kind),
    };
    let (value, after_value) = quoted(rest, op_word == "regex").map_err(|e| err(rest, e))?;
    let bad = |e: &str| Err(err(rest, e));
    let op = match op_word {
        "regex" => Op::Regex(Pattern::new(&value).map_err(|e| err(rest, &e))?),
        _ if value.is_empty() => {
            return bad(match target {
                Target::Sub => "empty subject",
                _ => "empty value",
            })
        }
        _ if target == Target::Group && !(value.starts_with('/') && value.len() > 1) => {
            return bad("a group starts with / (e.g. \"/cms/production\")")
        }
        "prefix" => Op::Prefix(value),
        _ => Op::Exact(value),
    };
    let (account, rest) = word(after_value);
    if account.is_empty() {
        return Err(err(after_value, "no account"));
    }
    if !valid_target_account(account) {
        return Err(err(
            after_value,
            "invalid account name (a local user name, or .POOL for a pool account)",
        ));
    }
    let trailing = rest.trim();
    if !trailing.is_empty() && !trailing.starts_with('#') {
        return Err(err(rest, "text after the account"));
    }
    Ok(Some(Rule {
        issuer,
        what: Match { target, op },
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
                Err((col, e)) => return Err(format!("{}:{}:{col}: {e}", path.display(), i + 1)),
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

    /// The first rule matching the claims (and, when given, able to give
    /// `requested`).
    pub fn lookup(&self, claims: &Claims, requested: Option<&str>) -> Option<&Rule> {
        self.explain(claims, requested).1
    }

    /// [`TokenMapfile::lookup`], with each rule of the token's issuer tried
    /// up to the one that matched.
    pub fn explain(
        &self,
        claims: &Claims,
        requested: Option<&str>,
    ) -> (Vec<RuleTrial>, Option<&Rule>) {
        let mut tried = Vec::new();
        for r in self.rules.iter().filter(|r| r.issuer == claims.iss) {
            let (matched, detail) = match requested {
                Some(a) if !r.gives(a) => {
                    (false, format!("does not give the requested account {a}"))
                }
                _ => r.matches(claims),
            };
            tried.push(RuleTrial {
                line: r.line,
                rule: r.describe(),
                matched,
                detail,
            });
            if matched {
                return (tried, Some(r));
            }
        }
        (tried, None)
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
        assert_eq!(m.rules[0].what.target, Target::Sub);
        assert_eq!(m.rules[0].what.op, Op::Exact("a \"b".into()));
        assert_eq!(m.rules[1].line, 4);
        for (bad, col, why) in [
            ("https://i sub \"x\" a", 1, "double-quoted"),
            ("\"https://i\" user \"x\" a", 13, "sub, group or claim"),
            ("\"https://i\" group \"cms\" a", 19, "starts with /"),
            ("\"https://i\" sub \"x\"", 20, "no account"),
            ("\"https://i\" sub \"x\" ../root", 21, "invalid account"),
            ("\"https://i\" sub \"x\" a b", 23, "after the account"),
            ("\"https://i\" sub \"x a", 17, "unterminated"),
            (
                "\"https://i\" sub regex \"(\" a",
                23,
                "invalid regular expression",
            ),
            ("\"https://i\" claim: \"x\" a", 13, "claim:NAME"),
            ("\"https://i\" sub like \"x\" a", 17, "double-quoted"),
            ("\"https://i\" sub prefix \"\" a", 24, "empty subject"),
        ] {
            let e =
                TokenMapfile::parse(Path::new("/etc/m"), &format!("# ok\n{bad}\n")).unwrap_err();
            assert!(e.starts_with(&format!("/etc/m:2:{col}: ")), "{bad}: {e}");
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn new_rule_kinds() {
        let m = TokenMapfile::parse(
            Path::new("m"),
            "\"i\" sub prefix \"cms-\" .cmspool\n\
             \"i\" claim:preferred_username regex \"\\d+\\\"x\" u1\n\
             \"i\" group regex \"/cms(/.*)?\" u2\n",
        )
        .unwrap();
        assert_eq!(m.rules[0].pool(), Some("cmspool"));
        assert_eq!(m.rules[0].what.op, Op::Prefix("cms-".into()));
        assert_eq!(
            m.rules[1].what.target,
            Target::Claim("preferred_username".into())
        );
        match &m.rules[1].what.op {
            Op::Regex(p) => assert_eq!(p.as_str(), "\\d+\"x"),
            o => panic!("{o:?}"),
        }
        assert!(m.rules[0].gives("cmspool007") && !m.rules[0].gives("cmspoolx"));
        assert!(m.rules[2].gives("u2") && !m.rules[2].gives("u1"));
    }
}
