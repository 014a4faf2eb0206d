//! The C boundary: a panic inside an exported function becomes its error
//! code and one line in the LCMAPS log, and never reaches the host's stderr.
//!
//! std's default panic hook writes `thread '…' panicked at …` to stderr
//! (the gatekeeper's), plus a backtrace when `RUST_BACKTRACE` is set in the
//! host's environment, before `catch_unwind` gets the panic. [`catch`]
//! installs, once, at the first entry into the library, a hook that logs a
//! panic raised on a thread that is inside an entry point (message and
//! location, one error line through `log`, no backtrace) and hands every
//! other panic to the hook that was there before.
//!
//! Chained, not replaced: in `liblcmaps_rs.so` (a cdylib) std is the
//! library's own copy, so the hook only ever sees the library's panics and a
//! Rust host's hook (in the host's std) is untouched either way. But this
//! crate is also an rlib linked into Rust programs (glexec, the lcmaps CLI,
//! test binaries) that share one std with it: there the program's own
//! panics keep going to the program's hook. A program that sets a hook
//! after us replaces ours, which is its call.
//!
//! What a panicking function returns is chosen by its return type
//! ([`DefaultOnPanic`]), as rustls-ffi does; a function whose documented
//! error is another value names it (`ffi_boundary!(NAME, on_panic = -1, {…})`)
//! and says why.

use std::any::Any;
use std::cell::Cell;
use std::ffi::c_int;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Once;

/// The value an exported function returns when its body panicked.
pub trait DefaultOnPanic {
    /// That value.
    fn default_on_panic() -> Self;
}

/// 1: the failure code of the LCMAPS and LCAS caller APIs ("0 success, 1
/// failure": lcmaps.h, lcmaps_return_*.h, lcas.h) and of `lcmaps_log`.
impl DefaultOnPanic for c_int {
    fn default_on_panic() -> Self {
        1
    }
}

/// NULL: what every pointer-returning call of the ABI returns on failure.
impl<T> DefaultOnPanic for *mut T {
    fn default_on_panic() -> Self {
        std::ptr::null_mut()
    }
}

/// NULL, as for `*mut T`.
impl<T> DefaultOnPanic for *const T {
    fn default_on_panic() -> Self {
        std::ptr::null()
    }
}

/// Nothing to return.
impl DefaultOnPanic for () {
    fn default_on_panic() -> Self {}
}

/// Runs `$body` (a block) with panics caught: a panic is logged (message,
/// location and the function name; nothing on stderr) and the return type's
/// [`DefaultOnPanic`] value returned instead, or `$default` where given.
#[macro_export]
macro_rules! ffi_boundary {
    ($name:expr, on_panic = $default:expr, $body:block) => {{
        match $crate::boundary::catch($name, || $body) {
            Some(v) => v,
            None => $default,
        }
    }};
    ($name:expr, $body:block) => {{
        match $crate::boundary::catch($name, || $body) {
            Some(v) => v,
            None => $crate::boundary::DefaultOnPanic::default_on_panic(),
        }
    }};
}

thread_local! {
    /// The innermost entry point this thread is in (`const`, no destructor:
    /// readable even while the thread's other thread-locals are destroyed).
    static INSIDE: Cell<Option<&'static str>> = const { Cell::new(None) };
    /// Whether the hook logged the panic the innermost [`catch`] caught.
    static REPORTED: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` as the body of the exported function `name`: `None` when it
/// panicked (the panic is logged).
pub fn catch<R>(name: &'static str, f: impl FnOnce() -> R) -> Option<R> {
    install();
    let outer = INSIDE.with(|c| c.replace(Some(name)));
    REPORTED.with(|r| r.set(false));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    INSIDE.with(|c| c.set(outer));
    match result {
        Ok(v) => Some(v),
        Err(payload) => {
            if !REPORTED.with(|r| r.replace(false)) {
                // Our hook was replaced (by a Rust program linking this
                // crate): still say what happened.
                log::error!(
                    "{name}(): internal error (a Rust panic was caught at the C boundary): {}",
                    one_line(message(&*payload))
                );
            }
            None
        }
    }
}

/// Install the hook (once per copy of std; not from a panicking thread,
/// where std refuses to change hooks).
fn install() {
    static ONCE: Once = Once::new();
    if ONCE.is_completed() || std::thread::panicking() {
        return;
    }
    // `_force`: a poisoned Once must not panic here, outside catch_unwind.
    ONCE.call_once_force(|_| chain_hook());
}

/// Put our hook in front of the current one.
fn chain_hook() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| match INSIDE.with(Cell::get) {
        Some(name) => {
            log_panic(name, info.payload(), info.location());
            REPORTED.with(|r| r.set(true));
        }
        None => previous(info),
    }));
}

/// The hook's work: one error line, no backtrace, nothing on stderr. It
/// must not panic (a panic in a hook aborts the host), so no indexing,
/// unwrapping or RefCell here.
fn log_panic(name: &str, payload: &(dyn Any + Send), location: Option<&Location<'_>>) {
    let msg = one_line(message(payload));
    match location {
        Some(l) => log::error!(
            "{name}(): internal error (a Rust panic was caught at the C boundary): panicked at \
             {}:{}:{}: {msg}",
            l.file(),
            l.line(),
            l.column()
        ),
        None => {
            log::error!(
                "{name}(): internal error (a Rust panic was caught at the C boundary): {msg}"
            )
        }
    }
}

/// The text of a panic payload (`panic!` makes a `&str` or a `String`).
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic payload that is not a string)")
}

/// `s` on one log line: control characters (newlines first) escaped.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn boundary(panic: bool) -> c_int {
        ffi_boundary!("test_fn", {
            if panic {
                panic!("boom");
            }
            0
        })
    }

    fn boundary_with_own_error(panic: bool) -> c_int {
        ffi_boundary!("test_fn", on_panic = -1, {
            if panic {
                panic!("boom");
            }
            0
        })
    }

    fn boundary_ptr() -> *mut u8 {
        ffi_boundary!("test_fn", { panic!("boom") })
    }

    #[test]
    fn panics_become_the_error_value_of_the_type_or_the_one_given() {
        assert_eq!(boundary(false), 0);
        assert_eq!(boundary(true), 1);
        assert_eq!(boundary_with_own_error(false), 0);
        assert_eq!(boundary_with_own_error(true), -1);
        assert!(boundary_ptr().is_null());
    }

    #[test]
    fn control_characters_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\tc\u{1b}[0m"), "a\\nb\\r\\tc\\u{1b}[0m");
        assert_eq!(message(&"x"), "x");
        assert_eq!(message(&String::from("y")), "y");
        assert_eq!(message(&5u8), "(a panic payload that is not a string)");
    }

    /// Panics inside an entry point are ours; every other panic still
    /// reaches the hook the program had before.
    #[test]
    fn the_hook_takes_panics_inside_entry_points_and_chains_the_rest() {
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        // Installs our hook.
        assert_eq!(catch("test_fn", || 1), Some(1));
        // A program's hook (recording, then whatever was there), with ours
        // chained in front of it as `install` does.
        let before = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            SEEN.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(message(info.payload()).to_string());
            before(info);
        }));
        chain_hook();
        assert_eq!(catch("test_fn", || -> i32 { panic!("inside") }), None);
        let outside = std::thread::spawn(|| panic!("outside")).join();
        assert!(outside.is_err());
        let seen = SEEN.lock().unwrap().clone();
        assert!(seen.iter().any(|m| m == "outside"), "{seen:?}");
        assert!(!seen.iter().any(|m| m == "inside"), "{seen:?}");
    }
}
