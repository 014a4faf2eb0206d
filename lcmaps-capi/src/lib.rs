//! The C ABI of lcmaps-rs: every `extern "C"` item, and the only `unsafe`
//! code of the engine.
//!
//! * [`api`]: the caller API of `liblcmaps.so.0` and its helper libraries,
//!   one module per family of C calls;
//! * [`callbacks`]: the plugin helper API C `.mod`s import
//!   (`addCredentialData`, `lcmaps_getArgValue`, VO data helpers, ...);
//! * [`lcas`]: the LCAS caller API and the host for C LCAS plugins;
//!   [`lcas_callbacks`]: the helpers C LCAS plugins import;
//! * [`log`]: the Rust half of `lcmaps_log` & co. (the variadic halves are in
//!   `csrc/lcmaps_varargs.c`) and the logger of the C caller API;
//! * [`host`]: the loader that `dlopen`s C `.mod` plugins; [`module_file`]:
//!   the file checks and `dlopen` both hosts share;
//! * [`exports`]: the table of every exported symbol.
//!
//! Safety contract of every exported function: each pointer argument is
//! either NULL (checked; the documented error code is returned) or valid for
//! the access the LCMAPS headers describe. Every body runs inside
//! `ffi_boundary!` (`boundary.rs`), so a Rust panic becomes an error code and
//! a log line (and writes nothing on the host's stderr).

#![allow(clippy::missing_safety_doc, non_snake_case, non_camel_case_types)]

pub mod api;
mod boundary;
pub mod callbacks;
mod cstr;
pub mod exports;
pub mod gss;
pub mod host;
pub mod lcas;
pub mod lcas_callbacks;
pub mod log;
mod mirror;
pub mod module_file;
mod runvars;
mod store;
use std::ffi::{c_char, c_int, c_void};

pub use host::{default_loader, CModLoader};

/// `lcmaps_argument_t` (lcmaps_arguments.h).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_argument_t {
    /// `argName`.
    pub argName: *const c_char,
    /// `argType`.
    pub argType: *const c_char,
    /// `argInOut` (0 input, 1 output; ignored).
    pub argInOut: c_int,
    /// `value`: a pointer to the framework's variable.
    pub value: *mut c_void,
}

/// `lcmaps_vo_data_t` (lcmaps_vo_data.h).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_vo_data_t {
    /// VO name.
    pub vo: *mut c_char,
    /// Group.
    pub group: *mut c_char,
    /// Subgroup.
    pub subgroup: *mut c_char,
    /// Role.
    pub role: *mut c_char,
    /// Capability.
    pub capability: *mut c_char,
}

/// `lcmaps_vo_mapping_t` (lcmaps_vo_data.h).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_vo_mapping_t {
    /// The FQAN.
    pub vostring: *mut c_char,
    /// Group name (may be NULL).
    pub groupname: *mut c_char,
    /// Group id.
    pub gid: libc::gid_t,
}

/// `lcmaps_account_info_t` (lcmaps_account.h).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_account_info_t {
    /// Uid (`(uid_t)-1` when unset).
    pub uid: libc::uid_t,
    /// Primary gids (malloc'ed).
    pub pgid_list: *mut libc::gid_t,
    /// Their number.
    pub npgid: c_int,
    /// Secondary gids (malloc'ed).
    pub sgid_list: *mut libc::gid_t,
    /// Their number.
    pub nsgid: c_int,
    /// Pool index (malloc'ed).
    pub poolindex: *mut c_char,
}

/// Serializes the unit tests that use the process-wide C API state.
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
