//! The run calls on a DN (and FQANs) given by the caller:
//! `lcmaps_run_without_credentials_and_return_username`,
//! `lcmaps_run_with_fqans_and_return_account` and its mapcounter variant.

use std::ffi::{c_char, c_int};
use std::ptr;

use lcmaps_core::plugin::Request;
use lcmaps_core::policy::Mode;

use super::engine::{policies, run};
use super::outputs::{first_user_name, AccountOut};
use crate::cstr::cstring_lossy;
use lcmaps_host::ffi_boundary;

/// `int lcmaps_run_without_credentials_and_return_username(char *user_dn,
/// lcmaps_request_t request, char **usernamep, int npols, char **policynames)`:
/// `*usernamep` is malloc'ed (caller frees).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_without_credentials_and_return_username(
    user_dn: *mut c_char,
    request: *mut c_char,
    usernamep: *mut *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_without_credentials_and_return_username";
    ffi_boundary!(NAME, {
        if usernamep.is_null() {
            log::error!("{NAME}(): usernamep is NULL");
            return 1;
        }
        // SAFETY: non-NULL out pointer.
        unsafe { *usernamep = ptr::null_mut() };
        // SAFETY: NULL or C strings / a policy array of npols entries.
        let (dn, job, pols) = unsafe {
            (
                cstring_lossy(user_dn),
                cstring_lossy(request),
                policies(npols, policynames),
            )
        };
        let Some(dn) = dn.filter(|d| !d.is_empty()) else {
            log::error!("{NAME}(): no user DN given");
            return 1;
        };
        let req = Request {
            user_dn: Some(dn),
            job_request: job,
            ..Request::default()
        };
        if !run(NAME, &req, Mode::Run, pols) {
            return 1;
        }
        match first_user_name(NAME) {
            Ok(p) => {
                // SAFETY: non-NULL out pointer.
                unsafe { *usernamep = p };
                0
            }
            Err(()) => 1,
        }
    })
}

/// `int lcmaps_run_with_fqans_mapcounter_and_return_account(...)`: the lists
/// and `*poolindexp` point into LCMAPS's store (valid until the next run or
/// `lcmaps_term`; do not free).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_with_fqans_mapcounter_and_return_account(
    user_dn: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    mapcounter: c_int,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_with_fqans_mapcounter_and_return_account";
    ffi_boundary!(NAME, {
        let out = AccountOut {
            puid,
            ppgid_list,
            pnpgid,
            psgid_list,
            pnsgid,
            poolindexp,
        };
        if !out.usable(NAME) {
            return 1;
        }
        // SAFETY: NULL or C strings; fqan_list has nfqan entries.
        let (dn, job, pols) = unsafe {
            (
                cstring_lossy(user_dn),
                cstring_lossy(request),
                policies(npols, policynames),
            )
        };
        let Some(dn) = dn.filter(|d| !d.is_empty()) else {
            log::error!("{NAME}(): no user DN given");
            return 1;
        };
        let fqans = if fqan_list.is_null() {
            Vec::new()
        } else {
            // SAFETY: fqan_list has nfqan entries (same shape as policies).
            unsafe { policies(nfqan, fqan_list) }
        };
        if fqans.is_empty() {
            log::warn!("{NAME}(): no FQANs given");
        }
        let req = Request {
            user_dn: Some(dn),
            fqans,
            mapcounter,
            job_request: job,
            ..Request::default()
        };
        out.run(NAME, &req, pols, false)
    })
}

/// `int lcmaps_run_with_fqans_and_return_account(...)`: the mapcounter
/// variant with mapcounter 0.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_with_fqans_and_return_account(
    user_dn: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
) -> c_int {
    // SAFETY: same contract.
    unsafe {
        lcmaps_run_with_fqans_mapcounter_and_return_account(
            user_dn,
            fqan_list,
            nfqan,
            0,
            request,
            npols,
            policynames,
            puid,
            ppgid_list,
            pnpgid,
            psgid_list,
            pnsgid,
            poolindexp,
        )
    }
}
