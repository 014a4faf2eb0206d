//! The run calls on a Globus GSS credential: `lcmaps_run`,
//! `lcmaps_run_and_return_username`, `lcmaps_run_and_return_poolindex`
//! (GSSAPI is loaded at run time, see [`crate::gss`]).

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use lcmaps_core::plugin::Request;
use lcmaps_core::policy::Mode;

use super::engine::{policies, run};
use super::outputs::first_user_name;
use super::run_pem::pem_request;
use crate::cstr::{cstring_lossy, malloc_str};
use crate::log as clog;
use crate::store::ambient;
use lcmaps_host::ffi_boundary;

/// The request of a GSS call: with a credential, its certificate chain
/// (exported through Globus GSSAPI, loaded at run time) gives the DN, the
/// verified VOMS FQANs and the chain for the plugins, as in the PEM calls;
/// when the chain cannot be exported, the credential's DN alone; without a
/// credential, `user_dn`.
///
/// # Safety
/// `user_dn` NULL or a C string; `cred` NULL or a Globus GSS credential.
unsafe fn gss_request(
    name: &str,
    user_dn: *mut c_char,
    cred: *mut c_void,
    job: Option<String>,
) -> Option<Request> {
    // SAFETY: NULL or a C string.
    let given = unsafe { cstring_lossy(user_dn) }.filter(|d| !d.is_empty());
    let dn_only = |dn: String| Request {
        user_dn: Some(dn),
        job_request: job.clone(),
        ..Request::default()
    };
    if cred.is_null() {
        return match given {
            Some(dn) => {
                log::warn!("{name}(): empty GSS credential; mapping on the DN only");
                Some(dn_only(dn))
            }
            None => {
                log::error!("{name}(): neither a user DN nor a GSS credential was given");
                None
            }
        };
    }
    // SAFETY: a non-NULL GSS credential by the caller's contract.
    match unsafe { crate::gss::pem_from_cred(cred) } {
        Ok(pem) => {
            let req = pem_request(name, Some(pem), 0, job.clone())?;
            if let (Some(g), Some(d)) = (&given, &req.user_dn) {
                if g != d {
                    log::warn!(
                        "{name}(): the given DN \"{g}\" is not the credential's \"{d}\"; \
                         using the credential's"
                    );
                }
            }
            return Some(req);
        }
        Err(e) => log::warn!(
            "{name}(): cannot take the certificate chain out of the GSS credential ({e}); \
             mapping on its DN only"
        ),
    }
    if let Some(dn) = given {
        return Some(dn_only(dn));
    }
    // SAFETY: as above.
    match unsafe { crate::gss::dn_from_cred(cred) } {
        Ok(dn) => Some(dn_only(dn)),
        Err(e) => {
            log::error!("{name}(): cannot take the user DN from the GSS credential: {e}");
            None
        }
    }
}

/// `int lcmaps_run(char *user_dn, gss_cred_id_t user_cred, lcmaps_request_t
/// request)`: all policies; the result only as side effects (posix_enf).
/// Maps the credential's certificate chain (Globus GSSAPI loaded at run
/// time: DN, VOMS FQANs, chain), else `user_dn`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run(
    user_dn: *mut c_char,
    user_cred: *mut c_void,
    request: *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run";
    ffi_boundary!(NAME, {
        clog::install();
        // SAFETY: the caller's contract; `request` NULL or a C string.
        let Some(req) = (unsafe { gss_request(NAME, user_dn, user_cred, cstring_lossy(request)) })
        else {
            return 1;
        };
        c_int::from(!run(NAME, &req, Mode::Run, Vec::new()))
    })
}

/// `int lcmaps_run_and_return_username(char *user_dn, gss_cred_id_t user_cred,
/// lcmaps_request_t request, char **usernamep, int npols, char **policynames)`:
/// `*usernamep` on input is the requested user name (may be NULL); on
/// success it is the malloc'ed name of the first uid. DN as [`lcmaps_run`].
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_and_return_username(
    user_dn: *mut c_char,
    user_cred: *mut c_void,
    request: *mut c_char,
    usernamep: *mut *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_and_return_username";
    ffi_boundary!(NAME, {
        clog::install();
        if usernamep.is_null() {
            log::error!("{NAME}(): usernamep is NULL");
            return 1;
        }
        // SAFETY: non-NULL; the input value is NULL or a C string.
        let requested = unsafe {
            let r = cstring_lossy(*usernamep);
            *usernamep = ptr::null_mut();
            r
        };
        // SAFETY: the caller's contract; `request` NULL or a C string.
        let Some(mut req) =
            (unsafe { gss_request(NAME, user_dn, user_cred, cstring_lossy(request)) })
        else {
            return 1;
        };
        req.requested_username = requested;
        // SAFETY: policy array of npols entries or NULL.
        let pols = unsafe { policies(npols, policynames) };
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

/// `int lcmaps_run_and_return_poolindex(char *user_dn, gss_cred_id_t user_cred,
/// lcmaps_request_t request, char **poolindexp, int npols, char **policynames)`:
/// fails without a pool index; `*poolindexp` is malloc'ed. DN as [`lcmaps_run`].
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_and_return_poolindex(
    user_dn: *mut c_char,
    user_cred: *mut c_void,
    request: *mut c_char,
    poolindexp: *mut *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_and_return_poolindex";
    ffi_boundary!(NAME, {
        clog::install();
        if poolindexp.is_null() {
            log::error!("{NAME}(): poolindexp is NULL");
            return 1;
        }
        // SAFETY: non-NULL out pointer.
        unsafe { *poolindexp = ptr::null_mut() };
        // SAFETY: the caller's contract; `request` NULL or a C string.
        let Some(req) = (unsafe { gss_request(NAME, user_dn, user_cred, cstring_lossy(request)) })
        else {
            return 1;
        };
        // SAFETY: policy array of npols entries or NULL.
        let pols = unsafe { policies(npols, policynames) };
        if !run(NAME, &req, Mode::Run, pols) {
            return 1;
        }
        let pi = ambient().store.pool_index.clone();
        match pi {
            Some(p) => {
                // SAFETY: non-NULL out pointer.
                unsafe { *poolindexp = malloc_str(&p) };
                0
            }
            None => {
                log::error!("{NAME}(): LCMAPS could not find the poolindex");
                1
            }
        }
    })
}
