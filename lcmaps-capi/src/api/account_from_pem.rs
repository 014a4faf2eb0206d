//! The PEM helper library: `lcmaps_return_account_from_pem`,
//! `lcmaps_verify_account_from_pem` (and its variadic `_va` form, whose C
//! half is in `csrc/`). Each is init, one run, term.

use std::ffi::{c_char, c_int};
use std::ptr;

use super::account_info::{lcmaps_account_info_fill, lcmaps_account_info_init};
use super::engine::init;
use super::init::lcmaps_term;
use super::policy_env::env_policy_args;
use super::run_pem::{
    lcmaps_run_and_verify_account_from_pem, lcmaps_run_with_pem_and_return_account,
};
use crate::lcmaps_account_info_t;
use crate::log::{self as clog, DO_USRLOG};
use lcmaps_host::ffi_boundary;

/// `int lcmaps_return_account_from_pem(char *pem_string, int mapcounter,
/// lcmaps_account_info_t *)`: init, map the PEM (policies from
/// `LCMAPS_POLICY_NAME`), deep-copy the account into `*acct`, term.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_return_account_from_pem(
    pem_string: *mut c_char,
    mapcounter: c_int,
    acct: *mut lcmaps_account_info_t,
) -> c_int {
    const NAME: &str = "lcmaps_return_account_from_pem";
    ffi_boundary!(NAME, {
        // SAFETY: NULL or valid.
        unsafe { lcmaps_account_info_init(acct) };
        if acct.is_null() {
            clog::install();
            log::error!("{NAME}: no account structure given");
            return 1;
        }
        if init(None, ptr::null_mut(), DO_USRLOG) != 0 {
            log::error!("{NAME}: LCMAPS initialization failure");
            return 1;
        }
        let mut uid: libc::uid_t = libc::uid_t::MAX;
        let mut pgids: *mut libc::gid_t = ptr::null_mut();
        let mut npgid: c_int = 0;
        let mut sgids: *mut libc::gid_t = ptr::null_mut();
        let mut nsgid: c_int = 0;
        let mut pi: *mut c_char = ptr::null_mut();
        let (_pols, mut pol_ptrs) = env_policy_args();
        let npols = c_int::try_from(pol_ptrs.len()).unwrap_or(0);
        // SAFETY: all pointers are valid for the call; the policy strings
        // outlive it.
        let mut rc = unsafe {
            lcmaps_run_with_pem_and_return_account(
                ptr::null_mut(),
                pem_string,
                mapcounter,
                ptr::null_mut(),
                npols,
                if npols > 0 {
                    pol_ptrs.as_mut_ptr()
                } else {
                    ptr::null_mut()
                },
                &mut uid,
                &mut pgids,
                &mut npgid,
                &mut sgids,
                &mut nsgid,
                &mut pi,
            )
        };
        if rc == 0 {
            // SAFETY: the outputs were just filled; acct is valid.
            rc = unsafe {
                lcmaps_account_info_fill(
                    &mut uid, &mut pgids, &mut npgid, &mut sgids, &mut nsgid, &mut pi, acct,
                )
            };
            if rc != 0 {
                log::error!("{NAME}: cannot fill the account structure");
                rc = 1;
            }
        }
        if !pi.is_null() {
            // SAFETY: the PEM variant malloc'ed the pool index for us.
            unsafe { libc::free(pi.cast()) };
        }
        if lcmaps_term() != 0 {
            log::error!("{NAME}: LCMAPS termination failure");
            return 1;
        }
        rc
    })
}

/// `int lcmaps_verify_account_from_pem(char *pem_string, lcmaps_account_info_t)`:
/// init, verify the account for the PEM (policies from
/// `LCMAPS_POLICY_NAME`), term.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_verify_account_from_pem(
    pem_string: *mut c_char,
    acct: lcmaps_account_info_t,
) -> c_int {
    const NAME: &str = "lcmaps_verify_account_from_pem";
    ffi_boundary!(NAME, {
        if init(None, ptr::null_mut(), DO_USRLOG) != 0 {
            log::error!("{NAME}: LCMAPS initialization failure");
            return 1;
        }
        let (_pols, mut pol_ptrs) = env_policy_args();
        let npols = c_int::try_from(pol_ptrs.len()).unwrap_or(0);
        // SAFETY: the account's lists have the given lengths (caller's
        // contract); the policy strings outlive the call.
        let rc = unsafe {
            lcmaps_run_and_verify_account_from_pem(
                ptr::null_mut(),
                pem_string,
                acct.uid,
                acct.pgid_list,
                acct.npgid,
                acct.sgid_list,
                acct.nsgid,
                acct.poolindex,
                ptr::null_mut(),
                npols,
                if npols > 0 {
                    pol_ptrs.as_mut_ptr()
                } else {
                    ptr::null_mut()
                },
            )
        };
        if lcmaps_term() != 0 {
            log::error!("{NAME}: LCMAPS termination failure");
            return 1;
        }
        rc
    })
}

type VerifyHook = unsafe extern "C" fn(c_int, *mut c_char, *const lcmaps_account_info_t) -> c_int;

extern "C" {
    // In csrc/lcmaps_verify_va.c: how the variadic
    // `lcmaps_verify_account_from_pem_va` reaches Rust.
    static mut lcmaps_rs_verify_hook: Option<VerifyHook>;
    /// `int lcmaps_verify_account_from_pem_va(int narg, ...)` (csrc).
    pub fn lcmaps_verify_account_from_pem_va(narg: c_int, ...) -> c_int;
}

/// Point the C shim's `lcmaps_verify_account_from_pem_va` at
/// [`lcmaps_rs_verify_account_from_pem`].
pub(crate) fn install_verify_hook() {
    // SAFETY: a plain store of a function pointer into the shim's global;
    // every writer stores the same value.
    unsafe { lcmaps_rs_verify_hook = Some(lcmaps_rs_verify_account_from_pem) };
}

/// The Rust end of `lcmaps_verify_account_from_pem_va` (csrc).
unsafe extern "C" fn lcmaps_rs_verify_account_from_pem(
    narg: c_int,
    pem_string: *mut c_char,
    acct: *const lcmaps_account_info_t,
) -> c_int {
    ffi_boundary!("lcmaps_verify_account_from_pem_va", {
        if narg != 2 || acct.is_null() {
            // As LCMAPS: initialize (for the log), then refuse.
            let inited = init(None, ptr::null_mut(), DO_USRLOG) == 0;
            log::error!(
                "lcmaps_verify_account_from_pem_va: The number of arguments ({narg}) should be 2"
            );
            if inited {
                lcmaps_term();
            }
            return 1;
        }
        // SAFETY: non-NULL, filled by the C shim.
        unsafe { lcmaps_verify_account_from_pem(pem_string, *acct) }
    })
}
