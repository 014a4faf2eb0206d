//! lcmaps_verify_proxy.mod options and outcomes on generated fixtures.

use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_verify_proxy::{check_warnings, parse_period, VerifyProxy};
use lcmaps_x509::fixtures::*;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

struct S {
    dir: tempfile::TempDir,
    user: X509,
    user_key: PKey<Private>,
}

fn setup() -> S {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca("Test CA");
    install_ca(dir.path(), &ca, &[]);
    let (user, user_key) = user(&ca, "Jane Doe", 100);
    S {
        dir,
        user,
        user_key,
    }
}

fn plugin(s: &S, extra: &[&str]) -> Result<VerifyProxy, String> {
    let mut argv = vec![
        "lcmaps_verify_proxy.mod".to_owned(),
        "-certdir".into(),
        s.dir.path().display().to_string(),
    ];
    argv.extend(extra.iter().map(|a| a.to_string()));
    let mut p = VerifyProxy::default();
    p.initialize(&argv).map(|()| p).map_err(|e| e.0)
}

fn run(p: &mut VerifyProxy, pem: Option<String>) -> Status {
    let req = Request {
        pem,
        ..Request::default()
    };
    let mut store = Store::new();
    let mut ctx = RunContext {
        request: &req,
        store: &mut store,
    };
    let st = p.run(&mut ctx);
    assert_eq!(
        store,
        Store::new(),
        "verify_proxy adds nothing to the store"
    );
    st
}

#[test]
fn accepts_valid_proxy_and_rejects_missing_pem() {
    let s = setup();
    let (pr, k) = proxy(&s.user, &s.user_key, Kind::Rfc, Tweak::default());
    let mut p = plugin(&s, &[]).unwrap();
    assert_eq!(
        run(&mut p, Some(pem(&[&pr, &s.user], Some(&k)))),
        Status::Success
    );
    assert_eq!(run(&mut p, None), Status::Failure);
    assert_eq!(run(&mut p, Some("garbage".into())), Status::Failure);
}

#[test]
fn limited_proxy_options() {
    let s = setup();
    let (lim, lk) = proxy(&s.user, &s.user_key, Kind::LegacyLimited, Tweak::default());
    let (full, fk) = proxy(&s.user, &s.user_key, Kind::Rfc, Tweak::default());
    let lim = pem(&[&lim, &s.user], Some(&lk));
    let full = pem(&[&full, &s.user], Some(&fk));
    let mut p = plugin(&s, &["--allow-limited-proxy"]).unwrap();
    assert_eq!(run(&mut p, Some(lim.clone())), Status::Success);
    let mut p = plugin(&s, &["--DISALLOW-limited-proxy"]).unwrap();
    assert_eq!(run(&mut p, Some(lim.clone())), Status::Failure);
    assert_eq!(run(&mut p, Some(full.clone())), Status::Success);
    let mut p = plugin(&s, &["--require-limited-proxy"]).unwrap();
    assert_eq!(run(&mut p, Some(lim)), Status::Success);
    assert_eq!(run(&mut p, Some(full)), Status::Failure);
    assert_eq!(
        plugin(&s, &["--disallow-limited-proxy", "--require-limited-proxy"]).unwrap_err(),
        "Limited proxy certificates are simultaniously configured to be required and disallowed. Please fix this."
    );
}

#[test]
fn private_key_options() {
    let s = setup();
    let (pr, _) = proxy(&s.user, &s.user_key, Kind::Rfc, Tweak::default());
    let nokey = pem(&[&pr, &s.user], None);
    let mut p = plugin(&s, &[]).unwrap();
    assert_eq!(run(&mut p, Some(nokey.clone())), Status::Failure);
    let mut p = plugin(&s, &["--discard_private_key_absence"]).unwrap();
    assert_eq!(run(&mut p, Some(nokey.clone())), Status::Success);
    let mut p = plugin(
        &s,
        &[
            "--discard_private_key_absence",
            "--never_discard_private_key_absence",
        ],
    )
    .unwrap();
    assert_eq!(run(&mut p, Some(nokey)), Status::Failure);
}

#[test]
fn lifetime_options() {
    let s = setup();
    // Proxy lives 13 hours (fixture default).
    let (p1, k1) = proxy(&s.user, &s.user_key, Kind::Rfc, Tweak::default());
    let (p2, k2) = proxy(
        &p1,
        &k1,
        Kind::Rfc,
        Tweak {
            validity: Some((now() - HOUR, now() + HOUR)),
            ..Tweak::default()
        },
    );
    let one = pem(&[&p1, &s.user], Some(&k1));
    let two = pem(&[&p2, &p1, &s.user], Some(&k2));
    let mut p = plugin(&s, &["--max-proxy-level-ttl=0", "12:00"]).unwrap();
    assert_eq!(run(&mut p, Some(one.clone())), Status::Failure);
    let mut p = plugin(&s, &["--max-proxy-level-ttl=0", "13:00"]).unwrap();
    assert_eq!(run(&mut p, Some(one.clone())), Status::Success);
    // The leaf rule overrides the level rule for the leaf.
    let mut p = plugin(
        &s,
        &[
            "--max-proxy-level-ttl@L",
            "02:00",
            "--max-proxy-level-ttl=1",
            "01:00",
        ],
    )
    .unwrap();
    assert_eq!(run(&mut p, Some(two.clone())), Status::Success);
    let mut p = plugin(&s, &["--max-proxy-level-ttl=1", "01:00"]).unwrap();
    assert_eq!(run(&mut p, Some(two)), Status::Failure);
    let mut p = plugin(&s, &["--max-proxy-level-ttl@l", "1d-00:00"]).unwrap();
    assert_eq!(run(&mut p, Some(one)), Status::Success);
    assert!(plugin(&s, &["--max-proxy-level-ttl=x", "01:00"]).is_err());
    assert!(plugin(&s, &["--max-voms-ttl", "bogus"]).is_err());
    assert_eq!(
        plugin(&s, &["--no-such-option"]).unwrap_err(),
        "Error in initialization parameter: --no-such-option (failure)"
    );
}

#[test]
fn only_enforce_lifetime_checks_still_rejects_expired() {
    let s = setup();
    let other = ca("Other CA");
    let (u, uk) = user(&other, "Mallory", 3);
    let (pr, k) = proxy(&u, &uk, Kind::Rfc, Tweak::default());
    let mut p = plugin(&s, &["--only-enforce-lifetime-checks"]).unwrap();
    assert_eq!(
        run(&mut p, Some(pem(&[&pr, &u], Some(&k)))),
        Status::Success
    );
    let (old, ok) = proxy(
        &u,
        &uk,
        Kind::Rfc,
        Tweak {
            validity: Some((now() - 2 * HOUR, now() - HOUR)),
            ..Tweak::default()
        },
    );
    assert_eq!(
        run(&mut p, Some(pem(&[&old, &u], Some(&ok)))),
        Status::Failure
    );
    let mut strict = plugin(&s, &[]).unwrap();
    assert_eq!(
        run(&mut strict, Some(pem(&[&pr, &u], Some(&k)))),
        Status::Failure
    );
}

#[test]
fn missing_cert_dir_fails_init() {
    let mut p = VerifyProxy::default();
    let e = p
        .initialize(&["x".into(), "--capath".into(), "/nonexistent/dir".into()])
        .unwrap_err();
    assert_eq!(
        e.0,
        "Error: The directory for the CA certificate and CRLs \"/nonexistent/dir\" doesn't exist"
    );
}

#[test]
fn periods() {
    assert_eq!(
        parse_period("2d-13:37"),
        Some(2 * 86_400 + 13 * 3600 + 37 * 60)
    );
    assert_eq!(parse_period("13:37"), Some(13 * 3600 + 37 * 60));
    assert_eq!(parse_period("3:05"), Some(3 * 3600 + 300));
    assert_eq!(parse_period("99D-00:01"), Some(99 * 86_400 + 60));
    for bad in [
        "",
        "00:00",
        "1:2",
        "100d-01:00",
        "d-01:00",
        "2d-1:00",
        "12:345",
        "ab:cd",
        "2x-01:00",
        "-01:00",
    ] {
        assert_eq!(parse_period(bad), None, "{bad}");
    }
}

#[test]
fn introspection_matches_upstream() {
    let p = VerifyProxy::default();
    let names: Vec<(&str, &str)> = p.introspect().iter().map(|a| (a.name, a.ty)).collect();
    assert_eq!(
        names,
        [
            ("px509_cred", "X509 *"),
            ("px509_chain", "STACK_OF(X509) *"),
            ("voms_data_list", "lcmaps_vomsdata_t *"),
            ("nvoms_data", "int"),
            ("pem_string", "char *"),
        ]
    );
    for (n, t) in names {
        assert!(lcmaps_core::plugin::is_run_variable(n, t), "{n}/{t}");
    }
}

#[test]
fn rejection_reasons_are_exact() {
    let s = setup();
    let (pr, _) = proxy(&s.user, &s.user_key, Kind::Rfc, Tweak::default());
    let p = plugin(
        &s,
        &[
            "--max-proxy-level-ttl=0",
            "12:00",
            "--discard_private_key_absence",
        ],
    )
    .unwrap();
    assert_eq!(
        p.check(Some(&pem(&[&pr, &s.user], None))).unwrap_err(),
        "proxy at level 0 has a lifetime of 0d-13:00:00 which exceeds the maximum of 0d-12:00:00"
    );
    assert_eq!(
        p.check(None).unwrap_err(),
        "no PEM string (proxy chain) given"
    );
}

/// A CA without a CRL: accepted by default (upstream's behaviour), refused
/// with `--crl-mode require`; a revoked user passes only with `ignore`.
#[test]
fn crl_mode_option_decides_about_a_ca_without_crl() {
    let dir = tempfile::tempdir().unwrap();
    let nocrl = ca("Plugin No CRL CA");
    install_ca_with(dir.path(), &nocrl, CrlFixture::None);
    let revoking = ca("Plugin Revoking CA");
    install_ca_with(dir.path(), &revoking, CrlFixture::Current(&[66]));
    let s = S {
        dir,
        user: nocrl.cert.clone(),
        user_key: nocrl.key.clone(),
    };
    let chain = |ca: &Ca, serial| {
        let (u, uk) = user(ca, "Jane Doe", serial);
        let (p, k) = proxy(&u, &uk, Kind::Rfc, Tweak::default());
        Some(pem(&[&p, &u], Some(&k)))
    };
    let outcomes = |extra: &[&str]| {
        let mut p = plugin(&s, extra).unwrap();
        (
            run(&mut p, chain(&nocrl, 7)),
            run(&mut p, chain(&revoking, 66)),
        )
    };
    use Status::{Failure, Success};
    assert_eq!(outcomes(&[]), (Success, Failure));
    assert_eq!(outcomes(&["--crl-mode", "if-valid"]), (Success, Failure));
    assert_eq!(outcomes(&["--crl-mode", "require"]), (Failure, Failure));
    assert_eq!(outcomes(&["--crl-mode", "ignore"]), (Success, Success));
    for bad in [&["--crl-mode"][..], &["--crl-mode", "strict"]] {
        let e = plugin(&s, bad).unwrap_err();
        assert!(e.contains("--crl-mode"), "{e}");
    }
}

#[test]
fn check_warns_about_each_ca_without_crl_in_the_certdir() {
    let dir = tempfile::tempdir().unwrap();
    let nocrl = ca("Check No CRL CA");
    install_ca_with(dir.path(), &nocrl, CrlFixture::None);
    install_ca_with(dir.path(), &ca("Check CRL CA"), CrlFixture::Current(&[]));
    let d = dir.path().display().to_string();
    let args = |extra: &[&str]| {
        let mut v = vec!["-certdir".to_string(), d.clone()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let w = check_warnings(&args(&[]));
    assert_eq!(w.len(), 1, "{w:?}");
    let file = format!("{d}/{:08x}.r0", nocrl.cert.subject_name_hash());
    assert!(
        w[0].contains("CN=Check No CRL CA") && w[0].contains(&file),
        "{w:?}"
    );
    assert!(
        w[0].contains("accepted without a revocation check"),
        "{w:?}"
    );
    let w = check_warnings(&args(&["--crl-mode", "require"]));
    assert!(w[0].contains("refuses"), "{w:?}");
    let w = check_warnings(&args(&["--crl-mode", "ignore"]));
    assert!(w[0].contains("revoked certificates are accepted"), "{w:?}");
}

#[test]
fn options_keep_upstreams_grammar() {
    let s = setup();
    let unknown = |a: &str| format!("Error in initialization parameter: {a} (failure)");
    // Names match as prefixes in any case; --crl-mode (ours) exactly.
    assert!(plugin(&s, &["--Allow-Limited-ProxyXYZ"]).is_ok());
    assert!(plugin(&s, &["--max-voms-ttl=whatever", "01:00"]).is_ok());
    assert_eq!(
        plugin(&s, &["--CRL-MODE", "ignore"]).unwrap_err(),
        unknown("--CRL-MODE")
    );
    // An option without its value is an unknown parameter, but --crl-mode's.
    for a in ["-CAPATH", "--max-voms-ttl", "--max-proxy-level-ttl=1"] {
        assert_eq!(plugin(&s, &[a]).unwrap_err(), unknown(a));
    }
    assert_eq!(
        plugin(&s, &["--crl-mode"]).unwrap_err(),
        "--crl-mode needs a value: require, if-valid or ignore"
    );
    // An empty CA directory is ignored; a value is taken even if it looks
    // like an option.
    assert!(plugin(&s, &["-capath", ""]).is_ok());
    assert_eq!(
        plugin(&s, &["--max-voms-ttl", "--allow-limited-proxy"]).unwrap_err(),
        "Parse error in initialization parameter: --max-voms-ttl. Use format: 2d-13:37"
    );
    assert_eq!(
        plugin(&s, &["--max-proxy-level-ttl=12345", "01:00"]).unwrap_err(),
        "Parse error in initialization parameter: --max-proxy-level-ttl=12345."
    );
}
