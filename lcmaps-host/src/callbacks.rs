//! The plugin helper API (spec §2.3-§2.7): what C plugins import from
//! liblcmaps by name.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

use crate::cstr::{cstr, cstring_lossy, malloc_slice, malloc_str};
use crate::ffi_boundary;
use crate::store::with_store;
use crate::{lcmaps_argument_t, lcmaps_vo_data_t, lcmaps_vo_mapping_t};
use lcmaps_core::cred::{CredData, VoData, VoMapping};
use lcmaps_sys as sys;

/// Version reported to plugins (they probe it with `dlsym`): LCMAPS 1.6.6.
pub const VERSION: (c_int, c_int, c_int) = (1, 6, 6);

/// `int lcmaps_get_major_version(void)`: 1.
#[no_mangle]
pub extern "C" fn lcmaps_get_major_version() -> c_int {
    VERSION.0
}

/// `int lcmaps_get_minor_version(void)`: 6.
#[no_mangle]
pub extern "C" fn lcmaps_get_minor_version() -> c_int {
    VERSION.1
}

/// `int lcmaps_get_patch_version(void)`: 6.
#[no_mangle]
pub extern "C" fn lcmaps_get_patch_version() -> c_int {
    VERSION.2
}

// ---------------------------------------------------------------- cred data

/// Read a `char *` that `data` points to (a `char **`).
///
/// # Safety
/// `data` is a valid `char **`.
unsafe fn str_at(data: *mut c_void) -> Option<String> {
    // SAFETY: by contract data points to a `char *`.
    let p = unsafe { *data.cast::<*const c_char>() };
    // SAFETY: that pointer is NULL or a C string.
    unsafe { cstring_lossy(p) }
}

/// Convert a C `lcmaps_vo_data_t`.
///
/// # Safety
/// `v` is valid; its fields are NULL or C strings.
unsafe fn vo_data_from(v: &lcmaps_vo_data_t) -> VoData {
    // SAFETY: the fields are NULL or C strings (contract).
    unsafe {
        VoData {
            vo: cstring_lossy(v.vo),
            group: cstring_lossy(v.group),
            subgroup: cstring_lossy(v.subgroup),
            role: cstring_lossy(v.role),
            capability: cstring_lossy(v.capability),
        }
    }
}

/// `int addCredentialData(int datatype, void *data)`: add to the store of
/// the running plugin with LCMAPS's semantics. 0 ok (also for NULL `data`),
/// -1 for an unknown type or a NULL string inside `data`.
#[no_mangle]
pub unsafe extern "C" fn addCredentialData(datatype: c_int, data: *mut c_void) -> c_int {
    // -1, not 1: the plugin helpers' error code (lcmaps_cred_data.h: 0 ok, -1 error).
    ffi_boundary!("addCredentialData", on_panic = -1, {
        if data.is_null() {
            return 0;
        }
        // SAFETY: for each type `data` points to the C type LCMAPS documents.
        let item = unsafe {
            match datatype {
                sys::DN => str_at(data).map(CredData::Dn),
                sys::POOL_INDEX => str_at(data).map(CredData::PoolIndex),
                sys::LCMAPS_VO_CRED_STRING => str_at(data).map(CredData::VoCredString),
                sys::UID => Some(CredData::Uid(*data.cast::<libc::uid_t>())),
                sys::PRI_GID => Some(CredData::PriGid(*data.cast::<libc::gid_t>())),
                sys::SEC_GID => Some(CredData::SecGid(*data.cast::<libc::gid_t>())),
                sys::LCMAPS_VO_CRED => Some(CredData::VoCred(vo_data_from(
                    &*data.cast::<lcmaps_vo_data_t>(),
                ))),
                sys::LCMAPS_VO_CRED_MAPPING => {
                    let m = &*data.cast::<lcmaps_vo_mapping_t>();
                    cstring_lossy(m.vostring).map(|vostring| {
                        CredData::VoCredMapping(VoMapping {
                            vostring,
                            groupname: cstring_lossy(m.groupname),
                            gid: m.gid,
                        })
                    })
                }
                _ => {
                    log::error!("addCredentialData(): unknown datatype {datatype}");
                    return -1;
                }
            }
        };
        match item {
            Some(item) => {
                with_store(|s, _| s.add(item));
                0
            }
            None => -1,
        }
    })
}

/// `void *getCredentialData(int datatype, int *count)`: a pointer into the
/// store (valid until the store is reset; do not free). Empty list: NULL and
/// `*count` 0; unset DN or POOL_INDEX: a `char **` to NULL and `*count` 0, as
/// LCMAPS. Unknown type: NULL, `*count` untouched.
#[no_mangle]
pub unsafe extern "C" fn getCredentialData(datatype: c_int, count: *mut c_int) -> *mut c_void {
    ffi_boundary!("getCredentialData", {
        if count.is_null() {
            log::error!("getCredentialData(): count is NULL");
            return ptr::null_mut();
        }
        let n = |len: usize| c_int::try_from(len).unwrap_or(c_int::MAX);
        let got: Option<(Option<*mut c_void>, c_int)> = with_store(|s, m| {
            Some(match datatype {
                sys::DN => (
                    Some(m.dn(s).unwrap_or_else(|| m.null_slot()).cast()),
                    n(s.dn.iter().count()),
                ),
                sys::POOL_INDEX => (
                    Some(m.pool_index(s).unwrap_or_else(|| m.null_slot()).cast()),
                    n(s.pool_index.iter().count()),
                ),
                sys::UID => (m.uids(s).map(|p| p.cast()), n(s.uids.len())),
                sys::PRI_GID => (m.pri_gids(s).map(|p| p.cast()), n(s.pri_gids.len())),
                sys::SEC_GID => (m.sec_gids(s).map(|p| p.cast()), n(s.sec_gids.len())),
                sys::LCMAPS_VO_CRED => (m.vo_data(s).map(|p| p.cast()), n(s.vo_data.len())),
                sys::LCMAPS_VO_CRED_STRING => {
                    (m.vo_strings(s).map(|p| p.cast()), n(s.vo_strings.len()))
                }
                sys::LCMAPS_VO_CRED_MAPPING => {
                    (m.vo_mappings(s).map(|p| p.cast()), n(s.vo_mappings.len()))
                }
                _ => return None,
            })
        });
        match got {
            None => {
                log::error!("getCredentialData(): unknown datatype {datatype}");
                ptr::null_mut()
            }
            Some((p, c)) => {
                // SAFETY: count is non-NULL (checked) and points to an int.
                unsafe { *count = if p.is_some() { c } else { 0 } };
                p.unwrap_or(ptr::null_mut())
            }
        }
    })
}

/// `int lcmaps_cleanCredentialData(void)`: empty the store. Always 0.
#[no_mangle]
pub extern "C" fn lcmaps_cleanCredentialData() -> c_int {
    // 0: it has no failure code; a panic leaves the store as it was.
    ffi_boundary!("lcmaps_cleanCredentialData", on_panic = 0, {
        with_store(|s, m| {
            s.clear();
            m.clear();
        });
        0
    })
}

/// `int lcmaps_resetCredentialData(void)`: same as
/// [`lcmaps_cleanCredentialData`].
#[no_mangle]
pub extern "C" fn lcmaps_resetCredentialData() -> c_int {
    lcmaps_cleanCredentialData()
}

/// `void lcmaps_printCredData(int debug_level)`: log the
/// `LCMAPS CRED FINAL` lines of the store.
#[no_mangle]
pub extern "C" fn lcmaps_printCredData(debug_level: c_int) {
    let _ = debug_level;
    ffi_boundary!("lcmaps_printCredData", {
        with_store(|s, _| s.log_final());
    })
}

// ---------------------------------------------------------------- arguments

/// Entry `i` of an argument array.
///
/// # Safety
/// `argv` has at least `i + 1` entries.
unsafe fn entry<'a>(argv: *mut lcmaps_argument_t, i: usize) -> &'a mut lcmaps_argument_t {
    // SAFETY: in bounds by the caller's contract.
    unsafe { &mut *argv.add(i) }
}

/// Index of the first entry matching `name` (and `ty` when given).
///
/// # Safety
/// `argv` has `argc` entries whose names/types are NULL or C strings.
unsafe fn find(
    name: *const c_char,
    ty: Option<*const c_char>,
    argc: c_int,
    argv: *mut lcmaps_argument_t,
) -> c_int {
    if name.is_null() || argv.is_null() || ty.is_some_and(|t| t.is_null()) {
        return -1;
    }
    // SAFETY: name is a non-NULL C string.
    let name = unsafe { CStr::from_ptr(name) };
    // SAFETY: ty, when given, is a non-NULL C string (checked above).
    let ty = ty.map(|t| unsafe { CStr::from_ptr(t) });
    for i in 0..usize::try_from(argc).unwrap_or(0) {
        // SAFETY: i < argc entries.
        let e = unsafe { entry(argv, i) };
        if e.argName.is_null() {
            continue;
        }
        // SAFETY: non-NULL C string.
        if unsafe { CStr::from_ptr(e.argName) } != name {
            continue;
        }
        if let Some(ty) = ty {
            // SAFETY: non-NULL C string.
            if e.argType.is_null() || unsafe { CStr::from_ptr(e.argType) } != ty {
                continue;
            }
        }
        return c_int::try_from(i).unwrap_or(-1);
    }
    -1
}

/// `int lcmaps_findArgName(const char *name, int argc, lcmaps_argument_t *argv)`:
/// index or -1.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_findArgName(
    name: *const c_char,
    argc: c_int,
    argv: *mut lcmaps_argument_t,
) -> c_int {
    // -1, not 1: "not found" (lcmaps_arguments.h: an index or -1).
    ffi_boundary!("lcmaps_findArgName", on_panic = -1, {
        // SAFETY: the caller's contract is find's.
        unsafe { find(name, None, argc, argv) }
    })
}

/// `int lcmaps_findArgNameAndType(name, type, argc, argv)`: index or -1.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_findArgNameAndType(
    name: *const c_char,
    ty: *const c_char,
    argc: c_int,
    argv: *mut lcmaps_argument_t,
) -> c_int {
    // -1, not 1: "not found" (lcmaps_arguments.h: an index or -1).
    ffi_boundary!("lcmaps_findArgNameAndType", on_panic = -1, {
        // SAFETY: the caller's contract is find's.
        unsafe { find(name, Some(ty), argc, argv) }
    })
}

/// `void *lcmaps_getArgValue(name, type, argc, argv)`: the bound pointer,
/// NULL when not found.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_getArgValue(
    name: *const c_char,
    ty: *const c_char,
    argc: c_int,
    argv: *mut lcmaps_argument_t,
) -> *mut c_void {
    ffi_boundary!("lcmaps_getArgValue", {
        // SAFETY: the caller's contract is find's.
        let i = unsafe { find(name, Some(ty), argc, argv) };
        match usize::try_from(i) {
            // SAFETY: i < argc.
            Ok(i) => unsafe { entry(argv, i) }.value,
            Err(_) => ptr::null_mut(),
        }
    })
}

/// `int lcmaps_setArgValue(name, type, value, argc, lcmaps_argument_t **argv)`:
/// 0 ok, -1 not found.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_setArgValue(
    name: *const c_char,
    ty: *const c_char,
    value: *mut c_void,
    argc: c_int,
    argv: *mut *mut lcmaps_argument_t,
) -> c_int {
    // -1, not 1: lcmaps_arguments.h: 0 ok, -1 (name, type) not found.
    ffi_boundary!("lcmaps_setArgValue", on_panic = -1, {
        if argv.is_null() {
            return -1;
        }
        // SAFETY: argv is a non-NULL `lcmaps_argument_t **`.
        let arr = unsafe { *argv };
        // SAFETY: the caller's contract is find's.
        let i = unsafe { find(name, Some(ty), argc, arr) };
        match usize::try_from(i) {
            Ok(i) => {
                // SAFETY: i < argc.
                unsafe { entry(arr, i) }.value = value;
                0
            }
            Err(_) => -1,
        }
    })
}

/// `int lcmaps_cntArgs(lcmaps_argument_t *argv)`: entries before the one
/// with a NULL `argName` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_cntArgs(argv: *mut lcmaps_argument_t) -> c_int {
    // 0, not 1: a count; no arguments is the harmless answer.
    ffi_boundary!("lcmaps_cntArgs", on_panic = 0, {
        if argv.is_null() {
            return 0;
        }
        let mut i = 0usize;
        // SAFETY: the array is terminated by an entry with a NULL name.
        while !unsafe { entry(argv, i) }.argName.is_null() {
            i += 1;
        }
        c_int::try_from(i).unwrap_or(c_int::MAX)
    })
}

// ---------------------------------------------------------------- VO data

fn dup_opt(s: &Option<String>) -> *mut c_char {
    s.as_deref().map_or(ptr::null_mut(), malloc_str)
}

/// `free` a field and NULL it.
///
/// # Safety
/// `*p` is NULL or malloc'ed.
unsafe fn free_field(p: &mut *mut c_char) {
    // SAFETY: malloc'ed or NULL by contract.
    unsafe { libc::free(p.cast()) };
    *p = ptr::null_mut();
}

/// `lcmaps_vo_data_t *lcmaps_createVoData(vo, group, subgroup, role,
/// capability)`: malloc'ed, fields strdup'ed (NULL stays NULL).
#[no_mangle]
pub unsafe extern "C" fn lcmaps_createVoData(
    vo: *const c_char,
    group: *const c_char,
    subgroup: *const c_char,
    role: *const c_char,
    capability: *const c_char,
) -> *mut lcmaps_vo_data_t {
    ffi_boundary!("lcmaps_createVoData", {
        // SAFETY: each is NULL or a C string.
        let d = unsafe {
            VoData {
                vo: cstring_lossy(vo),
                group: cstring_lossy(group),
                subgroup: cstring_lossy(subgroup),
                role: cstring_lossy(role),
                capability: cstring_lossy(capability),
            }
        };
        let v = lcmaps_vo_data_t {
            vo: dup_opt(&d.vo),
            group: dup_opt(&d.group),
            subgroup: dup_opt(&d.subgroup),
            role: dup_opt(&d.role),
            capability: dup_opt(&d.capability),
        };
        malloc_slice(&[v])
    })
}

/// `int lcmaps_cleanVoData(lcmaps_vo_data_t *)`: free the fields. 0, or -1
/// for NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_cleanVoData(vo_data: *mut lcmaps_vo_data_t) -> c_int {
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_cleanVoData", on_panic = -1, {
        if vo_data.is_null() {
            return -1;
        }
        // SAFETY: non-NULL, valid by contract; the fields are malloc'ed or NULL.
        unsafe {
            let v = &mut *vo_data;
            free_field(&mut v.vo);
            free_field(&mut v.group);
            free_field(&mut v.subgroup);
            free_field(&mut v.role);
            free_field(&mut v.capability);
        }
        0
    })
}

/// `int lcmaps_deleteVoData(lcmaps_vo_data_t **)`: clean, free, NULL the
/// pointer. 0, or -1 for NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_deleteVoData(vo_data: *mut *mut lcmaps_vo_data_t) -> c_int {
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_deleteVoData", on_panic = -1, {
        // SAFETY: checked for NULL before each dereference.
        unsafe {
            if vo_data.is_null() || (*vo_data).is_null() {
                return -1;
            }
            lcmaps_cleanVoData(*vo_data);
            libc::free((*vo_data).cast());
            *vo_data = ptr::null_mut();
        }
        0
    })
}

/// `int lcmaps_copyVoData(lcmaps_vo_data_t *dst, const lcmaps_vo_data_t *src)`:
/// strdup each field. 0 ok, -1 NULL argument.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_copyVoData(
    dst: *mut lcmaps_vo_data_t,
    src: *const lcmaps_vo_data_t,
) -> c_int {
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_copyVoData", on_panic = -1, {
        if dst.is_null() || src.is_null() {
            return -1;
        }
        // SAFETY: both valid by contract.
        unsafe {
            let d = vo_data_from(&*src);
            *dst = lcmaps_vo_data_t {
                vo: dup_opt(&d.vo),
                group: dup_opt(&d.group),
                subgroup: dup_opt(&d.subgroup),
                role: dup_opt(&d.role),
                capability: dup_opt(&d.capability),
            };
        }
        0
    })
}

/// `int lcmaps_printVoData(int debug_level, const lcmaps_vo_data_t *)`:
/// log each field at LOG_DEBUG. 0 ok, -1 NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_printVoData(
    debug_level: c_int,
    vo_data: *const lcmaps_vo_data_t,
) -> c_int {
    let _ = debug_level;
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_printVoData", on_panic = -1, {
        if vo_data.is_null() {
            return -1;
        }
        // SAFETY: valid by contract.
        let d = unsafe { vo_data_from(&*vo_data) };
        let f = |s: &Option<String>| s.clone().unwrap_or_else(|| "(null)".into());
        log::debug!("lcmaps_printVoData(): VO: {}", f(&d.vo));
        log::debug!("lcmaps_printVoData(): GROUP: {}", f(&d.group));
        log::debug!("lcmaps_printVoData(): SUBGROUP: {}", f(&d.subgroup));
        log::debug!("lcmaps_printVoData(): ROLE: {}", f(&d.role));
        log::debug!("lcmaps_printVoData(): CAPABILITY: {}", f(&d.capability));
        0
    })
}

/// The FQAN text `lcmaps_stringVoData` writes, or why it cannot.
pub fn vo_data_string(d: &VoData) -> Result<String, &'static str> {
    let usable = |s: &Option<String>| {
        s.as_deref()
            .map(|v| v.trim_start_matches([' ', '\t', '\n']).to_string())
            .filter(|v| !v.is_empty() && !v.starts_with("NULL"))
    };
    let vo = usable(&d.vo).ok_or("no VO found")?;
    let group = usable(&d.group).ok_or("no VO-group found")?;
    let mut s = format!("/VO={vo}/GROUP={group}");
    if let Some(r) = usable(&d.role) {
        s.push_str(&format!("/ROLE={r}"));
    }
    if let Some(c) = usable(&d.capability) {
        s.push_str(&format!("/CAPABILITY={c}"));
    }
    Ok(s)
}

/// `int lcmaps_stringVoData(const lcmaps_vo_data_t *, char *buffer, int nchars)`:
/// `/VO=../GROUP=..[/ROLE=..][/CAPABILITY=..]`. 0 ok, -1 on error.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_stringVoData(
    vo_data: *const lcmaps_vo_data_t,
    buffer: *mut c_char,
    nchars: c_int,
) -> c_int {
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_stringVoData", on_panic = -1, {
        if vo_data.is_null() || buffer.is_null() {
            log::error!("lcmaps_stringVoData(): NULL argument");
            return -1;
        }
        // SAFETY: valid by contract.
        let d = unsafe { vo_data_from(&*vo_data) };
        let s = match vo_data_string(&d) {
            Ok(s) => s,
            Err(e) => {
                log::error!("lcmaps_stringVoData(): error {e}");
                return -1;
            }
        };
        let cap = usize::try_from(nchars).unwrap_or(0);
        if s.len() + 1 > cap {
            log::error!("lcmaps_stringVoData(): could not write all characters into buffer");
            return -1;
        }
        // SAFETY: buffer has nchars >= len+1 bytes.
        unsafe {
            ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), buffer, s.len());
            *buffer.add(s.len()) = 0;
        }
        0
    })
}

/// `lcmaps_vo_mapping_t *lcmaps_createVoMapping(const char *vo_data_string,
/// const char *groupname, gid_t gid)`: malloc'ed; NULL when the FQAN is NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_createVoMapping(
    vo_data_string: *const c_char,
    groupname: *const c_char,
    gid: libc::gid_t,
) -> *mut lcmaps_vo_mapping_t {
    ffi_boundary!("lcmaps_createVoMapping", {
        // SAFETY: NULL or C strings.
        let (s, g) = unsafe { (cstring_lossy(vo_data_string), cstring_lossy(groupname)) };
        let Some(s) = s else {
            log::error!("lcmaps_createVoMapping(): no VO string given");
            return ptr::null_mut();
        };
        malloc_slice(&[lcmaps_vo_mapping_t {
            vostring: malloc_str(&s),
            groupname: dup_opt(&g),
            gid,
        }])
    })
}

/// `int lcmaps_cleanVoMapping(lcmaps_vo_mapping_t *)`: free the strings.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_cleanVoMapping(m: *mut lcmaps_vo_mapping_t) -> c_int {
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_cleanVoMapping", on_panic = -1, {
        if m.is_null() {
            return -1;
        }
        // SAFETY: valid by contract, strings malloc'ed or NULL.
        unsafe {
            free_field(&mut (*m).vostring);
            free_field(&mut (*m).groupname);
        }
        0
    })
}

/// `int lcmaps_deleteVoMapping(lcmaps_vo_mapping_t **)`: clean, free, NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_deleteVoMapping(m: *mut *mut lcmaps_vo_mapping_t) -> c_int {
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_deleteVoMapping", on_panic = -1, {
        // SAFETY: checked for NULL before each dereference.
        unsafe {
            if m.is_null() || (*m).is_null() {
                return -1;
            }
            lcmaps_cleanVoMapping(*m);
            libc::free((*m).cast());
            *m = ptr::null_mut();
        }
        0
    })
}

/// `int lcmaps_copyVoMapping(lcmaps_vo_mapping_t *dst, const lcmaps_vo_mapping_t *src)`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_copyVoMapping(
    dst: *mut lcmaps_vo_mapping_t,
    src: *const lcmaps_vo_mapping_t,
) -> c_int {
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_copyVoMapping", on_panic = -1, {
        if dst.is_null() || src.is_null() {
            return -1;
        }
        // SAFETY: both valid by contract.
        unsafe {
            let s = &*src;
            *dst = lcmaps_vo_mapping_t {
                vostring: dup_opt(&cstring_lossy(s.vostring)),
                groupname: dup_opt(&cstring_lossy(s.groupname)),
                gid: s.gid,
            };
        }
        0
    })
}

/// `int lcmaps_printVoMapping(int debug_level, const lcmaps_vo_mapping_t *)`.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_printVoMapping(
    debug_level: c_int,
    m: *const lcmaps_vo_mapping_t,
) -> c_int {
    let _ = debug_level;
    // -1, not 1: the VO data helpers' error code (lcmaps_vo_data.h: 0 ok, -1 error).
    ffi_boundary!("lcmaps_printVoMapping", on_panic = -1, {
        if m.is_null() {
            return -1;
        }
        // SAFETY: valid by contract.
        let (s, g, gid) = unsafe {
            (
                cstring_lossy((*m).vostring),
                cstring_lossy((*m).groupname),
                (*m).gid,
            )
        };
        match g {
            Some(g) => log::debug!(
                "lcmaps_printVoMapping(): FQAN: {} -> mapped to Unix gid: ({gid}, {g})",
                s.unwrap_or_default()
            ),
            None => log::debug!(
                "lcmaps_printVoMapping(): FQAN: {} -> mapped to Unix gid: {gid}",
                s.unwrap_or_default()
            ),
        }
        0
    })
}

// ---------------------------------------------------------------- utilities

/// `lcmaps_genfilename` on Rust strings.
pub fn genfilename(prefix: &str, path: &str, suffix: &str) -> String {
    let mut s = if path.starts_with('/') {
        path.to_string()
    } else if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}/{path}")
    };
    if !suffix.is_empty() && !path.is_empty() {
        if !s.ends_with('/') && !suffix.starts_with('/') {
            s.push('/');
        }
        s.push_str(suffix);
    }
    s
}

/// `char *lcmaps_genfilename(const char *prefix, const char *path, const char *suffix)`:
/// malloc'ed; NULLs count as "".
#[no_mangle]
pub unsafe extern "C" fn lcmaps_genfilename(
    prefix: *const c_char,
    path: *const c_char,
    suffix: *const c_char,
) -> *mut c_char {
    ffi_boundary!("lcmaps_genfilename", {
        // SAFETY: NULL or C strings.
        let (a, b, c) = unsafe {
            (
                cstring_lossy(prefix),
                cstring_lossy(path),
                cstring_lossy(suffix),
            )
        };
        malloc_str(&genfilename(
            &a.unwrap_or_default(),
            &b.unwrap_or_default(),
            &c.unwrap_or_default(),
        ))
    })
}

/// The groups of `user` (primary first, as `getgrouplist` gives them).
pub fn gidlist(user: &str) -> Option<Vec<u32>> {
    let name = std::ffi::CString::new(user).ok()?;
    // LCMAPS uses getpwnam (not getpwnam_r); so do we, copying the one field
    // needed at once. Callers are C plugins, serialized by the host's lock.
    // SAFETY: valid C string; the result is NULL or points to libc's entry.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    // SAFETY: non-NULL passwd entry.
    let gid = unsafe { (*pw).pw_gid };
    let mut cap: c_int = 32;
    loop {
        let mut groups: Vec<libc::gid_t> = vec![0; usize::try_from(cap).ok()?];
        let mut n = cap;
        // SAFETY: `groups` has room for `n` entries; getgrouplist writes at
        // most that many and sets `n` to the number needed.
        let rc = unsafe { libc::getgrouplist(name.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(usize::try_from(n).ok()?);
            return Some(groups);
        }
        // Too small: n is the size needed (grow at least 2x, bounded).
        if cap >= 65536 {
            return None;
        }
        cap = n.max(cap.saturating_mul(2)).min(65536);
    }
}

/// `int lcmaps_get_gidlist(const char *username, int *ngroups, gid_t **group_list)`:
/// the user's groups including the primary one, malloc'ed. 0 ok, 1 unknown
/// user or NULL argument, -1 allocation failure.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_get_gidlist(
    username: *const c_char,
    ngroups: *mut c_int,
    group_list: *mut *mut libc::gid_t,
) -> c_int {
    ffi_boundary!("lcmaps_get_gidlist", {
        if ngroups.is_null() || group_list.is_null() {
            return 1;
        }
        // SAFETY: NULL or a C string.
        let Some(user) = (unsafe { cstr(username) }) else {
            return 1;
        };
        let Some(list) = gidlist(user) else {
            return 1;
        };
        let p = malloc_slice(&list);
        if p.is_null() && !list.is_empty() {
            return -1;
        }
        // SAFETY: both outputs non-NULL (checked).
        unsafe {
            *group_list = p;
            *ngroups = c_int::try_from(list.len()).unwrap_or(c_int::MAX);
        }
        0
    })
}

/// `lcmaps_tokenize` on Rust strings: tokens, or the LCMAPS error code
/// (-2 more than `max - 1` tokens, -3 unmatched quote).
pub fn tokenize(cmd: &str, max: usize, sep: &str) -> Result<Vec<String>, (c_int, Vec<String>)> {
    let b = cmd.as_bytes();
    let is_sep = |c: u8| sep.as_bytes().contains(&c);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && is_sep(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let (start, end);
        if b[i] == b'"' {
            start = i + 1;
            match b[start..].iter().position(|&c| c == b'"') {
                Some(q) => {
                    end = start + q;
                    i = end + 1;
                }
                None => return Err((-3, out)),
            }
        } else {
            start = i;
            end = b[i..]
                .iter()
                .position(|&c| is_sep(c))
                .map_or(b.len(), |q| i + q);
            i = end;
        }
        if out.len() + 1 >= max {
            return Err((-2, out));
        }
        out.push(String::from_utf8_lossy(&b[start..end]).into_owned());
    }
    Ok(out)
}

/// `int lcmaps_tokenize(const char *command, char **args, int *n, const char *sep)`:
/// on input `*n` is the capacity of `args`; tokens are malloc'ed and the list
/// NULL-terminated. 0 ok, -1 malloc, -2 too many, -3 unmatched quote, -4 NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_tokenize(
    command: *const c_char,
    args: *mut *mut c_char,
    n: *mut c_int,
    sep: *const c_char,
) -> c_int {
    // -4, not 1: lcmaps_utils.h gives -1..-4; 1 would read as success to callers testing < 0.
    ffi_boundary!("lcmaps_tokenize", on_panic = -4, {
        if args.is_null() || n.is_null() || sep.is_null() {
            return -4;
        }
        // SAFETY: sep non-NULL C string; n non-NULL.
        let (sep, max) = unsafe { (cstring_lossy(sep).unwrap_or_default(), *n) };
        let max = usize::try_from(max).unwrap_or(0);
        // SAFETY: NULL or a C string.
        let cmd = unsafe { cstring_lossy(command) };
        let (rc, toks) = match cmd {
            None => (0, Vec::new()),
            Some(c) => match tokenize(&c, max, &sep) {
                Ok(t) => (0, t),
                Err((rc, t)) => (rc, t),
            },
        };
        for (i, t) in toks.iter().enumerate() {
            let p = malloc_str(t);
            if p.is_null() {
                // SAFETY: i < capacity.
                unsafe { *n = c_int::try_from(i).unwrap_or(0) };
                return -1;
            }
            // SAFETY: i < max - 1 <= capacity of args.
            unsafe { *args.add(i) = p };
        }
        // SAFETY: toks.len() < max, so the terminator fits (when max > 0).
        unsafe {
            if rc == 0 && toks.len() < max {
                *args.add(toks.len()) = ptr::null_mut();
            }
            *n = c_int::try_from(toks.len()).unwrap_or(0);
        }
        rc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer() {
        assert_eq!(
            tokenize("a \"b c\"\td", 10, " \t\n").unwrap(),
            ["a", "b c", "d"]
        );
        assert_eq!(tokenize("a b c", 3, " ").unwrap_err().0, -2);
        assert_eq!(tokenize("a \"b", 10, " ").unwrap_err().0, -3);
        assert_eq!(tokenize("", 1, " ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn filenames() {
        assert_eq!(genfilename("/a", "b", ""), "/a/b");
        assert_eq!(genfilename("/a/", "/b", "c"), "/b/c");
        assert_eq!(genfilename("", "b", "/c"), "b/c");
    }

    #[test]
    fn vo_strings() {
        let d = VoData {
            vo: Some(" atlas".into()),
            group: Some("atlas".into()),
            subgroup: None,
            role: Some("NULL".into()),
            capability: None,
        };
        assert_eq!(vo_data_string(&d).unwrap(), "/VO=atlas/GROUP=atlas");
        assert!(vo_data_string(&VoData::default()).is_err());
    }

    #[test]
    fn callbacks_outside_a_plugin_act_on_the_ambient_store() {
        let _serial = crate::TEST_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let mut n: c_int = -1;
        let mut dn = c"/CN=ambient".as_ptr().cast_mut();
        // SAFETY: valid pointers to locals.
        unsafe {
            assert_eq!(
                addCredentialData(sys::DN, (&mut dn as *mut *mut c_char).cast()),
                0
            );
            let p = getCredentialData(sys::DN, &mut n).cast::<*mut c_char>();
            assert_eq!(n, 1);
            assert_eq!(CStr::from_ptr(*p).to_str().unwrap(), "/CN=ambient");
        }
        assert_eq!(lcmaps_resetCredentialData(), 0);
        // SAFETY: as above.
        unsafe {
            let p = getCredentialData(sys::DN, &mut n).cast::<*mut c_char>();
            assert_eq!(n, 0);
            assert!((*p).is_null());
        }
    }
}
