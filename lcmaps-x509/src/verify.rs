//! Chain verification: OpenSSL for the CA-issued part, our own code for the
//! proxy links, OpenSSL again over RFC 3820 chains.

use std::path::{Path, PathBuf};

use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Ref, X509StoreContext, X509VerifyResult, X509};

use crate::cred::{
    CertKind, Credential, Link, PolicyLanguage, ProxyType, OID_BASIC_CONSTRAINTS, OID_GT3_PROXY,
    OID_RFC_PROXY,
};
use crate::crl::{CrlError, CrlMode};
use crate::time::format;

/// What to check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Hashed CA directory (`<hash>.0` certificates, `<hash>.r0` CRLs).
    pub ca_dir: PathBuf,
    /// Accept limited proxies (upstream default: yes).
    pub allow_limited: bool,
    /// The leaf must be a limited proxy.
    pub require_limited: bool,
    /// The PEM must contain the leaf's private key.
    pub require_private_key: bool,
    /// Verification time (Unix seconds); `None` = now.
    pub at: Option<i64>,
    /// How the CRLs of the CA directory are used for the CA-issued part of
    /// the chain (default: as upstream, [`CrlMode::IfValid`]).
    pub crl_mode: CrlMode,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            ca_dir: crate::DEFAULT_CERT_DIR.into(),
            allow_limited: true,
            require_limited: false,
            require_private_key: true,
            at: None,
            crl_mode: CrlMode::default(),
        }
    }
}

/// Why a chain was rejected. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The CA directory cannot be used.
    #[error("cannot use CA directory {0}")]
    CaDir(String),
    /// A privileged process may not trust the CA directory
    /// ([`lcmaps_core::trust::check`]); the message says why.
    #[error("{0}")]
    Untrusted(String),
    /// The end-entity certificate's (or an intermediate's) issuer is not in the CA dir.
    #[error("issuer not found in {dir}: \"{issuer}\" (issuer of \"{subject}\")")]
    IssuerNotFound {
        /// CA directory.
        dir: String,
        /// Missing issuer.
        issuer: String,
        /// Certificate whose issuer is missing.
        subject: String,
    },
    /// A CA-issued certificate is revoked.
    #[error("certificate \"{0}\" is revoked")]
    Revoked(String),
    /// No CRL for a CA in the path (CRL mode `require`).
    #[error("no CRL in {dir} for \"{issuer}\" (needed for \"{subject}\")")]
    NoCrl {
        /// CA directory.
        dir: String,
        /// CA without a CRL.
        issuer: String,
        /// Certificate to check.
        subject: String,
    },
    /// The CRL that decides for a CA in the path cannot be used (expired,
    /// not yet valid, bad signature, malformed); the message says which
    /// file and why.
    #[error("{0}")]
    Crl(String),
    /// A certificate (CA-issued) outside its validity.
    #[error("certificate \"{subject}\" expired at {at}")]
    Expired {
        /// Subject.
        subject: String,
        /// notAfter.
        at: String,
    },
    /// A certificate (CA-issued) not yet valid.
    #[error("certificate \"{subject}\" is not valid before {at}")]
    NotYetValid {
        /// Subject.
        subject: String,
        /// notBefore.
        at: String,
    },
    /// Any other OpenSSL verification error.
    #[error("chain verification failed at \"{subject}\": {reason}")]
    OpenSsl {
        /// Certificate at the error depth.
        subject: String,
        /// OpenSSL's text.
        reason: String,
    },
    /// A proxy has expired.
    #[error("proxy expired at {at} (proxy level {level}, \"{subject}\")")]
    ProxyExpired {
        /// Proxy level (0 = first delegation).
        level: usize,
        /// Subject.
        subject: String,
        /// notAfter.
        at: String,
    },
    /// A proxy is not yet valid.
    #[error("proxy not valid before {at} (proxy level {level}, \"{subject}\")")]
    ProxyNotYetValid {
        /// Proxy level.
        level: usize,
        /// Subject.
        subject: String,
        /// notBefore.
        at: String,
    },
    /// Any other proxy rule violated.
    #[error("proxy level {level} (\"{subject}\"): {reason}")]
    Proxy {
        /// Proxy level.
        level: usize,
        /// Subject.
        subject: String,
        /// What is wrong.
        reason: String,
    },
    /// Limited proxy not allowed.
    #[error("limited proxy not allowed by policy (proxy level {0})")]
    LimitedNotAllowed(usize),
    /// Limited proxy required.
    #[error("the leaf is not a limited proxy, which the policy requires")]
    LimitedRequired,
    /// No private key.
    #[error("no private key in the PEM input, which the policy requires")]
    NoPrivateKey,
    /// The private key does not belong to the leaf.
    #[error("the private key does not match the leaf certificate \"{0}\"")]
    KeyMismatch(String),
}

fn openssl_msg(r: X509VerifyResult) -> String {
    r.error_string().to_owned()
}

/// An OpenSSL store of the CA certificates in `dir` that a chain with
/// certificates `chain` can reach ([`crate::store::reachable_cas`]: the
/// ones OpenSSL's hashed directory lookup would find for it, parsed once
/// per version of each file).
fn build_store(
    dir: &Path,
    chain: &[Link],
    flags: X509VerifyFlags,
    at: Option<i64>,
) -> Result<openssl::x509::store::X509Store, VerifyError> {
    let cadir = || VerifyError::CaDir(dir.display().to_string());
    let meta = crate::store::stat(dir)
        .ok()
        .flatten()
        .filter(|m| m.is_dir())
        .ok_or_else(cadir)?;
    // The directory and those above it; the files in it are checked by
    // the plugins when they start (trust::check_dir_entries), CRLs of
    // proxies when they are read (crate::crl).
    lcmaps_core::trust::check_stat(dir, &meta)
        .map_err(|e| VerifyError::Untrusted(e.to_string()))?;
    crate::store::note_trust_checked(dir);
    let mut b = X509StoreBuilder::new().map_err(|_| cadir())?;
    let seeds = chain.iter().map(|l| l.cert.issuer_name_hash());
    for ca in crate::store::reachable_cas(dir, seeds) {
        b.add_cert(ca).map_err(|_| cadir())?;
    }
    b.set_flags(flags).map_err(|_| cadir())?;
    if let Some(t) = at {
        let mut p = openssl::x509::verify::X509VerifyParam::new().map_err(|_| cadir())?;
        p.set_time(t as _);
        p.set_flags(flags).map_err(|_| cadir())?;
        b.set_param(&p).map_err(|_| cadir())?;
    }
    Ok(b.build())
}

/// Runs OpenSSL's verification of `target` with `untrusted`: the chain
/// OpenSSL built (target first, trust anchor last), or on failure (error,
/// message, certificate at the error depth).
fn openssl_verify(
    store: &openssl::x509::store::X509StoreRef,
    target: &X509Ref,
    untrusted: &[&Link],
) -> Result<Vec<X509>, (i32, String, X509)> {
    let mut stack =
        Stack::new().map_err(|_| (-1, "internal error".to_owned(), target.to_owned()))?;
    for l in untrusted {
        stack
            .push(l.cert.clone())
            .map_err(|_| (-1, "internal error".to_owned(), target.to_owned()))?;
    }
    let mut ctx = X509StoreContext::new()
        .map_err(|_| (-1, "internal error".to_owned(), target.to_owned()))?;
    let r = ctx.init(store, target, &stack, |c| {
        let ok = c.verify_cert()?;
        let cur = c
            .current_cert()
            .map(|c| c.to_owned())
            .unwrap_or_else(|| target.to_owned());
        let chain: Vec<X509> = c
            .chain()
            .map(|s| s.iter().map(|x| x.to_owned()).collect())
            .unwrap_or_default();
        Ok((ok, c.error(), cur, chain))
    });
    match r {
        Ok((true, _, _, chain)) if !chain.is_empty() => Ok(chain),
        Ok((true, _, _, _)) => Err((-1, "internal error".to_owned(), target.to_owned())),
        Ok((false, e, cur, _)) => Err((e.as_raw(), openssl_msg(e), cur)),
        Err(_) => Err((-1, "internal error".to_owned(), target.to_owned())),
    }
}

fn map_openssl(dir: &Path, code: i32, msg: String, cur: &X509) -> VerifyError {
    let subject = crate::name::oneline(cur.subject_name());
    let issuer = crate::name::oneline(cur.issuer_name());
    let dir = dir.display().to_string();
    match code {
        2 | 20 => VerifyError::IssuerNotFound {
            dir,
            issuer,
            subject,
        },
        3 => VerifyError::NoCrl {
            dir,
            issuer,
            subject,
        },
        23 => VerifyError::Revoked(subject),
        10 => VerifyError::Expired {
            subject,
            at: crate::time::unix(cur.not_after())
                .map(format)
                .unwrap_or_default(),
        },
        9 => VerifyError::NotYetValid {
            subject,
            at: crate::time::unix(cur.not_before())
                .map(format)
                .unwrap_or_default(),
        },
        _ => VerifyError::OpenSsl {
            subject,
            reason: msg,
        },
    }
}

/// Extensions a proxy may carry as critical.
fn known_critical(oid: &der::asn1::ObjectIdentifier) -> bool {
    const KEY_USAGE: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("2.5.29.15");
    *oid == OID_RFC_PROXY
        || *oid == OID_GT3_PROXY
        || *oid == OID_BASIC_CONSTRAINTS
        || *oid == KEY_USAGE
}

/// The CRL check of every certificate of `chain` (as OpenSSL built it:
/// end-entity certificate first, self-signed trust anchor last, which is
/// checked against its own CRL), from the end-entity certificate up, as
/// OpenSSL's `X509_V_FLAG_CRL_CHECK_ALL` does.
fn check_crls(chain: &[X509], dir: &Path, now: i64, mode: CrlMode) -> Result<(), VerifyError> {
    for (i, cert) in chain.iter().enumerate() {
        let issuer = chain.get(i + 1).unwrap_or(cert);
        crate::crl::check_ca_issued(cert, issuer, dir, now, mode).map_err(|e| match e {
            CrlError::Missing {
                dir,
                issuer,
                subject,
                ..
            } => VerifyError::NoCrl {
                dir,
                issuer,
                subject,
            },
            CrlError::Revoked { subject, .. } => VerifyError::Revoked(subject),
            CrlError::Unusable(m) => VerifyError::Crl(m),
        })?;
    }
    Ok(())
}

/// Verifies `cred` under `opts`. `Ok(())` only if every check passed.
///
/// The checks of the chain (everything but the private key) may be
/// answered by the cache of successful verifications
/// ([`crate::verify_cache`], which says why that is safe); the private key
/// is checked every time.
pub fn verify(cred: &Credential, opts: &VerifyOptions) -> Result<(), VerifyError> {
    crate::verify_cache::verify_chain(cred, opts, verify_chain)?;
    check_private_key(cred, opts)
}

/// Every check of `cred` but the private key's, without the cache.
fn verify_chain(cred: &Credential, opts: &VerifyOptions) -> Result<(), VerifyError> {
    let now = opts.at.unwrap_or_else(crate::time::now);
    let dir = opts.ca_dir.as_path();
    // OpenSSL builds and checks the chain; the CRLs are ours (check_crls),
    // so that the CRL mode decides what a missing CRL means.
    let store = build_store(
        dir,
        &cred.chain[cred.eec_index..],
        X509VerifyFlags::empty(),
        opts.at,
    )?;

    // 1. The CA-issued part: the end-entity certificate up to a trusted CA,
    //    then the CRLs of every CA on that path.
    let eec = cred.eec();
    let cas: Vec<&Link> = cred.chain[cred.eec_index + 1..].iter().collect();
    let ca_chain = openssl_verify(&store, &eec.cert, &cas)
        .map_err(|(c, m, cur)| map_openssl(dir, c, m, &cur))?;
    for c in &ca_chain {
        // (An unreadable notAfter keeps the result out of the cache.)
        crate::store::note_expiry(crate::time::unix(c.not_after()).unwrap_or(i64::MIN));
    }
    check_crls(&ca_chain, dir, now, opts.crl_mode)?;

    // 2. Every proxy link, from the first delegation to the leaf.
    let mut countdown: Option<u32> = None;
    let mut prev_type: Option<ProxyType> = None;
    for (level, depth) in (0..cred.eec_index).rev().enumerate() {
        let l = &cred.chain[depth];
        let issuer = &cred.chain[depth + 1];
        let fail = |reason: String| VerifyError::Proxy {
            level,
            subject: l.subject.clone(),
            reason,
        };
        if l.ca_bit {
            return Err(fail("a proxy must not have the CA bit set".into()));
        }
        let ptype = match &l.kind {
            CertKind::Proxy(t) => t.clone(),
            _ => {
                return Err(fail(format!(
                    "not a proxy of \"{}\": its subject must be the issuer's subject plus one CN",
                    issuer.subject
                )))
            }
        };
        if l.cert
            .issuer_name()
            .try_cmp(issuer.cert.subject_name())
            .ok()
            != Some(std::cmp::Ordering::Equal)
        {
            return Err(fail(format!(
                "issuer \"{}\" is not the subject of the next certificate in the chain \"{}\"",
                l.issuer, issuer.subject
            )));
        }
        let key = issuer
            .cert
            .public_key()
            .map_err(|_| fail("cannot get the issuer's public key".into()))?;
        if !l.cert.verify(&key).unwrap_or(false) {
            return Err(fail(format!(
                "signature does not verify with the key of \"{}\"",
                issuer.subject
            )));
        }
        let tbs = &l.parsed.tbs_certificate;
        if crate::cred::proxy_cn(&tbs.subject, &tbs.issuer).is_none() {
            return Err(fail(format!(
                "subject does not extend its issuer \"{}\" by exactly one CN",
                issuer.subject
            )));
        }
        for e in tbs.extensions.iter().flatten() {
            if e.critical && !known_critical(&e.extn_id) {
                return Err(fail(format!(
                    "unsupported critical extension {}",
                    e.extn_id
                )));
            }
        }
        if let ProxyType::Rfc3820(PolicyLanguage::Other(oid))
        | ProxyType::Gt3(PolicyLanguage::Other(oid)) = &ptype
        {
            return Err(fail(format!("unsupported proxy policy language {oid}")));
        }
        if let Some(prev) = &prev_type {
            if prev.family() != ptype.family() {
                return Err(fail(format!(
                    "a {} proxy cannot be issued by a {} proxy",
                    ptype.family(),
                    prev.family()
                )));
            }
            if prev.is_limited() && !ptype.is_limited() {
                return Err(fail(
                    "a limited proxy can only issue limited proxies".into(),
                ));
            }
        }
        if let Some(0) = countdown {
            return Err(fail("proxy path length constraint exceeded".into()));
        }
        countdown = countdown.map(|c| c - 1);
        if let Some(p) = l.proxy_path_len {
            countdown = Some(countdown.map_or(p, |c| c.min(p)));
        }
        if now < l.not_before {
            return Err(VerifyError::ProxyNotYetValid {
                level,
                subject: l.subject.clone(),
                at: format(l.not_before),
            });
        }
        if now > l.not_after {
            return Err(VerifyError::ProxyExpired {
                level,
                subject: l.subject.clone(),
                at: format(l.not_after),
            });
        }
        if opts.crl_mode != CrlMode::Ignore {
            crate::crl::check(&l.cert, &issuer.cert, dir, now).map_err(fail)?;
        }
        if ptype.is_limited() && !opts.allow_limited {
            return Err(VerifyError::LimitedNotAllowed(level));
        }
        prev_type = Some(ptype);
    }
    if opts.require_limited && !cred.is_limited() {
        return Err(VerifyError::LimitedRequired);
    }

    // 3. Second opinion: OpenSSL over the whole RFC 3820 chain.
    let all_rfc = cred
        .proxies()
        .iter()
        .all(|l| matches!(l.kind, CertKind::Proxy(ProxyType::Rfc3820(_))));
    if cred.eec_index > 0 && all_rfc {
        let store = build_store(
            dir,
            &cred.chain[cred.eec_index..],
            X509VerifyFlags::ALLOW_PROXY_CERTS,
            opts.at,
        )?;
        let rest: Vec<&Link> = cred.chain[1..].iter().collect();
        openssl_verify(&store, &cred.leaf().cert, &rest)
            .map_err(|(c, m, cur)| map_openssl(dir, c, m, &cur))?;
    }

    Ok(())
}

/// Proof of possession: the private key in the PEM input is the leaf's
/// (required unless `opts.require_private_key` is false): its public half
/// is the leaf certificate's, and its private half is the one that public
/// half belongs to. A key file carries both halves side by side, and
/// nothing ties them together on parsing; comparing the public halves
/// alone (OpenSSL's `X509_check_private_key`) takes a scalar of anyone's
/// beside the leaf's public key.
fn check_private_key(cred: &Credential, opts: &VerifyOptions) -> Result<(), VerifyError> {
    match &cred.key {
        Some(k) => {
            let leaf_key = cred
                .leaf()
                .cert
                .public_key()
                .map_err(|_| VerifyError::KeyMismatch(cred.leaf().subject.clone()))?;
            if !leaf_key.public_eq(k) || !crate::possession::holds(k) {
                return Err(VerifyError::KeyMismatch(cred.leaf().subject.clone()));
            }
        }
        None if opts.require_private_key => return Err(VerifyError::NoPrivateKey),
        None => {}
    }
    Ok(())
}
