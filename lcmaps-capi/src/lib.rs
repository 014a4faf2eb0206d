//! `liblcmaps_rs.so`: the caller APIs of LCMAPS 1.6 (and its four helper
//! libraries) and LCAS 1.3, on top of lcmaps-host (the loader and the plugin
//! helper APIs C `.mod`s import, re-exported here).
//!
//! * [`api`]: the LCMAPS caller API, one module per family of C calls;
//! * [`lcas`]: the LCAS caller API and the host for C LCAS plugins;
//! * [`gss`]: Globus GSS credentials to a DN and a PEM chain;
//! * [`exports`]: the table of every exported symbol (lcmaps-sys's list).
//!
//! Safety contract of every exported function: each pointer argument is
//! either NULL (checked; the documented error code is returned) or valid for
//! the access the LCMAPS headers describe. Every body runs inside
//! `ffi_boundary!` (lcmaps-host's `boundary.rs`), so a Rust panic becomes an
//! error code and a log line (and writes nothing on the host's stderr).

#![allow(clippy::missing_safety_doc, non_snake_case, non_camel_case_types)]

pub mod api;
pub mod exports;
pub mod gss;
pub mod lcas;

/// The host side (loader, plugin helper APIs, logging, the panic
/// boundary) is lcmaps-host's; its modules are re-exported under their old
/// names so `lcmaps_capi::callbacks::…` keeps working for C-ABI tests.
pub use lcmaps_host::{
    boundary, callbacks, cstr, default_loader, host, lcas_callbacks, log, module_file, store,
    CModLoader,
};

/// The C structs, defined once in `lcmaps-sys`.
pub use lcmaps_sys::{
    lcas_cred_id_t, lcmaps_account_info_t, lcmaps_argument_t, lcmaps_vo_data_t, lcmaps_vo_mapping_t,
};

/// Serializes the unit tests that use the process-wide C API state.
#[cfg(test)]
pub(crate) use lcmaps_host::TEST_LOCK;
