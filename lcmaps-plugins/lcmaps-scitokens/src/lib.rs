//! `lcmaps_scitokens.mod`: WLCG / SciTokens JWT bearer tokens as
//! credentials, verified against each issuer's JWKS and mapped to local
//! accounts by issuer + subject or issuer + group. Keys are local files
//! (offline) unless an issuer opts in to fetching them from what it
//! publishes ([`remote`]: HTTPS only, cached, bounded TTL).
//!
//! Plugin options (in `lcmaps.db`):
//!
//! * `-issuers <file>` (also `-config`): the per-issuer configuration
//!   ([`config`]); required.
//! * `-mapfile <file>` (also `-tokenmapfile`): the token mapfile
//!   ([`mapfile`]); required.
//!
//! Both files (and the JWKS they name) are read once, at initialisation;
//! any error there stops the engine, naming `file:line`.
//!
//! The token comes from [`Request::token`](lcmaps_core::plugin::Request)
//! (ours: LCMAPS has no such run variable, so the plugin introspects only
//! `requested_username` / `requested_uid`). On success the store gets the
//! account's uid, primary gid and secondary gids (as `localaccount`
//! does) and every `wlcg.groups` entry as an FQAN-like VO string
//! (`CredData::VoCredString`, e.g. `/cms/production`), so group plugins
//! can act on them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod discovery;
pub mod error;
pub mod https;
pub mod jwks;
pub mod mapfile;
pub mod remote;
pub mod time;
pub mod verify;

use std::path::PathBuf;

pub use config::{Config, Mode};
pub use error::TokenError;
pub use mapfile::TokenMapfile;
pub use verify::{Claims, TokenCredential, Verifier};

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::accounts::{self, Accounts};
use lcmaps_plugin_common::context::{self, REQUESTED_UID, REQUESTED_USERNAME};
use lcmaps_plugin_common::options::{self, Opt, OptionError};

const PREFIX: &str = "lcmaps_scitokens";

/// Most `wlcg.groups` entries put in the store.
pub const MAX_GROUPS: usize = 256;

/// Whether a `wlcg.groups` entry may go to the store as an FQAN-like
/// string: starts with `/`, printable ASCII without blanks, at most 255
/// bytes.
pub fn fqan_like(g: &str) -> bool {
    g.len() > 1 && g.len() <= 255 && g.starts_with('/') && g.bytes().all(|c| c.is_ascii_graphic())
}

/// The result of verifying and mapping one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The verified token.
    pub token: TokenCredential,
    /// The local account.
    pub account: String,
    /// The mapfile line that matched.
    pub line: usize,
}

/// Verifier and mapfile together: the plugin's work without the store.
#[derive(Debug, Clone)]
pub struct TokenMapper {
    /// The verifier.
    pub verifier: Verifier,
    /// The mapfile.
    pub mapfile: TokenMapfile,
}

impl TokenMapper {
    /// Verify `token` at `now` and map it (to `requested` when given).
    pub fn map_at(
        &self,
        token: &str,
        requested: Option<&str>,
        now: i64,
    ) -> Result<Mapping, String> {
        let cred = self
            .verifier
            .verify_at(token, now)
            .map_err(|e| e.to_string())?;
        let c = &cred.claims;
        let Some(rule) = self.mapfile.lookup(c, requested) else {
            let groups = if c.groups.is_empty() {
                "no groups".to_string()
            } else {
                format!("groups {}", c.groups.join(" "))
            };
            return Err(match requested {
                Some(r) => format!(
                    "no mapping to requested account {r} for issuer {} subject {} ({groups})",
                    c.iss, c.sub
                ),
                None => format!(
                    "no mapping for issuer {} subject {} ({groups})",
                    c.iss, c.sub
                ),
            });
        };
        Ok(Mapping {
            account: rule.account.clone(),
            line: rule.line,
            token: cred,
        })
    }
}

/// The plugin.
#[derive(Debug)]
pub struct SciTokens {
    issuers: Option<PathBuf>,
    mapfile: Option<PathBuf>,
    mapper: Option<TokenMapper>,
    accounts: Accounts,
    clock: Option<i64>,
}

impl Default for SciTokens {
    fn default() -> Self {
        Self::with_accounts(accounts::system())
    }
}

impl SciTokens {
    /// With another account database (tests).
    pub fn with_accounts(accounts: Accounts) -> Self {
        SciTokens {
            issuers: None,
            mapfile: None,
            mapper: None,
            accounts,
            clock: None,
        }
    }

    /// Verify at this fixed unix time instead of now (tests).
    pub fn with_clock(mut self, now: i64) -> Self {
        self.clock = Some(now);
        self
    }

    /// The loaded verifier and mapfile (after `initialize`).
    pub fn mapper(&self) -> Option<&TokenMapper> {
        self.mapper.as_ref()
    }

    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = if verify {
            format!("{PREFIX}-plugin_verify()")
        } else {
            format!("{PREFIX}-plugin_run()")
        };
        let result = self.map(ctx, verify, &who);
        log::info!(
            "{who}: scitokens plugin {}",
            if result.is_success() {
                "succeeded"
            } else {
                "failed"
            }
        );
        result
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, verify: bool, who: &str) -> Status {
        let Some(mapper) = &self.mapper else {
            log::error!("{who}: plugin not initialized");
            return Status::Failure;
        };
        let Some(token) = ctx.request.token.as_deref() else {
            log::warn!("{who}: no bearer token in the request");
            return Status::Failure;
        };
        let Ok(requested) = context::requested_account(ctx, &*self.accounts, true, verify, who)
        else {
            return Status::Failure;
        };
        let now = self.clock.unwrap_or_else(time::now);
        let m = match mapper.map_at(token, requested.as_deref(), now) {
            Ok(m) => m,
            Err(e) => {
                log::warn!("{who}: {e}");
                return Status::Failure;
            }
        };
        let c = &m.token.claims;
        log::info!(
            "{who}: issuer {} subject {} mapped to {} (mapfile line {}, mode {:?})",
            c.iss,
            c.sub,
            m.account,
            m.line,
            m.token.mode
        );
        if !context::add_account(ctx, &*self.accounts, &m.account, who) {
            return Status::Failure;
        }
        for g in c.groups.iter().take(MAX_GROUPS) {
            if fqan_like(g) {
                ctx.add(CredData::VoCredString(g.clone()));
            } else {
                log::debug!("{who}: group {g:?} is not FQAN-like, not stored");
            }
        }
        Status::Success
    }
}

impl Plugin for SciTokens {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        const OPTIONS: &[Opt<SciTokens>] = &[
            Opt::file(&["-issuers", "-config"], |p, f| p.issuers = Some(f)),
            Opt::file(&["-mapfile", "-tokenmapfile"], |p, f| p.mapfile = Some(f)),
        ];
        // Only the unknown-option message names the function, as before.
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| match e {
            OptionError::Unknown(_) => PluginError(format!("{who}: {}", e.message())),
            e => PluginError(e.message()),
        })?;
        let Some(issuers) = &self.issuers else {
            return Err(PluginError(format!("{who}: -issuers <file> is required")));
        };
        let Some(mapfile) = &self.mapfile else {
            return Err(PluginError(format!("{who}: -mapfile <file> is required")));
        };
        let config = Config::load(issuers).map_err(|e| PluginError(format!("{who}: {e}")))?;
        let mapfile =
            TokenMapfile::load(mapfile).map_err(|e| PluginError(format!("{who}: {e}")))?;
        for r in &mapfile.rules {
            if !config.issuers.contains_key(&r.issuer) {
                log::warn!(
                    "{who}: mapfile line {}: issuer {} is not configured, the rule never matches",
                    r.line,
                    r.issuer
                );
            }
        }
        self.mapper = Some(TokenMapper {
            verifier: Verifier::new(config),
            mapfile,
        });
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![REQUESTED_USERNAME, REQUESTED_UID]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}
