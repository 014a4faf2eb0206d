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

pub use host::{default_loader, CModLoader};

/// The C structs, defined once in `lcmaps-sys`.
pub use lcmaps_sys::{
    lcas_cred_id_t, lcmaps_account_info_t, lcmaps_argument_t, lcmaps_vo_data_t, lcmaps_vo_mapping_t,
};

/// Serializes the unit tests that use the process-wide C API state.
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
