//! The C side of an exported plugin: the only `unsafe` code of the SDK.
//!
//! Called from the entry points [`export_plugin!`](crate::export_plugin)
//! writes. The LCMAPS callbacks are *imported*: declared here and left
//! undefined in the `.mod`, so the dynamic linker binds them to whatever
//! host loaded the module (Nikhef's liblcmaps.so.0, ours, or a binary that
//! exports them), exactly as for a C plugin.
//!
//! Every pointer from the host is checked for NULL before use, counts are
//! bounded, and every entry point runs inside `catch_unwind` (panics are
//! logged through the host, never printed on its stderr: `boundary.rs`).

#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::{Mutex, MutexGuard, Once};

use lcmaps_core::cred::{CredData, Store, VoData, VoMapping};
use lcmaps_core::plugin::{ArgSpec, Plugin, Request, RunContext, Status};
use lcmaps_sys as sys;

use crate::{LCMAPS_MOD_FAIL, LCMAPS_MOD_SUCCESS};

pub use lcmaps_sys::lcmaps_argument_t;
use lcmaps_sys::{lcmaps_vo_data_t, lcmaps_vo_mapping_t};

// The host's callbacks, resolved by the dynamic linker at load time from
// the process's global scope (no DT_NEEDED): like every C plugin.
extern "C" {
    fn getCredentialData(datatype: c_int, count: *mut c_int) -> *mut c_void;
    fn addCredentialData(datatype: c_int, data: *mut c_void) -> c_int;
    fn lcmaps_getArgValue(
        name: *const c_char,
        ty: *const c_char,
        argc: c_int,
        argv: *mut lcmaps_argument_t,
    ) -> *mut c_void;
    fn lcmaps_log(prty: c_int, fmt: *const c_char, ...) -> c_int;
}

/// Largest count accepted from `getCredentialData` or a run variable.
const MAX_COUNT: c_int = 1 << 20;

/// `msg` as one log line for a host's C logger: NULs escaped, a final
/// newline (LCMAPS and LCAS messages end in one).
pub(crate) fn log_line(msg: &str) -> CString {
    let mut text = msg.replace('\0', "\\0");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    CString::new(text).unwrap_or_default()
}

/// Log `msg` through the host's `lcmaps_log` at syslog priority `prio`.
pub fn host_log(prio: c_int, msg: &str) {
    let text = log_line(msg);
    // SAFETY: lcmaps_log(int, const char *fmt, ...) with the constant
    // format "%s" and one NUL-terminated string argument that outlives
    // the call.
    unsafe {
        lcmaps_log(prio, c"%s".as_ptr(), text.as_ptr());
    }
}

/// The `log` sink of a `.mod`: every record goes to the host's logger
/// (`lcmaps_log` or `lcas_log`) through the given function.
#[derive(Debug)]
pub(crate) struct HostLogger(pub(crate) fn(c_int, &str));

impl log::Log for HostLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let prio = lcmaps_core::log::Priority::of(record.level(), record.target()) as c_int;
        (self.0)(prio, &record.args().to_string());
    }

    fn flush(&self) {}
}

static LOGGER: HostLogger = HostLogger(host_log);

/// Make `logger` the `log` logger of the module (once per process; a
/// module is either an LCMAPS or an LCAS plugin).
pub(crate) fn install_logger(logger: &'static HostLogger) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if log::set_logger(logger).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    });
}

/// The introspection array handed to the host, with the strings it points
/// to. The host writes `value` fields into it before each run.
#[derive(Debug)]
struct ArgTable {
    specs: Vec<ArgSpec>,
    _strings: Vec<CString>,
    entries: Box<[lcmaps_argument_t]>,
}

// SAFETY: the raw pointers in `entries` point into `_strings` (owned by the
// table, moved with it) or are values the host bound; the table is only
// touched under the State mutex.
unsafe impl Send for ArgTable {}

impl ArgTable {
    fn new(specs: Vec<ArgSpec>) -> Option<ArgTable> {
        let mut strings = Vec::with_capacity(specs.len() * 2);
        let mut entries = Vec::with_capacity(specs.len() + 1);
        for s in &specs {
            let name = CString::new(s.name).ok()?;
            let ty = CString::new(s.ty).ok()?;
            entries.push(lcmaps_argument_t {
                argName: name.as_ptr(),
                argType: ty.as_ptr(),
                argInOut: 0,
                value: std::ptr::null_mut(),
            });
            strings.push(name);
            strings.push(ty);
        }
        entries.push(lcmaps_argument_t {
            argName: std::ptr::null(),
            argType: std::ptr::null(),
            argInOut: -1,
            value: std::ptr::null_mut(),
        });
        Some(ArgTable {
            specs,
            _strings: strings,
            entries: entries.into_boxed_slice(),
        })
    }
}

#[derive(Default)]
struct Inner {
    plugin: Option<Box<dyn Plugin>>,
    table: Option<ArgTable>,
    name: String,
}

/// The per-`.mod` state behind the exported entry points.
pub struct State(Mutex<Option<Inner>>);

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("State")
    }
}

impl State {
    /// An empty state (before `plugin_initialize`).
    pub const fn new() -> State {
        State(Mutex::new(None))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Inner>> {
        // A panic inside a plugin call poisons nothing we rely on: the
        // plugin object is dropped or kept as the plugin left it.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// Run an entry point's body; a panic is logged (see `boundary.rs`: one
/// line, nothing on the host's stderr) and becomes `LCMAPS_MOD_FAIL`.
fn boundary(what: &'static str, name: &str, f: impl FnOnce() -> c_int) -> c_int {
    match crate::boundary::catch(what, host_log, f) {
        Ok(rc) => rc,
        Err(None) => LCMAPS_MOD_FAIL,
        Err(Some(msg)) => {
            host_log(
                3,
                &format!("{name}-{what}(): the plugin panicked: {msg}; failing"),
            );
            LCMAPS_MOD_FAIL
        }
    }
}

/// Copy a C string (lossy UTF-8); NULL is `None`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// The strings of a host's `argv` (up to the first NULL, at most 4096).
///
/// # Safety
/// `argv` is NULL or points to `argc` (NULL or NUL-terminated) strings.
pub(crate) unsafe fn argv_strings(argc: c_int, argv: *mut *mut c_char) -> Vec<String> {
    let mut args = Vec::new();
    if argv.is_null() {
        return args;
    }
    for i in 0..usize::try_from(argc).unwrap_or(0).min(4096) {
        // SAFETY: argv has argc entries (caller's contract), i < argc; each
        // entry is NULL or NUL-terminated.
        match unsafe { string(*argv.add(i)) } {
            Some(s) => args.push(s),
            None => break,
        }
    }
    args
}

/// `plugin_initialize`.
///
/// # Safety
/// `argv` is NULL or points to `argc` (NULL or NUL-terminated) strings.
pub unsafe fn initialize(
    state: &State,
    new: fn() -> Box<dyn Plugin>,
    argc: c_int,
    argv: *mut *mut c_char,
) -> c_int {
    install_logger(&LOGGER);
    // SAFETY: forwarded contract.
    let args = unsafe { argv_strings(argc, argv) };
    let name = args
        .first()
        .map(|p| {
            let file = p.rsplit('/').next().unwrap_or(p);
            file.strip_suffix(".mod").unwrap_or(file).to_string()
        })
        .unwrap_or_else(|| "lcmaps_plugin".into());
    crate::boundary::set_module_name(&name);
    let mut guard = state.lock();
    boundary("plugin_initialize", &name.clone(), move || {
        let mut plugin = new();
        match plugin.initialize(&args) {
            Ok(()) => {
                *guard = Some(Inner {
                    plugin: Some(plugin),
                    table: None,
                    name,
                });
                LCMAPS_MOD_SUCCESS
            }
            Err(e) => {
                host_log(3, &format!("{name}-plugin_initialize(): {e}"));
                *guard = None;
                LCMAPS_MOD_FAIL
            }
        }
    })
}

/// The host's LCMAPS version, from `lcmaps_get_{major,minor,patch}_version`
/// in the process's global scope.
pub fn host_version() -> Option<(i32, i32, i32)> {
    type VersionFn = unsafe extern "C" fn() -> c_int;
    let this = libloading::os::unix::Library::this();
    let get = |sym: &[u8]| -> Option<i32> {
        // SAFETY: the symbol, when present, is LCMAPS's `int f(void)`.
        let f = unsafe { this.get::<VersionFn>(sym) }.ok()?;
        // SAFETY: calling `int lcmaps_get_*_version(void)`, no arguments.
        Some(unsafe { f() })
    };
    Some((
        get(b"lcmaps_get_major_version\0")?,
        get(b"lcmaps_get_minor_version\0")?,
        get(b"lcmaps_get_patch_version\0")?,
    ))
}

/// `plugin_introspect`.
///
/// # Safety
/// `argc` and `argv` are NULL or writable.
pub unsafe fn introspect(
    state: &State,
    argc: *mut c_int,
    argv: *mut *mut lcmaps_argument_t,
) -> c_int {
    let mut guard = state.lock();
    let Some(inner) = guard.as_mut() else {
        host_log(
            3,
            "lcmaps_plugin-plugin_introspect(): called before a successful plugin_initialize",
        );
        return LCMAPS_MOD_FAIL;
    };
    if argc.is_null() || argv.is_null() {
        host_log(
            3,
            &format!("{}-plugin_introspect(): NULL argument", inner.name),
        );
        return LCMAPS_MOD_FAIL;
    }
    let name = inner.name.clone();
    boundary("plugin_introspect", &name, || {
        let Some(plugin) = inner.plugin.as_ref() else {
            return LCMAPS_MOD_FAIL;
        };
        let specs = crate::filter_introspection(plugin.introspect(), host_version());
        let Some(mut table) = ArgTable::new(specs) else {
            host_log(
                3,
                &format!(
                    "{}-plugin_introspect(): NUL in an argument name",
                    inner.name
                ),
            );
            return LCMAPS_MOD_FAIL;
        };
        let n = table.specs.len() as c_int;
        let p = table.entries.as_mut_ptr();
        inner.table = Some(table);
        // SAFETY: both checked non-NULL above; the host passes writable
        // out-parameters. The array stays alive (in `inner.table`, a boxed
        // slice that does not move) until plugin_terminate.
        unsafe {
            *argc = n;
            *argv = p;
        }
        LCMAPS_MOD_SUCCESS
    })
}

/// Read the run variables the plugin introspected from the array the host
/// bound.
///
/// # Safety
/// `argv` is NULL or the host's bound array of `argc` entries.
unsafe fn request(specs: &[ArgSpec], argc: c_int, argv: *mut lcmaps_argument_t) -> Request {
    let mut r = Request::default();
    if argv.is_null() {
        return r;
    }
    let value = |name: &str, ty: &str| -> *mut c_void {
        if !specs.iter().any(|s| s.name == name && s.ty == ty) {
            return std::ptr::null_mut();
        }
        let (Ok(n), Ok(t)) = (CString::new(name), CString::new(ty)) else {
            return std::ptr::null_mut();
        };
        // SAFETY: NUL-terminated name and type; argv/argc are the host's.
        unsafe { lcmaps_getArgValue(n.as_ptr(), t.as_ptr(), argc, argv) }
    };
    // SAFETY (for the helpers below): lcmaps_getArgValue returns NULL or
    // the pointer the host bound to a variable of the named C type.
    let string_var = |name: &str| -> Option<String> {
        let p = value(name, "char *") as *const *const c_char;
        if p.is_null() {
            return None;
        }
        // SAFETY: p points to the host's `char *` variable, which is NULL
        // or a NUL-terminated string.
        unsafe { string(*p) }
    };
    let int_var = |name: &str, ty: &str| -> Option<c_int> {
        let p = value(name, ty) as *const c_int;
        // SAFETY: p is NULL or points to the host's int-sized variable.
        (!p.is_null()).then(|| unsafe { *p })
    };
    r.user_dn = string_var("user_dn");
    r.requested_username = string_var("requested_username");
    r.requested_poolindex = string_var("requested_poolindex");
    r.pem = string_var("pem_string");
    r.job_request = string_var("job_request").or_else(|| {
        let p = value("job_request", "lcmaps_request_t") as *const *const c_char;
        // SAFETY: lcmaps_request_t is `char *`; p is NULL or points to it.
        (!p.is_null()).then(|| unsafe { string(*p) }).flatten()
    });
    r.mapcounter = int_var("mapcounter", "int").unwrap_or(0);
    r.requested_uid = int_var("requested_uid", "uid_t")
        .map(|u| u as u32)
        .filter(|&u| u != u32::MAX);
    if let Some(n) = int_var("nfqan", "int").filter(|n| (0..MAX_COUNT).contains(n)) {
        let p = value("fqan_list", "char **") as *const *const *const c_char;
        if !p.is_null() {
            // SAFETY: p points to the host's `char **` variable.
            let list = unsafe { *p };
            if !list.is_null() {
                for i in 0..n as usize {
                    // SAFETY: the host's list has nfqan entries.
                    if let Some(f) = unsafe { string(*list.add(i)) } {
                        r.fqans.push(f);
                    }
                }
            }
        }
    }
    let gids = |list: &str, count: &str| -> Vec<u32> {
        let Some(n) = int_var(count, "int").filter(|n| (0..MAX_COUNT).contains(n)) else {
            return Vec::new();
        };
        let p = value(list, "gid_t *") as *const *const u32;
        if p.is_null() {
            return Vec::new();
        }
        // SAFETY: p points to the host's `gid_t *` variable.
        let list = unsafe { *p };
        if list.is_null() {
            return Vec::new();
        }
        // SAFETY: the host's list has `count` gids.
        unsafe { std::slice::from_raw_parts(list, n as usize) }.to_vec()
    };
    r.requested_pgids = gids("requested_pgid_list", "requested_npgid");
    r.requested_sgids = gids("requested_sgid_list", "requested_nsgid");
    r
}

/// `getCredentialData(datatype)` as a slice.
///
/// # Safety
/// The host's `getCredentialData` returns NULL or `count` elements of `T`.
unsafe fn get_all<'a, T>(datatype: c_int) -> &'a [T] {
    let mut n: c_int = 0;
    // SAFETY: n is a valid out-parameter.
    let p = unsafe { getCredentialData(datatype, &mut n) } as *const T;
    if p.is_null() || n <= 0 || n > MAX_COUNT {
        return &[];
    }
    // SAFETY: the host returned n elements of T at p; they stay valid
    // during this plugin call (we copy them right away).
    unsafe { std::slice::from_raw_parts(p, n as usize) }
}

/// The host's credential store as a [`Store`].
fn read_store() -> Store {
    let mut s = Store::new();
    // SAFETY: LCMAPS returns `char **` (one entry) for DN and POOL_INDEX.
    let single = |t| unsafe { get_all::<*const c_char>(t) }.first().copied();
    // SAFETY: the entry is NULL or a NUL-terminated string.
    s.dn = single(sys::DN).and_then(|p| unsafe { string(p) });
    // SAFETY: as above.
    s.pool_index = single(sys::POOL_INDEX).and_then(|p| unsafe { string(p) });
    // SAFETY: uid_t / gid_t arrays.
    s.uids = unsafe { get_all::<u32>(sys::UID) }.to_vec();
    // SAFETY: gid_t array.
    s.pri_gids = unsafe { get_all::<u32>(sys::PRI_GID) }.to_vec();
    // SAFETY: gid_t array.
    s.sec_gids = unsafe { get_all::<u32>(sys::SEC_GID) }.to_vec();
    // SAFETY: char * array; each entry NULL or a string.
    s.vo_strings = unsafe { get_all::<*const c_char>(sys::LCMAPS_VO_CRED_STRING) }
        .iter()
        .filter_map(|&p| unsafe { string(p) })
        .collect();
    // SAFETY: lcmaps_vo_data_t array; each field NULL or a string.
    s.vo_data = unsafe { get_all::<lcmaps_vo_data_t>(sys::LCMAPS_VO_CRED) }
        .iter()
        .map(|v| unsafe {
            VoData {
                vo: string(v.vo),
                group: string(v.group),
                subgroup: string(v.subgroup),
                role: string(v.role),
                capability: string(v.capability),
            }
        })
        .collect();
    // SAFETY: lcmaps_vo_mapping_t array; string fields NULL or strings.
    s.vo_mappings = unsafe { get_all::<lcmaps_vo_mapping_t>(sys::LCMAPS_VO_CRED_MAPPING) }
        .iter()
        .map(|m| unsafe {
            VoMapping {
                vostring: string(m.vostring).unwrap_or_default(),
                groupname: string(m.groupname),
                gid: m.gid,
            }
        })
        .collect();
    s
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn opt_cstring(s: &Option<String>) -> Option<CString> {
    s.as_deref().map(cstring)
}

fn ptr(c: &mut Option<CString>) -> *mut c_char {
    c.as_ref()
        .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_char)
}

/// `addCredentialData` for one item; false when the host refused it.
fn add(data: &CredData) -> bool {
    let rc = match data {
        CredData::Dn(s) | CredData::PoolIndex(s) | CredData::VoCredString(s) => {
            let t = match data {
                CredData::Dn(_) => sys::DN,
                CredData::PoolIndex(_) => sys::POOL_INDEX,
                _ => sys::LCMAPS_VO_CRED_STRING,
            };
            let c = cstring(s);
            let mut p = c.as_ptr() as *mut c_char;
            // SAFETY: LCMAPS takes `char **` for these types and copies
            // the string; `c` outlives the call.
            unsafe { addCredentialData(t, (&mut p as *mut *mut c_char).cast()) }
        }
        CredData::Uid(v) | CredData::PriGid(v) | CredData::SecGid(v) => {
            let t = match data {
                CredData::Uid(_) => sys::UID,
                CredData::PriGid(_) => sys::PRI_GID,
                _ => sys::SEC_GID,
            };
            let mut v = *v;
            // SAFETY: LCMAPS takes `uid_t *` / `gid_t *` and copies it.
            unsafe { addCredentialData(t, (&mut v as *mut u32).cast()) }
        }
        CredData::VoCred(v) => {
            let mut f = [
                opt_cstring(&v.vo),
                opt_cstring(&v.group),
                opt_cstring(&v.subgroup),
                opt_cstring(&v.role),
                opt_cstring(&v.capability),
            ];
            let mut c = lcmaps_vo_data_t {
                vo: ptr(&mut f[0]),
                group: ptr(&mut f[1]),
                subgroup: ptr(&mut f[2]),
                role: ptr(&mut f[3]),
                capability: ptr(&mut f[4]),
            };
            // SAFETY: LCMAPS deep-copies the lcmaps_vo_data_t; its strings
            // (in `f`) outlive the call.
            unsafe {
                addCredentialData(
                    sys::LCMAPS_VO_CRED,
                    (&mut c as *mut lcmaps_vo_data_t).cast(),
                )
            }
        }
        CredData::VoCredMapping(m) => {
            let mut v = Some(cstring(&m.vostring));
            let mut g = opt_cstring(&m.groupname);
            let mut c = lcmaps_vo_mapping_t {
                vostring: ptr(&mut v),
                groupname: ptr(&mut g),
                gid: m.gid,
            };
            // SAFETY: LCMAPS deep-copies the lcmaps_vo_mapping_t; its
            // strings outlive the call.
            unsafe {
                addCredentialData(
                    sys::LCMAPS_VO_CRED_MAPPING,
                    (&mut c as *mut lcmaps_vo_mapping_t).cast(),
                )
            }
        }
    };
    rc == 0
}

/// `plugin_run` (`verify == false`) and `plugin_verify`.
///
/// # Safety
/// `argv` is NULL or the array from `plugin_introspect`, bound by the host.
pub unsafe fn run(state: &State, verify: bool, argc: c_int, argv: *mut lcmaps_argument_t) -> c_int {
    let what = if verify {
        "plugin_verify"
    } else {
        "plugin_run"
    };
    let mut guard = state.lock();
    let Some(inner) = guard.as_mut() else {
        host_log(
            3,
            &format!("lcmaps_plugin-{what}(): called before a successful plugin_initialize"),
        );
        return LCMAPS_MOD_FAIL;
    };
    let name = inner.name.clone();
    boundary(what, &name, || {
        let specs = inner
            .table
            .as_ref()
            .map(|t| t.specs.as_slice())
            .unwrap_or_default();
        // SAFETY: argv/argc come from the host (caller's contract).
        let request = unsafe { request(specs, argc, argv) };
        let Some(plugin) = inner.plugin.as_mut() else {
            return LCMAPS_MOD_FAIL;
        };
        if verify && !plugin.has_verify() {
            host_log(
                3,
                &format!("{name}-{what}(): this plugin has no verification mode"),
            );
            return LCMAPS_MOD_FAIL;
        }
        let before = read_store();
        let mut store = before.clone();
        let status = {
            let mut ctx = RunContext {
                request: &request,
                store: &mut store,
            };
            if verify {
                plugin.verify(&mut ctx)
            } else {
                plugin.run(&mut ctx)
            }
        };
        // What the plugin added reaches the host even when it failed, as
        // with a C plugin's addCredentialData calls.
        let additions = match crate::store_additions(&before, &store) {
            Ok(a) => a,
            Err(e) => {
                host_log(3, &format!("{name}-{what}(): {e}"));
                return LCMAPS_MOD_FAIL;
            }
        };
        for a in &additions {
            if !add(a) {
                host_log(
                    3,
                    &format!("{name}-{what}(): addCredentialData refused {a:?}"),
                );
                return LCMAPS_MOD_FAIL;
            }
        }
        match status {
            Status::Success => LCMAPS_MOD_SUCCESS,
            Status::Failure => LCMAPS_MOD_FAIL,
        }
    })
}

/// `plugin_terminate`.
pub fn terminate(state: &State) -> c_int {
    let mut guard = state.lock();
    let Some(mut inner) = guard.take() else {
        return LCMAPS_MOD_SUCCESS;
    };
    let name = inner.name.clone();
    boundary("plugin_terminate", &name, || {
        let rc = match inner.plugin.as_mut().map(|p| p.terminate()) {
            Some(Err(e)) => {
                host_log(4, &format!("{name}-plugin_terminate(): {e}"));
                LCMAPS_MOD_FAIL
            }
            _ => LCMAPS_MOD_SUCCESS,
        };
        drop(inner);
        rc
    })
}
