//! Verification and mapping together, without the credential store: the
//! plugin's decision about one token, with its [`Explanation`].
//!
//! Order: the verification checks ([`Verifier::explain_at`]); then the
//! mapfile rules of the token's issuer, first match wins
//! ([`TokenMapfile::explain`]); when none matches and the issuer has a
//! `username_claim`, that claim ([`crate::identity`]). A rule giving a pool
//! (`.POOL`) leases an account of it to the token's issuer + subject
//! ([`crate::pool`]).

use std::path::PathBuf;

use lcmaps_plugin_common::accounts::Accounts;

use crate::explain::{Explanation, Refusal, RuleTrial};
use crate::mapfile::TokenMapfile;
use crate::pool;
use crate::verify::{TokenCredential, Verifier};

/// The result of verifying and mapping one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The verified token.
    pub token: TokenCredential,
    /// The local account.
    pub account: String,
    /// The mapfile line that matched (0: the issuer's username claim).
    pub line: usize,
    /// The pool lease name, for a pool account.
    pub lease: Option<String>,
}

/// Verifier and mapfile together: the plugin's work without the store.
#[derive(Debug, Clone)]
pub struct TokenMapper {
    /// The verifier.
    pub verifier: Verifier,
    /// The mapfile.
    pub mapfile: TokenMapfile,
    /// The gridmapdir, for pool rules.
    pub gridmapdir: Option<PathBuf>,
    /// Where accounts named by a username claim are looked up.
    pub accounts: Accounts,
}

fn refused(check: &str, reason: impl Into<String>) -> Refusal {
    Refusal {
        check: check.into(),
        reason: reason.into(),
    }
}

impl TokenMapper {
    /// Verify `token` at `now` and map it (to `requested` when given),
    /// leasing a pool account when a pool rule matches.
    pub fn map_at(
        &self,
        token: &str,
        requested: Option<&str>,
        now: i64,
    ) -> Result<Mapping, String> {
        self.decide(token, requested, now, false)
            .1
            .map_err(|r| r.to_string())
    }

    /// The whole decision, as [`TokenMapper::map_at`] makes it (`verify`:
    /// as the plugin's verification does, where only an existing pool lease
    /// to `requested` counts).
    pub fn explain_at(
        &self,
        token: &str,
        requested: Option<&str>,
        now: i64,
        verify: bool,
    ) -> Explanation {
        self.decide(token, requested, now, verify).0
    }

    /// The decision and its explanation.
    pub fn decide(
        &self,
        token: &str,
        requested: Option<&str>,
        now: i64,
        verify: bool,
    ) -> (Explanation, Result<Mapping, Refusal>) {
        let (checks, verified) = self.verifier.explain_at(token, now);
        let mut ex = Explanation {
            checks,
            ..Explanation::default()
        };
        let token = match verified {
            Ok(t) => t,
            Err(e) => {
                let check = ex
                    .checks
                    .last()
                    .map_or("format".to_string(), |c| c.check.clone());
                let r = refused(&check, e.to_string());
                ex.refusal = Some(r.clone());
                return (ex, Err(r));
            }
        };
        let r = self.map_verified(&token, requested, verify, &mut ex);
        match r {
            Ok((account, line, lease)) => {
                ex.account = Some(account.clone());
                ex.lease = lease.clone();
                (
                    ex,
                    Ok(Mapping {
                        token,
                        account,
                        line,
                        lease,
                    }),
                )
            }
            Err(r) => {
                ex.refusal = Some(r.clone());
                (ex, Err(r))
            }
        }
    }

    /// Mapfile, then username claim: (account, line, lease).
    fn map_verified(
        &self,
        token: &TokenCredential,
        requested: Option<&str>,
        verify: bool,
        ex: &mut Explanation,
    ) -> Result<(String, usize, Option<String>), Refusal> {
        let c = &token.claims;
        let (trials, rule) = self.mapfile.explain(c, requested);
        ex.rules = trials;
        if let Some(rule) = rule {
            let Some(pool) = rule.pool() else {
                return Ok((rule.account.clone(), rule.line, None));
            };
            let Some(dir) = &self.gridmapdir else {
                return Err(refused(
                    "mapping",
                    "a pool rule matched but no gridmapdir is set",
                ));
            };
            return match pool::lease(dir, &c.iss, &c.sub, pool, requested, verify) {
                Ok(Some(l)) => Ok((l.account, rule.line, Some(l.encoded))),
                Ok(None) => Err(refused(
                    "mapping",
                    format!(
                        "mapfile line {}: no account of pool {pool} for issuer {} subject {} \
                         (none free, or none leased when verifying)",
                        rule.line, c.iss, c.sub
                    ),
                )),
                Err(e) => Err(refused(
                    "mapping",
                    format!("mapfile line {}: pool {pool}: {e}", rule.line),
                )),
            };
        }
        let username = self
            .verifier
            .config()
            .issuers
            .get(&c.iss)
            .and_then(|i| i.identity.username.as_ref());
        if let Some(u) = username {
            let value = c.payload.get(&u.claim).and_then(|v| v.as_str());
            let r = u
                .account(value, &*self.accounts)
                .and_then(|a| match requested {
                    Some(want) if want != a => Err(format!(
                        "{} gives {a}, not the requested account {want}",
                        u.claim
                    )),
                    _ => Ok(a),
                });
            ex.rules.push(RuleTrial {
                line: 0,
                rule: format!("username_claim {}", u.claim),
                matched: r.is_ok(),
                detail: match &r {
                    Ok(a) => format!("names account {a}"),
                    Err(e) => e.clone(),
                },
            });
            return match r {
                Ok(a) => Ok((a, 0, None)),
                Err(e) => Err(refused("mapping", format!("username claim: {e}"))),
            };
        }
        let groups = if c.groups.is_empty() {
            "no groups".to_string()
        } else {
            format!("groups {}", c.groups.join(" "))
        };
        Err(refused(
            "mapping",
            match requested {
                Some(r) => format!(
                    "no mapping to requested account {r} for issuer {} subject {} ({groups})",
                    c.iss, c.sub
                ),
                None => format!(
                    "no mapping for issuer {} subject {} ({groups})",
                    c.iss, c.sub
                ),
            },
        ))
    }
}
