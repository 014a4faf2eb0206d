//! The user's DN from a Globus GSS credential or security context, with the
//! Globus GSSAPI library (`libglobus_gssapi_gsi.so.4`) loaded at run time:
//! lcmaps-rs does not link against Globus. When it is not installed, the GSS
//! entry points fail with a log line saying so.
//!
//! From a credential, the certificate and its chain are taken from the
//! credential's Globus GSI handle (`globus_gsi_cred_get_cert` and
//! `globus_gsi_cred_get_cert_chain` of `libglobus_gsi_credential.so.1`), as
//! LCMAPS's GSI build does, so the run sees the chain's DN, its VOMS
//! attributes and the chain itself. That works for a delegated credential,
//! which has no private key (`gss_export_cred` refuses those). From a
//! security context only the peer's DN is taken (`gss_inquire_context` +
//! `gss_display_name`).

use std::ffi::{c_int, c_void, CStr};
use std::ptr;
use std::sync::OnceLock;

use libloading::os::unix::Library;

type OmUint32 = u32;

#[repr(C)]
struct GssBuffer {
    length: usize,
    value: *mut c_void,
}

type InquireCred = unsafe extern "C" fn(
    *mut OmUint32,
    *mut c_void,
    *mut *mut c_void,
    *mut OmUint32,
    *mut c_int,
    *mut *mut c_void,
) -> OmUint32;
type InquireContext = unsafe extern "C" fn(
    *mut OmUint32,
    *mut c_void,
    *mut *mut c_void,
    *mut *mut c_void,
    *mut OmUint32,
    *mut *mut c_void,
    *mut OmUint32,
    *mut c_int,
    *mut c_int,
) -> OmUint32;
type DisplayName =
    unsafe extern "C" fn(*mut OmUint32, *mut c_void, *mut GssBuffer, *mut *mut c_void) -> OmUint32;
type ReleaseName = unsafe extern "C" fn(*mut OmUint32, *mut *mut c_void) -> OmUint32;
type ReleaseBuffer = unsafe extern "C" fn(*mut OmUint32, *mut GssBuffer) -> OmUint32;
/// `globus_gsi_cred_get_cert(handle, X509 **)` and
/// `globus_gsi_cred_get_cert_chain(handle, STACK_OF(X509) **)`: each returns
/// a copy the caller frees; 0 is `GLOBUS_SUCCESS`.
type CredGet = unsafe extern "C" fn(*mut c_void, *mut *mut c_void) -> libc::c_int;

/// The Globus GSSAPI library.
pub const GLOBUS_GSSAPI: &str = "libglobus_gssapi_gsi.so.4";
/// The Globus GSI credential library (a dependency of the GSSAPI library).
pub const GLOBUS_GSI_CREDENTIAL: &str = "libglobus_gsi_credential.so.1";

struct Gss {
    inquire_cred: InquireCred,
    inquire_context: InquireContext,
    display_name: DisplayName,
    release_name: ReleaseName,
    release_buffer: ReleaseBuffer,
    get_cert: CredGet,
    get_cert_chain: CredGet,
    _lib: Library,
    _cred_lib: Library,
}

fn gss() -> Result<&'static Gss, String> {
    static GSS: OnceLock<Result<Gss, String>> = OnceLock::new();
    GSS.get_or_init(|| {
        // SAFETY: loading Globus' GSSAPI library runs its constructors; it
        // is the system library LCMAPS itself links against.
        let lib = unsafe { Library::open(Some(GLOBUS_GSSAPI), libc::RTLD_NOW | libc::RTLD_GLOBAL) }
            .map_err(|e| {
                format!("GSS credentials need the Globus GSSAPI library ({GLOBUS_GSSAPI}): {e}")
            })?;
        // SAFETY: as above; already loaded as a dependency of the GSSAPI
        // library, so this only takes a reference.
        let cred_lib = unsafe { Library::open(Some(GLOBUS_GSI_CREDENTIAL), libc::RTLD_NOW) }
            .map_err(|e| format!("{GLOBUS_GSI_CREDENTIAL}: {e}"))?;
        // SAFETY: the symbols have the RFC 2744 prototypes declared above;
        // the fn pointers live as long as `_lib`, which is kept forever.
        unsafe {
            let f = |n: &[u8]| {
                lib.get::<*const c_void>(n)
                    .map(|s| *s)
                    .map_err(|e| format!("{GLOBUS_GSSAPI}: {e}"))
            };
            let inquire_cred =
                std::mem::transmute::<*const c_void, InquireCred>(f(b"gss_inquire_cred\0")?);
            let inquire_context =
                std::mem::transmute::<*const c_void, InquireContext>(f(b"gss_inquire_context\0")?);
            let display_name =
                std::mem::transmute::<*const c_void, DisplayName>(f(b"gss_display_name\0")?);
            let release_name =
                std::mem::transmute::<*const c_void, ReleaseName>(f(b"gss_release_name\0")?);
            let release_buffer =
                std::mem::transmute::<*const c_void, ReleaseBuffer>(f(b"gss_release_buffer\0")?);
            let g = |n: &[u8]| {
                cred_lib
                    .get::<*const c_void>(n)
                    .map(|s| std::mem::transmute::<*const c_void, CredGet>(*s))
                    .map_err(|e| format!("{GLOBUS_GSI_CREDENTIAL}: {e}"))
            };
            let get_cert = g(b"globus_gsi_cred_get_cert\0")?;
            let get_cert_chain = g(b"globus_gsi_cred_get_cert_chain\0")?;
            Ok(Gss {
                get_cert,
                get_cert_chain,
                inquire_cred,
                inquire_context,
                display_name,
                release_name,
                release_buffer,
                _lib: lib,
                _cred_lib: cred_lib,
            })
        }
    })
    .as_ref()
    .map_err(Clone::clone)
}

impl Gss {
    /// The display form of `name`, which is then released.
    ///
    /// # Safety
    /// `name` is a GSS name from this library.
    unsafe fn take_name(&self, mut name: *mut c_void) -> Result<String, String> {
        let mut minor = 0;
        let mut buf = GssBuffer {
            length: 0,
            value: ptr::null_mut(),
        };
        // SAFETY: valid name and out-parameters.
        let major = unsafe { (self.display_name)(&mut minor, name, &mut buf, ptr::null_mut()) };
        let out = if major != 0 || buf.value.is_null() {
            Err(format!(
                "gss_display_name failed (major {major:#x}, minor {minor})"
            ))
        } else {
            // SAFETY: the library returned `length` bytes at `value`.
            let bytes = unsafe { std::slice::from_raw_parts(buf.value.cast::<u8>(), buf.length) };
            let bytes = CStr::from_bytes_until_nul(bytes).map_or(bytes, CStr::to_bytes);
            Ok(String::from_utf8_lossy(bytes).into_owned())
        };
        // SAFETY: releasing what the library allocated.
        unsafe {
            (self.release_buffer)(&mut minor, &mut buf);
            (self.release_name)(&mut minor, &mut name);
        }
        out
    }
}

/// The DN of a `gss_cred_id_t`.
///
/// # Safety
/// `cred` is a valid, non-NULL Globus GSS credential.
pub unsafe fn dn_from_cred(cred: *mut c_void) -> Result<String, String> {
    let g = gss()?;
    let (mut minor, mut name) = (0, ptr::null_mut());
    // SAFETY: valid credential, out-parameters or NULL where optional.
    let major = unsafe {
        (g.inquire_cred)(
            &mut minor,
            cred,
            &mut name,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if major != 0 || name.is_null() {
        return Err(format!(
            "gss_inquire_cred failed (major {major:#x}, minor {minor})"
        ));
    }
    // SAFETY: a name from the library.
    unsafe { g.take_name(name) }
}

/// The DN of the peer of a `gss_ctx_id_t` (the initiator, for the
/// accepting side a gatekeeper holds).
///
/// # Safety
/// `ctx` is a valid, non-NULL, established Globus GSS security context.
pub unsafe fn dn_from_context(ctx: *mut c_void) -> Result<String, String> {
    let g = gss()?;
    let (mut minor, mut src) = (0, ptr::null_mut());
    // SAFETY: valid context, out-parameters or NULL where optional.
    let major = unsafe {
        (g.inquire_context)(
            &mut minor,
            ctx,
            &mut src,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if major != 0 || src.is_null() {
        return Err(format!(
            "gss_inquire_context failed (major {major:#x}, minor {minor})"
        ));
    }
    // SAFETY: a name from the library.
    unsafe { g.take_name(src) }
}

/// Whether the Globus GSSAPI library can be loaded.
pub fn available() -> Result<(), String> {
    gss().map(|_| ())
}

/// The most certificates taken from a credential (a proxy chain has a few).
const CHAIN_MAX: usize = 100;

/// The certificate of a `gss_cred_id_t` and its chain, as PEM text, leaf
/// first (no private key: only certificates are taken).
///
/// # Safety
/// `cred` is a valid, non-NULL Globus GSS credential.
pub unsafe fn pem_from_cred(cred: *mut c_void) -> Result<String, String> {
    use foreign_types::ForeignType;
    use openssl::stack::Stack;
    use openssl::x509::X509;

    let g = gss()?;
    // SAFETY: a Globus `gss_cred_id_t` points to its `gss_cred_id_desc`,
    // whose first member is the `globus_gsi_cred_handle_t` (Globus'
    // gssapi_openssl.h; LCMAPS's GSI code reads it the same way).
    let handle = unsafe { *cred.cast::<*mut c_void>() };
    if handle.is_null() {
        return Err("the GSS credential has no GSI credential handle".into());
    }
    let mut cert = ptr::null_mut();
    // SAFETY: a live handle; the function stores a copy of the certificate
    // (an `X509 *` of the process's libcrypto) that we own.
    let rc = unsafe { (g.get_cert)(handle, &mut cert) };
    if rc != 0 || cert.is_null() {
        return Err(format!("globus_gsi_cred_get_cert failed (result {rc:#x})"));
    }
    // SAFETY: an owned X509 from the same libcrypto; freed on drop.
    let leaf = unsafe { X509::from_ptr(cert.cast()) };
    let mut chain = ptr::null_mut();
    // SAFETY: as above; the stack and its certificates are copies we own.
    let rc = unsafe { (g.get_cert_chain)(handle, &mut chain) };
    if rc != 0 {
        return Err(format!(
            "globus_gsi_cred_get_cert_chain failed (result {rc:#x})"
        ));
    }
    // SAFETY: an owned STACK_OF(X509) (or NULL: no chain); Stack's drop pops
    // and frees each certificate, then the stack, as sk_X509_pop_free.
    let chain = (!chain.is_null()).then(|| unsafe { Stack::<X509>::from_ptr(chain.cast()) });
    let rest = chain.as_ref().map_or(0, |c| c.len());
    if rest + 1 > CHAIN_MAX {
        return Err(format!(
            "the credential holds {} certificates, more than {CHAIN_MAX}",
            rest + 1
        ));
    }
    let mut pem = String::new();
    for c in std::iter::once(leaf.as_ref()).chain(chain.iter().flat_map(|c| c.iter())) {
        let p = c
            .to_pem()
            .map_err(|e| format!("a certificate of the credential: {e}"))?;
        pem.push_str(&String::from_utf8_lossy(&p));
    }
    Ok(pem)
}
