//! What every basic plugin does with the run context, as upstream does it.

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::{ArgSpec, RunContext};

use crate::accounts::{Account, AccountDb};

/// `user_dn` / `char *`.
pub const USER_DN: ArgSpec = ArgSpec {
    name: "user_dn",
    ty: "char *",
};
/// `requested_username` / `char *`.
pub const REQUESTED_USERNAME: ArgSpec = ArgSpec {
    name: "requested_username",
    ty: "char *",
};
/// `requested_uid` / `uid_t`.
pub const REQUESTED_UID: ArgSpec = ArgSpec {
    name: "requested_uid",
    ty: "uid_t",
};
/// `mapcounter` / `int`.
pub const MAPCOUNTER: ArgSpec = ArgSpec {
    name: "mapcounter",
    ty: "int",
};

/// The DN: the first one in the credential store, else the `user_dn` run
/// variable, which is then added to the store. `None`: no DN (failure).
pub fn take_dn(ctx: &mut RunContext<'_>, who: &str) -> Option<String> {
    if let Some(dn) = ctx.store.dn.clone() {
        return Some(dn);
    }
    match ctx.request.user_dn.clone() {
        Some(dn) => {
            log::debug!("{who}: adding DN to LCMAPS framework: {dn}");
            ctx.add(CredData::Dn(dn.clone()));
            Some(dn)
        }
        None => {
            log::warn!("{who}: could not get value of dn !");
            None
        }
    }
}

/// The requested account: `requested_username`, else (when the plugin reads
/// it) `requested_uid` by name. uid 0 and unknown uids fail; in
/// verification mode one of them is required.
pub fn requested_account(
    ctx: &RunContext<'_>,
    accounts: &dyn AccountDb,
    use_uid: bool,
    verify: bool,
    who: &str,
) -> Result<Option<String>, String> {
    let fail = |m: String| {
        log::warn!("{m}");
        Err(m)
    };
    if let Some(u) = &ctx.request.requested_username {
        log::debug!("{who}: the requested user is {u}");
        return Ok(Some(u.clone()));
    }
    match ctx.request.requested_uid.filter(|_| use_uid) {
        Some(0) => {
            fail(format!("{who}: illegal request for uid == 0 (failure)"))
        }
        Some(uid) => match accounts.name_by_uid(uid) {
            Ok(Some(name)) => Ok(Some(name)),
            _ => fail(format!("{who}: the requested uid {uid} is illegal.")),
        },
        None if verify => fail(format!(
            "{who}: both requested_username and requested_uid are unset, need at least one in PLUGIN_VERIFY mode"
        )),
        None => Ok(None),
    }
}

/// Look `name` up and add its UID, PRI_GID and SEC_GIDs (the getgrouplist
/// list, primary gid included) to the store. `false`: no such account.
pub fn add_account(
    ctx: &mut RunContext<'_>,
    accounts: &dyn AccountDb,
    name: &str,
    who: &str,
) -> bool {
    let acc: Account = match accounts.by_name(name) {
        Ok(Some(a)) => a,
        Ok(None) => {
            log::warn!("{who}: no user account found with the name \"{name}\"");
            return false;
        }
        Err(e) => {
            log::error!("{who}: {e}");
            return false;
        }
    };
    log::debug!(
        "{who}: username {} uid {} gid {}",
        acc.name,
        acc.uid,
        acc.gid
    );
    ctx.add(CredData::Uid(acc.uid));
    ctx.add(CredData::PriGid(acc.gid));
    for g in acc.groups {
        ctx.add(CredData::SecGid(g));
    }
    true
}
