//! The user's DN from a Globus GSS credential or security context, with the
//! Globus GSSAPI library (`libglobus_gssapi_gsi.so.4`) loaded at run time:
//! lcmaps-rs does not link against Globus. When it is not installed, the GSS
//! entry points fail with a log line saying so.
//!
//! From a credential, the certificate chain is taken with `gss_export_cred`
//! (Globus GSI exports the credential as PEM; the private key in it is
//! dropped), so the run sees the chain's DN, its VOMS attributes and the
//! chain itself, as LCMAPS's GSI build does. From a security context only
//! the peer's DN is taken (`gss_inquire_context` + `gss_display_name`).

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
type ExportCred = unsafe extern "C" fn(
    *mut OmUint32,
    *mut c_void,
    *mut c_void,
    OmUint32,
    *mut GssBuffer,
) -> OmUint32;

/// The Globus GSSAPI library.
pub const GLOBUS_GSSAPI: &str = "libglobus_gssapi_gsi.so.4";

struct Gss {
    inquire_cred: InquireCred,
    inquire_context: InquireContext,
    display_name: DisplayName,
    release_name: ReleaseName,
    release_buffer: ReleaseBuffer,
    export_cred: ExportCred,
    _lib: Library,
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
            let export_cred =
                std::mem::transmute::<*const c_void, ExportCred>(f(b"gss_export_cred\0")?);
            Ok(Gss {
                export_cred,
                inquire_cred,
                inquire_context,
                display_name,
                release_name,
                release_buffer,
                _lib: lib,
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

/// The largest exported credential accepted (a proxy chain is a few kB).
const EXPORT_MAX: usize = 1 << 20;

/// The certificates of a `gss_cred_id_t` as PEM text (leaf first, as Globus
/// exports them), without the private key.
///
/// # Safety
/// `cred` is a valid, non-NULL Globus GSS credential.
pub unsafe fn pem_from_cred(cred: *mut c_void) -> Result<String, String> {
    let g = gss()?;
    let mut minor = 0;
    let mut buf = GssBuffer {
        length: 0,
        value: ptr::null_mut(),
    };
    // SAFETY: a valid credential; no mechanism OID (the default); option
    // 0 is GSS_IMPEXP_OPAQUE_FORM (the credential in the buffer); `buf` is
    // an out-parameter the library fills.
    let major = unsafe { (g.export_cred)(&mut minor, cred, ptr::null_mut(), 0, &mut buf) };
    if major != 0 || buf.value.is_null() {
        return Err(format!(
            "gss_export_cred failed (major {major:#x}, minor {minor})"
        ));
    }
    let out = if buf.length > EXPORT_MAX {
        Err(format!(
            "gss_export_cred gave {} bytes, more than {EXPORT_MAX}",
            buf.length
        ))
    } else {
        // SAFETY: the library returned `length` bytes at `value`.
        let bytes = unsafe { std::slice::from_raw_parts(buf.value.cast::<u8>(), buf.length) };
        certificates_only(bytes)
    };
    // SAFETY: releasing what the library allocated.
    unsafe { (g.release_buffer)(&mut minor, &mut buf) };
    out
}

/// The `CERTIFICATE` blocks of a PEM text, re-encoded; everything else (the
/// private key) is dropped.
fn certificates_only(pem: &[u8]) -> Result<String, String> {
    let certs = openssl::x509::X509::stack_from_pem(pem)
        .map_err(|e| format!("the exported credential is not PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the exported credential holds no certificate".into());
    }
    let mut out = String::new();
    for c in certs {
        let p = c.to_pem().map_err(|e| e.to_string())?;
        out.push_str(&String::from_utf8_lossy(&p));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_certificates_are_kept() {
        let key =
            openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "Jane").unwrap();
        let name = name.build();
        let mut b = openssl::x509::X509Builder::new().unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(&key, openssl::hash::MessageDigest::sha256())
            .unwrap();
        let cert = b.build().to_pem().unwrap();
        let mut exported = cert.clone();
        exported.extend(key.private_key_to_pem_pkcs8().unwrap());
        exported.extend(&cert);
        let pem = super::certificates_only(&exported).unwrap();
        assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(!pem.contains("PRIVATE KEY"));
        assert!(super::certificates_only(b"no pem").is_err());
    }
}
