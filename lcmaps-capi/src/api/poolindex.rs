//! The pool index helper libraries: `lcmaps_return_poolindex` (GSS
//! context or credential, into a buffer) and the `*_without_gsi` calls (DN
//! and FQANs, into an `lcmaps_account_info_t`). Each is init, one run, term.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::ptr;

use lcmaps_core::plugin::Request;
use lcmaps_core::policy::Mode;

use super::account_info::{lcmaps_account_info_fill, lcmaps_account_info_init};
use super::engine::{init, run};
use super::init::lcmaps_term;
use super::policy_env::env_policies;
use super::run_fqans::lcmaps_run_with_fqans_mapcounter_and_return_account;
use crate::lcmaps_account_info_t;
use crate::log::{self as clog, DO_USRLOG};
use crate::store::ambient;
use lcmaps_host::ffi_boundary;

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
    ffi_boundary!(NAME, {
        let dn = || {
            if context.is_null() {
                return Err("no GSS security context given".to_string());
            }
            // SAFETY: a non-NULL context by the caller's contract.
            unsafe { crate::gss::dn_from_context(context) }
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
    ffi_boundary!(NAME, {
        let dn = || {
            if cred.is_null() {
                return Err("no GSS credential given".to_string());
            }
            // SAFETY: a non-NULL credential by the caller's contract.
            unsafe { crate::gss::dn_from_cred(cred) }
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
    ffi_boundary!(NAME, {
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
    ffi_boundary!(NAME, {
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
    ffi_boundary!(NAME, {
        // SAFETY: same contract.
        unsafe { account_without_gsi(NAME, user_dn, fqan_list, nfqan, mapcounter, acct, false) }
    })
}
