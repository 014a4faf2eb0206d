//! The VOMS plugins of lcmaps-plugins-voms 1.7.1, in-process:
//!
//! | module                           | type                |
//! |----------------------------------|---------------------|
//! | `lcmaps_voms_localgroup.mod`     | [`VomsLocalGroup`]   |
//! | `lcmaps_voms_poolgroup.mod`      | [`VomsPoolGroup`]    |
//! | `lcmaps_voms_localaccount.mod`   | [`VomsLocalAccount`] |
//! | `lcmaps_voms_poolaccount.mod`    | [`VomsPoolAccount`]  |
//! | `lcmaps_ban_fqan.mod`            | [`BanFqan`]          |
//! | `lcmaps_voms.mod` (deprecated)   | [`Voms`]             |
//!
//! One crate because the six share the FQAN source, the group lookup, the
//! gid flags of the account plugins and the group-mapfile handling, exactly
//! as upstream ships them in one package.
//!
//! Mapfiles (grid-mapfile, group-mapfile, ban file), the gridmapdir lease
//! protocol and account lookup come from `lcmaps-plugin-common`; FQAN keys
//! are matched with fnmatch without `FNM_PATHNAME`, so `"/dteam/*"` matches
//! `/dteam/Role=NULL/Capability=NULL` but not `/dteam`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ban_fqan;
mod deprecated;
mod gidflags;
pub mod groups;
mod leases;
mod localaccount;
mod localgroup;
mod poolaccount;
mod poolgroup;

pub use ban_fqan::BanFqan;
pub use deprecated::Voms;
pub use groups::{GroupDb, Groups, StaticGroups, SystemGroups};
pub use localaccount::VomsLocalAccount;
pub use localgroup::VomsLocalGroup;
pub use poolaccount::VomsPoolAccount;
pub use poolgroup::VomsPoolGroup;

use lcmaps_core::cred::{CredData, VoMapping};
use lcmaps_core::plugin::{ArgSpec, Plugin, RunContext};
use lcmaps_plugin_common::options::{Kind, Opt};

/// Module file names of the plugins of this crate.
pub const MODULES: &[&str] = &[
    "lcmaps_voms.mod",
    "lcmaps_voms_localgroup.mod",
    "lcmaps_voms_poolgroup.mod",
    "lcmaps_voms_localaccount.mod",
    "lcmaps_voms_poolaccount.mod",
    "lcmaps_ban_fqan.mod",
];

/// A fresh plugin (system accounts and groups) for module file name `module`.
pub fn plugin(module: &str) -> Option<Box<dyn Plugin>> {
    Some(match module {
        "lcmaps_voms.mod" => Box::new(Voms::default()),
        "lcmaps_voms_localgroup.mod" => Box::new(VomsLocalGroup::default()),
        "lcmaps_voms_poolgroup.mod" => Box::new(VomsPoolGroup::default()),
        "lcmaps_voms_localaccount.mod" => Box::new(VomsLocalAccount::default()),
        "lcmaps_voms_poolaccount.mod" => Box::new(VomsPoolAccount::default()),
        "lcmaps_ban_fqan.mod" => Box::new(BanFqan::default()),
        _ => return None,
    })
}

/// `fqan_list` / `char **`.
pub const FQAN_LIST: ArgSpec = ArgSpec {
    name: "fqan_list",
    ty: "char **",
};
/// `nfqan` / `int`.
pub const NFQAN: ArgSpec = ArgSpec {
    name: "nfqan",
    ty: "int",
};

/// The FQANs as upstream takes them: the store's `LCMAPS_VO_CRED_STRING`s if
/// there are any, else the `fqan_list` run variable. `None`: no FQANs
/// ("no (valid) VOMS groups found").
pub(crate) fn fqans(ctx: &RunContext<'_>, who: &str) -> Option<Vec<String>> {
    let list = if !ctx.store.vo_strings.is_empty() {
        log::debug!(
            "{who}: found {} FQAN(s) in credential data",
            ctx.store.vo_strings.len()
        );
        ctx.store.vo_strings.clone()
    } else {
        log::debug!("{who}: no FQANs registered by other plugins, trying run/introspect args");
        if ctx.request.fqans.is_empty() {
            log::info!("{who}: no (valid) VOMS groups found --> no mapping");
            return None;
        }
        ctx.request.fqans.clone()
    };
    for (i, f) in list.iter().enumerate() {
        log::debug!("{who}: FQAN {}: {f}", i + 1);
    }
    Some(list)
}

/// Add a group found for FQAN number `index` (0-based): PRI_GID for the
/// first FQAN unless `secondary`, else SEC_GID, and the VO mapping.
pub(crate) fn add_group(
    ctx: &mut RunContext<'_>,
    index: usize,
    secondary: bool,
    fqan: &str,
    group: &str,
    gid: u32,
) {
    if index == 0 && !secondary {
        ctx.add(CredData::PriGid(gid));
    } else {
        ctx.add(CredData::SecGid(gid));
    }
    ctx.add(CredData::VoCredMapping(VoMapping {
        vostring: fqan.to_string(),
        groupname: Some(group.to_string()),
        gid,
    }));
}

/// Look up `group` and add it for FQAN number `index` (see [`add_group`]).
/// False, logged, when the group does not exist or cannot be looked up.
pub(crate) fn add_named_group(
    who: &str,
    groups: &dyn groups::GroupDb,
    ctx: &mut RunContext<'_>,
    index: usize,
    secondary: bool,
    fqan: &str,
    group: &str,
) -> bool {
    match groups.gid_by_name(group) {
        Ok(Some(gid)) => {
            add_group(ctx, index, secondary, fqan, group, gid);
            true
        }
        Ok(None) => {
            log::error!("{who}: no group found with the name \"{group}\"");
            false
        }
        Err(e) => {
            log::error!("{who}: {e}");
            false
        }
    }
}

/// The `-mapmin` rule of the group plugins: at least `mapmin` groups found.
pub(crate) fn enough_groups(who: &str, count: i32, mapmin: i32) -> bool {
    if count < mapmin {
        log::warn!(
            "{who}: Not enough groups found. The minimum is set to {mapmin}. The plugin found {count}"
        );
        return false;
    }
    true
}

/// `-mapmin <n>`: an integer 0..=INT_MAX; `set` stores it.
pub(crate) const fn mapmin_option<T>(set: fn(&mut T, i32)) -> Opt<T> {
    Opt::new(
        &["-mapmin"],
        Kind::Int {
            what: "a valid number",
            min: 0,
            max: i32::MAX,
            bad: |_, v| {
                format!("Illegal value for \"-mapmin\" ({v}): Should be in integer>=0 (failure)")
            },
            set,
        },
    )
}

/// The group plugins' flag: add the groups as secondary gids only.
pub(crate) const MAP_TO_SECONDARY_GROUPS_OPTION: &[&str] = &["--map-to-secondary-groups"];

/// The group plugins' flag: map every FQAN, not only the first.
pub(crate) const MAPALL_OPTION: &[&str] = &["-mapall"];

/// The spellings of the option naming a group-mapfile.
pub(crate) const GROUPMAPFILE_OPTION: &[&str] =
    &["-groupmapfile", "-GROUPMAPFILE", "-groupmap", "-GROUPMAP"];

/// "succeeded" / "failed" line every plugin ends with.
pub(crate) fn outcome(who: &str, what: &str, s: lcmaps_core::plugin::Status) {
    log::info!(
        "{who}: {what} plugin {}",
        if s.is_success() {
            "succeeded"
        } else {
            "failed"
        }
    );
}

/// `plugin_run()` / `plugin_verify()` log prefix.
pub(crate) fn who(prefix: &str, verify: bool) -> String {
    format!(
        "{prefix}-plugin_{}()",
        if verify { "verify" } else { "run" }
    )
}

#[cfg(test)]
pub(crate) mod testutil;
