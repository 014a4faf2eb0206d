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
mod fqan_source;
mod gidflags;
mod group_mapping;
pub mod groups;
mod leases;
mod localaccount;
mod localgroup;
mod log_lines;
mod poolaccount;
mod poolgroup;

pub use ban_fqan::BanFqan;
pub use deprecated::Voms;
pub use groups::{GroupDb, Groups, StaticGroups, SystemGroups};
pub use localaccount::VomsLocalAccount;
pub use localgroup::VomsLocalGroup;
pub use poolaccount::VomsPoolAccount;
pub use poolgroup::VomsPoolGroup;

pub use fqan_source::{FQAN_LIST, NFQAN};

use lcmaps_core::plugin::Plugin;

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

#[cfg(test)]
pub(crate) mod testutil;
