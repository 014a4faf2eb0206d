//! The helpers C LCAS plugins import from liblcas (`lcas_get_dn`,
//! `lcas_findfile`, ...; the variadic `lcas_log*` and `lcas_getfexist` are
//! in `csrc/`), and `lcas_cred_id_t`, which they take.

use std::ffi::{c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::ptr;

use lcmaps_core::lcas;

use crate::cstr::{cstring_lossy, malloc_str};
use crate::ffi_boundary;

pub use lcmaps_sys::lcas_cred_id_t;

/// The log settings of LCAS (`LCAS_LOG_FILE`, `LCAS_DEBUG_LEVEL` 0-5,
/// `LCAS_LOG_STRING`) in the form the C API logger takes; a bad debug level
/// is logged and the default used.
pub fn log_settings() -> lcmaps_core::env::Settings {
    let lcas_var = |k: &str| -> Option<String> {
        let v = match k {
            "LCMAPS_LOG_FILE" => "LCAS_LOG_FILE",
            "LCMAPS_DEBUG_LEVEL" => "LCAS_DEBUG_LEVEL",
            "LCMAPS_LOG_STRING" => "LCAS_LOG_STRING",
            _ => return None,
        };
        std::env::var(v).ok()
    };
    match lcmaps_core::env::Settings::from_lookup(lcas_var) {
        Ok(s) => s,
        Err(e) => {
            log::warn!("LCAS: {}", e.to_string().replace("LCMAPS_", "LCAS_"));
            let no_level = |k: &str| lcas_var(k).filter(|_| k != "LCMAPS_DEBUG_LEVEL");
            match lcmaps_core::env::Settings::from_lookup(no_level) {
                Ok(s) => s,
                Err(_) => lcmaps_core::env::Settings::from_lookup(|_| None)
                    .expect("the defaults are valid"),
            }
        }
    }
}

type FexistHook = unsafe extern "C" fn(c_int, *const *mut c_char) -> *mut c_char;

extern "C" {
    // In csrc/lcmaps_varargs.c: how the variadic `lcas_getfexist` reaches Rust.
    static mut lcas_rs_getfexist_hook: Option<FexistHook>;
}

/// Point the C shim's `lcas_getfexist` at [`lcas_rs_getfexist`].
pub fn install_getfexist_hook() {
    // SAFETY: a plain store of a function pointer into the shim's global;
    // every writer stores the same value.
    unsafe { lcas_rs_getfexist_hook = Some(lcas_rs_getfexist) };
}

/// `char *lcas_get_dn(lcas_cred_id_t)`: the DN in the credential (owned by
/// LCAS; valid during the `plugin_confirm_authorization` call).
#[no_mangle]
pub extern "C" fn lcas_get_dn(cred: lcas_cred_id_t) -> *mut c_char {
    cred.dn
}

/// `gss_cred_id_t lcas_get_gss_cred(lcas_cred_id_t)`.
#[no_mangle]
pub extern "C" fn lcas_get_gss_cred(cred: lcas_cred_id_t) -> *mut c_void {
    cred.cred
}

/// `int lcas_get_debug_level(void)`: `LCAS_DEBUG_LEVEL` (0-5).
#[no_mangle]
pub extern "C" fn lcas_get_debug_level() -> c_int {
    c_int::from(log_settings().debug_level)
}

/// `char *lcas_genfilename(char *prefix, char *path, char *suffix)`: an
/// absolute `path` as is, else `prefix/path`, then `suffix` appended;
/// malloc'ed (caller frees), NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn lcas_genfilename(
    prefixp: *mut c_char,
    pathp: *mut c_char,
    suffixp: *mut c_char,
) -> *mut c_char {
    ffi_boundary!("lcas_genfilename", {
        // SAFETY: NULL or C strings.
        let (pre, path, suf) = unsafe {
            (
                cstring_lossy(prefixp).unwrap_or_default(),
                cstring_lossy(pathp).unwrap_or_default(),
                cstring_lossy(suffixp).unwrap_or_default(),
            )
        };
        let base = if path.starts_with('/') || pre.is_empty() {
            path
        } else if path.is_empty() {
            pre
        } else {
            format!("{}/{path}", pre.trim_end_matches('/'))
        };
        malloc_str(&format!("{base}{suf}"))
    })
}

/// The first of `n` file names that exists, for the variadic
/// `lcas_getfexist` in `csrc/` (which passes them as an array).
///
/// # Safety
/// `names` has `n` entries, each NULL or a C string.
pub unsafe extern "C" fn lcas_rs_getfexist(n: c_int, names: *const *mut c_char) -> *mut c_char {
    ffi_boundary!("lcas_getfexist", {
        if names.is_null() {
            return ptr::null_mut();
        }
        for i in 0..usize::try_from(n).unwrap_or(0) {
            // SAFETY: i < n entries by the contract.
            let p = unsafe { *names.add(i) };
            // SAFETY: NULL or a C string.
            if let Some(s) = unsafe { cstring_lossy(p) } {
                if !s.is_empty() && Path::new(&s).exists() {
                    return p;
                }
            }
        }
        ptr::null_mut()
    })
}

/// The module or file `name` in `dir` (absolute names as they are), if it
/// exists; malloc'ed.
fn find_in(name: *mut c_char, dirs: &[PathBuf]) -> *mut c_char {
    // SAFETY: NULL or a C string (callers' contract).
    let Some(n) = (unsafe { cstring_lossy(name) }).filter(|n| !n.is_empty()) else {
        return ptr::null_mut();
    };
    if n.starts_with('/') {
        return if Path::new(&n).exists() {
            malloc_str(&n)
        } else {
            ptr::null_mut()
        };
    }
    for d in dirs {
        let p = d.join(&n);
        if p.exists() {
            return malloc_str(&p.display().to_string());
        }
    }
    ptr::null_mut()
}

/// `char *lcas_findplugin(char *name)`: the plugin file in
/// `LCAS_MODULES_DIR` or `/usr/lib/lcas`; malloc'ed, or NULL.
#[no_mangle]
pub unsafe extern "C" fn lcas_findplugin(name: *mut c_char) -> *mut c_char {
    ffi_boundary!("lcas_findplugin", {
        find_in(name, &[lcas::Options::from_env().modules_dir])
    })
}

/// `char *lcas_findfile(char *name)` / `lcas_finddbfile`: a configuration
/// file in the lcas.db directory (`LCAS_DIR` / `LCAS_ETC_DIR` /
/// `/etc/lcas`); malloc'ed, or NULL.
#[no_mangle]
pub unsafe extern "C" fn lcas_findfile(name: *mut c_char) -> *mut c_char {
    ffi_boundary!("lcas_findfile", {
        let db = lcas::db_file_from_env();
        let dir = db
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| lcas::ETC_HOME.into());
        find_in(name, &[dir])
    })
}

/// `char *lcas_finddbfile(char *name)`: as [`lcas_findfile`].
#[no_mangle]
pub unsafe extern "C" fn lcas_finddbfile(name: *mut c_char) -> *mut c_char {
    // SAFETY: same contract.
    unsafe { lcas_findfile(name) }
}

/// `int lcas_tokenize(const char *command, char **args, int *n, char *sep)`:
/// as `lcmaps_tokenize`.
#[no_mangle]
pub unsafe extern "C" fn lcas_tokenize(
    command: *const c_char,
    args: *mut *mut c_char,
    n: *mut c_int,
    sep: *const c_char,
) -> c_int {
    // SAFETY: the same contract as lcmaps_tokenize.
    unsafe { crate::callbacks::lcmaps_tokenize(command, args, n, sep) }
}
