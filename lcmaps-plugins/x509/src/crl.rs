//! Our own CRL lookup, used for proxy links (OpenSSL skips revocation
//! checks on proxy certificates, openssl/openssl#32364).

use std::path::Path;

use openssl::x509::{CrlStatus, X509Crl, X509Ref};

use crate::name::oneline;

/// Largest CRL file read.
const MAX_CRL_LEN: u64 = 64 << 20;

/// Checks `cert` against every CRL `<hash of its issuer>.r<N>` in `dir`
/// issued by `issuer`. No CRL is fine (users do not publish CRLs for their
/// proxies); a CRL that is present must be well-formed, signed by `issuer`,
/// current, and must not list `cert`.
pub fn check(cert: &X509Ref, issuer: &X509Ref, dir: &Path, now: i64) -> Result<(), String> {
    let hash = cert.issuer_name_hash();
    for n in 0..100u32 {
        let path = dir.join(format!("{hash:08x}.r{n}"));
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(format!("cannot read CRL {}: {e}", path.display())),
        };
        if meta.len() > MAX_CRL_LEN {
            return Err(format!("CRL {} is too large", path.display()));
        }
        lcmaps_core::trust::check(&path).map_err(|e| e.to_string())?;
        let data =
            std::fs::read(&path).map_err(|e| format!("cannot read CRL {}: {e}", path.display()))?;
        let crl = X509Crl::from_pem(&data)
            .or_else(|_| X509Crl::from_der(&data))
            .map_err(|_| format!("malformed CRL {}", path.display()))?;
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
        if !crl.verify(&key).unwrap_or(false) {
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
