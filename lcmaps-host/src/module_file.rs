//! Opening a plugin module file, shared by the LCMAPS host ([`crate::host`])
//! and the LCAS host (lcmaps-capi's `lcas`): the privilege checks on the file,
//! `dlopen`, and the host symbols a module imports kept exported.

use std::path::Path;

use libloading::os::unix::Library;

use crate::{callbacks as cb, lcas_callbacks as lc, log as clog};

pub use lcmaps_core::trust::privileged;

/// The symbols a C `.mod` (LCMAPS or LCAS) imports from its host: the
/// plugin helper APIs. Referencing them here keeps them in any binary that
/// opens a module (a Rust host linking the rlib must still export them
/// dynamically, e.g. with `-rdynamic`); lcmaps-capi's `exports` adds the caller
/// APIs for the full export list.
pub fn plugin_symbols() -> Vec<(&'static str, *const ())> {
    macro_rules! syms {
        ($($m:ident :: $f:ident),* $(,)?) => {
            vec![$((stringify!($f), $m::$f as *const ())),*]
        };
    }
    syms![
        cb::addCredentialData,
        cb::getCredentialData,
        cb::lcmaps_cleanCredentialData,
        cb::lcmaps_resetCredentialData,
        cb::lcmaps_printCredData,
        cb::lcmaps_cntArgs,
        cb::lcmaps_getArgValue,
        cb::lcmaps_setArgValue,
        cb::lcmaps_findArgName,
        cb::lcmaps_findArgNameAndType,
        cb::lcmaps_createVoData,
        cb::lcmaps_deleteVoData,
        cb::lcmaps_cleanVoData,
        cb::lcmaps_copyVoData,
        cb::lcmaps_printVoData,
        cb::lcmaps_stringVoData,
        cb::lcmaps_createVoMapping,
        cb::lcmaps_deleteVoMapping,
        cb::lcmaps_cleanVoMapping,
        cb::lcmaps_copyVoMapping,
        cb::lcmaps_printVoMapping,
        cb::lcmaps_genfilename,
        cb::lcmaps_get_gidlist,
        cb::lcmaps_tokenize,
        cb::lcmaps_get_major_version,
        cb::lcmaps_get_minor_version,
        cb::lcmaps_get_patch_version,
        clog::lcmaps_log,
        clog::lcmaps_log_debug,
        clog::lcmaps_log_time,
        clog::lcmaps_log_a_string,
        clog::lcmaps_log_a_string_debug,
        clog::lcas_log,
        clog::lcas_log_debug,
        clog::lcas_log_time,
        clog::lcas_log_a_string,
        clog::lcas_log_a_string_debug,
        clog::lcas_getfexist,
        lc::lcas_get_dn,
        lc::lcas_get_gss_cred,
        lc::lcas_get_debug_level,
        lc::lcas_genfilename,
        lc::lcas_findplugin,
        lc::lcas_findfile,
        lc::lcas_finddbfile,
        lc::lcas_tokenize,
    ]
}

/// Keep the plugin helper symbols linked into the calling binary and point
/// the C shim's variadic helpers (`lcmaps_log`, `lcas_getfexist`, ...) at
/// their Rust halves.
pub fn keep_plugin_symbols() {
    crate::install_hooks();
    std::hint::black_box(plugin_symbols());
}

/// The privilege check on a module file ([`lcmaps_core::trust::check`]):
/// in a privileged process the file, every directory above it and, for a
/// symbolic link, the link's directories and its target's must be
/// root-owned and not writable by group or others (a sticky directory may
/// be, above a root-owned entry). Does nothing when not privileged.
pub fn check_module_file(path: &Path) -> Result<(), String> {
    lcmaps_core::trust::check(path).map_err(|e| format!("refusing module {}: {e}", path.display()))
}

/// `dlopen` a plugin module (LCMAPS or LCAS) as the C hosts do: with our
/// callbacks kept exported, the file checks of [`check_module_file`] when
/// privileged, `RTLD_NOW | RTLD_LOCAL`.
pub fn open_module(path: &Path) -> Result<Library, String> {
    keep_plugin_symbols();
    check_module_file(path)?;
    // SAFETY: loading a shared object runs its constructors; the module is
    // the one the administrator configured and passed the checks above.
    unsafe { Library::open(Some(path), libc::RTLD_NOW | libc::RTLD_LOCAL) }
        .map_err(|e| format!("dlopen of {} failed: {e}", path.display()))
}
