//! The outputs of the run calls: the account out-pointers of the
//! `*_and_return_account` calls and the user name of the `*_username` ones,
//! filled from the ambient store.

use std::ffi::{c_char, c_int};
use std::ptr;

use lcmaps_core::plugin::Request;
use lcmaps_core::policy::Mode;

use super::engine::run;
use crate::cstr::malloc_str;
use crate::log as clog;
use crate::store::{ambient, Ambient};

/// The account out-pointers of the `*_and_return_account` calls.
pub(super) struct AccountOut {
    pub(super) puid: *mut libc::uid_t,
    pub(super) ppgid_list: *mut *mut libc::gid_t,
    pub(super) pnpgid: *mut c_int,
    pub(super) psgid_list: *mut *mut libc::gid_t,
    pub(super) pnsgid: *mut c_int,
    pub(super) poolindexp: *mut *mut c_char,
}

impl AccountOut {
    /// Whether the out-pointers a call needs (`puid`, `ppgid_list`,
    /// `pnpgid`) are there; logs when not.
    pub(super) fn usable(&self, name: &str) -> bool {
        clog::install();
        let ok = !(self.puid.is_null() || self.ppgid_list.is_null() || self.pnpgid.is_null());
        if !ok {
            log::error!("{name}(): NULL output pointer (puid, ppgid_list and pnpgid are needed)");
        }
        ok
    }

    /// Run `req` with the policies `pols` and fill the outputs
    /// ([`account_out`]).
    pub(super) fn run(
        &self,
        name: &str,
        req: &Request,
        pols: Vec<String>,
        dup_poolindex: bool,
    ) -> c_int {
        if !run(name, req, Mode::Run, pols) {
            return 1;
        }
        account_out(name, self, dup_poolindex)
    }
}

/// Check the result rules and fill the outputs from the ambient store:
/// lists point into it (valid until the next run or `lcmaps_term`); the
/// pool index is copied (malloc) when `dup_poolindex`.
pub(super) fn account_out(name: &str, o: &AccountOut, dup_poolindex: bool) -> c_int {
    let mut amb = ambient();
    let Ambient { store, mirror } = &mut *amb;
    if store.uids.len() != 1 {
        log::error!(
            "{name}(): LCMAPS found {} uids, exactly one is needed",
            store.uids.len()
        );
        return 1;
    }
    if store.pri_gids.is_empty() {
        log::error!("{name}(): LCMAPS could not find any primary gid");
        return 1;
    }
    let n = |l: usize| c_int::try_from(l).unwrap_or(c_int::MAX);
    // SAFETY: the required pointers were checked non-NULL by the caller of
    // this function; the optional ones are checked here.
    unsafe {
        *o.puid = store.uids[0];
        *o.ppgid_list = mirror.pri_gids(store).unwrap_or(ptr::null_mut());
        *o.pnpgid = n(store.pri_gids.len());
        if !store.sec_gids.is_empty() && !o.psgid_list.is_null() && !o.pnsgid.is_null() {
            *o.psgid_list = mirror.sec_gids(store).unwrap_or(ptr::null_mut());
            *o.pnsgid = n(store.sec_gids.len());
        }
        if !o.poolindexp.is_null() {
            if let Some(p) = &store.pool_index {
                *o.poolindexp = if dup_poolindex {
                    malloc_str(p)
                } else {
                    mirror.pool_index(store).map_or(ptr::null_mut(), |s| *s)
                };
            }
        }
    }
    0
}

/// The user name of the first uid of the ambient store (malloc'ed).
pub(super) fn first_user_name(name: &str) -> Result<*mut c_char, ()> {
    let uid = ambient().store.uids.first().copied();
    let Some(uid) = uid else {
        log::error!("{name}(): LCMAPS could not find any uid");
        return Err(());
    };
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => Ok(malloc_str(&u.name)),
        _ => {
            log::error!("{name}(): LCMAPS could not find the username related to uid: {uid}");
            Err(())
        }
    }
}
