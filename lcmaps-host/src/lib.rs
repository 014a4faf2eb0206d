//! The host side of the LCMAPS plugin ABI, for every program that loads C
//! `.mod` plugins: the `lcmaps` and `glexec` binaries and `liblcmaps_rs.so`
//! (lcmaps-capi, which adds the caller APIs on top).
//!
//! * [`host`]: [`CModLoader`], the loader that `dlopen`s C LCMAPS `.mod`s
//!   and runs them as engine plugins; [`module_file`]: the file checks and
//!   `dlopen` the LCMAPS and LCAS hosts share;
//! * [`callbacks`]: the plugin helper API C `.mod`s import
//!   (`addCredentialData`, `lcmaps_getArgValue`, VO data helpers, ...);
//!   [`lcas_callbacks`]: the helpers C LCAS plugins import;
//! * [`log`]: the Rust half of `lcmaps_log` & co. (the variadic halves are
//!   in `csrc/lcmaps_varargs.c`) and the logger of the C caller API;
//! * [`boundary`]: `ffi_boundary!`, the panic/NULL boundary every exported
//!   function runs in.
//!
//! A binary linking this crate must export its symbols dynamically
//! (`-rdynamic`) for the plugins it opens to find them.
//!
//! Safety contract of every exported function: each pointer argument is
//! either NULL (checked; the documented error code is returned) or valid for
//! the access the LCMAPS headers describe. Every body runs inside
//! `ffi_boundary!`, so a Rust panic becomes an error code and a log line
//! (and writes nothing on the host's stderr).

#![allow(clippy::missing_safety_doc, non_snake_case, non_camel_case_types)]

pub mod accounts;
pub mod boundary;
pub mod callbacks;
#[doc(hidden)]
pub mod cstr;
pub mod host;
pub mod lcas_callbacks;
pub mod log;
#[doc(hidden)]
pub mod mirror;
pub mod module_file;
mod runvars;
#[doc(hidden)]
pub mod store;

pub use host::{default_loader, CModLoader};

/// The C structs, defined once in `lcmaps-sys`.
pub use lcmaps_sys::{
    lcas_cred_id_t, lcmaps_account_info_t, lcmaps_argument_t, lcmaps_vo_data_t, lcmaps_vo_mapping_t,
};

/// Point the C shim's variadic functions at their Rust halves. Runs at load
/// time (`.init_array`) and again from [`module_file::keep_plugin_symbols`]
/// and lcmaps-capi's exports, in case a host binary's linker dropped the
/// constructor.
pub extern "C" fn install_hooks() {
    log::install_hook();
    lcas_callbacks::install_getfexist_hook();
}

#[used]
#[link_section = ".init_array"]
static INSTALL_HOOKS: extern "C" fn() = install_hooks;

/// Serializes the unit tests that use the process-wide C API state.
#[doc(hidden)]
pub static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
