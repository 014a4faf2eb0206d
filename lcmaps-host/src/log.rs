//! Logging for C: the Rust end of `lcmaps_log*` (formatted by
//! `csrc/lcmaps_varargs.c`) and the logger behind `lcmaps_init*`.

use std::cell::Cell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use crate::ffi_boundary;
use lcmaps_core::log::{Logger, Priority, Sink, NOTICE_TARGET};

/// `lcmaps_log.h`'s log destinations.
pub use lcmaps_sys::{DO_SYSLOG, DO_USRLOG};

/// Where the C API logs.
#[derive(Debug)]
enum Target {
    /// A stream the caller owns (never closed by us).
    Stream(*mut libc::FILE),
    /// A file we opened (closed at `lcmaps_term`).
    File(std::fs::File),
}

#[derive(Debug)]
struct Config {
    target: Option<Target>,
    syslog: bool,
    formatter: Logger,
}

// SAFETY: the FILE pointer is only used under the CONFIG mutex, and C
// stdio streams are themselves thread-safe.
unsafe impl Send for Config {}

static CONFIG: Mutex<Option<Config>> = Mutex::new(None);
/// Most verbose priority logged (as a number, 3-7).
static MAX: AtomicU8 = AtomicU8::new(Priority::Info as u8);
/// True when our logger is the process's `log` logger.
static OURS: OnceLock<bool> = OnceLock::new();
static OLD_PLUGIN_WARNED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// True while this thread is inside [`CLogger::log`] (holding CONFIG).
    static LOGGING: Cell<bool> = const { Cell::new(false) };
}

/// Clears [`LOGGING`] when the record is written (or its writing unwinds).
struct Logging;

impl Drop for Logging {
    fn drop(&mut self) {
        LOGGING.with(|b| b.set(false));
    }
}

#[derive(Debug)]
struct CLogger;

impl log::Log for CLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        Priority::of(m.level(), m.target()) as u8 <= MAX.load(Ordering::Relaxed)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let prio = Priority::of(record.level(), record.target());
        let msg = record.args().to_string();
        if LOGGING.with(|b| b.replace(true)) {
            // A record while this thread already writes one: the panic hook
            // for a panic inside the logger, or a host's stream calling back
            // into LCMAPS. CONFIG is ours already; waiting for it would
            // deadlock.
            syslog(prio, None, &msg);
            return;
        }
        let _logging = Logging;
        let mut cfg = CONFIG.lock().unwrap_or_else(|p| p.into_inner());
        let Some(cfg) = cfg.as_mut() else {
            // Not initialized: LCMAPS logs to syslog then.
            syslog(prio, None, &msg);
            return;
        };
        if let Some(t) = &mut cfg.target {
            let line = cfg.formatter.format(prio, &msg, SystemTime::now());
            match t {
                Target::Stream(fp) => {
                    if let Ok(c) = CString::new(line.replace('\0', "")) {
                        // SAFETY: fp is the caller's open stream (lcmaps_init
                        // contract: valid until lcmaps_term).
                        unsafe {
                            libc::fputs(c.as_ptr(), *fp);
                            libc::fflush(*fp);
                        }
                    }
                }
                Target::File(f) => {
                    let _ = f.write_all(line.as_bytes()).and_then(|_| f.flush());
                }
            }
        }
        if cfg.syslog {
            syslog(
                prio,
                std::env::var("LCMAPS_LOG_STRING").ok().as_deref(),
                &msg,
            );
        }
    }

    fn flush(&self) {}
}

fn syslog(prio: Priority, log_string: Option<&str>, msg: &str) {
    let text = match log_string {
        Some(s) => format!("lcmaps: {s}: {}", lcmaps_core::log::sanitize(msg)),
        None => format!("lcmaps: {}", lcmaps_core::log::sanitize(msg)),
    };
    if let Ok(c) = CString::new(text.trim_end_matches('\n').replace('\0', "")) {
        // SAFETY: a constant "%s" format with one valid C string argument.
        unsafe { libc::syslog(prio as c_int, c"%s".as_ptr(), c.as_ptr()) };
    }
}

/// Install our logger as the `log` logger unless the host has one.
pub fn install() -> bool {
    install_hook();
    *OURS.get_or_init(|| {
        let ok = log::set_boxed_logger(Box::new(CLogger)).is_ok();
        if ok {
            log::set_max_level(log::LevelFilter::Debug);
        }
        ok
    })
}

/// Open the C API log as `lcmaps_log_open` does. `fp` wins over `path`,
/// which wins over `LCMAPS_LOG_FILE`; no file means syslog.
pub fn open(
    path: Option<PathBuf>,
    fp: *mut libc::FILE,
    logtype: u16,
    settings: &lcmaps_core::env::Settings,
) {
    install();
    let max = Priority::from_debug_level(settings.debug_level);
    MAX.store(max as u8, Ordering::Relaxed);
    if OURS.get().copied().unwrap_or(false) {
        // Let `log` skip formatting what would be dropped anyway.
        log::set_max_level(max.level_filter());
    }
    let mut cfg = CONFIG.lock().unwrap_or_else(|p| p.into_inner());
    if cfg.as_ref().is_some_and(|c| c.target.is_some()) && logtype & DO_USRLOG != 0 {
        return; // a file is open already: no-op, as LCMAPS
    }
    let mut target = None;
    let mut syslog = logtype & DO_SYSLOG != 0;
    if logtype & DO_USRLOG != 0 {
        if !fp.is_null() {
            target = Some(Target::Stream(fp));
        } else if let Some(p) = path.or_else(|| settings.log_file.clone()) {
            match std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&p)
            {
                Ok(f) => target = Some(Target::File(f)),
                Err(_) => syslog = true,
            }
        } else {
            syslog = true;
        }
    }
    if target.is_none() {
        syslog = true;
    }
    *cfg = Some(Config {
        target,
        syslog,
        formatter: Logger::new(
            Sink::Stderr,
            Priority::Debug,
            settings.log_string.clone(),
            settings.log_ident.clone(),
        ),
    });
}

/// Close the C API log (`lcmaps_log_close`): files we opened are closed.
pub fn close() {
    *CONFIG.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// The priority LCMAPS would log `prty` at (0-2 clamp to LOG_ERR).
fn priority(prty: c_int) -> Priority {
    match prty {
        c_int::MIN..=3 => Priority::Err,
        4 => Priority::Warning,
        5 => Priority::Notice,
        6 => Priority::Info,
        _ => Priority::Debug,
    }
}

fn enabled(p: Priority) -> bool {
    if OURS.get().copied().unwrap_or(false) {
        p as u8 <= MAX.load(Ordering::Relaxed)
    } else {
        p.level_filter() <= log::max_level()
    }
}

/// Log one formatted message (the Rust end of `lcmaps_log`,
/// `lcmaps_log_debug`, ...). 0 when logged, 1 when dropped by the level.
pub unsafe extern "C" fn lcmaps_rs_log_message(
    prty: c_int,
    debug: c_int,
    msg: *const c_char,
) -> c_int {
    ffi_boundary!("lcmaps_log", {
        if msg.is_null() {
            return 1;
        }
        let p = if debug != 0 {
            Priority::Debug
        } else {
            priority(prty)
        };
        if (0..=2).contains(&prty) && !OLD_PLUGIN_WARNED.swap(true, Ordering::Relaxed) {
            log::warn!(
                "lcmaps_log() called with priority {prty}, more severe than LOG_ERR: \
                 detected an old plug-in based on its verbose output; logged as LOG_ERR"
            );
        }
        if !enabled(p) {
            return 1;
        }
        // SAFETY: non-NULL C string (formatted by the C shim).
        let msg = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
        let msg = msg.trim_end_matches('\n');
        match p {
            Priority::Err => log::error!(target: "lcmaps", "{msg}"),
            Priority::Warning => log::warn!(target: "lcmaps", "{msg}"),
            Priority::Notice => log::info!(target: NOTICE_TARGET, "{msg}"),
            Priority::Info => log::info!(target: "lcmaps", "{msg}"),
            Priority::Debug => log::debug!(target: "lcmaps", "{msg}"),
        }
        0
    })
}

type LogHook = unsafe extern "C" fn(c_int, c_int, *const c_char) -> c_int;

extern "C" {
    // In csrc/lcmaps_varargs.c: how its variadic loggers reach Rust.
    static mut lcmaps_rs_log_hook: Option<LogHook>;
}

/// Point the C shim's loggers at [`lcmaps_rs_log_message`].
pub fn install_hook() {
    // SAFETY: a plain store of a function pointer into the shim's global;
    // every writer stores the same value.
    unsafe { lcmaps_rs_log_hook = Some(lcmaps_rs_log_message) };
}

extern "C" {
    /// `int lcmaps_log(int prty, const char *fmt, ...)` (csrc).
    pub fn lcmaps_log(prty: c_int, fmt: *const c_char, ...) -> c_int;
    /// `int lcmaps_log_debug(int lvl, const char *fmt, ...)` (csrc).
    pub fn lcmaps_log_debug(lvl: c_int, fmt: *const c_char, ...) -> c_int;
    /// `int lcmaps_log_time(int prty, const char *fmt, ...)` (csrc).
    pub fn lcmaps_log_time(prty: c_int, fmt: *const c_char, ...) -> c_int;
    /// `int lcmaps_log_a_string(int prty, const char *fmt, const char *s)` (csrc).
    pub fn lcmaps_log_a_string(prty: c_int, fmt: *const c_char, s: *const c_char) -> c_int;
    /// `int lcmaps_log_a_string_debug(int lvl, const char *fmt, const char *s)` (csrc).
    pub fn lcmaps_log_a_string_debug(lvl: c_int, fmt: *const c_char, s: *const c_char) -> c_int;
    /// `int lcas_log(int prty, char *fmt, ...)` (csrc).
    pub fn lcas_log(prty: c_int, fmt: *mut c_char, ...) -> c_int;
    /// `int lcas_log_debug(int lvl, char *fmt, ...)` (csrc).
    pub fn lcas_log_debug(lvl: c_int, fmt: *mut c_char, ...) -> c_int;
    /// `int lcas_log_time(int prty, char *fmt, ...)` (csrc).
    pub fn lcas_log_time(prty: c_int, fmt: *mut c_char, ...) -> c_int;
    /// `int lcas_log_a_string(int prty, char *fmt, char *s)` (csrc).
    pub fn lcas_log_a_string(prty: c_int, fmt: *mut c_char, s: *mut c_char) -> c_int;
    /// `int lcas_log_a_string_debug(int lvl, char *fmt, char *s)` (csrc).
    pub fn lcas_log_a_string_debug(lvl: c_int, fmt: *mut c_char, s: *mut c_char) -> c_int;
    /// `char *lcas_getfexist(int n, ...)` (csrc).
    pub fn lcas_getfexist(n: c_int, ...) -> *mut c_char;
}
