//! The process-wide state of the caller API: the engine `lcmaps_init`
//! builds, the lock every call takes (refusing re-entry from a plugin),
//! SIGPIPE while initialized, and the run every `lcmaps_run*` call makes.

use std::cell::Cell;
use std::ffi::{c_char, c_int};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};

use lcmaps_core::db;
use lcmaps_core::diag::Diagnostic;
use lcmaps_core::env::Settings;
use lcmaps_core::plugin::Request;
use lcmaps_core::policy::{Engine, Mode, RunOptions};

use crate::cstr::cstring_lossy;
use crate::log as clog;
use crate::store::ambient;

#[derive(Debug, Default)]
struct Api {
    initialized: bool,
    engine: Option<Engine>,
}

static API: Mutex<Api> = Mutex::new(Api {
    initialized: false,
    engine: None,
});

thread_local! {
    static IN_API: Cell<bool> = const { Cell::new(false) };
}

/// Lock the API; `None` on a re-entrant call (a plugin calling back into
/// `lcmaps_init`/`lcmaps_run*`), which would deadlock.
fn api(name: &str) -> Option<ApiGuard> {
    if IN_API.with(Cell::get) {
        log::error!("{name}(): called from inside LCMAPS (from a plugin): refused");
        return None;
    }
    let g = API.lock().unwrap_or_else(|p| p.into_inner());
    IN_API.with(|c| c.set(true));
    Some(ApiGuard(g))
}

struct ApiGuard(MutexGuard<'static, Api>);

impl Drop for ApiGuard {
    fn drop(&mut self) {
        IN_API.with(|c| c.set(false));
    }
}

impl std::ops::Deref for ApiGuard {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.0
    }
}

impl std::ops::DerefMut for ApiGuard {
    fn deref_mut(&mut self) -> &mut Api {
        &mut self.0
    }
}

// ---------------------------------------------------------------- SIGPIPE

/// SIGPIPEs caught while LCMAPS was initialized, not yet logged.
static SIGPIPES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// The SIGPIPE disposition before `lcmaps_init`, restored at `lcmaps_term`.
static OLD_SIGPIPE: Mutex<Option<libc::sigaction>> = Mutex::new(None);

extern "C" fn on_sigpipe(_: c_int) {
    // Async-signal-safe: only count; the count is logged by the next call.
    SIGPIPES.fetch_add(1, Ordering::Relaxed);
}

/// As LCMAPS's plugin manager: while initialized, SIGPIPE does not kill the
/// process but is logged ("Caught signal SIGPIPE").
fn catch_sigpipe() {
    // SAFETY: sigaction with a zeroed struct, a valid handler and an
    // out-parameter for the old disposition.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = on_sigpipe as extern "C" fn(c_int) as usize;
        libc::sigemptyset(&mut new.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, &new, &mut old) == 0 {
            *OLD_SIGPIPE.lock().unwrap_or_else(|p| p.into_inner()) = Some(old);
        }
    }
}

fn restore_sigpipe() {
    report_sigpipes();
    if let Some(old) = OLD_SIGPIPE.lock().unwrap_or_else(|p| p.into_inner()).take() {
        // SAFETY: restores the disposition saved by catch_sigpipe.
        unsafe { libc::sigaction(libc::SIGPIPE, &old, ptr::null_mut()) };
    }
}

pub(super) fn report_sigpipes() {
    let n = SIGPIPES.swap(0, Ordering::Relaxed);
    if n > 0 {
        lcmaps_core::log::notice(&format!("Caught signal SIGPIPE ({n} times)"));
    }
}

// ---------------------------------------------------------------- init

pub(super) fn init(
    logfile: Option<PathBuf>,
    fp: *mut libc::FILE,
    logtype: std::ffi::c_ushort,
) -> c_int {
    let Some(mut api) = api("lcmaps_init") else {
        return 1;
    };
    if api.initialized {
        log::debug!("LCMAPS already initialized");
        return 0;
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            clog::install();
            log::error!("lcmaps_init() error: {e}");
            return 1;
        }
    };
    clog::open(logfile, fp, logtype, &settings);
    log::debug!(
        "Initialization LCMAPS version 1.6.6 (lcmaps-rs {})",
        env!("CARGO_PKG_VERSION")
    );
    let opts = lcmaps_builtins::validate_options(settings.modules_dir.clone());
    let checked = db::check_file(&settings.db_file, &opts);
    checked.diagnostics.iter().for_each(Diagnostic::log);
    let Some(config) = checked.config else {
        log::error!(
            "lcmaps_init() error: could not start plugin manager: {} is not a usable lcmaps.db",
            settings.db_file.display()
        );
        clog::close();
        return 1;
    };
    match Engine::new(config, &crate::host::default_loader()) {
        Ok(e) => {
            api.engine = Some(e);
            api.initialized = true;
            catch_sigpipe();
            0
        }
        Err(e) => {
            log::error!("lcmaps_init() error: could not start plugin manager: {e}");
            clog::close();
            1
        }
    }
}

/// Terminate the plugins, clear the ambient store, close the log: the work
/// of `lcmaps_term`. 0 ok, 1 failure.
pub(super) fn terminate() -> c_int {
    let Some(mut api) = api("lcmaps_term") else {
        return 1;
    };
    log::debug!("Termination LCMAPS");
    if let Some(mut e) = api.engine.take() {
        e.terminate();
    }
    if api.initialized {
        restore_sigpipe();
    }
    api.initialized = false;
    let mut amb = ambient();
    amb.store.clear();
    amb.mirror.clear();
    drop(amb);
    clog::close();
    0
}

// ---------------------------------------------------------------- runs

/// The policy names of a run call.
///
/// # Safety
/// `names` is NULL or has `npols` entries, each NULL or a C string.
pub(super) unsafe fn policies(npols: c_int, names: *mut *mut c_char) -> Vec<String> {
    if names.is_null() {
        return Vec::new();
    }
    (0..usize::try_from(npols).unwrap_or(0))
        // SAFETY: i < npols entries.
        .filter_map(|i| unsafe { cstring_lossy(*names.add(i)) })
        .collect()
}

/// Run the engine for a C caller; the result becomes the ambient store.
pub(super) fn run(name: &str, request: &Request, mode: Mode, pols: Vec<String>) -> bool {
    let Some(mut api) = api(name) else {
        return false;
    };
    let initialized = api.initialized;
    let Some(engine) = api.engine.as_mut().filter(|_| initialized) else {
        clog::install(); // not initialized: LCMAPS logs to syslog
        log::error!("LCMAPS has to be initialized first !");
        return false;
    };
    report_sigpipes();
    log::debug!("LCMAPS credential mapping request");
    log::debug!("Using \"{name}\" interface of LCMAPS");
    {
        let mut amb = ambient();
        amb.store.clear();
        amb.mirror.clear();
    }
    let opts = RunOptions {
        policies: pols,
        dry_run: false,
        ..RunOptions::default()
    };
    let out = engine.run(request, mode, &opts);
    if let Some(e) = &out.error {
        log::error!("{name}(): {e}");
    }
    let ok = out.status.is_success();
    ambient().store = out.store;
    if !ok {
        log::error!("{name}(): failed");
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{lcmaps_run_with_fqans_and_return_account, lcmaps_term};
    use lcmaps_core::db::{check_str, PluginDecl, ValidateOptions};
    use lcmaps_core::plugin::{Plugin, PluginError, RunContext, Status};
    use lcmaps_core::policy::PluginLoader;

    #[derive(Debug)]
    struct Panicky;

    impl Plugin for Panicky {
        fn initialize(&mut self, _: &[String]) -> Result<(), PluginError> {
            Ok(())
        }
        fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
            if ctx.request.user_dn.as_deref() == Some("/CN=panic") {
                panic!("a Rust plugin panics");
            }
            ctx.store.add(lcmaps_core::cred::CredData::Uid(501));
            ctx.store.add(lcmaps_core::cred::CredData::PriGid(500));
            Status::Success
        }
    }

    struct PanickyLoader;

    impl PluginLoader for PanickyLoader {
        fn load(&self, _: &PluginDecl) -> Result<Box<dyn Plugin>, String> {
            Ok(Box::new(Panicky))
        }
    }

    fn map(dn: &std::ffi::CStr) -> (c_int, libc::uid_t) {
        let (mut uid, mut pg, mut np) = (libc::uid_t::MAX, ptr::null_mut(), 0);
        // SAFETY: valid C string and out-pointers to locals; optional ones NULL.
        let rc = unsafe {
            lcmaps_run_with_fqans_and_return_account(
                dn.as_ptr().cast_mut(),
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                &mut uid,
                &mut pg,
                &mut np,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        (rc, uid)
    }

    /// Touches the process-wide C API state (serialized by TEST_LOCK).
    #[test]
    fn a_panicking_rust_plugin_fails_the_c_call_and_the_api_stays_usable() {
        let _serial = crate::TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let c = check_str(
            "t.db",
            "p = \"lcmaps_panicky.mod\"\nstd:\n~p -> lcmaps_dummy_bad.mod\n",
            &ValidateOptions {
                builtins: vec!["lcmaps_panicky.mod".into(), "lcmaps_dummy_bad.mod".into()],
                ..ValidateOptions::default()
            },
        );
        assert!(!c.has_errors(), "{:#?}", c.diagnostics);
        let engine = Engine::new(c.config.unwrap(), &PanickyLoader).unwrap();
        {
            let mut api = API.lock().unwrap_or_else(|p| p.into_inner());
            api.engine = Some(engine);
            api.initialized = true;
        }
        assert_eq!(map(c"/CN=fine"), (0, 501));
        assert_eq!(
            map(c"/CN=panic").0,
            1,
            "the panic became LCMAPS's failure code"
        );
        assert_eq!(map(c"/CN=fine"), (0, 501), "still usable after the panic");
        assert_eq!(lcmaps_term(), 0);
        assert_eq!(map(c"/CN=fine").0, 1, "run after term fails");
    }
}
