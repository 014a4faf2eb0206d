//! LCAS 1.3 from C: the caller API of `liblcas.so.0` (`lcas_init*`,
//! `lcas_pem`, `lcas_get_fabric_authorization`, `lcas_term`, the version
//! functions) and the host for C LCAS plugins (`plugin_initialize`,
//! `plugin_confirm_authorization`, `plugin_terminate`). The helpers LCAS
//! plugins call are in [`crate::lcas_callbacks`].
//!
//! The evaluation itself is lcmaps-core's [`lcmaps_core::lcas`]: every
//! plugin must authorize, the first refusal refuses. Built-in plugins
//! (`lcas_userban.mod`, `lcas_userallow.mod`, `lcas_timeslots.mod`,
//! `lcas_check_executable.mod`) run in-process unless the db names a path.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_ushort, c_void, CString};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Mutex;

use lcmaps_core::diag::Diagnostic;
use lcmaps_core::lcas::{
    self, AuthzPlugin, AuthzRequest, Decision, Lcas, LcasLoader, LcasPluginDecl,
};
use lcmaps_core::plugin::PluginError;
use lcmaps_sys as sys;
use libloading::os::unix::Library;

use crate::cstr::cstring_lossy;
use crate::lcas_callbacks::{lcas_cred_id_t, log_settings};
use crate::log as clog;
use crate::module_file::open_module;
use lcmaps_host::ffi_boundary;

type InitFn = unsafe extern "C" fn(c_int, *mut *mut c_char) -> c_int;
type ConfirmFn = unsafe extern "C" fn(*mut c_char, lcas_cred_id_t) -> c_int;
type TermFn = unsafe extern "C" fn() -> c_int;

/// LCAS's plugin return codes (lcas_defines.h).
fn code_name(rc: c_int) -> &'static str {
    match rc {
        sys::LCAS_MOD_SUCCESS => "LCAS_MOD_SUCCESS",
        sys::LCAS_MOD_FAIL => "LCAS_MOD_FAIL",
        sys::LCAS_MOD_NOFILE => "LCAS_MOD_NOFILE",
        sys::LCAS_MOD_ENTRY => "LCAS_MOD_ENTRY",
        sys::LCAS_MOD_NOENTRY => "LCAS_MOD_NOENTRY",
        _ => "an unknown code",
    }
}

thread_local! {
    /// The GSS credential of the request being authorized, for C plugins.
    static GSS_CRED: Cell<*mut c_void> = const { Cell::new(ptr::null_mut()) };
}

/// A C LCAS plugin (`.mod`).
pub struct LcasCModule {
    path: PathBuf,
    init: InitFn,
    confirm: ConfirmFn,
    term: TermFn,
    /// argv as given to `plugin_initialize` (plugins may keep the pointers).
    argv_strings: Vec<CString>,
    argv: Vec<*mut c_char>,
    initialized: bool,
    // Last: dlclose after terminate.
    lib: Option<Library>,
}

// SAFETY: the plugin's code only runs under the LCAS API lock (or, for the
// Rust API, inside the one `Lcas` that owns it); the raw pointers are to
// memory this struct owns.
unsafe impl Send for LcasCModule {}

impl std::fmt::Debug for LcasCModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LcasCModule")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LcasCModule {
    /// `dlopen` the module and look up its three required entry points.
    pub fn open(path: &Path) -> Result<LcasCModule, String> {
        let lib = open_module(path)?;
        let missing = |f: &str| {
            format!(
                "plugin {} not compliant: missing function \"{f}()\"",
                path.display()
            )
        };
        // SAFETY: the symbols have LCAS's plugin prototypes; the copied fn
        // pointers stay valid while `lib` is loaded, and it is dropped last.
        unsafe {
            let init = *lib
                .get::<InitFn>(b"plugin_initialize\0")
                .map_err(|_| missing("plugin_initialize"))?;
            let confirm = *lib
                .get::<ConfirmFn>(b"plugin_confirm_authorization\0")
                .map_err(|_| missing("plugin_confirm_authorization"))?;
            let term = *lib
                .get::<TermFn>(b"plugin_terminate\0")
                .map_err(|_| missing("plugin_terminate"))?;
            Ok(LcasCModule {
                path: path.to_path_buf(),
                init,
                confirm,
                term,
                argv_strings: Vec::new(),
                argv: Vec::new(),
                initialized: false,
                lib: Some(lib),
            })
        }
    }
}

impl AuthzPlugin for LcasCModule {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        self.argv_strings = argv
            .iter()
            .map(|a| CString::new(a.replace('\0', "")).unwrap_or_default())
            .collect();
        self.argv = self
            .argv_strings
            .iter()
            .map(|c| c.as_ptr().cast_mut())
            .chain(std::iter::once(ptr::null_mut()))
            .collect();
        let argc = c_int::try_from(self.argv_strings.len()).unwrap_or(c_int::MAX);
        // SAFETY: argv has argc valid C strings plus a NULL, kept alive in
        // self for the plugin's lifetime.
        let rc = unsafe { (self.init)(argc, self.argv.as_mut_ptr()) };
        if rc != 0 {
            return Err(PluginError(format!(
                "plugin_initialize() of {} returned {rc} ({})",
                self.path.display(),
                code_name(rc)
            )));
        }
        self.initialized = true;
        Ok(())
    }

    fn confirm(&mut self, req: &AuthzRequest) -> Decision {
        let dn = req
            .dn
            .as_deref()
            .map(|d| CString::new(d.replace('\0', "")).unwrap_or_default());
        let request = req
            .request
            .as_deref()
            .map(|r| CString::new(r.replace('\0', "")).unwrap_or_default());
        let cred = lcas_cred_id_t {
            cred: GSS_CRED.with(Cell::get),
            dn: dn
                .as_ref()
                .map_or(ptr::null_mut(), |d| d.as_ptr().cast_mut()),
        };
        let rp = request
            .as_ref()
            .map_or(ptr::null_mut(), |r| r.as_ptr().cast_mut());
        // SAFETY: the strings live until after the call; the plugin was
        // initialized.
        let rc = unsafe { (self.confirm)(rp, cred) };
        if rc == 0 {
            Decision::Permit
        } else {
            Decision::Deny(format!(
                "plugin_confirm_authorization() returned {rc} ({})",
                code_name(rc)
            ))
        }
    }

    fn terminate(&mut self) -> Result<(), PluginError> {
        if !std::mem::take(&mut self.initialized) {
            return Ok(());
        }
        // SAFETY: the plugin was initialized and is terminated once.
        let rc = unsafe { (self.term)() };
        if rc != 0 {
            return Err(PluginError(format!(
                "plugin_terminate() of {} returned {rc}",
                self.path.display()
            )));
        }
        Ok(())
    }
}

impl Drop for LcasCModule {
    fn drop(&mut self) {
        let _ = self.terminate();
        drop(self.lib.take());
    }
}

/// Loads LCAS built-ins for built-in declarations and C modules for files.
#[derive(Debug, Default, Clone, Copy)]
pub struct LcasCLoader;

impl LcasLoader for LcasCLoader {
    fn load(&self, decl: &LcasPluginDecl) -> Result<Box<dyn AuthzPlugin>, String> {
        if decl.builtin {
            if let Ok(p) = lcas::BuiltinLoader.load(decl) {
                return Ok(p);
            }
        }
        match &decl.file {
            Some(f) => Ok(Box::new(LcasCModule::open(f)?)),
            None => Err(format!(
                "plugin {} not found (LCAS_MODULES_DIR or {})",
                decl.module,
                lcas::MOD_HOME
            )),
        }
    }
}

// ------------------------------------------------------------ caller API

static LCAS: Mutex<Option<Lcas>> = Mutex::new(None);

fn state() -> std::sync::MutexGuard<'static, Option<Lcas>> {
    LCAS.lock().unwrap_or_else(|p| p.into_inner())
}

fn init(logfile: Option<PathBuf>, fp: *mut libc::FILE, logtype: c_ushort) -> c_int {
    clog::open(logfile, fp, logtype, &log_settings());
    let mut st = state();
    if st.is_some() {
        log::debug!("lcas_init(): LCAS is already initialized");
        return 0;
    }
    log::debug!(
        "Initialization LCAS version 1.3.19 (lcmaps-rs {})",
        env!("CARGO_PKG_VERSION")
    );
    let db = lcas::db_file_from_env();
    let checked = lcas::check_file(&db, &lcas::Options::from_env());
    checked.diagnostics.iter().for_each(Diagnostic::log);
    let Some(config) = checked.config else {
        log::error!(
            "lcas_init(): LCAS initialization failure: {} is not a usable lcas.db",
            db.display()
        );
        return 1;
    };
    match Lcas::new(config, &LcasCLoader) {
        Ok(l) => {
            *st = Some(l);
            0
        }
        Err(e) => {
            log::error!("lcas_init(): LCAS initialization failure: {e}");
            1
        }
    }
}

/// `int lcas_init(FILE *fp)`: log to `fp` (else syslog), read lcas.db and
/// initialize its plugins. 0 ok (also when already initialized), 1 failure.
#[no_mangle]
pub unsafe extern "C" fn lcas_init(fp: *mut libc::FILE) -> c_int {
    ffi_boundary!("lcas_init", { init(None, fp, clog::DO_USRLOG) })
}

/// `int lcas_init_and_log(FILE *fp, unsigned short logtype)`.
#[no_mangle]
pub unsafe extern "C" fn lcas_init_and_log(fp: *mut libc::FILE, logtype: c_ushort) -> c_int {
    ffi_boundary!("lcas_init_and_log", { init(None, fp, logtype) })
}

/// `int lcas_init_and_logfile(char *logfile, FILE *fp, unsigned short logtype)`.
#[no_mangle]
pub unsafe extern "C" fn lcas_init_and_logfile(
    logfile: *mut c_char,
    fp: *mut libc::FILE,
    logtype: c_ushort,
) -> c_int {
    ffi_boundary!("lcas_init_and_logfile", {
        // SAFETY: NULL or a C string.
        let path = unsafe { cstring_lossy(logfile) }.map(PathBuf::from);
        init(path, fp, logtype)
    })
}

/// `int lcas_term(void)`: terminate the plugins. 0, also when LCAS was not
/// initialized (as liblcas 1.3.19 returns).
#[no_mangle]
pub unsafe extern "C" fn lcas_term() -> c_int {
    ffi_boundary!("lcas_term", {
        clog::install();
        log::debug!("Termination LCAS");
        match state().take() {
            Some(l) => {
                drop(l);
                0
            }
            None => {
                log::debug!("lcas_term(): LCAS was not initialized");
                0
            }
        }
    })
}

fn authorize(name: &str, req: &AuthzRequest, gss: *mut c_void) -> c_int {
    let mut st = state();
    let Some(l) = st.as_mut() else {
        clog::install();
        log::error!("LCAS has to be initialized first !");
        return 1;
    };
    log::info!("LCAS authorization request");
    if let Some(dn) = &req.dn {
        log::info!("{name}(): user is {dn}");
    }
    GSS_CRED.with(|c| c.set(gss));
    let r = l.authorize(req);
    GSS_CRED.with(|c| c.set(ptr::null_mut()));
    match r {
        Ok(()) => {
            log::info!("{name}(): succeeded");
            0
        }
        Err(refusal) => {
            log::warn!("{name}(): failed: {refusal}");
            1
        }
    }
}

/// `int lcas_pem(char *pem_string, lcas_request_t request)`: authorize the
/// PEM chain's end-entity DN (plugins get it through `lcas_get_dn`; the
/// built-ins also see the chain). 0 authorized, 1 not.
#[no_mangle]
pub unsafe extern "C" fn lcas_pem(pem_string: *mut c_char, request: *mut c_char) -> c_int {
    const NAME: &str = "lcas_pem";
    ffi_boundary!(NAME, {
        clog::install();
        // SAFETY: NULL or C strings.
        let (pem, job) = unsafe { (cstring_lossy(pem_string), cstring_lossy(request)) };
        let Some(pem) = pem.filter(|p| !p.is_empty()) else {
            log::error!("{NAME}(): no PEM string given");
            return 1;
        };
        let dn = match lcmaps_x509::Credential::from_pem(&pem) {
            Ok(c) => c.user_dn().to_string(),
            Err(e) => {
                log::error!("{NAME}(): cannot find a certificate chain in the PEM string: {e}");
                return 1;
            }
        };
        let req = AuthzRequest {
            dn: Some(dn),
            request: job,
            pem: Some(pem),
        };
        authorize(NAME, &req, ptr::null_mut())
    })
}

/// `int lcas_get_fabric_authorization(char *user_dn, gss_cred_id_t
/// user_cred, lcas_request_t request)`: the three-argument form Debian's
/// liblcas 1.3.19 is built with (LCAS's lcas.h declares it under
/// `ALLOW_EMPTY_CREDENTIALS`; its two-argument declaration does not match
/// the library) and which lcas-lcmaps-gt4-interface calls. As liblcas: the
/// DN is the credential's, through the Globus GSI libraries loaded at run
/// time (see `lcmaps_run`); `user_dn` is not used when there is a
/// credential, and without one the request is refused before any plugin
/// runs, whatever the DN (liblcas cannot take the certificate out of a
/// NULL credential). `user_dn` is never read as a credential.
#[no_mangle]
pub unsafe extern "C" fn lcas_get_fabric_authorization(
    user_dn: *mut c_char,
    user_cred: *mut c_void,
    request: *mut c_char,
) -> c_int {
    const NAME: &str = "lcas_get_fabric_authorization";
    ffi_boundary!(NAME, {
        clog::install();
        // SAFETY: NULL or a C string (the caller's DN).
        let given_dn = unsafe { cstring_lossy(user_dn) };
        if user_cred.is_null() {
            log::error!(
                "{NAME}(): no GSS credential given (NULL){}: refused, as LCAS \
                 does not authorize on a DN alone",
                given_dn.map_or_else(String::new, |d| format!(" for {d}"))
            );
            return 1;
        }
        // SAFETY: a non-NULL GSS credential handle of the caller.
        let dn = match unsafe { crate::gss::dn_from_cred(user_cred) } {
            Ok(d) => d,
            Err(e) => {
                log::error!("{NAME}(): cannot get the user DN from the GSS credential: {e}");
                return 1;
            }
        };
        if let Some(g) = given_dn.filter(|g| *g != dn) {
            log::debug!(
                "{NAME}(): the DN given ({g}) is not the credential's; deciding on the \
                 credential's, as LCAS does"
            );
        }
        // SAFETY: NULL or a C string.
        let job = unsafe { cstring_lossy(request) };
        let req = AuthzRequest {
            dn: Some(dn),
            request: job,
            pem: None,
        };
        authorize(NAME, &req, user_cred)
    })
}

/// `int getMajorVersionNumber(void)`: LCAS 1.3.19.
#[no_mangle]
pub extern "C" fn getMajorVersionNumber() -> c_int {
    1
}

/// `int getMinorVersionNumber(void)`.
#[no_mangle]
pub extern "C" fn getMinorVersionNumber() -> c_int {
    3
}

/// `int getPatchVersionNumber(void)`.
#[no_mangle]
pub extern "C" fn getPatchVersionNumber() -> c_int {
    19
}
