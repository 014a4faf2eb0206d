//! The run calls on an X.509 chain: PEM text or an OpenSSL
//! `STACK_OF(X509)`, mapped on the end-entity DN with the FQANs of the
//! verified VOMS attributes (`lcmaps-x509`), and the PEM verification call
//! `lcmaps_run_and_verify_account_from_pem`.

use std::ffi::{c_char, c_int, c_void};

use lcmaps_core::plugin::Request;
use lcmaps_core::policy::Mode;

use super::engine::{policies, run};
use super::outputs::AccountOut;
use super::voms;
use crate::cstr::cstring_lossy;
use crate::log as clog;
use crate::store::ambient;
use lcmaps_host::ffi_boundary;

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
    ffi_boundary!(NAME, {
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
pub(super) fn pem_request(
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
    let cred = match lcmaps_x509::Credential::from_pem_shared(&pem) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{name}(): cannot use the PEM credential: {e}");
            return None;
        }
    };
    let dn = cred.user_dn().to_string();
    let fqans = if voms::verification_enabled() {
        let opts = lcmaps_x509::VomsOptions {
            at: voms::verification_time(cred.leaf().not_before, cred.leaf().not_after),
            ..Default::default()
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
    ffi_boundary!(NAME, {
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
    ffi_boundary!(NAME, {
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
