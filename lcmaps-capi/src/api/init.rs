//! `lcmaps_init`, `lcmaps_init_and_log`, `lcmaps_init_and_logfile` and
//! `lcmaps_term`.

use std::ffi::{c_char, c_int};
use std::path::PathBuf;

use super::engine::{init, terminate};
use crate::cstr::cstring_lossy;
use crate::log::{self as clog, DO_USRLOG};
use lcmaps_host::ffi_boundary;

/// `int lcmaps_init(FILE *fp)`: log to `fp` if given, else to syslog; read
/// lcmaps.db and load its plugins. 0 ok (also when already initialized), 1
/// failure.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_init(fp: *mut libc::FILE) -> c_int {
    ffi_boundary!("lcmaps_init", {
        init(
            None,
            fp,
            if fp.is_null() {
                clog::DO_SYSLOG
            } else {
                DO_USRLOG
            },
        )
    })
}

/// `int lcmaps_init_and_log(FILE *fp, unsigned short logtype)`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_init_and_log(
    fp: *mut libc::FILE,
    logtype: std::ffi::c_ushort,
) -> c_int {
    ffi_boundary!("lcmaps_init_and_log", { init(None, fp, logtype) })
}

/// `int lcmaps_init_and_logfile(char *logfile, FILE *fp, unsigned short logtype)`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_init_and_logfile(
    logfile: *mut c_char,
    fp: *mut libc::FILE,
    logtype: std::ffi::c_ushort,
) -> c_int {
    ffi_boundary!("lcmaps_init_and_logfile", {
        // SAFETY: NULL or a C string.
        let path = unsafe { cstring_lossy(logfile) }.map(PathBuf::from);
        init(path, fp, logtype)
    })
}

/// `int lcmaps_term(void)`: terminate the plugins, clear the store, close
/// the log. 0 ok, 1 failure.
#[no_mangle]
pub extern "C" fn lcmaps_term() -> c_int {
    ffi_boundary!("lcmaps_term", { terminate() })
}
