//! The caller API of `liblcmaps.so.0` (spec §3) and of the helper libraries
//! (§3.4), with LCMAPS's process-wide init/term.
//!
//! Implemented: init/term, the DN and DN+FQAN run calls, account info,
//! version and VOMS knobs, `globus_gss_assist_gridmap` and the
//! `*_without_gsi` helpers. The GSS calls map on the caller's DN, or on the
//! DN of the credential/context with Globus' GSSAPI loaded at run time
//! (see [`super::gss`]); they fail with a log line when it is missing. Not
//! yet (it logs why and fails): a `STACK_OF(X509)` input. The PEM calls use
//! `lcmaps-x509` for the DN and the verified VOMS FQANs.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_uint, c_void};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

use super::log::{self as clog, DO_USRLOG};
use super::mirror::Mirror;
use super::{cstring_lossy, ffi_boundary, lcmaps_account_info_t, malloc_slice, malloc_str};
use lcmaps_core::cred::Store;
use lcmaps_core::db;
use lcmaps_core::diag::Diagnostic;
use lcmaps_core::env::Settings;
use lcmaps_core::plugin::Request;
use lcmaps_core::policy::{Engine, Mode, RunOptions};

/// `LCMAPS_MAX_POLICIES` of the helper libraries.
const MAX_POLICIES: usize = 10;

#[derive(Debug, Default)]
struct Api {
    initialized: bool,
    engine: Option<Engine>,
}

static API: Mutex<Api> = Mutex::new(Api {
    initialized: false,
    engine: None,
});

/// The store of the C caller API (the last run's result) and its C copies.
#[derive(Debug, Default)]
pub(crate) struct Ambient {
    pub(crate) store: Store,
    pub(crate) mirror: Mirror,
}

// SAFETY: the raw pointers inside the mirror point into memory the mirror
// owns; they are only handed out, never dereferenced, and the whole value is
// behind a Mutex.
unsafe impl Send for Ambient {}

static AMBIENT: LazyLock<Mutex<Ambient>> = LazyLock::new(|| Mutex::new(Ambient::default()));

/// The process-wide store used by callbacks outside a plugin call.
pub(crate) fn ambient() -> MutexGuard<'static, Ambient> {
    AMBIENT.lock().unwrap_or_else(|p| p.into_inner())
}

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

fn report_sigpipes() {
    let n = SIGPIPES.swap(0, Ordering::Relaxed);
    if n > 0 {
        lcmaps_core::log::notice(&format!("Caught signal SIGPIPE ({n} times)"));
    }
}

// ---------------------------------------------------------------- init/term

fn init(logfile: Option<PathBuf>, fp: *mut libc::FILE, logtype: std::ffi::c_ushort) -> c_int {
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
    match Engine::new(config, &super::default_loader()) {
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

/// `int lcmaps_init(FILE *fp)`: log to `fp` if given, else to syslog; read
/// lcmaps.db and load its plugins. 0 ok (also when already initialized), 1
/// failure.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_init(fp: *mut libc::FILE) -> c_int {
    ffi_boundary!("lcmaps_init", 1, {
        init(
            None,
            fp,
            if fp.is_null() {
                clog::DO_SYSLOG
            } else {
                DO_USRLOG
            },
        )
    })
}

/// `int lcmaps_init_and_log(FILE *fp, unsigned short logtype)`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_init_and_log(
    fp: *mut libc::FILE,
    logtype: std::ffi::c_ushort,
) -> c_int {
    ffi_boundary!("lcmaps_init_and_log", 1, { init(None, fp, logtype) })
}

/// `int lcmaps_init_and_logfile(char *logfile, FILE *fp, unsigned short logtype)`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_init_and_logfile(
    logfile: *mut c_char,
    fp: *mut libc::FILE,
    logtype: std::ffi::c_ushort,
) -> c_int {
    ffi_boundary!("lcmaps_init_and_logfile", 1, {
        // SAFETY: NULL or a C string.
        let path = unsafe { cstring_lossy(logfile) }.map(PathBuf::from);
        init(path, fp, logtype)
    })
}

/// `int lcmaps_term(void)`: terminate the plugins, clear the store, close
/// the log. 0 ok, 1 failure.
#[no_mangle]
pub extern "C" fn lcmaps_term() -> c_int {
    ffi_boundary!("lcmaps_term", 1, {
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
    })
}

// ---------------------------------------------------------------- runs

/// The policy names of a run call.
///
/// # Safety
/// `names` is NULL or has `npols` entries, each NULL or a C string.
unsafe fn policies(npols: c_int, names: *mut *mut c_char) -> Vec<String> {
    if names.is_null() {
        return Vec::new();
    }
    (0..usize::try_from(npols).unwrap_or(0))
        // SAFETY: i < npols entries.
        .filter_map(|i| unsafe { cstring_lossy(*names.add(i)) })
        .collect()
}

/// Run the engine for a C caller; the result becomes the ambient store.
fn run(name: &str, request: &Request, mode: Mode, pols: Vec<String>) -> bool {
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

/// `int lcmaps_run_without_credentials_and_return_username(char *user_dn,
/// lcmaps_request_t request, char **usernamep, int npols, char **policynames)`:
/// `*usernamep` is malloc'ed (caller frees).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_without_credentials_and_return_username(
    user_dn: *mut c_char,
    request: *mut c_char,
    usernamep: *mut *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_without_credentials_and_return_username";
    ffi_boundary!(NAME, 1, {
        if usernamep.is_null() {
            log::error!("{NAME}(): usernamep is NULL");
            return 1;
        }
        // SAFETY: non-NULL out pointer.
        unsafe { *usernamep = ptr::null_mut() };
        // SAFETY: NULL or C strings / a policy array of npols entries.
        let (dn, job, pols) = unsafe {
            (
                cstring_lossy(user_dn),
                cstring_lossy(request),
                policies(npols, policynames),
            )
        };
        let Some(dn) = dn.filter(|d| !d.is_empty()) else {
            log::error!("{NAME}(): no user DN given");
            return 1;
        };
        let req = Request {
            user_dn: Some(dn),
            job_request: job,
            ..Request::default()
        };
        if !run(NAME, &req, Mode::Run, pols) {
            return 1;
        }
        match first_user_name(NAME) {
            Ok(p) => {
                // SAFETY: non-NULL out pointer.
                unsafe { *usernamep = p };
                0
            }
            Err(()) => 1,
        }
    })
}

/// The account out-pointers of the `*_and_return_account` calls.
struct AccountOut {
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
}

impl AccountOut {
    /// Whether the out-pointers a call needs (`puid`, `ppgid_list`,
    /// `pnpgid`) are there; logs when not.
    fn usable(&self, name: &str) -> bool {
        clog::install();
        let ok = !(self.puid.is_null() || self.ppgid_list.is_null() || self.pnpgid.is_null());
        if !ok {
            log::error!("{name}(): NULL output pointer (puid, ppgid_list and pnpgid are needed)");
        }
        ok
    }

    /// Run `req` with the policies `pols` and fill the outputs
    /// ([`account_out`]).
    fn run(&self, name: &str, req: &Request, pols: Vec<String>, dup_poolindex: bool) -> c_int {
        if !run(name, req, Mode::Run, pols) {
            return 1;
        }
        account_out(name, self, dup_poolindex)
    }
}

/// Check the result rules and fill the outputs from the ambient store:
/// lists point into it (valid until the next run or `lcmaps_term`); the
/// pool index is copied (malloc) when `dup_poolindex`.
fn account_out(name: &str, o: &AccountOut, dup_poolindex: bool) -> c_int {
    let mut amb = ambient();
    let Ambient { store, mirror } = &mut *amb;
    if store.uids.len() != 1 {
        log::error!(
            "{name}(): LCMAPS found {} uids, exactly one is needed",
            store.uids.len()
        );
        return 1;
    }
    if store.pri_gids.is_empty() {
        log::error!("{name}(): LCMAPS could not find any primary gid");
        return 1;
    }
    let n = |l: usize| c_int::try_from(l).unwrap_or(c_int::MAX);
    // SAFETY: the required pointers were checked non-NULL by the caller of
    // this function; the optional ones are checked here.
    unsafe {
        *o.puid = store.uids[0];
        *o.ppgid_list = mirror.pri_gids(store).unwrap_or(ptr::null_mut());
        *o.pnpgid = n(store.pri_gids.len());
        if !store.sec_gids.is_empty() && !o.psgid_list.is_null() && !o.pnsgid.is_null() {
            *o.psgid_list = mirror.sec_gids(store).unwrap_or(ptr::null_mut());
            *o.pnsgid = n(store.sec_gids.len());
        }
        if !o.poolindexp.is_null() {
            if let Some(p) = &store.pool_index {
                *o.poolindexp = if dup_poolindex {
                    malloc_str(p)
                } else {
                    mirror.pool_index(store).map_or(ptr::null_mut(), |s| *s)
                };
            }
        }
    }
    0
}

/// `int lcmaps_run_with_fqans_mapcounter_and_return_account(...)`: the lists
/// and `*poolindexp` point into LCMAPS's store (valid until the next run or
/// `lcmaps_term`; do not free).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_with_fqans_mapcounter_and_return_account(
    user_dn: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    mapcounter: c_int,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_with_fqans_mapcounter_and_return_account";
    ffi_boundary!(NAME, 1, {
        let out = AccountOut {
            puid,
            ppgid_list,
            pnpgid,
            psgid_list,
            pnsgid,
            poolindexp,
        };
        if !out.usable(NAME) {
            return 1;
        }
        // SAFETY: NULL or C strings; fqan_list has nfqan entries.
        let (dn, job, pols) = unsafe {
            (
                cstring_lossy(user_dn),
                cstring_lossy(request),
                policies(npols, policynames),
            )
        };
        let Some(dn) = dn.filter(|d| !d.is_empty()) else {
            log::error!("{NAME}(): no user DN given");
            return 1;
        };
        let fqans = if fqan_list.is_null() {
            Vec::new()
        } else {
            // SAFETY: fqan_list has nfqan entries (same shape as policies).
            unsafe { policies(nfqan, fqan_list) }
        };
        if fqans.is_empty() {
            log::warn!("{NAME}(): no FQANs given");
        }
        let req = Request {
            user_dn: Some(dn),
            fqans,
            mapcounter,
            job_request: job,
            ..Request::default()
        };
        out.run(NAME, &req, pols, false)
    })
}

/// `int lcmaps_run_with_fqans_and_return_account(...)`: the mapcounter
/// variant with mapcounter 0.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_with_fqans_and_return_account(
    user_dn: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
) -> c_int {
    // SAFETY: same contract.
    unsafe {
        lcmaps_run_with_fqans_mapcounter_and_return_account(
            user_dn,
            fqan_list,
            nfqan,
            0,
            request,
            npols,
            policynames,
            puid,
            ppgid_list,
            pnpgid,
            psgid_list,
            pnsgid,
            poolindexp,
        )
    }
}

/// `int lcmaps_run_with_pem_and_return_account(...)`: maps the PEM chain's
/// end-entity DN with the FQANs of its verified VOMS attributes (`user_dn`
/// is ignored, as in LCMAPS); the gid lists point into the store, the pool
/// index is malloc'ed for the caller.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_with_pem_and_return_account(
    user_dn: *mut c_char,
    pem_string: *mut c_char,
    mapcounter: c_int,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_with_pem_and_return_account";
    // As LCMAPS, the DN always comes from the chain; `user_dn` is ignored.
    let _ = user_dn;
    ffi_boundary!(NAME, 1, {
        let out = AccountOut {
            puid,
            ppgid_list,
            pnpgid,
            psgid_list,
            pnsgid,
            poolindexp,
        };
        if !out.usable(NAME) {
            return 1;
        }
        // SAFETY: NULL or C strings / a policy array of npols entries.
        let (pem, job, pols) = unsafe {
            (
                cstring_lossy(pem_string),
                cstring_lossy(request),
                policies(npols, policynames),
            )
        };
        let Some(req) = pem_request(NAME, pem, mapcounter, job) else {
            return 1;
        };
        out.run(NAME, &req, pols, true)
    })
}

/// The request of a PEM call: the DN of the chain's end-entity certificate,
/// the FQANs of its verified VOMS attributes (problems are logged and the
/// run goes on without them, as LCMAPS does), and the PEM itself.
fn pem_request(
    name: &str,
    pem: Option<String>,
    mapcounter: c_int,
    job: Option<String>,
) -> Option<Request> {
    clog::install();
    let Some(pem) = pem.filter(|p| !p.is_empty()) else {
        log::error!("{name}(): no PEM string given");
        return None;
    };
    let cred = match lcmaps_x509::Credential::from_pem(&pem) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{name}(): cannot use the PEM credential: {e}");
            return None;
        }
    };
    let dn = cred.user_dn().to_string();
    let fqans = if VOMS_VERIFY.load(Ordering::Relaxed) {
        let mut opts = lcmaps_x509::VomsOptions::default();
        let t = VOMS_TIME.load(Ordering::Relaxed);
        opts.at = match VOMS_TIME_FLAGS.load(Ordering::Relaxed) {
            1 => Some(cred.leaf().not_before + t),
            2 => Some(cred.leaf().not_after + t),
            _ if t != 0 => Some(t),
            _ => None,
        };
        lcmaps_x509::voms::verified_fqans(&cred, &opts)
    } else {
        log::warn!(
            "{name}(): VOMS attribute verification is disabled; lcmaps-rs does not use \
             unverified VOMS attributes, so no FQANs are taken from the credential"
        );
        Vec::new()
    };
    log::debug!("{name}(): DN \"{dn}\", {} FQANs", fqans.len());
    Some(Request {
        user_dn: Some(dn),
        fqans,
        pem: Some(pem),
        mapcounter,
        job_request: job,
        ..Request::default()
    })
}

/// After a verification run: does the account found match the one asked
/// for, by `LCMAPS_VERIFY_TYPE` (`uid`, the default, or `uid_pgid`)?
fn verified(name: &str, uid: libc::uid_t, pgids: &[libc::gid_t]) -> bool {
    let kind = std::env::var("LCMAPS_VERIFY_TYPE").unwrap_or_default();
    let amb = ambient();
    let store = &amb.store;
    let uid_ok = store.uids.first() == Some(&uid);
    match kind.as_str() {
        "" | "uid" => {
            if !uid_ok {
                log::error!(
                    "{name}(): the account found ({:?}) is not uid {uid}",
                    store.uids.first()
                );
            }
            uid_ok
        }
        "uid_pgid" => {
            let pgid_ok = !pgids.is_empty() && store.pri_gids.first() == pgids.first();
            if !(uid_ok && pgid_ok) {
                log::error!(
                    "{name}(): the account found (uid {:?}, pgid {:?}) is not uid {uid}, pgid {:?}",
                    store.uids.first(),
                    store.pri_gids.first(),
                    pgids.first()
                );
            }
            uid_ok && pgid_ok
        }
        other => {
            log::error!("{name}(): Unknown verification type: {other}");
            false
        }
    }
}

/// A C gid array as a vector.
///
/// # Safety
/// `list` NULL or `n` readable entries.
unsafe fn gid_list(list: *const libc::gid_t, n: c_int) -> Vec<libc::gid_t> {
    let n = usize::try_from(n).unwrap_or(0).min(65_536);
    if list.is_null() || n == 0 {
        return Vec::new();
    }
    // SAFETY: n readable entries by the contract.
    unsafe { std::slice::from_raw_parts(list, n) }.to_vec()
}

/// `int lcmaps_run_with_stack_of_x509_and_return_account(...)`: as the PEM
/// variant, with the chain given as an OpenSSL `STACK_OF(X509)` (the
/// caller keeps it; it is read, not freed). The gid lists point into the
/// store, the pool index is malloc'ed for the caller.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_with_stack_of_x509_and_return_account(
    cert_chain: *mut c_void,
    mapcounter: c_int,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_with_stack_of_x509_and_return_account";
    ffi_boundary!(NAME, 1, {
        let out = AccountOut {
            puid,
            ppgid_list,
            pnpgid,
            psgid_list,
            pnsgid,
            poolindexp,
        };
        if !out.usable(NAME) {
            return 1;
        }
        if cert_chain.is_null() {
            log::error!("{NAME}(): no certificate chain given (NULL)");
            return 1;
        }
        // SAFETY: a non-NULL STACK_OF(X509) owned by the caller for the
        // duration of the call (the header's contract); only borrowed.
        let pem = match unsafe { stack_to_pem(cert_chain) } {
            Ok(p) => p,
            Err(e) => {
                log::error!("{NAME}(): cannot read the certificate chain: {e}");
                return 1;
            }
        };
        // SAFETY: NULL or C strings / a policy array of npols entries.
        let (job, pols) = unsafe { (cstring_lossy(request), policies(npols, policynames)) };
        let Some(req) = pem_request(NAME, Some(pem), mapcounter, job) else {
            return 1;
        };
        out.run(NAME, &req, pols, true)
    })
}

/// The certificates of a caller's `STACK_OF(X509)` as PEM text, in stack
/// order.
///
/// # Safety
/// `chain` is a valid, non-NULL `STACK_OF(X509) *` that outlives the call.
unsafe fn stack_to_pem(chain: *mut c_void) -> Result<String, String> {
    // SAFETY: by the contract; the reference is only used in this call.
    let stack = unsafe {
        <openssl::stack::StackRef<openssl::x509::X509> as foreign_types::ForeignTypeRef>::from_ptr(
            chain.cast(),
        )
    };
    if stack.is_empty() {
        return Err("the stack holds no certificate".into());
    }
    let mut pem = String::new();
    for c in stack {
        let p = c.to_pem().map_err(|e| e.to_string())?;
        pem.push_str(&String::from_utf8_lossy(&p));
    }
    Ok(pem)
}

/// `int lcmaps_rs_run_with_token_and_return_account(...)`, lcmaps-rs's own
/// entry point: maps a bearer token (JWT) with the policies' token plugin
/// (`lcmaps_scitokens.mod`); outputs as in the PEM variant (gid lists point
/// into the store, the pool index is malloc'ed for the caller).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_rs_run_with_token_and_return_account(
    token: *const c_char,
    mapcounter: c_int,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    poolindexp: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_rs_run_with_token_and_return_account";
    ffi_boundary!(NAME, 1, {
        let out = AccountOut {
            puid,
            ppgid_list,
            pnpgid,
            psgid_list,
            pnsgid,
            poolindexp,
        };
        if !out.usable(NAME) {
            return 1;
        }
        // SAFETY: NULL or C strings / a policy array of npols entries.
        let (tok, job, pols) = unsafe {
            (
                cstring_lossy(token),
                cstring_lossy(request),
                policies(npols, policynames),
            )
        };
        let Some(tok) = tok.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
            log::error!("{NAME}(): no token given");
            return 1;
        };
        if tok.len() > TOKEN_MAX {
            log::error!(
                "{NAME}(): the token is {} bytes, more than the {TOKEN_MAX} accepted",
                tok.len()
            );
            return 1;
        }
        let req = Request {
            token: Some(tok),
            mapcounter,
            job_request: job,
            ..Request::default()
        };
        out.run(NAME, &req, pols, true)
    })
}

/// The longest token the C entry point takes (WLCG tokens are a few kB).
const TOKEN_MAX: usize = 64 * 1024;

/// `int lcmaps_run_and_verify_account_from_pem(...)`: runs the plugins in
/// verification mode for the given account and checks the result by
/// `LCMAPS_VERIFY_TYPE` (`uid` or `uid_pgid`).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_and_verify_account_from_pem(
    user_dn: *mut c_char,
    pem_string: *mut c_char,
    uid: libc::uid_t,
    pgid_list: *mut libc::gid_t,
    npgid: c_int,
    sgid_list: *mut libc::gid_t,
    nsgid: c_int,
    poolindex: *mut c_char,
    request: *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_and_verify_account_from_pem";
    let _ = user_dn;
    ffi_boundary!(NAME, 1, {
        // SAFETY: NULL or C strings / arrays of the given lengths.
        let (pem, job, pols, pgids, sgids, pi) = unsafe {
            (
                cstring_lossy(pem_string),
                cstring_lossy(request),
                policies(npols, policynames),
                gid_list(pgid_list, npgid),
                gid_list(sgid_list, nsgid),
                cstring_lossy(poolindex),
            )
        };
        let Some(mut req) = pem_request(NAME, pem, 0, job) else {
            return 1;
        };
        req.requested_uid = Some(uid);
        req.requested_pgids = pgids.clone();
        req.requested_sgids = sgids;
        req.requested_poolindex = pi;
        if !run(NAME, &req, Mode::Verify, pols) {
            return 1;
        }
        if verified(NAME, uid, &pgids) {
            0
        } else {
            1
        }
    })
}

/// The request of a GSS call: with a credential, its certificate chain
/// (exported through Globus GSSAPI, loaded at run time) gives the DN, the
/// verified VOMS FQANs and the chain for the plugins, as in the PEM calls;
/// when the chain cannot be exported, the credential's DN alone; without a
/// credential, `user_dn`.
///
/// # Safety
/// `user_dn` NULL or a C string; `cred` NULL or a Globus GSS credential.
unsafe fn gss_request(
    name: &str,
    user_dn: *mut c_char,
    cred: *mut c_void,
    job: Option<String>,
) -> Option<Request> {
    // SAFETY: NULL or a C string.
    let given = unsafe { cstring_lossy(user_dn) }.filter(|d| !d.is_empty());
    let dn_only = |dn: String| Request {
        user_dn: Some(dn),
        job_request: job.clone(),
        ..Request::default()
    };
    if cred.is_null() {
        return match given {
            Some(dn) => {
                log::warn!("{name}(): empty GSS credential; mapping on the DN only");
                Some(dn_only(dn))
            }
            None => {
                log::error!("{name}(): neither a user DN nor a GSS credential was given");
                None
            }
        };
    }
    // SAFETY: a non-NULL GSS credential by the caller's contract.
    match unsafe { super::gss::pem_from_cred(cred) } {
        Ok(pem) => {
            let req = pem_request(name, Some(pem), 0, job.clone())?;
            if let (Some(g), Some(d)) = (&given, &req.user_dn) {
                if g != d {
                    log::warn!(
                        "{name}(): the given DN \"{g}\" is not the credential's \"{d}\"; \
                         using the credential's"
                    );
                }
            }
            return Some(req);
        }
        Err(e) => log::warn!(
            "{name}(): cannot take the certificate chain out of the GSS credential ({e}); \
             mapping on its DN only"
        ),
    }
    if let Some(dn) = given {
        return Some(dn_only(dn));
    }
    // SAFETY: as above.
    match unsafe { super::gss::dn_from_cred(cred) } {
        Ok(dn) => Some(dn_only(dn)),
        Err(e) => {
            log::error!("{name}(): cannot take the user DN from the GSS credential: {e}");
            None
        }
    }
}

/// The user name of the first uid of the ambient store (malloc'ed).
fn first_user_name(name: &str) -> Result<*mut c_char, ()> {
    let uid = ambient().store.uids.first().copied();
    let Some(uid) = uid else {
        log::error!("{name}(): LCMAPS could not find any uid");
        return Err(());
    };
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => Ok(malloc_str(&u.name)),
        _ => {
            log::error!("{name}(): LCMAPS could not find the username related to uid: {uid}");
            Err(())
        }
    }
}

/// `int lcmaps_run(char *user_dn, gss_cred_id_t user_cred, lcmaps_request_t
/// request)`: all policies; the result only as side effects (posix_enf).
/// Maps the credential's certificate chain (Globus GSSAPI loaded at run
/// time: DN, VOMS FQANs, chain), else `user_dn`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run(
    user_dn: *mut c_char,
    user_cred: *mut c_void,
    request: *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run";
    ffi_boundary!(NAME, 1, {
        clog::install();
        // SAFETY: the caller's contract; `request` NULL or a C string.
        let Some(req) = (unsafe { gss_request(NAME, user_dn, user_cred, cstring_lossy(request)) })
        else {
            return 1;
        };
        c_int::from(!run(NAME, &req, Mode::Run, Vec::new()))
    })
}

/// `int lcmaps_run_and_return_username(char *user_dn, gss_cred_id_t user_cred,
/// lcmaps_request_t request, char **usernamep, int npols, char **policynames)`:
/// `*usernamep` on input is the requested user name (may be NULL); on
/// success it is the malloc'ed name of the first uid. DN as [`lcmaps_run`].
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_and_return_username(
    user_dn: *mut c_char,
    user_cred: *mut c_void,
    request: *mut c_char,
    usernamep: *mut *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_and_return_username";
    ffi_boundary!(NAME, 1, {
        clog::install();
        if usernamep.is_null() {
            log::error!("{NAME}(): usernamep is NULL");
            return 1;
        }
        // SAFETY: non-NULL; the input value is NULL or a C string.
        let requested = unsafe {
            let r = cstring_lossy(*usernamep);
            *usernamep = ptr::null_mut();
            r
        };
        // SAFETY: the caller's contract; `request` NULL or a C string.
        let Some(mut req) =
            (unsafe { gss_request(NAME, user_dn, user_cred, cstring_lossy(request)) })
        else {
            return 1;
        };
        req.requested_username = requested;
        // SAFETY: policy array of npols entries or NULL.
        let pols = unsafe { policies(npols, policynames) };
        if !run(NAME, &req, Mode::Run, pols) {
            return 1;
        }
        match first_user_name(NAME) {
            Ok(p) => {
                // SAFETY: non-NULL out pointer.
                unsafe { *usernamep = p };
                0
            }
            Err(()) => 1,
        }
    })
}

/// `int lcmaps_run_and_return_poolindex(char *user_dn, gss_cred_id_t user_cred,
/// lcmaps_request_t request, char **poolindexp, int npols, char **policynames)`:
/// fails without a pool index; `*poolindexp` is malloc'ed. DN as [`lcmaps_run`].
#[no_mangle]
pub unsafe extern "C" fn lcmaps_run_and_return_poolindex(
    user_dn: *mut c_char,
    user_cred: *mut c_void,
    request: *mut c_char,
    poolindexp: *mut *mut c_char,
    npols: c_int,
    policynames: *mut *mut c_char,
) -> c_int {
    const NAME: &str = "lcmaps_run_and_return_poolindex";
    ffi_boundary!(NAME, 1, {
        clog::install();
        if poolindexp.is_null() {
            log::error!("{NAME}(): poolindexp is NULL");
            return 1;
        }
        // SAFETY: non-NULL out pointer.
        unsafe { *poolindexp = ptr::null_mut() };
        // SAFETY: the caller's contract; `request` NULL or a C string.
        let Some(req) = (unsafe { gss_request(NAME, user_dn, user_cred, cstring_lossy(request)) })
        else {
            return 1;
        };
        // SAFETY: policy array of npols entries or NULL.
        let pols = unsafe { policies(npols, policynames) };
        if !run(NAME, &req, Mode::Run, pols) {
            return 1;
        }
        let pi = ambient().store.pool_index.clone();
        match pi {
            Some(p) => {
                // SAFETY: non-NULL out pointer.
                unsafe { *poolindexp = malloc_str(&p) };
                0
            }
            None => {
                log::error!("{NAME}(): LCMAPS could not find the poolindex");
                1
            }
        }
    })
}

// ---------------------------------------------------------------- account info

/// `int lcmaps_account_info_init(lcmaps_account_info_t *)`: uid -1, no
/// lists. Always 0.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_account_info_init(acct: *mut lcmaps_account_info_t) -> c_int {
    ffi_boundary!("lcmaps_account_info_init", 0, {
        if !acct.is_null() {
            // SAFETY: non-NULL, valid by contract.
            unsafe {
                *acct = lcmaps_account_info_t {
                    uid: libc::uid_t::MAX,
                    pgid_list: ptr::null_mut(),
                    npgid: 0,
                    sgid_list: ptr::null_mut(),
                    nsgid: 0,
                    poolindex: ptr::null_mut(),
                };
            }
        }
        0
    })
}

/// `int lcmaps_account_info_fill(uid_t *puid, gid_t **ppgid_list, int *pnpgid,
/// gid_t **psgid_list, int *pnsgid, char **ppoolindex, lcmaps_account_info_t *)`:
/// deep copies (malloc). 0 ok, 1 an input pointer is NULL, -1 bad data.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_account_info_fill(
    puid: *mut libc::uid_t,
    ppgid_list: *mut *mut libc::gid_t,
    pnpgid: *mut c_int,
    psgid_list: *mut *mut libc::gid_t,
    pnsgid: *mut c_int,
    ppoolindex: *mut *mut c_char,
    acct: *mut lcmaps_account_info_t,
) -> c_int {
    ffi_boundary!("lcmaps_account_info_fill", -1, {
        if acct.is_null() {
            return -1;
        }
        // SAFETY: acct non-NULL.
        unsafe { lcmaps_account_info_init(acct) };
        if puid.is_null()
            || ppgid_list.is_null()
            || pnpgid.is_null()
            || psgid_list.is_null()
            || pnsgid.is_null()
            || ppoolindex.is_null()
        {
            return 1;
        }
        // SAFETY: all pointers non-NULL; lists have the given counts.
        unsafe {
            let a = &mut *acct;
            a.uid = *puid;
            for (src, n, dst, dn) in [
                (*ppgid_list, *pnpgid, &mut a.pgid_list, &mut a.npgid),
                (*psgid_list, *pnsgid, &mut a.sgid_list, &mut a.nsgid),
            ] {
                let len = usize::try_from(n).unwrap_or(0);
                if len > 0 {
                    if src.is_null() {
                        return -1;
                    }
                    let p = malloc_slice(std::slice::from_raw_parts(src, len));
                    if p.is_null() {
                        return -1;
                    }
                    *dst = p;
                    *dn = n;
                }
            }
            if !(*ppoolindex).is_null() {
                a.poolindex = malloc_str(&cstring_lossy(*ppoolindex).unwrap_or_default());
            }
        }
        0
    })
}

/// `int lcmaps_account_info_clean(lcmaps_account_info_t *)`: free the lists
/// and pool index. Always 0. Unlike LCMAPS the fields are reset too.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_account_info_clean(acct: *mut lcmaps_account_info_t) -> c_int {
    ffi_boundary!("lcmaps_account_info_clean", 0, {
        if acct.is_null() {
            return 0;
        }
        // SAFETY: non-NULL; the fields are NULL or malloc'ed (fill).
        unsafe {
            let a = &mut *acct;
            libc::free(a.pgid_list.cast());
            libc::free(a.sgid_list.cast());
            libc::free(a.poolindex.cast());
            lcmaps_account_info_init(acct);
        }
        0
    })
}

// ---------------------------------------------------------------- VOMS knobs

static VOMS_VERIFY: AtomicBool = AtomicBool::new(true);
static VOMS_FLAGS: AtomicU32 = AtomicU32::new(0);
static VOMS_TIME: AtomicI64 = AtomicI64::new(0);
static VOMS_TIME_FLAGS: AtomicI32 = AtomicI32::new(0);

/// `void lcmaps_disable_voms_attributes_verification(void)`.
#[no_mangle]
pub extern "C" fn lcmaps_disable_voms_attributes_verification() {
    VOMS_VERIFY.store(false, Ordering::Relaxed);
}

/// `void lcmaps_enable_voms_attributes_verification(void)` (the default).
#[no_mangle]
pub extern "C" fn lcmaps_enable_voms_attributes_verification() {
    VOMS_VERIFY.store(true, Ordering::Relaxed);
}

/// `int lcmaps_is_set_to_verify_voms_attributes(void)`: 1 or 0.
#[no_mangle]
pub extern "C" fn lcmaps_is_set_to_verify_voms_attributes() -> c_int {
    c_int::from(VOMS_VERIFY.load(Ordering::Relaxed))
}

/// `void lcmaps_set_voms_attributes_verification(unsigned int flags)`.
#[no_mangle]
pub extern "C" fn lcmaps_set_voms_attributes_verification(flags: c_uint) {
    VOMS_FLAGS.store(flags, Ordering::Relaxed);
}

/// `unsigned int lcmaps_get_voms_attributes_verification(void)`.
#[no_mangle]
pub extern "C" fn lcmaps_get_voms_attributes_verification() -> c_uint {
    VOMS_FLAGS.load(Ordering::Relaxed)
}

/// `void lcmaps_set_voms_verification_time(time_t t, int flags)`.
#[no_mangle]
pub extern "C" fn lcmaps_set_voms_verification_time(t: libc::time_t, flags: c_int) {
    VOMS_TIME.store(t, Ordering::Relaxed);
    VOMS_TIME_FLAGS.store(flags, Ordering::Relaxed);
}

/// `int lcmaps_get_voms_verification_time(time_t *t, int *flags)`: 0 ok, -1
/// for NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_get_voms_verification_time(
    t: *mut libc::time_t,
    flags: *mut c_int,
) -> c_int {
    if t.is_null() || flags.is_null() {
        return -1;
    }
    // SAFETY: both non-NULL.
    unsafe {
        *t = VOMS_TIME.load(Ordering::Relaxed);
        *flags = VOMS_TIME_FLAGS.load(Ordering::Relaxed);
    }
    0
}

// ---------------------------------------------------------------- helper libraries

/// `LCMAPS_POLICY_NAME` as C strings and the pointer array a C call takes;
/// keep the strings alive as long as the pointers are used.
fn env_policy_args() -> (Vec<std::ffi::CString>, Vec<*mut c_char>) {
    let pols: Vec<std::ffi::CString> = env_policies()
        .into_iter()
        .filter_map(|p| std::ffi::CString::new(p).ok())
        .collect();
    let ptrs = pols.iter().map(|p| p.as_ptr().cast_mut()).collect();
    (pols, ptrs)
}

/// `LCMAPS_POLICY_NAME` as the helper libraries read it (at most 10).
fn env_policies() -> Vec<String> {
    let mut v = std::env::var("LCMAPS_POLICY_NAME")
        .map(|s| lcmaps_core::env::split_policy_names(&s))
        .unwrap_or_default();
    v.truncate(MAX_POLICIES);
    v
}

/// `int lcmaps_return_account_from_pem(char *pem_string, int mapcounter,
/// lcmaps_account_info_t *)`: init, map the PEM (policies from
/// `LCMAPS_POLICY_NAME`), deep-copy the account into `*acct`, term.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_return_account_from_pem(
    pem_string: *mut c_char,
    mapcounter: c_int,
    acct: *mut lcmaps_account_info_t,
) -> c_int {
    const NAME: &str = "lcmaps_return_account_from_pem";
    ffi_boundary!(NAME, 1, {
        // SAFETY: NULL or valid.
        unsafe { lcmaps_account_info_init(acct) };
        if acct.is_null() {
            clog::install();
            log::error!("{NAME}: no account structure given");
            return 1;
        }
        if init(None, ptr::null_mut(), DO_USRLOG) != 0 {
            log::error!("{NAME}: LCMAPS initialization failure");
            return 1;
        }
        let mut uid: libc::uid_t = libc::uid_t::MAX;
        let mut pgids: *mut libc::gid_t = ptr::null_mut();
        let mut npgid: c_int = 0;
        let mut sgids: *mut libc::gid_t = ptr::null_mut();
        let mut nsgid: c_int = 0;
        let mut pi: *mut c_char = ptr::null_mut();
        let (_pols, mut pol_ptrs) = env_policy_args();
        let npols = c_int::try_from(pol_ptrs.len()).unwrap_or(0);
        // SAFETY: all pointers are valid for the call; the policy strings
        // outlive it.
        let mut rc = unsafe {
            lcmaps_run_with_pem_and_return_account(
                ptr::null_mut(),
                pem_string,
                mapcounter,
                ptr::null_mut(),
                npols,
                if npols > 0 {
                    pol_ptrs.as_mut_ptr()
                } else {
                    ptr::null_mut()
                },
                &mut uid,
                &mut pgids,
                &mut npgid,
                &mut sgids,
                &mut nsgid,
                &mut pi,
            )
        };
        if rc == 0 {
            // SAFETY: the outputs were just filled; acct is valid.
            rc = unsafe {
                lcmaps_account_info_fill(
                    &mut uid, &mut pgids, &mut npgid, &mut sgids, &mut nsgid, &mut pi, acct,
                )
            };
            if rc != 0 {
                log::error!("{NAME}: cannot fill the account structure");
                rc = 1;
            }
        }
        if !pi.is_null() {
            // SAFETY: the PEM variant malloc'ed the pool index for us.
            unsafe { libc::free(pi.cast()) };
        }
        if lcmaps_term() != 0 {
            log::error!("{NAME}: LCMAPS termination failure");
            return 1;
        }
        rc
    })
}

/// `int lcmaps_verify_account_from_pem(char *pem_string, lcmaps_account_info_t)`:
/// init, verify the account for the PEM (policies from
/// `LCMAPS_POLICY_NAME`), term.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_verify_account_from_pem(
    pem_string: *mut c_char,
    acct: lcmaps_account_info_t,
) -> c_int {
    const NAME: &str = "lcmaps_verify_account_from_pem";
    ffi_boundary!(NAME, 1, {
        if init(None, ptr::null_mut(), DO_USRLOG) != 0 {
            log::error!("{NAME}: LCMAPS initialization failure");
            return 1;
        }
        let (_pols, mut pol_ptrs) = env_policy_args();
        let npols = c_int::try_from(pol_ptrs.len()).unwrap_or(0);
        // SAFETY: the account's lists have the given lengths (caller's
        // contract); the policy strings outlive the call.
        let rc = unsafe {
            lcmaps_run_and_verify_account_from_pem(
                ptr::null_mut(),
                pem_string,
                acct.uid,
                acct.pgid_list,
                acct.npgid,
                acct.sgid_list,
                acct.nsgid,
                acct.poolindex,
                ptr::null_mut(),
                npols,
                if npols > 0 {
                    pol_ptrs.as_mut_ptr()
                } else {
                    ptr::null_mut()
                },
            )
        };
        if lcmaps_term() != 0 {
            log::error!("{NAME}: LCMAPS termination failure");
            return 1;
        }
        rc
    })
}

/// The Rust end of `lcmaps_verify_account_from_pem_va` (csrc).
pub(crate) unsafe extern "C" fn lcmaps_rs_verify_account_from_pem(
    narg: c_int,
    pem_string: *mut c_char,
    acct: *const lcmaps_account_info_t,
) -> c_int {
    ffi_boundary!("lcmaps_verify_account_from_pem_va", 1, {
        if narg != 2 || acct.is_null() {
            // As LCMAPS: initialize (for the log), then refuse.
            let inited = init(None, ptr::null_mut(), DO_USRLOG) == 0;
            log::error!(
                "lcmaps_verify_account_from_pem_va: The number of arguments ({narg}) should be 2"
            );
            if inited {
                lcmaps_term();
            }
            return 1;
        }
        // SAFETY: non-NULL, filled by the C shim.
        unsafe { lcmaps_verify_account_from_pem(pem_string, *acct) }
    })
}

/// init → DN → run (policies from `LCMAPS_POLICY_NAME`) → copy the pool
/// index into `buf` → term.
///
/// # Safety
/// `buf` NULL or `len` writable bytes.
unsafe fn poolindex_into(
    name: &str,
    dn: impl FnOnce() -> Result<String, String>,
    buf: *mut c_char,
    len: c_uint,
) -> c_int {
    if buf.is_null() || len == 0 {
        clog::install();
        log::error!("{name}: no buffer for the poolindex");
        return 1;
    }
    if init(None, ptr::null_mut(), DO_USRLOG) != 0 {
        log::error!("{name}: LCMAPS initialization failure");
        return 1;
    }
    let rc = (|| {
        let dn = dn().map_err(|e| log::error!("{name}: cannot take the user DN: {e}"))?;
        let req = Request::with_dn(dn);
        if !run(name, &req, Mode::Run, env_policies()) {
            return Err(());
        }
        let Some(pi) = ambient().store.pool_index.clone() else {
            log::error!("{name}: LCMAPS could not find the poolindex");
            return Err(());
        };
        let cap = usize::try_from(len).unwrap_or(0);
        if pi.len() + 1 > cap {
            log::error!(
                "{name}: the poolindex ({} bytes) does not fit the buffer ({cap})",
                pi.len() + 1
            );
            return Err(());
        }
        // SAFETY: buf has len >= pi.len()+1 bytes.
        unsafe {
            ptr::copy_nonoverlapping(pi.as_ptr().cast::<c_char>(), buf, pi.len());
            *buf.add(pi.len()) = 0;
        }
        Ok(())
    })();
    if lcmaps_term() != 0 {
        return 1;
    }
    c_int::from(rc.is_err())
}

/// `int lcmaps_return_poolindex(gss_ctx_id_t, char *buf, unsigned int len)`:
/// maps the DN of the context's peer (Globus GSSAPI loaded at run time) and
/// copies the pool index into `buf`. 0 ok, 1 failure.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_return_poolindex(
    context: *mut c_void,
    buf: *mut c_char,
    len: c_uint,
) -> c_int {
    const NAME: &str = "lcmaps_return_poolindex";
    ffi_boundary!(NAME, 1, {
        let dn = || {
            if context.is_null() {
                return Err("no GSS security context given".to_string());
            }
            // SAFETY: a non-NULL context by the caller's contract.
            unsafe { super::gss::dn_from_context(context) }
        };
        // SAFETY: the caller's contract.
        unsafe { poolindex_into(NAME, dn, buf, len) }
    })
}

/// `int lcmaps_return_poolindex_from_gss_cred(gss_cred_id_t, char *buf,
/// unsigned int len)`: as [`lcmaps_return_poolindex`] with a credential.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_return_poolindex_from_gss_cred(
    cred: *mut c_void,
    buf: *mut c_char,
    len: c_uint,
) -> c_int {
    const NAME: &str = "lcmaps_return_poolindex_from_gss_cred";
    ffi_boundary!(NAME, 1, {
        let dn = || {
            if cred.is_null() {
                return Err("no GSS credential given".to_string());
            }
            // SAFETY: a non-NULL credential by the caller's contract.
            unsafe { super::gss::dn_from_cred(cred) }
        };
        // SAFETY: the caller's contract.
        unsafe { poolindex_into(NAME, dn, buf, len) }
    })
}

/// init → run with DN and FQANs → copy the account → term.
///
/// # Safety
/// As the `*_without_gsi` C functions.
unsafe fn account_without_gsi(
    name: &str,
    user_dn: *mut c_char,
    fqans: *mut *mut c_char,
    nfqan: c_int,
    mapcounter: c_int,
    acct: *mut lcmaps_account_info_t,
    need_poolindex: bool,
) -> c_int {
    if acct.is_null() {
        return 1;
    }
    // SAFETY: acct non-NULL.
    unsafe { lcmaps_account_info_init(acct) };
    if init(None, ptr::null_mut(), DO_USRLOG) != 0 {
        log::error!("{name}: LCMAPS initialization failure");
        return 1;
    }
    let pols = env_policies();
    let mut cpols: Vec<std::ffi::CString> = pols
        .iter()
        .filter_map(|p| std::ffi::CString::new(p.as_str()).ok())
        .collect();
    let mut ptrs: Vec<*mut c_char> = cpols.iter_mut().map(|c| c.as_ptr().cast_mut()).collect();
    let (mut uid, mut pg, mut npg, mut sg, mut nsg, mut pi) = (
        libc::uid_t::MAX,
        ptr::null_mut(),
        0,
        ptr::null_mut(),
        0,
        ptr::null_mut(),
    );
    // SAFETY: all pointers are to locals or the caller's valid arguments.
    let rc = unsafe {
        lcmaps_run_with_fqans_mapcounter_and_return_account(
            user_dn,
            fqans,
            nfqan,
            mapcounter,
            ptr::null_mut(),
            c_int::try_from(ptrs.len()).unwrap_or(0),
            if ptrs.is_empty() {
                ptr::null_mut()
            } else {
                ptrs.as_mut_ptr()
            },
            &mut uid,
            &mut pg,
            &mut npg,
            &mut sg,
            &mut nsg,
            &mut pi,
        )
    };
    let rc = if rc != 0 {
        log::error!("{name}: LCMAPS could not find the account");
        1
    } else if need_poolindex && pi.is_null() {
        log::error!("{name}: LCMAPS could not find the pool index");
        1
    } else {
        // SAFETY: pointers to locals filled by the run; acct non-NULL.
        let f = unsafe {
            lcmaps_account_info_fill(
                &mut uid, &mut pg, &mut npg, &mut sg, &mut nsg, &mut pi, acct,
            )
        };
        if f != 0 {
            log::error!("{name}: could not copy the account ({f})");
            1
        } else {
            0
        }
    };
    if lcmaps_term() != 0 {
        log::error!("{name}: LCMAPS termination failure");
        return 1;
    }
    rc
}

/// `int lcmaps_return_poolindex_without_gsi(char *user_dn, char **fqan_list,
/// int nfqan, lcmaps_account_info_t *)`: fails without a pool index.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_return_poolindex_without_gsi(
    user_dn: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    acct: *mut lcmaps_account_info_t,
) -> c_int {
    const NAME: &str = "lcmaps_return_poolindex_without_gsi";
    ffi_boundary!(NAME, 1, {
        // SAFETY: same contract.
        unsafe { account_without_gsi(NAME, user_dn, fqan_list, nfqan, 0, acct, true) }
    })
}

/// `int lcmaps_return_poolindex_with_mapcounter(char *user_dn, char **fqan_list,
/// int nfqan, int mapcounter, lcmaps_account_info_t *)`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_return_poolindex_with_mapcounter(
    user_dn: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    mapcounter: c_int,
    acct: *mut lcmaps_account_info_t,
) -> c_int {
    const NAME: &str = "lcmaps_return_poolindex_with_mapcounter";
    ffi_boundary!(NAME, 1, {
        // SAFETY: same contract.
        unsafe { account_without_gsi(NAME, user_dn, fqan_list, nfqan, mapcounter, acct, true) }
    })
}

/// `int lcmaps_return_account_without_gsi(char *user_dn, char **fqan_list,
/// int nfqan, int mapcounter, lcmaps_account_info_t *)`: the pool index is
/// optional.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_return_account_without_gsi(
    user_dn: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    mapcounter: c_int,
    acct: *mut lcmaps_account_info_t,
) -> c_int {
    const NAME: &str = "lcmaps_return_account_without_gsi";
    ffi_boundary!(NAME, 1, {
        // SAFETY: same contract.
        unsafe { account_without_gsi(NAME, user_dn, fqan_list, nfqan, mapcounter, acct, false) }
    })
}

extern "C" {
    static mut stderr: *mut libc::FILE;
}

/// `int globus_gss_assist_gridmap(char *globusidp, char **useridp)`: init
/// (logging to stderr), map the DN to a user name (malloc'ed), term.
/// 0 mapped, 1 not.
#[no_mangle]
pub unsafe extern "C" fn globus_gss_assist_gridmap(
    globusidp: *mut c_char,
    useridp: *mut *mut c_char,
) -> c_int {
    ffi_boundary!("globus_gss_assist_gridmap", 1, {
        if useridp.is_null() {
            return 1;
        }
        // SAFETY: non-NULL out pointer; stderr is libc's stream.
        let err = unsafe {
            *useridp = ptr::null_mut();
            stderr
        };
        if init(None, err, DO_USRLOG) != 0 {
            log::error!("globus_gss_assist_gridmap: LCMAPS initialization failure");
            return 1;
        }
        // SAFETY: globusidp NULL or a C string; useridp non-NULL.
        let rc = unsafe {
            lcmaps_run_without_credentials_and_return_username(
                globusidp,
                ptr::null_mut(),
                useridp,
                0,
                ptr::null_mut(),
            )
        };
        if rc != 0 {
            log::error!("globus_gss_assist_gridmap: LCMAPS failed to find a username");
        }
        if lcmaps_term() != 0 {
            return 1;
        }
        c_int::from(rc != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
