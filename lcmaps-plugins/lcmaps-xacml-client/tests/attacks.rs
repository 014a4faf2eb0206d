//! Attacks on the callout's trust in the PDP (security issue #14, item 6):
//! only a server certificate from a CA in `--capath`, not revoked by a CRL
//! there, and with no proxy in its chain, may answer for the PDP.
//! Certificates are made at test time.

mod support;

use lcmaps_x509::fixtures::{self, Kind, Tweak};
use support::*;

/// Anyone with a certificate from a CA in `--capath` can sign an RFC 3820
/// proxy whose CN is the PDP's host name. Trusting proxies for the server
/// (as a host proxy is trusted for the client) would let them answer Permit
/// with uid 0.
#[test]
fn a_proxy_of_a_user_cert_posing_as_the_pdp_is_refused() {
    let w = World::new();
    let (uc, uk) = fixtures::user(&w.ca, "Mallory", 20);
    for kind in [Kind::Rfc, Kind::RfcLimited] {
        let posing = Tweak {
            subject: Some(fixtures::extend(uc.subject_name(), "localhost")),
            ..Tweak::default()
        };
        let proxy = fixtures::proxy(&uc, &uk, kind, posing);
        let s = w.pdp(EVIL_MAP, proxy, vec![uc.clone()]);
        refused(
            &w,
            &s,
            "server certificate rejected: proxy certificate in the server chain",
        );
    }
    // Nor with the name in a subjectAltName, nor as a GT3 or legacy
    // (pre-RFC) proxy, which OpenSSL does not know as proxies.
    for kind in [Kind::Rfc, Kind::Gt3, Kind::Legacy] {
        let posing = Tweak {
            extra: vec![san("localhost")],
            ..Tweak::default()
        };
        let proxy = fixtures::proxy(&uc, &uk, kind, posing);
        let s = w.pdp(EVIL_MAP, proxy, vec![uc.clone()]);
        refused(&w, &s, "server certificate rejected");
    }
    // The real PDP is accepted.
    let s = w.pdp(
        MAP,
        cert(&w.ca, "localhost", 77, vec![san("localhost")]),
        vec![],
    );
    accepted(&w, &s);
}

/// A PDP certificate revoked by a CRL in `--capath` is refused; a CA
/// without a CRL there is accepted, as Globus/VOMS-style verification does.
#[test]
fn a_revoked_pdp_certificate_is_refused() {
    let w = World::new();
    let s = w.pdp(
        MAP,
        cert(&w.ca, "localhost", 77, vec![san("localhost")]),
        vec![],
    );
    // The CRL revokes nothing yet.
    accepted(&w, &s);
    // Now it revokes the PDP's certificate (serial 77).
    fixtures::install_ca(&w.capath, &w.ca, &[77]);
    refused(&w, &s, "server certificate rejected: certificate revoked");
    // A CRL past its nextUpdate is no CRL to trust.
    let day = 86_400;
    let old = fixtures::crl(&w.ca, &[], fixtures::now() - 2 * day, fixtures::now() - day);
    std::fs::write(w.crl_path(), old.to_pem().unwrap()).unwrap();
    refused(&w, &s, "server certificate rejected: CRL has expired");
    // No CRL file for the CA: accepted.
    std::fs::remove_file(w.crl_path()).unwrap();
    accepted(&w, &s);
}

/// `--crl-mode`: `require` refuses a PDP whose CA has no CRL, `if-valid`
/// (the default) accepts it with one warning naming the CA and the file,
/// refuses a badly signed CRL; `ignore` accepts a revoked PDP certificate.
#[test]
fn crl_mode_option_decides_about_the_pdp_certificate() {
    let w = World::new();
    let s = w.pdp(
        MAP,
        cert(&w.ca, "localhost", 77, vec![san("localhost")]),
        vec![],
    );
    std::fs::remove_file(w.crl_path()).unwrap();
    accepted_with(&w, &s, &["--crl-mode", "if-valid"]);
    accepted(&w, &s);
    let warned = logs_with(&w.crl_path().display().to_string());
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("no CRL for CA \"/DC=org/DC=example/CN=Test CA\""));
    refused_with(
        &w,
        &s,
        &["--crl-mode", "require"],
        "no CRL in the CA directory",
    );
    accepted_with(&w, &s, &["--crl-mode", "ignore"]);
    // A badly signed CRL revoking nothing: refused unless ignored.
    let good = fixtures::crl(&w.ca, &[], fixtures::now() - 3600, fixtures::now() + 3600);
    std::fs::write(
        w.crl_path(),
        fixtures::bad_signature(&good).to_pem().unwrap(),
    )
    .unwrap();
    refused(&w, &s, "CRL signature failure");
    accepted_with(&w, &s, &["--crl-mode", "ignore"]);
    // A CRL revoking the PDP's certificate: only `ignore` lets it answer.
    fixtures::install_ca(&w.capath, &w.ca, &[77]);
    refused_with(&w, &s, &["--crl-mode", "require"], "certificate revoked");
    accepted_with(&w, &s, &["--crl-mode", "ignore"]);
}

/// A certificate whose extendedKeyUsage allows client authentication only
/// (a user's or a host's client certificate) is no server certificate.
#[test]
fn a_client_certificate_as_pdp_is_refused() {
    let w = World::new();
    let leaf = cert(
        &w.ca,
        "localhost",
        78,
        vec![san("localhost"), client_auth_only()],
    );
    let s = w.pdp(EVIL_MAP, leaf, vec![]);
    refused(
        &w,
        &s,
        "server certificate rejected: not a server certificate",
    );
}
