//! The host for C `.mod` plugins: LCMAPS's plugin manager over `dlopen`.
//!
//! * a module is `dlopen`ed with `RTLD_NOW | RTLD_LOCAL` from the file the
//!   db's search rules found;
//! * `plugin_initialize`, `plugin_run`, `plugin_terminate` and
//!   `plugin_introspect` are mandatory (looked up in that order, LCMAPS's
//!   message when one is missing), `plugin_verify` optional;
//! * `argv[0]` is the resolved path, then the argument tokens;
//! * before every call the introspected `(name, type)` pairs are bound to the
//!   framework's run variables (unknown pair: the run fails);
//! * calls into C plugins are serialized by one process-wide lock, because C
//!   plugins keep static state; the callbacks act on the calling thread's store;
//! * when the process is privileged (euid 0, or euid != uid) a module file, or
//!   a directory above it, not owned by root or writable by group or others
//!   is refused ([`lcmaps_core::trust`]).

use std::collections::{HashMap, HashSet};
use std::ffi::{c_char, c_int, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Mutex;

use libloading::os::unix::Library;

use crate::lcmaps_argument_t;
use crate::mirror;
use crate::module_file::open_module;
use crate::runvars::with_run_vars;
use crate::store::StoreGuard;
use lcmaps_core::db::PluginDecl;
use lcmaps_core::plugin::{self, ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_core::policy::PluginLoader;

type InitFn = unsafe extern "C" fn(c_int, *mut *mut c_char) -> c_int;
type IntroFn = unsafe extern "C" fn(*mut c_int, *mut *mut lcmaps_argument_t) -> c_int;
type RunFn = unsafe extern "C" fn(c_int, *mut lcmaps_argument_t) -> c_int;
type TermFn = unsafe extern "C" fn() -> c_int;

/// Serializes every call into C plugin code.
static C_LOCK: Mutex<()> = Mutex::new(());

/// A C module initialized in this process. A module is one `dlopen` handle
/// with static state: engines sharing it must share one initialization
/// (same arguments), and only the last one terminates it.
struct Shared {
    args: Vec<String>,
    refs: usize,
    /// The argv given to plugin_initialize, freed after plugin_terminate.
    _argv: Vec<CString>,
    intro_args: usize,
    intro_argc: c_int,
    specs: Vec<ArgSpec>,
}

// SAFETY: `intro_args` is the address of the plugin's static argument
// array, stored as an integer and only used under C_LOCK.
unsafe impl Send for Shared {}

static SHARED: Mutex<Option<HashMap<PathBuf, Shared>>> = Mutex::new(None);

fn shared() -> std::sync::MutexGuard<'static, Option<HashMap<PathBuf, Shared>>> {
    SHARED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Most introspected entries accepted from one plugin.
const MAX_INTROSPECT: usize = 1000;

/// Intern a type or name string (introspection results live as long as the
/// process; the set is bounded by the distinct strings plugins use).
fn intern(s: &str) -> &'static str {
    static SET: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    if let Some(a) = plugin::RUN_VARIABLES
        .iter()
        .find(|a| a.name == s || a.ty == s)
    {
        return if a.name == s { a.name } else { a.ty };
    }
    let mut set = SET.lock().unwrap_or_else(|p| p.into_inner());
    let set = set.get_or_insert_with(HashSet::new);
    if let Some(v) = set.get(s) {
        return v;
    }
    let v: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(v);
    v
}

pub use crate::module_file::{check_module_file, privileged};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Loaded,
    Initialized,
    Terminated,
}

/// A C `.mod` plugin.
pub struct CModule {
    path: PathBuf,
    /// The canonical path: the key of the module in SHARED.
    key: PathBuf,
    init: InitFn,
    run: RunFn,
    term: TermFn,
    introspect: IntroFn,
    verify: Option<RunFn>,
    args: *mut lcmaps_argument_t,
    argc: c_int,
    specs: Vec<ArgSpec>,
    state: State,
    // Last: dropped (dlclose) after terminate has run.
    lib: Option<Library>,
}

// SAFETY: the raw pointers (the plugin-owned argument array) are only used
// while C_LOCK is held, and the plugin's code may run on any thread under
// that lock (LCMAPS itself is single-threaded, which the lock emulates).
unsafe impl Send for CModule {}

impl std::fmt::Debug for CModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CModule")
            .field("path", &self.path)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    C_LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

impl CModule {
    /// `dlopen` the module at `path` and look up its entry points, as
    /// LCMAPS's `PluginInit` does.
    pub fn open(path: &Path) -> Result<CModule, String> {
        let lib = open_module(path)?;
        let missing = |f: &str| {
            format!(
                "plugin {} not compliant. Missing function \"{f}()\"",
                path.display()
            )
        };
        // SAFETY: the symbols have the LCMAPS plugin prototypes (spec §1.1);
        // the copied fn pointers stay valid while `lib` is loaded, and
        // `lib` is dropped last.
        unsafe {
            let init = *lib
                .get::<InitFn>(b"plugin_initialize\0")
                .map_err(|_| missing("plugin_initialize"))?;
            let run = *lib
                .get::<RunFn>(b"plugin_run\0")
                .map_err(|_| missing("plugin_run"))?;
            let term = *lib
                .get::<TermFn>(b"plugin_terminate\0")
                .map_err(|_| missing("plugin_terminate"))?;
            let introspect = *lib
                .get::<IntroFn>(b"plugin_introspect\0")
                .map_err(|_| missing("plugin_introspect"))?;
            let verify = lib.get::<RunFn>(b"plugin_verify\0").ok().map(|s| *s);
            if verify.is_none() {
                log::info!(
                    "plugin {} has no plugin_verify(): an old style plugin, not usable for verification",
                    path.display()
                );
            }
            Ok(CModule {
                path: path.to_path_buf(),
                key: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
                init,
                run,
                term,
                introspect,
                verify,
                args: ptr::null_mut(),
                argc: 0,
                specs: Vec::new(),
                state: State::Loaded,
                lib: Some(lib),
            })
        }
    }

    /// The module file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the plugin's introspection array.
    fn read_specs(&mut self) -> Result<(), PluginError> {
        let n = usize::try_from(self.argc).unwrap_or(0).min(MAX_INTROSPECT);
        if n > 0 && self.args.is_null() {
            return Err(PluginError(format!(
                "plugin_introspect() of {} returned {n} arguments but no array",
                self.path.display()
            )));
        }
        let mut specs = Vec::new();
        for i in 0..n {
            // SAFETY: the plugin promised `argc` entries at `args`.
            let e = unsafe { &*self.args.add(i) };
            if e.argName.is_null() {
                break;
            }
            // SAFETY: non-NULL C strings owned by the plugin.
            let name = unsafe { CStr::from_ptr(e.argName) }.to_string_lossy();
            let ty = if e.argType.is_null() {
                String::from("(null)")
            } else {
                // SAFETY: non-NULL C string.
                unsafe { CStr::from_ptr(e.argType) }
                    .to_string_lossy()
                    .into_owned()
            };
            specs.push(ArgSpec {
                name: intern(&name),
                ty: intern(&ty),
            });
        }
        self.argc = c_int::try_from(specs.len()).unwrap_or(0);
        self.specs = specs;
        Ok(())
    }

    fn call(&mut self, ctx: &mut RunContext<'_>, f: RunFn, what: &str) -> Status {
        if self.state != State::Initialized {
            log::error!(
                "{}: {what} called on a plugin that is not initialized",
                self.path.display()
            );
            return Status::Failure;
        }
        let _g = lock();
        if *ctx.store == lcmaps_core::cred::Store::default() {
            mirror::reset_thread_mirror();
        }
        let (argc, args, path) = (self.argc, self.args, &self.path);
        with_run_vars(ctx.request, |vars| {
            for i in 0..usize::try_from(argc).unwrap_or(0) {
                // SAFETY: i < argc entries of the plugin's array.
                let e = unsafe { &mut *args.add(i) };
                let bytes = |p: *const c_char| -> &[u8] {
                    if p.is_null() {
                        b""
                    } else {
                        // SAFETY: a non-NULL C string of the plugin's array.
                        unsafe { CStr::from_ptr(p) }.to_bytes()
                    }
                };
                let (name, ty) = (bytes(e.argName), bytes(e.argType));
                match vars.address(name, ty) {
                    Some(a) => e.value = a,
                    None => {
                        log::error!(
                            "could not GET requested variable \"{}\" of type \"{}\" for plugin {}",
                            String::from_utf8_lossy(name),
                            String::from_utf8_lossy(ty),
                            path.display()
                        );
                        return Status::Failure;
                    }
                }
            }
            let _store = StoreGuard::enter(ctx.store);
            // SAFETY: the plugin's own entry point with its own argument
            // array, all values bound to live framework storage.
            let rc = unsafe { f(argc, args) };
            if rc != 0 {
                // The plugin's own lines (if it wrote any) give its reason;
                // this one is there even when it wrote none.
                log::info!("{} {what} returned {rc}: failure", path.display());
            }
            Status::from_code(rc)
        })
    }
}

impl Plugin for CModule {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        if self.state != State::Loaded {
            return Err(PluginError("plugin initialized twice".into()));
        }
        let args: Vec<String> = argv.iter().skip(1).cloned().collect();
        let mut reg = shared();
        let reg = reg.get_or_insert_with(HashMap::new);
        if let Some(sh) = reg.get_mut(&self.key) {
            // Already initialized by another engine of this process: share
            // that initialization (the module's static state is one).
            if sh.args != args {
                return Err(PluginError(format!(
                    "{} is already in use in this process with other arguments ({:?}); a C \
                     module has one state per process, so every engine must give it the same \
                     arguments",
                    self.path.display(),
                    sh.args
                )));
            }
            sh.refs += 1;
            self.args = sh.intro_args as *mut lcmaps_argument_t;
            self.argc = sh.intro_argc;
            self.specs = sh.specs.clone();
            self.state = State::Initialized;
            return Ok(());
        }
        let argv_c: Vec<CString> = argv
            .iter()
            .map(|a| CString::new(a.replace('\0', "")).unwrap_or_default())
            .collect();
        let mut ptrs: Vec<*mut c_char> = argv_c.iter().map(|a| a.as_ptr().cast_mut()).collect();
        ptrs.push(ptr::null_mut());
        let argc = c_int::try_from(argv_c.len()).unwrap_or(0);
        let _g = lock();
        // SAFETY: argv is a NULL-terminated array of argc C strings that
        // live until the plugin is terminated (kept in SHARED).
        let rc = unsafe { (self.init)(argc, ptrs.as_mut_ptr()) };
        if rc != 0 {
            return Err(PluginError(format!(
                "plugin_initialize() of {} returned {rc}",
                self.path.display()
            )));
        }
        self.state = State::Initialized;
        reg.insert(
            self.key.clone(),
            Shared {
                args,
                refs: 1,
                _argv: argv_c,
                intro_args: 0,
                intro_argc: 0,
                specs: Vec::new(),
            },
        );
        let (mut n, mut a): (c_int, *mut lcmaps_argument_t) = (0, ptr::null_mut());
        // SAFETY: out-pointers to our locals.
        let rc = unsafe { (self.introspect)(&mut n, &mut a) };
        if rc != 0 {
            return Err(PluginError(format!(
                "plugin_introspect() of {} returned {rc}",
                self.path.display()
            )));
        }
        self.argc = n;
        self.args = a;
        self.read_specs()?;
        if let Some(sh) = reg.get_mut(&self.key) {
            sh.intro_args = self.args as usize;
            sh.intro_argc = self.argc;
            sh.specs = self.specs.clone();
        }
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        self.specs.clone()
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let f = self.run;
        self.call(ctx, f, "plugin_run()")
    }

    fn has_verify(&self) -> bool {
        self.verify.is_some()
    }

    fn verify(&mut self, ctx: &mut RunContext<'_>) -> Status {
        match self.verify {
            Some(f) => self.call(ctx, f, "plugin_verify()"),
            None => Status::Failure,
        }
    }

    fn terminate(&mut self) -> Result<(), PluginError> {
        if self.state != State::Initialized {
            self.state = State::Terminated;
            return Ok(());
        }
        self.state = State::Terminated;
        let mut reg = shared();
        let reg = reg.get_or_insert_with(HashMap::new);
        if let Some(sh) = reg.get_mut(&self.key) {
            sh.refs = sh.refs.saturating_sub(1);
            if sh.refs > 0 {
                return Ok(()); // another engine still uses it
            }
        }
        // The last user: terminate, then free the argv it was given.
        let entry = reg.remove(&self.key);
        let _g = lock();
        // SAFETY: the plugin's own entry point, called once per initialize.
        let rc = unsafe { (self.term)() };
        drop(entry);
        if rc != 0 {
            return Err(PluginError(format!(
                "plugin_terminate() of {} returned {rc}",
                self.path.display()
            )));
        }
        Ok(())
    }

    fn enforces_identity(&self) -> bool {
        self.path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("posix_enf"))
    }
}

impl Drop for CModule {
    fn drop(&mut self) {
        if let Err(e) = self.terminate() {
            log::warn!("{e}");
        }
        let lib = self.lib.take();
        let _g = lock();
        drop(lib);
    }
}

/// Loads C `.mod` files.
#[derive(Debug, Default, Clone, Copy)]
pub struct CModLoader;

impl PluginLoader for CModLoader {
    fn load(&self, decl: &PluginDecl) -> Result<Box<dyn Plugin>, String> {
        let Some(file) = &decl.file else {
            return Err(format!(
                "module file {} not found in the module search path",
                decl.module
            ));
        };
        Ok(Box::new(CModule::open(file)?))
    }
}

/// The loader Rust hosts and the C API use: the Rust built-ins
/// (`lcmaps-builtins`) for built-in declarations (a relative module name
/// with no file of that name in the module path), the C host for
/// everything else. The built-ins' account lookups use this host's
/// [`crate::accounts::getgrouplist`].
pub fn default_loader() -> lcmaps_builtins::Loader {
    lcmaps_plugin_common::accounts::use_grouplist(crate::accounts::getgrouplist);
    lcmaps_builtins::Loader::new(Box::new(CModLoader))
}
