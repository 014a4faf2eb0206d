//! `lcmaps_account_info_t`: `lcmaps_account_info_init`, `_fill` and
//! `_clean` (lcmaps_account.h).

use std::ffi::{c_char, c_int};
use std::ptr;

use crate::cstr::{cstring_lossy, malloc_slice, malloc_str};
use crate::lcmaps_account_info_t;
use lcmaps_host::ffi_boundary;

/// `int lcmaps_account_info_init(lcmaps_account_info_t *)`: uid -1, no
/// lists. Always 0.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_account_info_init(acct: *mut lcmaps_account_info_t) -> c_int {
    // 0, not 1: lcmaps_account.h documents that it always returns 0.
    ffi_boundary!("lcmaps_account_info_init", on_panic = 0, {
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
    // -1, not 1: 1 means "an input pointer is NULL"; -1 is its error for bad data.
    ffi_boundary!("lcmaps_account_info_fill", on_panic = -1, {
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
    // 0, not 1: lcmaps_account.h documents that it always returns 0.
    ffi_boundary!("lcmaps_account_info_clean", on_panic = 0, {
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
