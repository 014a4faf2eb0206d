//! `lcmaps_voms_poolaccount.mod`: leases a pool account for the first FQAN
//! with a `.pool` mapping in the grid-mapfile. The lease name is the DN,
//! `\001`, and the `:`-joined names of the groups already in the store
//! (PRI_GIDs, then SEC_GIDs unless `--do-not-use-secondary-gids`), encoded
//! as `urlenc(DN):grp1:grp2` (+ `:mapcount=NNNN`).
//!
//! Options: `-gridmapfile|-GRIDMAPFILE|-gridmap|-GRIDMAP <file>`,
//! `-gridmapdir|-GRIDMAPDIR <absolute dir>` (default `$GRIDMAPDIR`),
//! `-max_mappings_per_credential <1..9999>`, `-strict_poolprefix_match yes|no`
//! (default yes), `-override_inconsistency|-OVERRIDE_INCONSISTENCY`, the gid
//! flags (default here: no account groups),
//! `--do-not-use-secondary-gids|-do_not-use-secondary-gids|-do_not_use_secondary_gids`,
//! `--require-primary-gid`,
//! `--do-not-require-primary-gid|-do_not-require-primary-gid|-do_not_require_primary_gid`.

use std::path::PathBuf;

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::accounts::{self, Accounts};
use lcmaps_plugin_common::context::{self, MAPCOUNTER, REQUESTED_UID, REQUESTED_USERNAME, USER_DN};
use lcmaps_plugin_common::gridmapdir::{
    self, Options, Request, GRIDMAPDIR_OPTION, OVERRIDE_INCONSISTENCY_OPTION,
    STRICT_POOLPREFIX_OPTION,
};
use lcmaps_plugin_common::mapfile::GRIDMAPFILE_OPTION;
use lcmaps_plugin_common::options::{self, Opt};
use lcmaps_plugin_common::urlencode::MAPCOUNT_SEPARATOR;

use crate::fqan_source::{fqans, FQAN_LIST, NFQAN};
use crate::gidflags::{self, GidFlags, GidMapping};
use crate::groups::{self, Groups};
use crate::leases;
use crate::log_lines::{outcome, who};

const PREFIX: &str = "lcmaps_voms_poolaccount";

/// The plugin.
#[derive(Debug)]
pub struct VomsPoolAccount {
    gridmapfile: Option<PathBuf>,
    gridmapdir: Option<PathBuf>,
    mapping_max: i32,
    strict: bool,
    override_inconsistency: bool,
    use_secondary_gids: bool,
    require_primary_gid: bool,
    gids: GidMapping,
    accounts: Accounts,
    groups: Groups,
}

impl Default for VomsPoolAccount {
    fn default() -> Self {
        Self::with_db(accounts::system(), groups::system())
    }
}

impl VomsPoolAccount {
    /// With other account and group databases (tests).
    pub fn with_db(accounts: Accounts, groups: Groups) -> Self {
        VomsPoolAccount {
            gridmapfile: None,
            gridmapdir: None,
            mapping_max: 1,
            strict: true,
            override_inconsistency: false,
            use_secondary_gids: true,
            require_primary_gid: false,
            gids: GidFlags::default().resolve(false),
            accounts,
            groups,
        }
    }

    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = who(PREFIX, verify);
        let s = self.map(ctx, verify, &who);
        outcome(&who, "voms_poolaccount", s);
        s
    }

    /// The lease name before encoding: DN, or DN `\001` `grp1:grp2...`.
    fn leasename(&self, ctx: &RunContext<'_>, dn: &str, who: &str) -> Option<Vec<u8>> {
        let mut gids: Vec<u32> = ctx.store.pri_gids.clone();
        if gids.len() > 1 {
            log::warn!("{who}: warning more than 1 primary group found");
        }
        if self.use_secondary_gids {
            gids.extend(&ctx.store.sec_gids);
        }
        let mut names = Vec::new();
        for g in gids {
            match self.groups.name_by_gid(g) {
                Ok(Some(n)) => names.push(n),
                Ok(None) => {
                    log::warn!("{who}: no group id found for gid = {g}");
                    return None;
                }
                Err(e) => {
                    log::error!("{who}: {e}");
                    return None;
                }
            }
        }
        let mut lease = dn.as_bytes().to_vec();
        if !names.is_empty() {
            lease.push(MAPCOUNT_SEPARATOR);
            lease.extend_from_slice(names.join(":").as_bytes());
        }
        Some(lease)
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, verify: bool, who: &str) -> Status {
        let Some(dn) = context::take_dn(ctx, who) else {
            return Status::Failure;
        };
        let mapcounter = ctx.request.mapcounter;
        let Some(list) = fqans(ctx, who) else {
            return Status::Failure;
        };
        let Ok(requested) = context::requested_account(ctx, &*self.accounts, true, verify, who)
        else {
            return Status::Failure;
        };
        if ctx.store.pri_gids.is_empty() && self.require_primary_gid {
            log::warn!("{who}: failure: no primary group found");
            return Status::Failure;
        }
        let Some(leasename) = self.leasename(ctx, &dn, who) else {
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
            wildcards: true,
            strict_prefix: self.strict,
            override_inconsistency: self.override_inconsistency,
            only_existing: verify,
        };
        let mut found = None;
        'fqans: for (i, fqan) in list.iter().enumerate() {
            let req = |mapcounter| Request {
                mapfile: self.gridmapfile.as_deref(),
                dn: fqan,
                leasename: &leasename,
                dir: &dir,
                mapping_max: self.mapping_max,
                mapcounter,
                requested: requested.as_deref(),
                options,
            };
            let mut tries: Vec<i32> = Vec::new();
            if verify && mapcounter < 1 {
                tries.extend(1..=self.mapping_max);
            }
            tries.push(mapcounter);
            for mc in tries {
                match leases::lookup(&req(mc)) {
                    Err(e) => {
                        log::error!("{who}: {e}");
                        return Status::Failure;
                    }
                    Ok(Some(l)) => {
                        found = Some((i, l));
                        break 'fqans;
                    }
                    Ok(None) => {
                        log::debug!(
                        "{who}: No match for {} poolaccount for FQAN {}, \"{fqan}\", mapcount={mc}",
                        if requested.is_some() { "the requested" } else { "a VOMS" },
                        i + 1
                    )
                    }
                }
            }
        }
        let Some((i, lease)) = found else {
            let mc = if mapcounter > 0 {
                format!(", mapcount={mapcounter}")
            } else {
                String::new()
            };
            log::info!(
                "{who}: No match for {} for any of the FQANs of user \"{dn}\"{mc}, in {} and {}",
                requested
                    .as_ref()
                    .map_or("a VOMS poolaccount".to_string(), |r| format!(
                        "requested poolaccount {r}"
                    )),
                self.gridmapfile
                    .as_ref()
                    .map_or("default grid-mapfile".into(), |p| p.display().to_string()),
                dir.display()
            );
            return Status::Failure;
        };
        log::debug!(
            "{who}: found username {} for FQAN {}, \"{}\"",
            lease.account,
            i + 1,
            list[i]
        );
        if !gidflags::add_account(ctx, &*self.accounts, &lease.account, self.gids, who) {
            return Status::Failure;
        }
        ctx.add(CredData::PoolIndex(lease.encoded));
        Status::Success
    }
}

/// The state of `plugin_initialize`: the plugin, the gid flags and the
/// (conflicting) primary-gid requirement flags.
struct Init<'a> {
    plugin: &'a mut VomsPoolAccount,
    flags: GidFlags,
    require: bool,
    not_require: bool,
}

impl AsMut<GidFlags> for Init<'_> {
    fn as_mut(&mut self) -> &mut GidFlags {
        &mut self.flags
    }
}

impl Plugin for VomsPoolAccount {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        let mut init = Init {
            plugin: self,
            flags: GidFlags::default(),
            require: false,
            not_require: false,
        };
        let mut spec: Vec<Opt<Init<'_>>> = vec![
            Opt::file(GRIDMAPFILE_OPTION, |i, f| i.plugin.gridmapfile = Some(f)),
            Opt::absolute_dir(GRIDMAPDIR_OPTION, |i, d| i.plugin.gridmapdir = Some(d)),
            gridmapdir::mapping_max_option(|i, n| i.plugin.mapping_max = n),
            Opt::yes_no(STRICT_POOLPREFIX_OPTION, |i, b| i.plugin.strict = b),
            Opt::flag(OVERRIDE_INCONSISTENCY_OPTION, |i, _| {
                i.plugin.override_inconsistency = true;
                Ok(())
            }),
            Opt::flag(
                &[
                    "--do-not-use-secondary-gids",
                    "-do_not-use-secondary-gids",
                    "-do_not_use_secondary_gids",
                ],
                |i, _| {
                    i.plugin.use_secondary_gids = false;
                    Ok(())
                },
            ),
            Opt::flag(
                &[
                    "--do-not-require-primary-gid",
                    "-do_not-require-primary-gid",
                    "-do_not_require_primary_gid",
                ],
                |i, o| {
                    if i.require {
                        return Err(format!("cannot specify both {o} and --require-primary-gid"));
                    }
                    i.not_require = true;
                    Ok(())
                },
            ),
            Opt::flag(&["--require-primary-gid"], |i, o| {
                if i.not_require {
                    return Err(format!(
                        "cannot specify both {o} and --do-not-require-primary-gid"
                    ));
                }
                i.require = true;
                Ok(())
            }),
        ];
        spec.extend(GidFlags::options());
        options::parse(&spec, options::options(argv), &mut init).map_err(|e| err(e.message()))?;
        let (flags, require) = (init.flags, init.require);
        self.require_primary_gid = require;
        self.gids = flags.resolve(false);
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![
            USER_DN,
            FQAN_LIST,
            NFQAN,
            MAPCOUNTER,
            REQUESTED_UID,
            REQUESTED_USERNAME,
        ]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}

#[cfg(test)]
mod tests;
