//! The C boundary of a `.mod`: a panic inside an entry point becomes
//! `*_MOD_FAIL` and one line in the host's log (`lcmaps_log` or `lcas_log`),
//! and never reaches the host's stderr.
//!
//! std's default panic hook writes `thread '…' panicked at …` to stderr
//! (the gatekeeper's), plus a backtrace when `RUST_BACKTRACE` is set in the
//! host's environment, before `catch_unwind` gets the panic. [`catch`]
//! installs, once, at the first entry into the module, a hook that logs a
//! panic raised on a thread that is inside an entry point (message and
//! location, one error line, no backtrace) and hands every other panic to
//! the hook that was there before.
//!
//! Chained, not replaced: a `.mod` is a shared object with its own copy of
//! std, so the hook only ever sees the module's panics and a Rust host's
//! hook (in the host's std) is untouched either way; but should these entry
//! points ever be linked into a Rust program sharing one std, the program's
//! own panics keep going to the program's hook.

use std::any::Any;
use std::cell::Cell;
use std::ffi::c_int;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::{Once, OnceLock};

/// The entry point a thread is in, and the host logger to report to.
#[derive(Clone, Copy)]
struct Frame {
    what: &'static str,
    log: fn(c_int, &str),
}

thread_local! {
    /// The innermost entry point this thread is in (`const`, no destructor:
    /// readable even while the thread's other thread-locals are destroyed).
    static INSIDE: Cell<Option<Frame>> = const { Cell::new(None) };
    /// Whether the hook logged the panic the innermost [`catch`] caught.
    static REPORTED: Cell<bool> = const { Cell::new(false) };
}

/// The module's name in log lines (from `plugin_initialize`'s `argv[0]`).
static MODULE: OnceLock<String> = OnceLock::new();

/// Name the module for the panic lines (the first name given wins: one
/// `.mod`, one plugin).
pub(crate) fn set_module_name(name: &str) {
    let _ = MODULE.set(name.to_string());
}

/// Run `f` as the body of the entry point `what`, reporting a panic to
/// `log` (a host logger taking a syslog priority). `Err(None)`: it panicked
/// and the hook logged it; `Err(Some(message))`: it panicked and the caller
/// should log the message (our hook was replaced).
pub(crate) fn catch<R>(
    what: &'static str,
    log: fn(c_int, &str),
    f: impl FnOnce() -> R,
) -> Result<R, Option<String>> {
    install();
    let outer = INSIDE.with(|c| c.replace(Some(Frame { what, log })));
    REPORTED.with(|r| r.set(false));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    INSIDE.with(|c| c.set(outer));
    result.map_err(|payload| {
        if REPORTED.with(|r| r.replace(false)) {
            None
        } else {
            Some(one_line(message(&*payload)))
        }
    })
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
        Some(frame) => {
            log_panic(frame, info.payload(), info.location());
            REPORTED.with(|r| r.set(true));
        }
        None => previous(info),
    }));
}

/// The hook's work: one LOG_ERR line to the host, no backtrace, nothing on
/// stderr. It must not panic (a panic in a hook aborts the host), so no
/// indexing, unwrapping or RefCell here.
fn log_panic(frame: Frame, payload: &(dyn Any + Send), location: Option<&Location<'_>>) {
    let module = MODULE.get().map_or("plugin", String::as_str);
    let msg = one_line(message(payload));
    let at = location
        .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    (frame.log)(
        3,
        &format!(
            "{module}-{}(): the plugin panicked{at}: {msg}; failing",
            frame.what
        ),
    );
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

    static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record(_prio: c_int, msg: &str) {
        LOGGED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(msg.to_string());
    }

    #[test]
    fn control_characters_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(message(&5u8), "(a panic payload that is not a string)");
    }

    /// Panics inside an entry point go to the host logger as one line with
    /// their location; every other panic still reaches the hook the
    /// program had before.
    #[test]
    fn the_hook_logs_panics_inside_entry_points_and_chains_the_rest() {
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        // Installs our hook.
        assert_eq!(catch("plugin_run", record, || 1), Ok(1));
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
        let r = catch("plugin_run", record, || -> i32 {
            panic!("inside\nsecond line")
        });
        assert_eq!(r, Err(None), "the hook reported it");
        let logged = LOGGED.lock().unwrap().clone();
        let line = logged
            .iter()
            .find(|l| l.contains("inside"))
            .expect("logged");
        assert!(
            line.contains("-plugin_run(): the plugin panicked at ")
                && line.contains("boundary.rs:")
                && line.ends_with(": inside\\nsecond line; failing"),
            "{line}"
        );
        let outside = std::thread::spawn(|| panic!("outside")).join();
        assert!(outside.is_err());
        let seen = SEEN.lock().unwrap().clone();
        assert!(seen.iter().any(|m| m == "outside"), "{seen:?}");
        assert!(!seen.iter().any(|m| m.starts_with("inside")), "{seen:?}");
    }
}
