//! CRLs from the hashed CA directory (`<hash of the issuer>.r<N>`).
//!
//! Two uses:
//!
//! * [`check_ca_issued`]: the CRL check of every certificate of the
//!   CA-issued part of a chain (end-entity certificate, intermediate CAs,
//!   the root), and of VOMS server certificates, under a [`CrlMode`]. The
//!   default mode is what upstream does (lcmaps-plugins-verify-proxy 1.5.10
//!   on OpenSSL, and libvomsapi): a CA without a CRL is accepted, a CRL that
//!   is there must be current and correctly signed and must not list the
//!   certificate. Of several CRLs of one CA the one OpenSSL would choose
//!   decides (see [`check_ca_issued`]).
//! * [`check`]: our own lookup for proxy links (OpenSSL skips revocation
//!   checks on proxy certificates, openssl/openssl#32364).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use der::asn1::ObjectIdentifier;
use der::Decode;
use openssl::pkey::{PKey, PKeyRef, Public};
use openssl::x509::{CrlStatus, X509Crl, X509KeyUsage, X509Ref};

use crate::name::oneline;

/// Largest CRL file read.
const MAX_CRL_LEN: u64 = 64 << 20;

/// Most CRL files read for one CA (`<hash>.r0` .. `<hash>.r99`).
const MAX_CRL_FILES: u32 = 100;

/// The environment variable that sets the CRL mode of the core's VOMS
/// verification (the VOMS server certificates): `require`, `if-valid` or
/// `ignore`; unset or empty is `if-valid`.
pub const VOMS_CRL_MODE_ENV: &str = "LCMAPS_VOMS_CRL_MODE";

/// How CRLs in the CA directory are used (the modes of canl, the EMI
/// common authentication library, under the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CrlMode {
    /// Every CA in the path must have a CRL in the CA directory, current
    /// and correctly signed, that does not list the certificate.
    Require,
    /// The default, and upstream's behaviour: a CA without a CRL is
    /// accepted (with one warning per CA per process); a CRL that is there
    /// must be current and correctly signed and must not list the
    /// certificate.
    #[default]
    IfValid,
    /// CRLs are not read at all: a revoked certificate is accepted.
    Ignore,
}

impl CrlMode {
    /// The option value: `require`, `if-valid` or `ignore`.
    pub fn as_str(self) -> &'static str {
        match self {
            CrlMode::Require => "require",
            CrlMode::IfValid => "if-valid",
            CrlMode::Ignore => "ignore",
        }
    }

    /// The mode of the core's VOMS verification: [`VOMS_CRL_MODE_ENV`].
    /// A value that is not a mode is logged and read as `require` (fail
    /// closed).
    pub fn voms_from_env() -> CrlMode {
        match std::env::var(VOMS_CRL_MODE_ENV) {
            Err(std::env::VarError::NotPresent) => CrlMode::default(),
            Ok(v) if v.is_empty() => CrlMode::default(),
            Ok(v) => v.parse().unwrap_or_else(|e| {
                log::error!("{VOMS_CRL_MODE_ENV}: {e}; using require");
                CrlMode::Require
            }),
            Err(_) => {
                log::error!("{VOMS_CRL_MODE_ENV} is not UTF-8; using require");
                CrlMode::Require
            }
        }
    }
}

impl std::fmt::Display for CrlMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CrlMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "require" => Ok(CrlMode::Require),
            "if-valid" => Ok(CrlMode::IfValid),
            "ignore" => Ok(CrlMode::Ignore),
            _ => Err(format!(
                "unknown CRL mode \"{}\" (require, if-valid or ignore)",
                s.escape_debug()
            )),
        }
    }
}

/// Why [`check_ca_issued`] refused a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    /// No CRL of the issuer in the directory (mode `require`).
    #[error(
        "no CRL in {dir} for \"{issuer}\" (needed for \"{subject}\"; looked for {looked_for})"
    )]
    Missing {
        /// CA directory.
        dir: String,
        /// The CA without a CRL.
        issuer: String,
        /// The certificate to check.
        subject: String,
        /// The first file looked for, `<hash>.r0`.
        looked_for: String,
    },
    /// The certificate is listed.
    #[error("certificate \"{subject}\" is revoked (CRL {crl})")]
    Revoked {
        /// The revoked certificate.
        subject: String,
        /// The CRL file.
        crl: String,
    },
    /// The CRL that decides cannot be used: expired, not yet valid, bad
    /// signature, malformed, unreadable.
    #[error("{0}")]
    Unusable(String),
}

/// CAs warned about (the CRL file looked for, the CA's DN), so that each is
/// named once per process.
static WARNED: Mutex<BTreeSet<(PathBuf, String)>> = Mutex::new(BTreeSet::new());

const OID_AKID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const OID_IDP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");
const OID_DELTA_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const OID_CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");

/// One CRL of the CA directory, with what the choice needs.
struct Candidate {
    crl: SharedCrl,
    path: PathBuf,
    last: i64,
    next: Option<i64>,
    /// A critical extension OpenSSL does not handle.
    unhandled_critical: bool,
}

/// Reads every CRL of `<hash>.r0`, `<hash>.r1`, ... (up to the first
/// missing number, as OpenSSL's hashed directory lookup does) in `dir`.
/// A file may hold several PEM CRLs (or one DER CRL).
fn read_crls(dir: &Path, hash: u32) -> Result<Vec<(SharedCrl, PathBuf)>, String> {
    let mut out = Vec::new();
    for n in 0..MAX_CRL_FILES {
        let path = dir.join(format!("{hash:08x}.r{n}"));
        let Some(meta) = crate::store::stat(&path)? else {
            break;
        };
        if meta.len() > MAX_CRL_LEN {
            return Err(format!("CRL {} is too large", path.display()));
        }
        lcmaps_core::trust::check_stat(&path, &meta).map_err(|e| e.to_string())?;
        crate::store::note_trust_checked(&path);
        // Parsed once per version of the file (crate::store).
        let crls = crl_files().get(&path, &meta, |data| {
            if data.len() as u64 > MAX_CRL_LEN {
                return Err(format!("CRL {} is too large", path.display()));
            }
            let crls =
                parse_crl_file(data).ok_or_else(|| format!("malformed CRL {}", path.display()))?;
            Ok(crls
                .into_iter()
                .map(|(crl, ext)| CrlInfo {
                    crl,
                    ext,
                    signer: Mutex::new(None),
                })
                .collect())
        })?;
        out.extend((0..crls.len()).map(|i| {
            (
                SharedCrl {
                    file: crls.clone(),
                    i,
                },
                path.clone(),
            )
        }));
    }
    Ok(out)
}

/// The process's parsed CRL files (part of the trust store,
/// [`crate::store`]).
fn crl_files() -> &'static crate::store::FileCache<Vec<CrlInfo>> {
    static FILES: std::sync::OnceLock<crate::store::FileCache<Vec<CrlInfo>>> =
        std::sync::OnceLock::new();
    FILES.get_or_init(crate::store::FileCache::new)
}

/// A parsed CRL and its [`crl_extensions`], as the trust store keeps it.
pub(crate) struct CrlInfo {
    crl: X509Crl,
    ext: Option<CrlExtensions>,
    /// The public key its signature verified with, once it has: the same
    /// CRL (this version of the file) and the same key verify the same way
    /// again, so every later check compares keys instead.
    signer: Mutex<Option<PKey<Public>>>,
}

/// One CRL of a CRL file in the trust store.
struct SharedCrl {
    file: std::sync::Arc<Vec<CrlInfo>>,
    i: usize,
}

impl SharedCrl {
    /// Its [`crl_extensions`].
    fn extensions(&self) -> Option<CrlExtensions> {
        self.file[self.i].ext.clone()
    }

    /// Whether its signature verifies with `key` (remembered per parsed
    /// CRL, see [`CrlInfo::signer`]).
    fn signed_by(&self, key: &PKeyRef<Public>) -> bool {
        let info = &self.file[self.i];
        let mut signer = info.signer.lock().unwrap_or_else(|e| e.into_inner());
        if signer.as_ref().is_some_and(|k| k.public_eq(key)) {
            return true;
        }
        let ok = info.crl.verify(key).unwrap_or(false);
        if ok {
            *signer = Some(key.to_owned());
        }
        ok
    }
}

impl std::ops::Deref for SharedCrl {
    type Target = X509Crl;
    fn deref(&self) -> &X509Crl {
        &self.file[self.i].crl
    }
}

/// What [`crl_extensions`] returns: the authorityKeyIdentifier
/// keyIdentifier, delta CRL, unhandled critical extension.
pub type CrlExtensions = (Option<Vec<u8>>, bool, bool);

/// A CRL file's contents as the trust store reads them: its CRLs (PEM,
/// one or more; or one DER CRL), each with its [`crl_extensions`] (`None`
/// when those do not parse). `None`: not a CRL file. (Also the fuzz target
/// `parse_crl`'s way in.)
pub fn parse_crl_file(data: &[u8]) -> Option<Vec<(X509Crl, Option<CrlExtensions>)>> {
    let crls = parse_crls(data)?;
    Some(
        crls.into_iter()
            .map(|crl| {
                let ext = crl_extensions(&crl);
                (crl, ext)
            })
            .collect(),
    )
}

/// The PEM CRLs of `data` (at least one), or the one DER CRL it is.
fn parse_crls(data: &[u8]) -> Option<Vec<X509Crl>> {
    const BEGIN: &[u8] = b"-----BEGIN X509 CRL-----";
    const END: &[u8] = b"-----END X509 CRL-----";
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    if find(data, BEGIN).is_none() {
        return X509Crl::from_der(data).ok().map(|c| vec![c]);
    }
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(b) = find(rest, BEGIN) {
        let e = b + find(&rest[b..], END)? + END.len();
        out.push(X509Crl::from_pem(&rest[b..e]).ok()?);
        rest = &rest[e..];
    }
    Some(out)
}

/// The CRL's authorityKeyIdentifier keyIdentifier, whether it is a delta
/// CRL, and whether it has a critical extension OpenSSL does not handle
/// (it handles authorityKeyIdentifier, issuingDistributionPoint and
/// deltaCRLIndicator, and certificateIssuer in entries).
fn crl_extensions(crl: &X509Crl) -> Option<CrlExtensions> {
    let der = crl.to_der().ok()?;
    let list = x509_cert::crl::CertificateList::from_der(&der).ok()?;
    let mut akid = None;
    let mut delta = false;
    let mut critical = false;
    for e in list.tbs_cert_list.crl_extensions.iter().flatten() {
        if e.extn_id == OID_AKID {
            let a = x509_cert::ext::pkix::AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes())
                .ok()?;
            akid = a.key_identifier.map(|k| k.as_bytes().to_vec());
        } else if e.extn_id == OID_DELTA_CRL {
            delta = true;
        } else if e.critical && e.extn_id != OID_IDP {
            critical = true;
        }
    }
    let entry_critical = list
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .flat_map(|r| r.crl_entry_extensions.iter().flatten())
        .any(|e| e.critical && e.extn_id != OID_CERTIFICATE_ISSUER);
    Some((akid, delta, critical || entry_critical))
}

/// Checks `cert` (issued by `issuer`, which is `cert` itself for a root)
/// against the CRLs of `issuer` in `dir` at time `now`, under `mode`.
///
/// The CRLs considered are those of `<hash>.r0`, `<hash>.r1`, ... issued
/// under `issuer`'s name, not delta CRLs, and whose authorityKeyIdentifier
/// (when both it and `issuer`'s subjectKeyIdentifier are present) names
/// `issuer`'s key. Of those, as OpenSSL's CRL scoring does, one without an
/// unhandled critical extension beats one with; then a current one beats an
/// expired or not yet valid one; then the latest lastUpdate (the first one
/// read on a tie). That one CRL decides: it must be current, signed by
/// `issuer` (whose keyUsage, if any, must allow cRLSign), without unhandled
/// critical extensions, and must not list `cert`.
///
/// No CRL considered: `require` refuses; `if-valid` accepts and warns once
/// per CA per process, naming the CA and `<hash>.r0`. `ignore` reads
/// nothing and accepts.
pub fn check_ca_issued(
    cert: &X509Ref,
    issuer: &X509Ref,
    dir: &Path,
    now: i64,
    mode: CrlMode,
) -> Result<(), CrlError> {
    if mode == CrlMode::Ignore {
        return Ok(());
    }
    let hash = cert.issuer_name_hash();
    let skid = issuer.subject_key_id().map(|k| k.as_slice().to_vec());
    let unusable = CrlError::Unusable;
    let mut best: Option<(Candidate, (bool, bool))> = None;
    for (crl, path) in read_crls(dir, hash).map_err(unusable)? {
        if crl.issuer_name().try_cmp(issuer.subject_name()).ok() != Some(std::cmp::Ordering::Equal)
        {
            continue;
        }
        let (akid, delta, unhandled_critical) = crl
            .extensions()
            .ok_or_else(|| unusable(format!("malformed CRL {}", path.display())))?;
        if delta {
            continue;
        }
        if let (Some(a), Some(s)) = (&akid, &skid) {
            if a != s {
                continue;
            }
        }
        let last = crate::time::unix(crl.last_update())
            .ok_or_else(|| unusable(format!("CRL {} has a bad lastUpdate", path.display())))?;
        let next =
            match crl.next_update() {
                Some(t) => Some(crate::time::unix(t).ok_or_else(|| {
                    unusable(format!("CRL {} has a bad nextUpdate", path.display()))
                })?),
                None => None,
            };
        let current = last <= now && next.map_or(true, |n| n > now);
        let score = (!unhandled_critical, current);
        let better = match &best {
            None => true,
            Some((b, bs)) => score > *bs || (score == *bs && last > b.last),
        };
        if better {
            best = Some((
                Candidate {
                    crl,
                    path,
                    last,
                    next,
                    unhandled_critical,
                },
                score,
            ));
        }
    }
    let issuer_dn = oneline(issuer.subject_name());
    let Some((c, _)) = best else {
        let looked_for = dir.join(format!("{hash:08x}.r0"));
        if mode == CrlMode::Require {
            return Err(CrlError::Missing {
                dir: dir.display().to_string(),
                issuer: issuer_dn,
                subject: oneline(cert.subject_name()),
                looked_for: looked_for.display().to_string(),
            });
        }
        warn_once(looked_for, issuer_dn);
        return Ok(());
    };
    if let Some(n) = c.next {
        crate::store::note_expiry(n);
    }
    let path = c.path.display();
    if issuer
        .key_usage()
        .is_some_and(|k| !k.contains(X509KeyUsage::CRL_SIGN))
    {
        return Err(unusable(format!(
            "CRL {path}: the keyUsage of \"{issuer_dn}\" does not allow signing CRLs"
        )));
    }
    if c.last > now {
        return Err(unusable(format!(
            "CRL {path} of \"{issuer_dn}\" is not valid before {}",
            crate::time::format(c.last)
        )));
    }
    if let Some(n) = c.next.filter(|n| *n <= now) {
        return Err(unusable(format!(
            "CRL {path} of \"{issuer_dn}\" expired at {}",
            crate::time::format(n)
        )));
    }
    let key = issuer.public_key().map_err(|_| {
        unusable(format!(
            "cannot get the public key of \"{issuer_dn}\" to check CRL {path}"
        ))
    })?;
    if !c.crl.signed_by(&key) {
        return Err(unusable(format!(
            "CRL {path} has a bad signature (not signed by \"{issuer_dn}\")"
        )));
    }
    if c.unhandled_critical {
        return Err(unusable(format!(
            "CRL {path} has an unsupported critical extension"
        )));
    }
    match c.crl.get_by_serial(cert.serial_number()) {
        CrlStatus::NotRevoked | CrlStatus::RemoveFromCrl(_) => Ok(()),
        CrlStatus::Revoked(_) => Err(CrlError::Revoked {
            subject: oneline(cert.subject_name()),
            crl: path.to_string(),
        }),
    }
}

/// The one warning per CA per process about a missing CRL of `issuer`
/// (`looked_for`: the `<hash>.r0` that is not there), for CRL checks done
/// elsewhere (the XACML client's TLS server check) too.
pub fn warn_missing_crl(looked_for: &Path, issuer: &str) {
    warn_once(looked_for.to_owned(), issuer.to_owned());
}

/// The one warning per CA per process about a missing CRL.
fn warn_once(looked_for: PathBuf, issuer: String) {
    let first = WARNED
        .lock()
        .map(|mut w| w.insert((looked_for.clone(), issuer.clone())))
        .unwrap_or(true);
    if first {
        log::warn!(
            "no CRL for CA \"{issuer}\" (looked for {}): its certificates are accepted without \
             a revocation check, as upstream does (CRL mode if-valid; mode require refuses them); \
             said once per CA",
            looked_for.display()
        );
    }
}

/// The CAs in `dir` (files `<hash>.<N>`) without a CRL in `dir` that
/// [`check_ca_issued`] would consider: (CA DN, the file looked for), sorted.
/// For `lcmaps check`; unreadable or malformed files are skipped.
pub fn cas_without_crl(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((h, n)) = name.split_once('.') else {
            continue;
        };
        if h.len() != 8
            || !h.bytes().all(|b| b.is_ascii_hexdigit())
            || n.is_empty()
            || !n.bytes().all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(data) = lcmaps_core::site_file::read_regular(&e.path()) else {
            continue;
        };
        let Ok(ca) = openssl::x509::X509::from_pem(&data) else {
            continue;
        };
        let Ok(hash) = u32::from_str_radix(h, 16) else {
            continue;
        };
        let skid = ca.subject_key_id().map(|k| k.as_slice().to_vec());
        let has = read_crls(dir, hash)
            .unwrap_or_default()
            .iter()
            .any(|(c, _)| {
                c.issuer_name().try_cmp(ca.subject_name()).ok() == Some(std::cmp::Ordering::Equal)
                    && c.extensions().is_some_and(|(akid, delta, _)| {
                        !delta && !matches!((&akid, &skid), (Some(a), Some(s)) if a != s)
                    })
            });
        if !has {
            out.push((
                oneline(ca.subject_name()),
                dir.join(format!("{hash:08x}.r0")),
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Checks `cert` against every CRL `<hash of its issuer>.r<N>` in `dir`
/// issued by `issuer`. No CRL is fine (users do not publish CRLs for their
/// proxies); a CRL that is present must be well-formed, signed by `issuer`,
/// current, and must not list `cert`.
pub fn check(cert: &X509Ref, issuer: &X509Ref, dir: &Path, now: i64) -> Result<(), String> {
    let hash = cert.issuer_name_hash();
    for (crl, path) in read_crls(dir, hash)? {
        // A different name with the same hash is someone else's CRL.
        if crl.issuer_name().try_cmp(issuer.subject_name()).ok() != Some(std::cmp::Ordering::Equal)
        {
            continue;
        }
        let key = issuer.public_key().map_err(|_| {
            format!(
                "cannot get the public key of {}",
                oneline(issuer.subject_name())
            )
        })?;
        if !crl.signed_by(&key) {
            return Err(format!("CRL {} has a bad signature", path.display()));
        }
        let last = crate::time::unix(crl.last_update())
            .ok_or_else(|| format!("CRL {} has a bad lastUpdate", path.display()))?;
        if last > now {
            return Err(format!("CRL {} is not yet valid", path.display()));
        }
        if let Some(next) = crl.next_update() {
            let next = crate::time::unix(next)
                .ok_or_else(|| format!("CRL {} has a bad nextUpdate", path.display()))?;
            crate::store::note_expiry(next);
            if next < now {
                return Err(format!(
                    "CRL {} expired at {}",
                    path.display(),
                    crate::time::format(next)
                ));
            }
        }
        if !matches!(
            crl.get_by_serial(cert.serial_number()),
            CrlStatus::NotRevoked
        ) {
            return Err(format!(
                "certificate \"{}\" is revoked (CRL {})",
                oneline(cert.subject_name()),
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn shared(crl: X509Crl) -> SharedCrl {
        SharedCrl {
            file: std::sync::Arc::new(vec![CrlInfo {
                ext: crl_extensions(&crl),
                crl,
                signer: Mutex::new(None),
            }]),
            i: 0,
        }
    }

    #[test]
    fn a_crl_signature_is_remembered_for_its_signers_key_only() {
        let (ca, other) = (fixtures::ca("CRL CA"), fixtures::ca("Other CA"));
        let now = fixtures::now();
        let key = ca.cert.public_key().unwrap();
        let wrong = other.cert.public_key().unwrap();
        let good = shared(fixtures::crl(&ca, &[5], now - 60, now + 3600));
        assert!(!good.signed_by(&wrong));
        assert!(good.signed_by(&key));
        assert!(good.signed_by(&key), "again, from memory");
        assert!(
            !good.signed_by(&wrong),
            "a remembered signer vouches for no other key"
        );
        let forged = shared(fixtures::bad_signature(&fixtures::crl(
            &ca,
            &[5],
            now - 60,
            now + 3600,
        )));
        for _ in 0..2 {
            assert!(
                !forged.signed_by(&key),
                "a bad signature is never remembered"
            );
        }
    }
}
