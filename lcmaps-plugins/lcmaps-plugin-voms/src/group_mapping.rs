//! What the two group plugins (voms_localgroup, voms_poolgroup) share: how
//! a group found for an FQAN is added, the `-mapmin` rule and their option
//! spellings.

use lcmaps_core::cred::{CredData, VoMapping};
use lcmaps_core::plugin::RunContext;
use lcmaps_plugin_common::options::{Kind, Opt};

use crate::groups::GroupDb;

/// Add a group found for FQAN number `index` (0-based): PRI_GID for the
/// first FQAN unless `secondary`, else SEC_GID, and the VO mapping.
fn add_group(
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
    groups: &dyn GroupDb,
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
