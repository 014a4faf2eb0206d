//! A bounded cache of successful chain verifications, so that the same
//! proxy chain presented again (a gatekeeper or glexec mapping the jobs of
//! one pilot, a GridFTP server its sessions) skips the signature checks.
//!
//! # What is cached
//!
//! Only successes of [`crate::verify()`]'s chain checks (the CA-issued part
//! with its CRLs, every proxy link with its CRL, OpenSSL's second opinion)
//! at the current time (`VerifyOptions::at` unset). The key is the SHA-256
//! of the exact DER bytes of every certificate of the presented chain, in
//! order, and of every option those checks read (CA directory, limited
//! proxy policy, CRL mode). The proof of possession (the private key in the
//! PEM input is the leaf's) is not cached: it is checked on every call.
//! Failures are never cached, so every refusal is reported as it is found.
//!
//! # Why a hit is safe
//!
//! An entry records everything the successful verification looked at
//! ([`crate::store::record`]): every file of the CA directory it examined
//! with its [`lcmaps_core::trust::Stamp`] (device, inode, size, mtime,
//! ctime, owner, mode) -- the directory itself, each `<hash>.N` CA file and
//! `<hash>.rN` CRL file it read, and each name it probed and found missing
//! (`<hash>.1`, `<hash>.r1`, the `.r0` of a proxy issuer) -- and the
//! earliest time something it relied on stops being valid. A hit requires,
//! at the time of the call:
//!
//! * the same chain bytes and options (a SHA-256 match: another chain would
//!   need a collision);
//! * every recorded file still there with the same stamp, and every missing
//!   name still missing: so the files are the very ones that were verified
//!   against, unchanged (the argument of [`crate::store`]: another file has
//!   another device or inode, a write changes mtime and ctime, and a file
//!   changed within the last [`crate::store::SETTLE`] is never kept, nor is
//!   an entry made from it). A CRL update, a new CRL (`.r1`), a CA removed,
//!   replaced or added under a probed name, or any entry added to or removed
//!   from the directory (its mtime) makes the next call verify in full;
//! * in a privileged process, the files whose use is checked with
//!   [`lcmaps_core::trust::check_stat`] (the directory, the CRLs) pass that
//!   check again, exactly as a full verification would check them;
//! * the time before the earliest notAfter of every certificate of the
//!   presented chain and of the CA certificates OpenSSL built the path to,
//!   and before the earliest nextUpdate of the CRLs that decided, and not
//!   before the time of the verification (a clock set back makes a miss);
//! * the entry younger than [`TTL`], which bounds what no stamp shows
//!   (root weakening a directory above an unchanged file, which
//!   [`lcmaps_core::trust::check_stat`] itself only notices after its own
//!   TTL, and anything unforeseen).
//!
//! Then a full verification would read the same bytes from the same files
//! and run the same checks on the same chain: the time-independent checks
//! (signatures, names, extensions, path lengths, serials against CRL
//! entries) give the same answer, and the time-dependent ones (validity
//! periods, CRL currency) held at the verification time and still hold,
//! since no bound in the window has passed. The only inputs a hit does not
//! look at again are the certificates' and CRLs' own bytes, which the
//! stamps and the key pin.
//!
//! The cache holds at most [`MAX_ENTRIES`] entries (digests, file stamps,
//! times: no key material) and is per process.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use lcmaps_core::trust::Stamp;

use crate::store::{Absent, Dep};
use crate::{Credential, VerifyError, VerifyOptions};

/// How long an entry is used at most.
pub const TTL: Duration = Duration::from_secs(60);

/// Most entries kept.
pub const MAX_ENTRIES: usize = 1024;

struct Entry {
    deps: Vec<Dep>,
    /// Unix seconds: the verification time, and the earliest end of
    /// validity of anything it relied on.
    verified_at: i64,
    valid_until: i64,
    made: Instant,
}

fn cache() -> &'static Mutex<HashMap<[u8; 32], Entry>> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Entry>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The key: the chain's certificates and the options the chain checks read.
fn cache_key(cred: &Credential, opts: &VerifyOptions) -> Option<[u8; 32]> {
    let mut h = openssl::sha::Sha256::new();
    let mut put = |b: &[u8]| {
        h.update(&(b.len() as u64).to_be_bytes());
        h.update(b);
    };
    put(b"lcmaps-x509 verify_chain v1");
    put(std::os::unix::ffi::OsStrExt::as_bytes(
        opts.ca_dir.as_os_str(),
    ));
    put(&[u8::from(opts.allow_limited), u8::from(opts.require_limited)]);
    put(opts.crl_mode.as_str().as_bytes());
    put(&(cred.chain.len() as u64).to_be_bytes());
    for l in &cred.chain {
        put(&l.cert.to_der().ok()?);
    }
    Some(h.finish())
}

/// Whether the files recorded are as they were (and pass the trust check
/// where a verification checks them).
fn unchanged(deps: &[Dep]) -> bool {
    deps.iter().all(|d| {
        let now = match std::fs::metadata(&d.path) {
            Ok(m) => Ok(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Absent::Missing),
            Err(_) => Err(Absent::Unreadable),
        };
        match (&d.stamp, now) {
            (Ok(s), Ok(m)) => {
                Stamp::of(&m) == *s
                    && (!d.trust_checked || lcmaps_core::trust::check_stat(&d.path, &m).is_ok())
            }
            (Err(Absent::Missing), Err(Absent::Missing)) => true,
            _ => false,
        }
    })
}

/// `full(cred, opts)`, the chain checks, or a cached success of them (see
/// the [module documentation](self)).
pub(crate) fn verify_chain(
    cred: &Credential,
    opts: &VerifyOptions,
    full: fn(&Credential, &VerifyOptions) -> Result<(), VerifyError>,
) -> Result<(), VerifyError> {
    if opts.at.is_some() {
        return full(cred, opts);
    }
    let Some(key) = cache_key(cred, opts) else {
        return full(cred, opts);
    };
    let now = crate::time::now();
    let made = Instant::now();
    {
        let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = c.get(&key) {
            let fresh = now >= e.verified_at
                && now < e.valid_until
                && made.saturating_duration_since(e.made) < TTL;
            // (The stat calls under the lock: a few per entry, and two
            // threads verifying the same chain at once gain nothing from
            // racing.)
            if fresh && unchanged(&e.deps) {
                return Ok(());
            }
            c.remove(&key);
        }
    }
    let (result, rec) = crate::store::record(|| full(cred, opts));
    result?;
    let chain_end = cred.chain.iter().map(|l| l.not_after).min();
    let valid_until = [rec.expires, chain_end]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(i64::MAX);
    // Nothing from a file changed within the settling time (the store did
    // not keep it either), nothing unreadable, and a window still open.
    let settled = rec.deps.iter().all(|d| match &d.stamp {
        Ok(_) => d.settled,
        Err(a) => *a == Absent::Missing,
    });
    if settled && valid_until > now {
        let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
        if c.len() >= MAX_ENTRIES {
            c.retain(|_, e| now < e.valid_until && made.saturating_duration_since(e.made) < TTL);
            if c.len() >= MAX_ENTRIES {
                c.clear();
            }
        }
        c.insert(
            key,
            Entry {
                deps: rec.deps,
                verified_at: now,
                valid_until,
                made,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{cache, cache_key, Duration};
    use crate::fixtures::*;
    use crate::{verify, Credential, VerifyError, VerifyOptions};

    struct World {
        dir: tempfile::TempDir,
        ca: Ca,
        pem: String,
    }

    /// A CA with a CRL revoking nothing, a proxy of a user (serial 100),
    /// and every file older than the store's settling time, so that the
    /// first verification is kept.
    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca("Cache CA");
        install_ca(dir.path(), &ca, &[]);
        let (u, uk) = user(&ca, "Jane Doe", 100);
        let (p, k) = proxy(&u, &uk, Kind::Rfc, Tweak::default());
        std::thread::sleep(crate::store::SETTLE + Duration::from_millis(1100));
        World {
            dir,
            ca,
            pem: pem(&[&p, &u], Some(&k)),
        }
    }

    impl World {
        fn opts(&self) -> VerifyOptions {
            VerifyOptions {
                ca_dir: self.dir.path().to_owned(),
                ..VerifyOptions::default()
            }
        }
        fn verify(&self) -> Result<(), VerifyError> {
            verify(&Credential::from_pem(&self.pem).unwrap(), &self.opts())
        }
        /// `verify` succeeds, twice, and the second time from the cache.
        fn verified_and_cached(&self) {
            self.verify().unwrap();
            let cred = Credential::from_pem(&self.pem).unwrap();
            let k = cache_key(&cred, &self.opts()).unwrap();
            assert!(cache().lock().unwrap().contains_key(&k), "not cached");
            self.verify().unwrap();
        }
        fn file(&self, suffix: &str) -> std::path::PathBuf {
            let hash = self.ca.cert.subject_name_hash();
            self.dir.path().join(format!("{hash:08x}.{suffix}"))
        }
    }

    fn crl_pem(ca: &Ca, revoked: &[u32]) -> Vec<u8> {
        crl(ca, revoked, now() - HOUR, now() + 24 * HOUR)
            .to_pem()
            .unwrap()
    }

    /// Replaces `path` as fetch-crl does: a new file renamed over it.
    fn replace(path: &Path, data: &[u8]) {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, data).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }

    #[test]
    fn a_crl_update_revoking_the_user_refuses_the_next_verification() {
        let w = world();
        w.verified_and_cached();
        replace(&w.file("r0"), &crl_pem(&w.ca, &[100]));
        let e = w.verify().unwrap_err();
        assert!(matches!(e, VerifyError::Revoked(_)), "{e}");
    }

    #[test]
    fn a_crl_rewritten_in_place_revoking_the_user_refuses_the_next_verification() {
        let w = world();
        w.verified_and_cached();
        std::fs::write(w.file("r0"), crl_pem(&w.ca, &[100])).unwrap();
        let e = w.verify().unwrap_err();
        assert!(matches!(e, VerifyError::Revoked(_)), "{e}");
    }

    #[test]
    fn a_newer_second_crl_of_the_ca_revoking_the_user_refuses_the_next_verification() {
        let w = world();
        w.verified_and_cached();
        // The newest current CRL decides; `.r1` was a missing name before.
        let newer = crl(&w.ca, &[100], now() - HOUR / 2, now() + 24 * HOUR);
        std::fs::write(w.file("r1"), newer.to_pem().unwrap()).unwrap();
        let e = w.verify().unwrap_err();
        assert!(matches!(e, VerifyError::Revoked(_)), "{e}");
    }

    #[test]
    fn a_ca_removed_from_the_directory_is_no_longer_trusted() {
        let w = world();
        w.verified_and_cached();
        std::fs::remove_file(w.file("0")).unwrap();
        let e = w.verify().unwrap_err();
        assert!(matches!(e, VerifyError::IssuerNotFound { .. }), "{e}");
    }

    #[test]
    fn a_ca_replaced_by_another_of_the_same_name_is_no_longer_trusted() {
        let w = world();
        w.verified_and_cached();
        // Same name (so the same hash file), another key: the user's
        // certificate no longer verifies.
        let other = ca("Cache CA");
        replace(&w.file("0"), &other.cert.to_pem().unwrap());
        assert!(w.verify().is_err());
    }

    #[test]
    fn the_private_key_is_checked_on_every_call_even_for_a_cached_chain() {
        let w = world();
        w.verified_and_cached();
        // The same chain with another key after the leaf.
        let other = key();
        let start = w.pem.find("-----BEGIN PRIVATE KEY-----").unwrap();
        let end = w.pem.find("-----END PRIVATE KEY-----").unwrap() + 25;
        let forged = format!(
            "{}{}{}",
            &w.pem[..start],
            std::str::from_utf8(&other.private_key_to_pem_pkcs8().unwrap()).unwrap(),
            &w.pem[end..]
        );
        let e = verify(&Credential::from_pem(&forged).unwrap(), &w.opts()).unwrap_err();
        assert!(matches!(e, VerifyError::KeyMismatch(_)), "{e}");
    }

    #[test]
    fn a_fresh_file_keeps_the_result_out_of_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca("Fresh CA");
        install_ca(dir.path(), &ca, &[]);
        let (u, uk) = user(&ca, "Jane Doe", 100);
        let (p, k) = proxy(&u, &uk, Kind::Rfc, Tweak::default());
        let cred = Credential::from_pem(&pem(&[&p, &u], Some(&k))).unwrap();
        let opts = VerifyOptions {
            ca_dir: dir.path().to_owned(),
            ..VerifyOptions::default()
        };
        verify(&cred, &opts).unwrap();
        assert!(!cache()
            .lock()
            .unwrap()
            .contains_key(&cache_key(&cred, &opts).unwrap()));
    }
}
