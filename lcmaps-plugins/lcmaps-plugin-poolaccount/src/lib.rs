//! `lcmaps_poolaccount.mod`: leases a pool account to a DN in the
//! gridmapdir (upstream lcmaps-plugins-basic 1.7.1); the protocol and its
//! differences from upstream are described in
//! [`lcmaps_plugin_common::gridmapdir`].
//!
//! Options: `-gridmapfile|-GRIDMAPFILE|-gridmap|-GRIDMAP <file>`,
//! `-gridmapdir|-GRIDMAPDIR <absolute dir>` (default `$GRIDMAPDIR`),
//! `-max_mappings_per_credential <1..9999>` (default 1),
//! `-strict_poolprefix_match yes|no` (default yes, as upstream's code),
//! `-override_inconsistency|-OVERRIDE_INCONSISTENCY`,
//! `-no_wildcard|-disablewildcard|--disablewildcard|-disablewildcards|--disablewildcards`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::accounts::{self, Accounts};
use lcmaps_plugin_common::context::{self, MAPCOUNTER, REQUESTED_UID, REQUESTED_USERNAME, USER_DN};
use lcmaps_plugin_common::gridmapdir::{
    self, Options, GRIDMAPDIR_OPTION, OVERRIDE_INCONSISTENCY_OPTION, STRICT_POOLPREFIX_OPTION,
};
use lcmaps_plugin_common::mapfile::{GRIDMAPFILE_OPTION, NO_WILDCARD_OPTION};
use lcmaps_plugin_common::options::{self, Opt};

const PREFIX: &str = "lcmaps_poolaccount";

/// The plugin.
#[derive(Debug)]
pub struct PoolAccount {
    gridmapfile: Option<PathBuf>,
    gridmapdir: Option<PathBuf>,
    mapping_max: i32,
    strict: bool,
    override_inconsistency: bool,
    wildcards: bool,
    accounts: Accounts,
}

impl Default for PoolAccount {
    fn default() -> Self {
        Self::with_accounts(accounts::system())
    }
}

impl PoolAccount {
    /// With another account database (tests).
    pub fn with_accounts(accounts: Accounts) -> Self {
        PoolAccount {
            gridmapfile: None,
            gridmapdir: None,
            mapping_max: 1,
            strict: true,
            override_inconsistency: false,
            wildcards: true,
            accounts,
        }
    }

    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = format!(
            "{PREFIX}-plugin_{}()",
            if verify { "verify" } else { "run" }
        );
        let s = self.map(ctx, verify, &who);
        log::info!(
            "{who}: poolaccount plugin {}",
            if s.is_success() {
                "succeeded"
            } else {
                "failed"
            }
        );
        s
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, verify: bool, who: &str) -> Status {
        let Some(dn) = context::take_dn(ctx, who) else {
            return Status::Failure;
        };
        let mapcounter = ctx.request.mapcounter;
        let Ok(requested) = context::requested_account(ctx, &*self.accounts, true, verify, who)
        else {
            return Status::Failure;
        };
        let dir =
            match gridmapdir::lease_dir(self.gridmapdir.as_deref(), "GRIDMAPDIR", "gridmapdir") {
                Ok(d) => d,
                Err(e) => {
                    log::error!("{who}: {e}");
                    return Status::Failure;
                }
            };
        let options = Options {
            wildcards: self.wildcards,
            strict_prefix: self.strict,
            override_inconsistency: self.override_inconsistency,
            only_existing: verify,
        };
        let req = |mapcounter| gridmapdir::Request {
            mapfile: self.gridmapfile.as_deref(),
            dn: &dn,
            leasename: dn.as_bytes(),
            dir: &dir,
            mapping_max: self.mapping_max,
            mapcounter,
            requested: requested.as_deref(),
            options,
        };
        let mut found = None;
        if verify && mapcounter < 1 {
            for imap in 1..=self.mapping_max {
                match gridmapdir::lookup(&req(imap)) {
                    Err(e) => {
                        log::error!("{who}: {e}");
                        return Status::Failure;
                    }
                    Ok(Some(l)) => {
                        found = Some(l);
                        break;
                    }
                    Ok(None) => {}
                }
            }
        }
        let lease = match found {
            Some(l) => l,
            None => match gridmapdir::lookup(&req(mapcounter)) {
                Err(e) => {
                    log::error!("{who}: {e}");
                    return Status::Failure;
                }
                Ok(Some(l)) => l,
                Ok(None) => {
                    let mc = if mapcounter > 0 {
                        format!(", mapcount={mapcounter}")
                    } else {
                        String::new()
                    };
                    log::info!(
                        "{who}: No match for {} for user \"{dn}\"{mc}, in {} and {}",
                        requested
                            .as_ref()
                            .map_or("a poolaccount".to_string(), |r| format!(
                                "requested poolaccount {r}"
                            )),
                        self.gridmapfile
                            .as_ref()
                            .map_or("default grid-mapfile".into(), |p| p.display().to_string()),
                        dir.display()
                    );
                    return Status::Failure;
                }
            },
        };
        log::debug!("{who}: found username: {}", lease.account);
        if !context::add_account(ctx, &*self.accounts, &lease.account, who) {
            return Status::Failure;
        }
        ctx.add(CredData::PoolIndex(lease.encoded));
        Status::Success
    }
}

impl Plugin for PoolAccount {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        const OPTIONS: &[Opt<PoolAccount>] = &[
            Opt::file(GRIDMAPFILE_OPTION, |p, f| p.gridmapfile = Some(f)),
            Opt::absolute_dir(GRIDMAPDIR_OPTION, |p, d| p.gridmapdir = Some(d)),
            gridmapdir::mapping_max_option(|p, n| p.mapping_max = n),
            Opt::yes_no(STRICT_POOLPREFIX_OPTION, |p, b| p.strict = b),
            Opt::flag(OVERRIDE_INCONSISTENCY_OPTION, |p, _| {
                p.override_inconsistency = true;
                Ok(())
            }),
            Opt::flag(NO_WILDCARD_OPTION, |p, _| {
                p.wildcards = false;
                Ok(())
            }),
        ];
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| err(e.message()))?;
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![USER_DN, MAPCOUNTER, REQUESTED_UID, REQUESTED_USERNAME]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}

#[cfg(test)]
mod tests;
