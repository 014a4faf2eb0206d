//! The run variables as C data at stable addresses, for binding into the
//! argument arrays C plugins introspect (`lcmaps_argument_t.value`).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;

use foreign_types::ForeignType;
use openssl::stack::Stack;
use openssl::x509::X509;

use lcmaps_core::plugin::Request;

/// C copies of one [`Request`]. Boxed, so the addresses handed to plugins
/// do not move.
#[derive(Debug)]
pub(crate) struct RunVars {
    src: Request,
    _strings: Vec<CString>,
    /// The PEM's certificates as OpenSSL objects (leaf first, as in the PEM)
    /// behind `px509_cred` and `px509_chain`, as LCMAPS provides them.
    _certs: Option<Certs>,
    _fqan_ptrs: Vec<*mut c_char>,
    pgids: Vec<libc::gid_t>,
    sgids: Vec<libc::gid_t>,
    user_dn: *mut c_char,
    job_request: *mut c_char,
    fqan_list: *mut *mut c_char,
    nfqan: c_int,
    mapcounter: c_int,
    requested_uid: libc::uid_t,
    requested_pgid_list: *mut libc::gid_t,
    requested_npgid: c_int,
    requested_sgid_list: *mut libc::gid_t,
    requested_nsgid: c_int,
    requested_poolindex: *mut c_char,
    requested_username: *mut c_char,
    voms_data_list: *mut c_void,
    nvoms_data: c_int,
    pem_string: *mut c_char,
    px509_cred: *mut c_void,
    px509_chain: *mut c_void,
    user_cred: *mut c_void,
    gss_context: *mut c_void,
    bearer_token: *mut c_char,
}

/// The leaf certificate and the whole chain as OpenSSL objects.
struct Certs(X509, Stack<X509>);

impl std::fmt::Debug for Certs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certs({} certificates)", self.1.len())
    }
}

/// The certificates of a PEM text: the first (the leaf) and all of them as
/// an OpenSSL stack, or `None` when there is none.
fn pem_certs(pem: &str) -> Option<Certs> {
    let certs = X509::stack_from_pem(pem.as_bytes()).ok()?;
    let leaf = certs.first()?.clone();
    let mut stack = Stack::new().ok()?;
    for c in certs {
        stack.push(c).ok()?;
    }
    Some(Certs(leaf, stack))
}

fn count(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

impl RunVars {
    fn new(r: &Request) -> Box<RunVars> {
        let mut strings = Vec::new();
        let mut keep = |s: &Option<String>| -> *mut c_char {
            match s {
                None => ptr::null_mut(),
                Some(s) => {
                    let c = CString::new(s.replace('\0', "")).unwrap_or_default();
                    let p = c.as_ptr().cast_mut();
                    strings.push(c);
                    p
                }
            }
        };
        let user_dn = keep(&r.user_dn);
        let job_request = keep(&r.job_request);
        let requested_poolindex = keep(&r.requested_poolindex);
        let requested_username = keep(&r.requested_username);
        let pem_string = keep(&r.pem);
        let bearer_token = keep(&r.token);
        let mut fqan_ptrs: Vec<*mut c_char> =
            r.fqans.iter().map(|f| keep(&Some(f.clone()))).collect();
        fqan_ptrs.push(ptr::null_mut());
        let certs = r.pem.as_deref().and_then(pem_certs);
        let (px509_cred, px509_chain) = match &certs {
            Some(Certs(leaf, chain)) => (
                leaf.as_ptr().cast::<c_void>(),
                chain.as_ptr().cast::<c_void>(),
            ),
            None => (ptr::null_mut(), ptr::null_mut()),
        };
        let mut v = Box::new(RunVars {
            src: r.clone(),
            _strings: strings,
            _certs: certs,
            pgids: r.requested_pgids.clone(),
            sgids: r.requested_sgids.clone(),
            user_dn,
            job_request,
            fqan_list: ptr::null_mut(),
            nfqan: count(r.fqans.len()),
            mapcounter: r.mapcounter,
            requested_uid: r.requested_uid.unwrap_or(u32::MAX),
            requested_pgid_list: ptr::null_mut(),
            requested_npgid: count(r.requested_pgids.len()),
            requested_sgid_list: ptr::null_mut(),
            requested_nsgid: count(r.requested_sgids.len()),
            requested_poolindex,
            requested_username,
            voms_data_list: ptr::null_mut(),
            nvoms_data: 0,
            pem_string,
            px509_cred,
            px509_chain,
            user_cred: ptr::null_mut(),
            gss_context: ptr::null_mut(),
            bearer_token,
            _fqan_ptrs: Vec::new(),
        });
        v.fqan_list = if r.fqans.is_empty() {
            ptr::null_mut()
        } else {
            fqan_ptrs.as_mut_ptr()
        };
        v._fqan_ptrs = fqan_ptrs;
        if !v.pgids.is_empty() {
            v.requested_pgid_list = v.pgids.as_mut_ptr();
        }
        if !v.sgids.is_empty() {
            v.requested_sgid_list = v.sgids.as_mut_ptr();
        }
        v
    }

    /// The address of the variable `(name, ty)`, or `None` when LCMAPS has
    /// no such run variable.
    pub(crate) fn address(&mut self, name: &[u8], ty: &[u8]) -> Option<*mut c_void> {
        fn a<T>(r: &mut T) -> *mut c_void {
            (r as *mut T).cast()
        }
        Some(match (name, ty) {
            (b"user_dn", b"char *") => a(&mut self.user_dn),
            (b"job_request", b"lcmaps_request_t") | (b"job_request", b"char *") => {
                a(&mut self.job_request)
            }
            (b"fqan_list", b"char **") => a(&mut self.fqan_list),
            (b"nfqan", b"int") => a(&mut self.nfqan),
            (b"mapcounter", b"int") => a(&mut self.mapcounter),
            (b"requested_uid", b"uid_t") => a(&mut self.requested_uid),
            (b"requested_pgid_list", b"gid_t *") => a(&mut self.requested_pgid_list),
            (b"requested_npgid", b"int") => a(&mut self.requested_npgid),
            (b"requested_sgid_list", b"gid_t *") => a(&mut self.requested_sgid_list),
            (b"requested_nsgid", b"int") => a(&mut self.requested_nsgid),
            (b"requested_poolindex", b"char *") => a(&mut self.requested_poolindex),
            (b"requested_username", b"char *") => a(&mut self.requested_username),
            (b"voms_data_list", b"lcmaps_vomsdata_t *") => a(&mut self.voms_data_list),
            (b"nvoms_data", b"int") => a(&mut self.nvoms_data),
            (b"pem_string", b"char *") => a(&mut self.pem_string),
            (b"px509_cred", b"X509 *") => a(&mut self.px509_cred),
            (b"px509_chain", b"STACK_OF(X509) *") => a(&mut self.px509_chain),
            (b"user_cred", b"gss_cred_id_t") => a(&mut self.user_cred),
            (b"gss_context", b"gss_ctx_id_t") => a(&mut self.gss_context),
            (b"bearer_token", b"char *") => a(&mut self.bearer_token),
            _ => return None,
        })
    }
}

thread_local! {
    static VARS: RefCell<Option<Box<RunVars>>> = const { RefCell::new(None) };
}

/// Run `f` on the C run variables of `request` (rebuilt when the request
/// differs from the one they were made from, else left at their addresses).
pub(crate) fn with_run_vars<R>(request: &Request, f: impl FnOnce(&mut RunVars) -> R) -> R {
    VARS.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().map_or(true, |v| v.src != *request) {
            *slot = Some(RunVars::new(request));
        }
        let v = slot.as_mut().map(|b| &mut **b);
        match v {
            Some(v) => f(v),
            None => f(&mut RunVars::new(request)),
        }
    })
}
