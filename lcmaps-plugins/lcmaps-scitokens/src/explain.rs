//! Why a token maps or not: each verification check in order with its
//! outcome, then each mapfile rule tried. `lcmaps map --token` prints this
//! ([`Explanation::render`]) or carries it in its JSON; a refusal names
//! its check in the one log line of the plugin ([`Refusal`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The verification checks, in the order they are made.
pub const CHECKS: &[&str] = &[
    "format",
    "issuer",
    "signature",
    "claims",
    "time",
    "audience",
    "scopes",
    "profile",
];

/// One check of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// One of [`CHECKS`].
    pub check: String,
    /// Passed (else the token is refused here and no later check ran).
    pub passed: bool,
    /// What was found, or why it failed.
    pub detail: String,
}

/// One mapping rule tried: a mapfile line, or the issuer's username claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleTrial {
    /// The mapfile line (0 for the username claim).
    pub line: usize,
    /// The rule as written (or `username_claim NAME`).
    pub rule: String,
    /// It matched (the first match wins: it is the last one tried).
    pub matched: bool,
    /// Why it did not match, or what it mapped to.
    pub detail: String,
}

/// The whole decision about one token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The checks made, in order; the last failed one refused the token.
    pub checks: Vec<Check>,
    /// The rules tried, in order (none when a check failed).
    pub rules: Vec<RuleTrial>,
    /// The account, when the token maps.
    pub account: Option<String>,
    /// The pool lease name, when the account is a pool account.
    pub lease: Option<String>,
    /// Why the token does not map, naming the check (`mapping` when no rule
    /// matched).
    pub refusal: Option<Refusal>,
}

/// A token refused: at which check, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// One of [`CHECKS`], or `mapping`.
    pub check: String,
    /// The reason (one line).
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token refused at check `{}`: {}",
            self.check, self.reason
        )
    }
}

impl Explanation {
    /// The explanation as indented text lines, one per check and rule.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for c in &self.checks {
            s.push_str(&format!(
                "  check {:<9} {}  {}\n",
                c.check,
                if c.passed { "pass" } else { "FAIL" },
                c.detail
            ));
        }
        for r in &self.rules {
            let at = if r.line == 0 {
                "issuer".to_string()
            } else {
                format!("line {}", r.line)
            };
            s.push_str(&format!(
                "  rule  {at:<9} {:<5}  {}  ({})\n",
                if r.matched { "MATCH" } else { "no" },
                r.rule,
                r.detail
            ));
        }
        match (&self.account, &self.refusal) {
            (Some(a), _) => {
                let lease = self
                    .lease
                    .as_ref()
                    .map(|l| format!(" (pool lease {l})"))
                    .unwrap_or_default();
                s.push_str(&format!("  token maps to {a}{lease}\n"));
            }
            (None, Some(r)) => s.push_str(&format!("  {r}\n")),
            (None, None) => {}
        }
        s
    }
}
