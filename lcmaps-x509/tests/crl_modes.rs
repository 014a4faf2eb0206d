//! CRL handling of the CA-issued part of a chain and of VOMS server
//! certificates: by default as upstream (lcmaps-plugins-verify-proxy 1.5.10
//! on OpenSSL, libvomsapi), stricter or looser with `--crl-mode`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lcmaps_x509::fixtures::*;
use lcmaps_x509::{verify, Credential, CrlMode, VerifyError, VerifyOptions};

/// Every log line at warning level or above, for the warning tests.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            self.0.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

fn logs_mentioning(what: &str) -> Vec<String> {
    let _ = log::set_logger(&LOGS);
    log::set_max_level(log::LevelFilter::Warn);
    LOGS.0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(what))
        .cloned()
        .collect()
}

/// A CA directory with one CA and its CRL as `crls` says, and a user of
/// that CA (serial 7) with an RFC 3820 proxy.
struct World {
    dir: tempfile::TempDir,
    ca: Ca,
    pem: String,
}

fn world(ca_cn: &str, crls: CrlFixture<'_>) -> World {
    let _ = logs_mentioning("");
    let dir = tempfile::tempdir().unwrap();
    let ca = ca(ca_cn);
    install_ca_with(dir.path(), &ca, crls);
    let pem = user_pem(&ca, 7);
    World { dir, ca, pem }
}

fn user_pem(ca: &Ca, serial: u32) -> String {
    let (u, uk) = user(ca, "Jane Doe", serial);
    let (p, k) = proxy(&u, &uk, Kind::Rfc, Tweak::default());
    pem(&[&p, &u], Some(&k))
}

impl World {
    fn opts(&self) -> VerifyOptions {
        VerifyOptions {
            ca_dir: self.dir.path().to_owned(),
            ..VerifyOptions::default()
        }
    }
    fn verify(&self) -> Result<(), VerifyError> {
        self.verify_pem(&self.pem)
    }
    fn verify_pem(&self, pem: &str) -> Result<(), VerifyError> {
        verify(&Credential::from_pem(pem).unwrap(), &self.opts())
    }
    fn crl_path(&self) -> PathBuf {
        crl_file(self.dir.path(), &self.ca, 0)
    }
}

fn crl_file(dir: &Path, ca: &Ca, n: u32) -> PathBuf {
    dir.join(format!("{:08x}.r{n}", ca.cert.subject_name_hash()))
}

#[test]
fn a_ca_without_crl_is_accepted_by_default_with_one_warning_naming_ca_and_file() {
    let w = world("Default No CRL CA", CrlFixture::None);
    w.verify().unwrap();
    // A second proxy of the same CA, and a second user: still one warning.
    w.verify().unwrap();
    w.verify_pem(&user_pem(&w.ca, 8)).unwrap();
    let warned = logs_mentioning("CN=Default No CRL CA");
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].contains(&w.crl_path().display().to_string()),
        "{}",
        warned[0]
    );
}

#[test]
fn an_expired_crl_is_refused_by_default_as_upstream() {
    let w = world("Expired CRL CA", CrlFixture::Expired(&[]));
    let e = w.verify().unwrap_err().to_string();
    assert!(e.contains("expired"), "{e}");
    assert!(e.contains(&w.crl_path().display().to_string()), "{e}");
}

#[test]
fn a_crl_with_a_bad_signature_is_refused_by_default_as_upstream() {
    let w = world("Bad Signature CRL CA", CrlFixture::BadSignature(&[]));
    let e = w.verify().unwrap_err().to_string();
    assert!(e.contains("signature"), "{e}");
}

/// The trust store keeps a parsed CRL with the key its signature verified
/// with; a CRL file replaced by a forged one is another version, parsed and
/// verified again: refused, for a chain verified before and a new one.
#[test]
fn a_crl_replaced_by_a_forged_one_is_refused_after_the_good_one_was_kept() {
    let w = world("Replaced CRL CA", CrlFixture::Current(&[]));
    // Old enough for the trust store to keep it.
    std::thread::sleep(lcmaps_x509::store::SETTLE + std::time::Duration::from_millis(1100));
    w.verify().unwrap();
    w.verify_pem(&user_pem(&w.ca, 8)).unwrap();
    let t = now();
    let forged = bad_signature(&crl(&w.ca, &[], t - 3600, t + 3600));
    let tmp = w.dir.path().join("forged");
    std::fs::write(&tmp, forged.to_pem().unwrap()).unwrap();
    std::fs::rename(&tmp, w.crl_path()).unwrap();
    for pem in [w.pem.clone(), user_pem(&w.ca, 9)] {
        let e = w.verify_pem(&pem).unwrap_err().to_string();
        assert!(e.contains("signature"), "{e}");
    }
}

#[test]
fn a_revoked_user_is_refused_by_default() {
    let w = world("Revoking CA", CrlFixture::Current(&[7]));
    let e = w.verify().unwrap_err();
    assert!(matches!(e, VerifyError::Revoked(_)), "{e}");
}

#[test]
fn of_several_crls_a_current_one_wins_over_an_expired_one() {
    // Upstream (OpenSSL's CRL scoring) uses the best CRL: a current one
    // before an expired one, whatever their file names.
    let ca = ca("Two CRLs CA");
    let old = || crl(&ca, &[], now() - 48 * HOUR, now() - 24 * HOUR);
    let cur = || crl(&ca, &[], now() - HOUR, now() + 24 * HOUR);
    for crls in [vec![old(), cur()], vec![cur(), old()]] {
        let dir = tempfile::tempdir().unwrap();
        install_ca_with(dir.path(), &ca, CrlFixture::These(crls));
        let opts = VerifyOptions {
            ca_dir: dir.path().to_owned(),
            ..VerifyOptions::default()
        };
        verify(&Credential::from_pem(&user_pem(&ca, 7)).unwrap(), &opts).unwrap();
    }
}

#[test]
fn of_several_current_crls_the_newest_decides() {
    // As OpenSSL: between CRLs equally good, the latest lastUpdate. A
    // serial listed only in the older one is not revoked (it was taken
    // off, e.g. after a certificateHold).
    let ca = ca("Newest CRL CA");
    let older = || crl(&ca, &[7, 9], now() - 3 * HOUR, now() + 24 * HOUR);
    let newer = || crl(&ca, &[9], now() - HOUR, now() + 24 * HOUR);
    for crls in [vec![older(), newer()], vec![newer(), older()]] {
        let dir = tempfile::tempdir().unwrap();
        install_ca_with(dir.path(), &ca, CrlFixture::These(crls));
        let opts = VerifyOptions {
            ca_dir: dir.path().to_owned(),
            ..VerifyOptions::default()
        };
        verify(&Credential::from_pem(&user_pem(&ca, 7)).unwrap(), &opts).unwrap();
        let e = verify(&Credential::from_pem(&user_pem(&ca, 9)).unwrap(), &opts).unwrap_err();
        assert!(matches!(e, VerifyError::Revoked(_)), "{e}");
    }
}

/// Two CAs with the same name and different keys (a CA renewing its key),
/// each with its own CRL: every user is checked against the CRL of their
/// own CA (the CRL's authorityKeyIdentifier), as OpenSSL does.
#[test]
fn a_ca_with_two_keys_checks_each_users_crl_of_their_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let old = ca("Rollover CA");
    let new = ca("Rollover CA");
    install_ca_with(dir.path(), &old, CrlFixture::Current(&[5]));
    install_ca_with(dir.path(), &new, CrlFixture::Current(&[6]));
    let opts = VerifyOptions {
        ca_dir: dir.path().to_owned(),
        ..VerifyOptions::default()
    };
    // Real user certificates name their CA's key (authorityKeyIdentifier),
    // which is how OpenSSL picks the right one of two same-named CAs.
    let check = |ca: &Ca, serial| {
        let k = key();
        let ctx = openssl::x509::X509Builder::new().unwrap();
        let akid = openssl::x509::extension::AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&ctx.x509v3_context(Some(&ca.cert), None))
            .unwrap();
        let u = build(Spec {
            subject: name(&[("DC", "org"), ("DC", "example"), ("CN", "Jane Doe")]),
            issuer: Some(&ca.cert),
            issuer_key: &ca.key,
            key: &k,
            serial,
            not_before: now() - HOUR,
            not_after: now() + 24 * HOUR,
            exts: vec![akid],
        });
        let (p, pk) = proxy(&u, &k, Kind::Rfc, Tweak::default());
        verify(
            &Credential::from_pem(&pem(&[&p, &u], Some(&pk))).unwrap(),
            &opts,
        )
    };
    check(&old, 6).unwrap();
    check(&new, 5).unwrap();
    assert!(matches!(check(&old, 5), Err(VerifyError::Revoked(_))));
    assert!(matches!(check(&new, 6), Err(VerifyError::Revoked(_))));
}

fn with_mode(w: &World, mode: CrlMode, pem: &str) -> Result<(), VerifyError> {
    let opts = VerifyOptions {
        crl_mode: mode,
        ..w.opts()
    };
    verify(&Credential::from_pem(pem).unwrap(), &opts)
}

#[test]
fn crl_mode_require_refuses_a_ca_without_crl() {
    let w = world("Require No CRL CA", CrlFixture::None);
    let e = with_mode(&w, CrlMode::Require, &w.pem).unwrap_err();
    assert!(matches!(e, VerifyError::NoCrl { .. }), "{e}");
    assert!(logs_mentioning("CN=Require No CRL CA").is_empty());
}

#[test]
fn crl_mode_require_accepts_a_current_crl_and_refuses_expired_and_bad_ones() {
    let w = world("Require CA", CrlFixture::Current(&[]));
    with_mode(&w, CrlMode::Require, &w.pem).unwrap();
    let w = world("Require Expired CA", CrlFixture::Expired(&[]));
    let e = with_mode(&w, CrlMode::Require, &w.pem).unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");
    let w = world("Require Bad CA", CrlFixture::BadSignature(&[]));
    let e = with_mode(&w, CrlMode::Require, &w.pem).unwrap_err();
    assert!(e.to_string().contains("bad signature"), "{e}");
}

#[test]
fn crl_mode_if_valid_accepts_missing_and_refuses_expired_or_badly_signed_crls() {
    let w = world("If Valid No CRL CA", CrlFixture::None);
    with_mode(&w, CrlMode::IfValid, &w.pem).unwrap();
    let w = world("If Valid Expired CA", CrlFixture::Expired(&[]));
    let e = with_mode(&w, CrlMode::IfValid, &w.pem).unwrap_err();
    assert!(matches!(e, VerifyError::Crl(_)), "{e}");
    let w = world("If Valid Bad CA", CrlFixture::BadSignature(&[]));
    let e = with_mode(&w, CrlMode::IfValid, &w.pem).unwrap_err();
    assert!(matches!(e, VerifyError::Crl(_)), "{e}");
    let w = world("If Valid Revoking CA", CrlFixture::Current(&[7]));
    let e = with_mode(&w, CrlMode::IfValid, &w.pem).unwrap_err();
    assert!(matches!(e, VerifyError::Revoked(_)), "{e}");
}

/// `ignore` is dangerous: a revoked certificate passes.
#[test]
fn crl_mode_ignore_accepts_a_revoked_user_and_any_crl_state() {
    for (cn, crls) in [
        ("Ignore Revoking CA", CrlFixture::Current(&[7])),
        ("Ignore Expired CA", CrlFixture::Expired(&[7])),
        ("Ignore Bad CA", CrlFixture::BadSignature(&[7])),
        ("Ignore No CRL CA", CrlFixture::None),
    ] {
        let w = world(cn, crls);
        with_mode(&w, CrlMode::Ignore, &w.pem).unwrap_or_else(|e| panic!("{cn}: {e}"));
    }
    assert!(logs_mentioning("CN=Ignore No CRL CA").is_empty());
}

#[test]
fn a_malformed_crl_is_refused_unless_ignored() {
    let w = world("Malformed CRL CA", CrlFixture::None);
    std::fs::write(
        w.crl_path(),
        "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
    )
    .unwrap();
    for mode in [CrlMode::Require, CrlMode::IfValid] {
        let e = with_mode(&w, mode, &w.pem).unwrap_err().to_string();
        assert!(e.contains("malformed CRL"), "{mode}: {e}");
    }
    with_mode(&w, CrlMode::Ignore, &w.pem).unwrap();
}

#[test]
fn an_intermediate_ca_without_crl_is_accepted_by_default_and_refused_by_require() {
    // Root with a CRL, intermediate without: the user's CRL is missing.
    let dir = tempfile::tempdir().unwrap();
    let root = ca("Chain Root CA");
    install_ca_with(dir.path(), &root, CrlFixture::Current(&[]));
    let sub_key = key();
    let sub = Ca {
        cert: build(Spec {
            subject: name(&[("DC", "org"), ("DC", "example"), ("CN", "Chain Sub CA")]),
            issuer: Some(&root.cert),
            issuer_key: &root.key,
            key: &sub_key,
            serial: 2,
            not_before: now() - HOUR,
            not_after: now() + 24 * HOUR,
            exts: vec![openssl::x509::extension::BasicConstraints::new()
                .critical()
                .ca()
                .build()
                .unwrap()],
        }),
        key: sub_key,
    };
    install_ca_with(dir.path(), &sub, CrlFixture::None);
    let w = World {
        dir,
        pem: user_pem(&sub, 7),
        ca: sub,
    };
    w.verify().unwrap();
    let e = with_mode(&w, CrlMode::Require, &w.pem).unwrap_err();
    assert!(e.to_string().contains("CN=Chain Sub CA"), "{e}");
}

#[test]
fn crl_modes_parse_and_print_as_the_option_values() {
    for m in [CrlMode::Require, CrlMode::IfValid, CrlMode::Ignore] {
        assert_eq!(m.to_string().parse::<CrlMode>().unwrap(), m);
    }
    assert_eq!(CrlMode::default(), CrlMode::IfValid);
    assert!("strict".parse::<CrlMode>().is_err());
}

#[test]
fn lcmaps_check_lists_the_cas_without_crl() {
    let dir = tempfile::tempdir().unwrap();
    let with = ca("Listed With CRL CA");
    let without = ca("Listed Without CRL CA");
    install_ca_with(dir.path(), &with, CrlFixture::Current(&[]));
    install_ca_with(dir.path(), &without, CrlFixture::None);
    let found = lcmaps_x509::crl::cas_without_crl(dir.path());
    assert_eq!(
        found,
        vec![(
            "/DC=org/DC=example/CN=Listed Without CRL CA".to_string(),
            crl_file(dir.path(), &without, 0)
        )]
    );
}
