//! Credential handling for lcmaps-rs: PEM proxy chains, RFC 3820, GT3 draft
//! and legacy Globus (GT2) proxies, chain verification against a hashed CA
//! directory, and VOMS attribute certificates (RFC 5755).
//!
//! The flow is:
//!
//! 1. [`Credential::from_pem`] (or [`Credential::from_chain`]) parses the
//!    certificates and the optional private key and classifies every link
//!    (CA, end-entity, proxy of which type); it selects the end-entity
//!    certificate and renders its DN in LCMAPS's one-line form.
//! 2. [`verify::verify`] checks the chain: OpenSSL verifies the CA-issued part
//!    (end-entity certificate and any intermediate CAs) against the CA
//!    directory, [`crl::check_ca_issued`] the CRLs of that path under a
//!    [`CrlMode`]; our own code checks every proxy link (issuer,
//!    signature, subject, CA bit, path length, lifetime, CRL, limited-proxy
//!    policy, private key), and for chains of RFC 3820 proxies OpenSSL
//!    re-verifies the whole chain with `X509_V_FLAG_ALLOW_PROXY_CERTS` as a
//!    second opinion.
//! 3. [`voms::verify_acs`] parses and verifies the VOMS attribute
//!    certificates and yields FQANs and [`voms::VoData`].
//!
//! Every rejection is one error value whose `Display` is a single line that
//! says exactly why.
#![forbid(unsafe_code)]

pub mod cred;
pub mod crl;
pub mod name;
pub mod possession;
pub mod store;
pub mod time;
pub mod verify;
pub mod verify_cache;
pub mod voms;
pub mod warm;

#[cfg(any(test, feature = "test-fixtures"))]
pub mod fixtures;

pub use cred::{CertKind, CredError, Credential, Link, PolicyLanguage, ProxyType};
pub use crl::CrlMode;
pub use verify::{verify, VerifyError, VerifyOptions};
pub use voms::{VomsAttributes, VomsError, VomsOptions};

/// Default CA directory.
pub const DEFAULT_CERT_DIR: &str = "/etc/grid-security/certificates";
/// Default VOMS directory.
pub const DEFAULT_VOMS_DIR: &str = "/etc/grid-security/vomsdir";

/// The CA directory as LCMAPS's core finds it: `$LCMAPS_X509_CERT_DIR`,
/// `$X509_CERT_DIR`, else [`DEFAULT_CERT_DIR`] (empty values are skipped).
pub fn cert_dir_from_env() -> std::path::PathBuf {
    env_dir(&["LCMAPS_X509_CERT_DIR", "X509_CERT_DIR"], DEFAULT_CERT_DIR)
}

/// The VOMS directory as LCMAPS's core finds it: `$LCMAPS_X509_VOMS_DIR`,
/// `$X509_VOMS_DIR`, else [`DEFAULT_VOMS_DIR`] (empty values are skipped).
pub fn voms_dir_from_env() -> std::path::PathBuf {
    env_dir(&["LCMAPS_X509_VOMS_DIR", "X509_VOMS_DIR"], DEFAULT_VOMS_DIR)
}

fn env_dir(vars: &[&str], default: &str) -> std::path::PathBuf {
    vars.iter()
        .filter_map(std::env::var_os)
        .find(|v| !v.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| default.into())
}
