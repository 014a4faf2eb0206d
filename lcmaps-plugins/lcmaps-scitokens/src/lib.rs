//! `lcmaps_scitokens.mod`: WLCG / SciTokens JWT bearer tokens as
//! credentials, verified against each issuer's JWKS and mapped to local
//! accounts by any claim (subject, groups, a username claim, others) to a
//! fixed or a pool account ([`mapper`]). Keys are local files
//! (offline) unless an issuer opts in to fetching them from what it
//! publishes ([`remote`]: HTTPS only, cached, bounded TTL).
//!
//! Plugin options (in `lcmaps.db`):
//!
//! * `-issuers <file>` (also `-config`): the per-issuer configuration
//!   ([`config`]); required.
//! * `-mapfile <file>` (also `-tokenmapfile`): the token mapfile
//!   ([`mapfile`]); required.
//! * `-gridmapdir <absolute dir>` (also `-GRIDMAPDIR`; default
//!   `$GRIDMAPDIR`): where pool accounts are leased ([`pool`]); needed only
//!   when the mapfile has a `.POOL` account.
//!
//! Both files (and the JWKS they name) are read once, at initialisation;
//! any error there stops the engine, naming `file:line` (and the column
//! where it helps).
//!
//! The token comes from [`Request::token`](lcmaps_core::plugin::Request)
//! (ours: LCMAPS has no such run variable, so the plugin introspects only
//! `requested_username` / `requested_uid`). On success the store gets the
//! account's uid, primary gid and secondary gids (as `localaccount`
//! does), the pool lease name as the pool index for a pool account, and
//! every entry of the issuer's group claim (default `wlcg.groups`) as an
//! FQAN-like VO string (`CredData::VoCredString`, e.g. `/cms/production`;
//! a leading `/` added where missing), so group plugins can act on them.
//!
//! A refused token is logged as one line naming the failed check
//! ([`explain::Refusal`]), e.g. ``token refused at check `audience`: ...``.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod decisions;
pub mod discovery;
pub mod error;
pub mod explain;
pub mod https;
pub mod identity;
pub mod jwks;
pub mod mapfile;
pub mod mapper;
pub mod pattern;
pub mod pool;
pub mod profile;
pub mod remote;
pub mod time;
pub mod verify;

use std::path::PathBuf;

pub use config::{Config, Mode};
pub use error::TokenError;
pub use explain::{Explanation, Refusal};
pub use mapfile::TokenMapfile;
pub use mapper::{Mapping, TokenMapper};
pub use verify::{Claims, TokenCredential, Verifier};

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::accounts::{self, Accounts};
use lcmaps_plugin_common::context::{self, REQUESTED_UID, REQUESTED_USERNAME};
use lcmaps_plugin_common::gridmapdir::{self, GRIDMAPDIR_OPTION};
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

/// The plugin.
#[derive(Debug)]
pub struct SciTokens {
    issuers: Option<PathBuf>,
    mapfile: Option<PathBuf>,
    gridmapdir: Option<PathBuf>,
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
            gridmapdir: None,
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
        let m = match mapper.decide(token, requested.as_deref(), now, verify).1 {
            Ok(m) => m,
            Err(r) => {
                // Names the check: glexec's log line carries it.
                log::warn!("{who}: {r}");
                return Status::Failure;
            }
        };
        let c = &m.token.claims;
        let how = match (m.line, &m.lease) {
            (0, _) => "username claim".to_string(),
            (n, None) => format!("mapfile line {n}"),
            (n, Some(l)) => format!("mapfile line {n}, pool lease {l}"),
        };
        log::info!(
            "{who}: issuer {} subject {} mapped to {} ({how}, mode {:?})",
            c.iss,
            c.sub,
            m.account,
            m.token.mode
        );
        if !context::add_account(ctx, &*self.accounts, &m.account, who) {
            return Status::Failure;
        }
        if let Some(l) = m.lease {
            ctx.add(CredData::PoolIndex(l));
        }
        for g in c.groups.iter().take(MAX_GROUPS) {
            let g = identity::fqan_like_group(g);
            if fqan_like(&g) {
                ctx.add(CredData::VoCredString(g));
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
            Opt::absolute_dir(GRIDMAPDIR_OPTION, |p, d| p.gridmapdir = Some(d)),
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
        let gridmapdir = match mapfile.rules.iter().find(|r| r.pool().is_some()) {
            None => None,
            Some(r) => Some(
                gridmapdir::lease_dir(self.gridmapdir.as_deref(), "GRIDMAPDIR", "gridmapdir")
                    .map_err(|e| {
                        PluginError(format!(
                            "{who}: mapfile line {} leases from pool {}: {e}",
                            r.line, r.account
                        ))
                    })?,
            ),
        };
        self.mapper = Some(TokenMapper {
            verifier: Verifier::new(config),
            mapfile,
            gridmapdir,
            accounts: self.accounts.clone(),
        });
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![REQUESTED_USERNAME, REQUESTED_UID]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}
