//! The C ABI of lcmaps-rs: every `extern "C"` item, and the only `unsafe`
//! code of the engine.
//!
//! * [`callbacks`]: the plugin helper API C `.mod`s import
//!   (`addCredentialData`, `lcmaps_getArgValue`, VO data helpers, ...);
//! * [`log`]: the Rust half of `lcmaps_log` & co. (the variadic halves are in
//!   `csrc/lcmaps_varargs.c`) and the logger of the C caller API;
//! * [`host`]: the loader that `dlopen`s C `.mod` plugins;
//! * [`api`]: the caller API of `liblcmaps.so.0` and its helper libraries.
//!
//! Safety contract of every exported function: each pointer argument is
//! either NULL (checked; the documented error code is returned) or valid for
//! the access the LCMAPS headers describe. Every body runs inside
//! [`ffi_boundary!`], so a Rust panic becomes an error code and a log line
//! (and writes nothing on the host's stderr: see `boundary.rs`).

#![allow(clippy::missing_safety_doc, non_snake_case, non_camel_case_types)]

pub mod api;
mod boundary;
pub mod callbacks;
pub mod gss;
pub mod host;
pub mod lcas;
pub mod log;
mod mirror;
mod runvars;

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use lcmaps_core::cred::Store;

type LogHook = unsafe extern "C" fn(c_int, c_int, *const c_char) -> c_int;
type VerifyHook = unsafe extern "C" fn(c_int, *mut c_char, *const lcmaps_account_info_t) -> c_int;
type FexistHook = unsafe extern "C" fn(c_int, *const *mut c_char) -> *mut c_char;

extern "C" {
    // In csrc/lcmaps_varargs.c: how the variadic C functions reach Rust.
    static mut lcmaps_rs_log_hook: Option<LogHook>;
    static mut lcmaps_rs_verify_hook: Option<VerifyHook>;
    static mut lcas_rs_getfexist_hook: Option<FexistHook>;
}

/// Point the C shim at its Rust halves. Runs at load time (`.init_array`)
/// and again wherever the ABI is entered from Rust, in case a host binary's
/// linker dropped the constructor.
pub(crate) extern "C" fn install_hooks() {
    // SAFETY: plain stores of function pointers into the shim's
    // globals; every writer stores the same values.
    unsafe {
        lcmaps_rs_log_hook = Some(log::lcmaps_rs_log_message);
        lcmaps_rs_verify_hook = Some(api::lcmaps_rs_verify_account_from_pem);
        lcas_rs_getfexist_hook = Some(lcas::lcas_rs_getfexist);
    }
}

#[used]
#[link_section = ".init_array"]
static INSTALL_HOOKS: extern "C" fn() = install_hooks;

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

/// Runs `$body` (a block) with panics caught: a panic is logged (message,
/// location and the function name; nothing on stderr, see `boundary.rs`) and
/// `$default` returned instead.
macro_rules! ffi_boundary {
    ($name:expr, $default:expr, $body:block) => {{
        match $crate::boundary::catch($name, || $body) {
            Some(v) => v,
            None => $default,
        }
    }};
}
pub(crate) use ffi_boundary;

/// Borrow a C string; NULL and invalid UTF-8 give `None`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string living for `'a`.
pub(crate) unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Borrow a C string lossily (for strings that need not be UTF-8).
///
/// # Safety
/// As [`cstr`].
pub(crate) unsafe fn cstring_lossy(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// `strdup` into `malloc`ed memory the C side frees with `free`.
pub(crate) fn malloc_str(s: &str) -> *mut c_char {
    let bytes = s.as_bytes();
    let n = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    // SAFETY: malloc of n+1 bytes; NULL is checked before the write.
    let p = unsafe { libc::malloc(n + 1) }.cast::<c_char>();
    if !p.is_null() {
        // SAFETY: p has room for n+1 bytes; the source has n readable bytes.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), p, n);
            *p.add(n) = 0;
        }
    }
    p
}

/// Copy a slice into `malloc`ed memory (NULL for an empty slice or on
/// allocation failure).
pub(crate) fn malloc_slice<T: Copy>(v: &[T]) -> *mut T {
    if v.is_empty() {
        return ptr::null_mut();
    }
    let size = std::mem::size_of_val(v);
    // SAFETY: malloc of the slice's size; NULL is checked before the copy.
    let p = unsafe { libc::malloc(size) }.cast::<T>();
    if !p.is_null() {
        // SAFETY: p has room for v.len() elements of T (malloc aligns for any type).
        unsafe { ptr::copy_nonoverlapping(v.as_ptr(), p, v.len()) };
    }
    p
}

thread_local! {
    /// The store of the plugin call running on this thread, if any.
    static CURRENT_STORE: Cell<*mut Store> = const { Cell::new(ptr::null_mut()) };
}

/// Sets the thread's current store for the life of the guard.
pub(crate) struct StoreGuard {
    previous: *mut Store,
}

impl StoreGuard {
    /// Make `store` the store C callbacks on this thread act on.
    pub(crate) fn enter(store: &mut Store) -> StoreGuard {
        let previous = CURRENT_STORE.with(|c| c.replace(store as *mut Store));
        StoreGuard { previous }
    }
}

impl Drop for StoreGuard {
    fn drop(&mut self) {
        CURRENT_STORE.with(|c| c.set(self.previous));
    }
}

/// Run `f` on the store callbacks act on: the running plugin's (on this
/// thread), else the process-wide store of the C caller API (the result of
/// the last `lcmaps_run*`). The mirror passed along holds the C copies.
pub(crate) fn with_store<R>(f: impl FnOnce(&mut Store, &mut mirror::Mirror) -> R) -> R {
    let cur = CURRENT_STORE.with(Cell::get);
    if !cur.is_null() {
        // SAFETY: CURRENT_STORE is only non-NULL while a StoreGuard created
        // from a live `&mut Store` exists on this thread, and that borrow is
        // not used by anyone else during the plugin call.
        let store = unsafe { &mut *cur };
        return mirror::with_thread_mirror(|m| f(store, m));
    }
    let mut amb = api::ambient();
    let amb = &mut *amb;
    f(&mut amb.store, &mut amb.mirror)
}

/// Serializes the unit tests that use the process-wide C API state.
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    fn boundary(panic: bool) -> c_int {
        ffi_boundary!("test_fn", 7, {
            if panic {
                panic!("boom");
            }
            0
        })
    }

    #[test]
    fn panics_become_the_documented_error_value() {
        assert_eq!(boundary(false), 0);
        assert_eq!(boundary(true), 7);
    }

    #[test]
    fn callbacks_outside_a_plugin_act_on_the_ambient_store() {
        let _serial = TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let mut n: c_int = -1;
        let mut dn = c"/CN=ambient".as_ptr().cast_mut();
        // SAFETY: valid pointers to locals.
        unsafe {
            assert_eq!(
                callbacks::addCredentialData(
                    lcmaps_core::cred::DN,
                    (&mut dn as *mut *mut c_char).cast()
                ),
                0
            );
            let p =
                callbacks::getCredentialData(lcmaps_core::cred::DN, &mut n).cast::<*mut c_char>();
            assert_eq!(n, 1);
            assert_eq!(CStr::from_ptr(*p).to_str().unwrap(), "/CN=ambient");
        }
        assert_eq!(callbacks::lcmaps_resetCredentialData(), 0);
        // SAFETY: as above.
        unsafe {
            let p =
                callbacks::getCredentialData(lcmaps_core::cred::DN, &mut n).cast::<*mut c_char>();
            assert_eq!(n, 0);
            assert!((*p).is_null());
        }
    }
}
