//! `globus_gss_assist_gridmap`: the Globus gridmap callout as one LCMAPS
//! mapping of a DN to a user name.

use std::ffi::{c_char, c_int};
use std::ptr;

use super::engine::init;
use super::init::lcmaps_term;
use super::run_fqans::lcmaps_run_without_credentials_and_return_username;
use crate::log::DO_USRLOG;
use lcmaps_host::ffi_boundary;

extern "C" {
    static mut stderr: *mut libc::FILE;
}

/// `int globus_gss_assist_gridmap(char *globusidp, char **useridp)`: init
/// (logging to stderr), map the DN to a user name (malloc'ed), term.
/// 0 mapped, 1 not.
#[no_mangle]
pub unsafe extern "C" fn globus_gss_assist_gridmap(
    globusidp: *mut c_char,
    useridp: *mut *mut c_char,
) -> c_int {
    ffi_boundary!("globus_gss_assist_gridmap", {
        if useridp.is_null() {
            return 1;
        }
        // SAFETY: non-NULL out pointer; stderr is libc's stream.
        let err = unsafe {
            *useridp = ptr::null_mut();
            stderr
        };
        if init(None, err, DO_USRLOG) != 0 {
            log::error!("globus_gss_assist_gridmap: LCMAPS initialization failure");
            return 1;
        }
        // SAFETY: globusidp NULL or a C string; useridp non-NULL.
        let rc = unsafe {
            lcmaps_run_without_credentials_and_return_username(
                globusidp,
                ptr::null_mut(),
                useridp,
                0,
                ptr::null_mut(),
            )
        };
        if rc != 0 {
            log::error!("globus_gss_assist_gridmap: LCMAPS failed to find a username");
        }
        if lcmaps_term() != 0 {
            return 1;
        }
        c_int::from(rc != 0)
    })
}
