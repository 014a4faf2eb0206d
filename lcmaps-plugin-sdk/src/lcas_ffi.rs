//! The C side of an exported LCAS plugin (see
//! [`export_lcas_plugin!`](crate::export_lcas_plugin)): LCAS 1.3's
//! `plugin_initialize(int, char **)`, `plugin_confirm_authorization(
//! lcas_request_t, lcas_cred_id_t)` (the credential by value) and
//! `plugin_terminate(void)`, on an [`AuthzPlugin`].
//!
//! `lcas_log` is imported from the host (Nikhef's liblcas.so.0 or
//! lcmaps-rs's library), as a C LCAS plugin imports it. Every pointer is
//! checked, every entry point catches panics (`LCAS_MOD_FAIL`).

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int};

use crate::ffi::{argv_strings, install_logger, log_line, string, HostLogger};
use std::sync::{Mutex, MutexGuard};

use lcmaps_core::lcas::{AuthzPlugin, AuthzRequest, Decision};

/// `LCAS_MOD_SUCCESS`, `LCAS_MOD_FAIL` (lcas_defines.h) and `lcas_cred_id_t`
/// as liblcas 1.3 passes it (by value).
pub use lcmaps_sys::{lcas_cred_id_t, LCAS_MOD_FAIL, LCAS_MOD_SUCCESS};

extern "C" {
    fn lcas_log(prty: c_int, fmt: *mut c_char, ...) -> c_int;
}

/// Log `msg` through the host's `lcas_log` at syslog priority `prio`.
pub fn host_log(prio: c_int, msg: &str) {
    let text = log_line(msg);
    // SAFETY: lcas_log(int, char *fmt, ...) with the constant format "%s"
    // (not written to) and one NUL-terminated string that outlives the call.
    unsafe {
        lcas_log(prio, c"%s".as_ptr().cast_mut(), text.as_ptr());
    }
}

static LOGGER: HostLogger = HostLogger(host_log);

/// The plugin behind a module's entry points.
pub struct LcasState(Mutex<Option<(Box<dyn AuthzPlugin>, String)>>);

impl std::fmt::Debug for LcasState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LcasState").finish_non_exhaustive()
    }
}

impl LcasState {
    /// Empty (before `plugin_initialize`).
    pub const fn new() -> Self {
        LcasState(Mutex::new(None))
    }

    fn lock(&self) -> MutexGuard<'_, Option<(Box<dyn AuthzPlugin>, String)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for LcasState {
    fn default() -> Self {
        Self::new()
    }
}

/// Run an entry point's body; a panic is logged (see `boundary.rs`: one
/// line, nothing on the host's stderr) and becomes `LCAS_MOD_FAIL`.
fn boundary(what: &'static str, f: impl FnOnce() -> c_int) -> c_int {
    match crate::boundary::catch(what, host_log, f) {
        Ok(rc) => rc,
        Err(None) => LCAS_MOD_FAIL,
        Err(Some(msg)) => {
            host_log(
                3,
                &format!("{what}: internal error (a Rust panic was caught): {msg}"),
            );
            LCAS_MOD_FAIL
        }
    }
}

/// `plugin_initialize`.
///
/// # Safety
/// `argv` is NULL or points to `argc` (NULL or NUL-terminated) strings.
pub unsafe fn initialize(
    state: &LcasState,
    new: fn() -> Box<dyn AuthzPlugin>,
    argc: c_int,
    argv: *mut *mut c_char,
) -> c_int {
    install_logger(&LOGGER);
    // SAFETY: forwarded contract.
    let args = unsafe { argv_strings(argc, argv) };
    let name = args
        .first()
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        .unwrap_or_else(|| "lcas_plugin".into());
    crate::boundary::set_module_name(&name);
    let mut guard = state.lock();
    boundary("plugin_initialize", move || {
        let mut plugin = new();
        match plugin.initialize(&args) {
            Ok(()) => {
                *guard = Some((plugin, name));
                LCAS_MOD_SUCCESS
            }
            Err(e) => {
                host_log(3, &format!("{name}-plugin_initialize(): {e}"));
                *guard = None;
                LCAS_MOD_FAIL
            }
        }
    })
}

/// `plugin_confirm_authorization`: `LCAS_MOD_SUCCESS` when the plugin
/// permits, else `LCAS_MOD_FAIL` (also before `plugin_initialize`).
///
/// # Safety
/// `request` and `cred.dn` are NULL or NUL-terminated.
pub unsafe fn confirm(state: &LcasState, request: *mut c_char, cred: lcas_cred_id_t) -> c_int {
    // SAFETY: by the contract.
    let (dn, request) = unsafe { (string(cred.dn), string(request)) };
    let mut guard = state.lock();
    boundary("plugin_confirm_authorization", move || {
        let Some((plugin, name)) = guard.as_mut() else {
            host_log(
                3,
                "plugin_confirm_authorization(): the plugin is not initialized",
            );
            return LCAS_MOD_FAIL;
        };
        let req = AuthzRequest {
            dn,
            request,
            pem: None,
        };
        match plugin.confirm(&req) {
            Decision::Permit => LCAS_MOD_SUCCESS,
            Decision::Deny(why) => {
                host_log(5, &format!("{name}-plugin_confirm_authorization(): {why}"));
                LCAS_MOD_FAIL
            }
        }
    })
}

/// `plugin_terminate`.
pub fn terminate(state: &LcasState) -> c_int {
    let mut guard = state.lock();
    let Some((mut plugin, name)) = guard.take() else {
        return LCAS_MOD_SUCCESS;
    };
    boundary("plugin_terminate", move || match plugin.terminate() {
        Ok(()) => LCAS_MOD_SUCCESS,
        Err(e) => {
            host_log(4, &format!("{name}-plugin_terminate(): {e}"));
            LCAS_MOD_FAIL
        }
    })
}
