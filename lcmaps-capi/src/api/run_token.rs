//! `lcmaps_rs_run_with_token_and_return_account`, lcmaps-rs's own run call
//! on a bearer token.

use std::ffi::{c_char, c_int};

use lcmaps_core::plugin::Request;

use super::engine::policies;
use super::outputs::AccountOut;
use crate::cstr::cstring_lossy;
use lcmaps_host::ffi_boundary;

/// `int lcmaps_rs_run_with_token_and_return_account(...)`, lcmaps-rs's own
/// entry point: maps a bearer token (JWT) with the policies' token plugin
/// (`lcmaps_scitokens.mod`); outputs as in the PEM variant (gid lists point
/// into the store, the pool index is malloc'ed for the caller).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_rs_run_with_token_and_return_account(
    token: *const c_char,
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
    const NAME: &str = "lcmaps_rs_run_with_token_and_return_account";
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
        // SAFETY: NULL or C strings / a policy array of npols entries.
        let (tok, job, pols) = unsafe {
            (
                cstring_lossy(token),
                cstring_lossy(request),
                policies(npols, policynames),
            )
        };
        let Some(tok) = tok.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
            log::error!("{NAME}(): no token given");
            return 1;
        };
        if tok.len() > TOKEN_MAX {
            log::error!(
                "{NAME}(): the token is {} bytes, more than the {TOKEN_MAX} accepted",
                tok.len()
            );
            return 1;
        }
        let req = Request {
            token: Some(tok),
            mapcounter,
            job_request: job,
            ..Request::default()
        };
        out.run(NAME, &req, pols, true)
    })
}

/// The longest token the C entry point takes (WLCG tokens are a few kB).
const TOKEN_MAX: usize = 64 * 1024;
