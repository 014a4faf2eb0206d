//! Chain parsing and verification on fixtures generated here.

use lcmaps_x509::fixtures::*;
use lcmaps_x509::{
    verify, CertKind, Credential, PolicyLanguage, ProxyType, VerifyError, VerifyOptions,
};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

struct Setup {
    dir: tempfile::TempDir,
    ca: Ca,
    user: X509,
    user_key: PKey<Private>,
}

const USER_DN: &str = "/DC=org/DC=example/CN=Jane Doe";

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca("Test CA");
    install_ca(dir.path(), &ca, &[666]);
    let (user, user_key) = user(&ca, "Jane Doe", 100);
    Setup {
        dir,
        ca,
        user,
        user_key,
    }
}

impl Setup {
    fn opts(&self) -> VerifyOptions {
        VerifyOptions {
            ca_dir: self.dir.path().to_owned(),
            ..VerifyOptions::default()
        }
    }
    fn proxy(&self, kind: Kind) -> (X509, PKey<Private>) {
        proxy(&self.user, &self.user_key, kind, Tweak::default())
    }
    fn check(&self, pem: &str) -> Result<Credential, VerifyError> {
        let c = Credential::from_pem(pem).unwrap();
        verify(&c, &self.opts()).map(|()| c)
    }
}

#[test]
fn rfc_proxy_accepted_with_dn_and_type() {
    let s = setup();
    let (p, k) = s.proxy(Kind::Rfc);
    let c = s.check(&pem(&[&p, &s.user], Some(&k))).unwrap();
    assert_eq!(c.user_dn(), USER_DN);
    assert_eq!(c.eec_index, 1);
    assert_eq!(
        c.leaf().kind,
        CertKind::Proxy(ProxyType::Rfc3820(PolicyLanguage::InheritAll))
    );
    assert!(!c.is_limited());
    assert_eq!(c.leaf().lifetime(), 13 * HOUR);
    assert_eq!(c.leaf().subject, format!("{USER_DN}/CN=123456789"));
}

#[test]
fn chain_with_ca_certificate_included() {
    let s = setup();
    let (p, k) = s.proxy(Kind::Rfc);
    let c = s.check(&pem(&[&p, &s.user, &s.ca.cert], Some(&k))).unwrap();
    assert_eq!(c.eec_index, 1);
    assert_eq!(c.chain[2].kind, CertKind::Ca);
}

#[test]
fn legacy_and_gt3_proxies_accepted() {
    let s = setup();
    for (kind, want, limited) in [
        (Kind::Legacy, ProxyType::LegacyFull, false),
        (Kind::LegacyLimited, ProxyType::LegacyLimited, true),
        (Kind::Gt3, ProxyType::Gt3(PolicyLanguage::InheritAll), false),
        (
            Kind::RfcLimited,
            ProxyType::Rfc3820(PolicyLanguage::Limited),
            true,
        ),
    ] {
        let (p, k) = s.proxy(kind);
        let c = s.check(&pem(&[&p, &s.user], Some(&k))).unwrap();
        assert_eq!(c.leaf().kind, CertKind::Proxy(want), "{kind:?}");
        assert_eq!(c.is_limited(), limited);
        assert_eq!(c.user_dn(), USER_DN);
    }
    let (p, k) = s.proxy(Kind::Legacy);
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    assert_eq!(c.leaf().subject, format!("{USER_DN}/CN=proxy"));
}

#[test]
fn proxy_of_a_proxy() {
    let s = setup();
    let (p1, k1) = s.proxy(Kind::Rfc);
    let (p2, k2) = proxy(&p1, &k1, Kind::Rfc, Tweak::default());
    let c = s.check(&pem(&[&p2, &p1, &s.user], Some(&k2))).unwrap();
    assert_eq!(c.proxies().len(), 2);
    assert_eq!(c.user_dn(), USER_DN);
    // Legacy of legacy too.
    let (l1, lk1) = s.proxy(Kind::Legacy);
    let (l2, lk2) = proxy(&l1, &lk1, Kind::Legacy, Tweak::default());
    s.check(&pem(&[&l2, &l1, &s.user], Some(&lk2))).unwrap();
}

#[test]
fn limited_proxy_policy() {
    let s = setup();
    let (p, k) = s.proxy(Kind::LegacyLimited);
    let text = pem(&[&p, &s.user], Some(&k));
    let c = Credential::from_pem(&text).unwrap();
    let mut o = s.opts();
    o.allow_limited = false;
    assert_eq!(
        verify(&c, &o).unwrap_err().to_string(),
        "limited proxy not allowed by policy (proxy level 0)"
    );
    let (f, fk) = s.proxy(Kind::Rfc);
    let full = Credential::from_pem(&pem(&[&f, &s.user], Some(&fk))).unwrap();
    let mut o = s.opts();
    o.require_limited = true;
    assert_eq!(
        verify(&full, &o).unwrap_err().to_string(),
        "the leaf is not a limited proxy, which the policy requires"
    );
    verify(&c, &o).unwrap();
    // A limited proxy cannot issue a full one.
    let (p2, k2) = proxy(&p, &k, Kind::Legacy, Tweak::default());
    let c2 = Credential::from_pem(&pem(&[&p2, &p, &s.user], Some(&k2))).unwrap();
    let e = verify(&c2, &s.opts()).unwrap_err().to_string();
    assert!(
        e.ends_with("a limited proxy can only issue limited proxies"),
        "{e}"
    );
}

#[test]
fn expired_and_not_yet_valid_proxies() {
    let s = setup();
    let t = now() - 60;
    let (p, k) = proxy(
        &s.user,
        &s.user_key,
        Kind::Rfc,
        Tweak {
            validity: Some((now() - 48 * HOUR, now() - 24 * HOUR)),
            ..Tweak::default()
        },
    );
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    let mut o = s.opts();
    let e = verify(&c, &o).unwrap_err();
    assert!(
        matches!(e, VerifyError::ProxyExpired { level: 0, .. }),
        "{e}"
    );
    // At a fixed time the message is exact.
    let (p, k) = proxy(
        &s.user,
        &s.user_key,
        Kind::Rfc,
        Tweak {
            validity: Some((t - 12 * HOUR, t)),
            ..Tweak::default()
        },
    );
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    assert_eq!(
        verify(&c, &o).unwrap_err().to_string(),
        format!(
            "proxy expired at {} (proxy level 0, \"{USER_DN}/CN=123456789\")",
            lcmaps_x509::time::format(t)
        )
    );
    o.at = None;
    let (p, k) = proxy(
        &s.user,
        &s.user_key,
        Kind::Rfc,
        Tweak {
            validity: Some((now() + HOUR, now() + 12 * HOUR)),
            ..Tweak::default()
        },
    );
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    let e = verify(&c, &s.opts()).unwrap_err();
    assert!(
        matches!(e, VerifyError::ProxyNotYetValid { level: 0, .. }),
        "{e}"
    );
}

#[test]
fn unknown_ca_rejected() {
    let s = setup();
    let other = ca("Other CA");
    let (u, uk) = user(&other, "Mallory", 5);
    let (p, k) = proxy(&u, &uk, Kind::Rfc, Tweak::default());
    let c = Credential::from_pem(&pem(&[&p, &u], Some(&k))).unwrap();
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        format!(
            "issuer not found in {}: \"/DC=org/DC=example/CN=Other CA\" (issuer of \"/DC=org/DC=example/CN=Mallory\")",
            s.dir.path().display()
        )
    );
}

#[test]
fn wrong_signature_rejected() {
    let s = setup();
    let (p, k) = proxy(
        &s.user,
        &s.user_key,
        Kind::Rfc,
        Tweak {
            sign_with: Some(key()),
            ..Tweak::default()
        },
    );
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        format!("proxy level 0 (\"{USER_DN}/CN=123456789\"): signature does not verify with the key of \"{USER_DN}\"")
    );
}

#[test]
fn revoked_user_rejected() {
    let s = setup();
    let (u, uk) = user(&s.ca, "Revoked User", 666);
    let (p, k) = proxy(&u, &uk, Kind::Rfc, Tweak::default());
    let c = Credential::from_pem(&pem(&[&p, &u], Some(&k))).unwrap();
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        "certificate \"/DC=org/DC=example/CN=Revoked User\" is revoked"
    );
}

/// A FIFO where the CA's CRL should be (a site's mistake, a fetch-crl
/// bug): verification answers at once instead of waiting for a writer.
#[test]
fn a_fifo_as_a_crl_does_not_hang_verification() {
    let s = setup();
    let hash = s.ca.cert.issuer_name_hash();
    let crl = s.dir.path().join(format!("{hash:08x}.r0"));
    std::fs::remove_file(&crl).unwrap();
    lcmaps_core::testing::mkfifo(&crl);
    let (p, k) = s.proxy(Kind::Rfc);
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    let opts = s.opts();
    let r = lcmaps_core::testing::within(20, move || verify(&c, &opts).map_err(|e| e.to_string()));
    let e = r.unwrap_err();
    assert!(e.contains("not a regular file"), "{e}");
}

#[test]
fn missing_crl_accepted_by_default_and_rejected_with_crl_mode_require() {
    let s = setup();
    let hash = s.ca.cert.issuer_name_hash();
    std::fs::remove_file(s.dir.path().join(format!("{hash:08x}.r0"))).unwrap();
    let (p, k) = s.proxy(Kind::Rfc);
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    verify(&c, &s.opts()).unwrap();
    let require = VerifyOptions {
        crl_mode: lcmaps_x509::CrlMode::Require,
        ..s.opts()
    };
    let e = verify(&c, &require).unwrap_err();
    assert!(matches!(e, VerifyError::NoCrl { .. }), "{e}");
}

#[test]
fn revoked_proxy_by_own_crl_check() {
    let s = setup();
    // The user "publishes" a CRL revoking their proxy: OpenSSL would not
    // look; our own check does.
    let user_ca = Ca {
        cert: s.user.clone(),
        key: s.user_key.clone(),
    };
    let (p, k) = s.proxy(Kind::Rfc);
    let c = crl(&user_ca, &[0x1234_5678], now() - HOUR, now() + HOUR);
    let hash = s
        .user
        .subject_name()
        .to_der()
        .map(|_| p.issuer_name_hash())
        .unwrap();
    let path = s.dir.path().join(format!("{hash:08x}.r0"));
    std::fs::write(&path, c.to_pem().unwrap()).unwrap();
    let cred = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    assert_eq!(
        verify(&cred, &s.opts()).unwrap_err().to_string(),
        format!(
            "proxy level 0 (\"{USER_DN}/CN=123456789\"): certificate \"{USER_DN}/CN=123456789\" is revoked (CRL {})",
            path.display()
        )
    );
}

#[test]
fn ca_bit_in_proxy_rejected() {
    let s = setup();
    let (p1, k1) = proxy(
        &s.user,
        &s.user_key,
        Kind::Legacy,
        Tweak {
            ca_bit: true,
            ..Tweak::default()
        },
    );
    let (p2, k2) = proxy(&p1, &k1, Kind::Legacy, Tweak::default());
    let c = Credential::from_pem(&pem(&[&p2, &p1, &s.user, &s.ca.cert], Some(&k2))).unwrap();
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        format!("proxy level 0 (\"{USER_DN}/CN=proxy\"): a proxy must not have the CA bit set")
    );
}

#[test]
fn subject_not_extending_issuer_rejected() {
    let s = setup();
    let (p, k) = proxy(
        &s.user,
        &s.user_key,
        Kind::Rfc,
        Tweak {
            subject: Some(name(&[
                ("DC", "org"),
                ("DC", "example"),
                ("CN", "Someone Else"),
                ("CN", "1"),
            ])),
            ..Tweak::default()
        },
    );
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        format!(
            "proxy level 0 (\"/DC=org/DC=example/CN=Someone Else/CN=1\"): subject does not extend its issuer \"{USER_DN}\" by exactly one CN"
        )
    );
    // A legacy-looking certificate whose subject does not extend its issuer
    // is no proxy at all.
    let (q, qk) = proxy(
        &s.user,
        &s.user_key,
        Kind::Legacy,
        Tweak {
            subject: Some(name(&[("DC", "org"), ("CN", "proxy")])),
            ..Tweak::default()
        },
    );
    let c = Credential::from_pem(&pem(&[&q, &s.user], Some(&qk))).unwrap();
    assert_eq!(c.leaf().kind, CertKind::NotAProxy);
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        format!(
            "proxy level 0 (\"/DC=org/CN=proxy\"): not a proxy of \"{USER_DN}\": its subject must be the issuer's subject plus one CN"
        )
    );
}

#[test]
fn path_length_enforced() {
    let s = setup();
    let (p1, k1) = s.proxy(Kind::RfcPathLen(0));
    assert_eq!(
        Credential::from_pem(&pem(&[&p1, &s.user], None))
            .unwrap()
            .leaf()
            .proxy_path_len,
        Some(0)
    );
    let (p2, k2) = proxy(&p1, &k1, Kind::Rfc, Tweak::default());
    let c = Credential::from_pem(&pem(&[&p2, &p1, &s.user], Some(&k2))).unwrap();
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        format!("proxy level 1 (\"{USER_DN}/CN=123456789/CN=123456789\"): proxy path length constraint exceeded")
    );
}

#[test]
fn mixed_families_rejected() {
    let s = setup();
    let (p1, k1) = s.proxy(Kind::Legacy);
    let (p2, k2) = proxy(&p1, &k1, Kind::Rfc, Tweak::default());
    let c = Credential::from_pem(&pem(&[&p2, &p1, &s.user], Some(&k2))).unwrap();
    let e = verify(&c, &s.opts()).unwrap_err().to_string();
    assert!(
        e.ends_with("a RFC 3820 proxy cannot be issued by a legacy proxy"),
        "{e}"
    );
}

#[test]
fn private_key_rules() {
    let s = setup();
    let (p, _k) = s.proxy(Kind::Rfc);
    let c = Credential::from_pem(&pem(&[&p, &s.user], None)).unwrap();
    assert_eq!(
        verify(&c, &s.opts()).unwrap_err().to_string(),
        "no private key in the PEM input, which the policy requires"
    );
    let mut o = s.opts();
    o.require_private_key = false;
    verify(&c, &o).unwrap();
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&key()))).unwrap();
    assert_eq!(
        verify(&c, &o).unwrap_err().to_string(),
        format!("the private key does not match the leaf certificate \"{USER_DN}/CN=123456789\"")
    );
}

/// The attack: someone who has a user's proxy certificates (sent in every
/// TLS handshake the user makes) but not the proxy's private key writes a
/// "key" that carries the proxy's public key beside a scalar of their own.
/// Comparing public halves (as OpenSSL's `X509_check_private_key` does)
/// takes it for the proxy's key; proof of possession must not.
#[test]
fn a_key_that_only_borrows_the_leafs_public_key_is_refused() {
    use openssl::ec::EcKey;
    let s = setup();
    let (p, k) = s.proxy(Kind::Rfc);
    let mine = key();
    let forged = {
        let (m, leaf) = (mine.ec_key().unwrap(), k.ec_key().unwrap());
        let f =
            EcKey::from_private_components(m.group(), m.private_key(), leaf.public_key()).unwrap();
        PKey::from_ec_key(f).unwrap()
    };
    let want =
        format!("the private key does not match the leaf certificate \"{USER_DN}/CN=123456789\"");
    // SEC 1 and PKCS#8 encodings of the forged key.
    let sec1 = String::from_utf8(forged.ec_key().unwrap().private_key_to_pem().unwrap()).unwrap();
    let pkcs8 = String::from_utf8(forged.private_key_to_pem_pkcs8().unwrap()).unwrap();
    for key_pem in [sec1, pkcs8] {
        let chain = pem(&[&p, &s.user], None);
        let c = Credential::from_pem(&format!("{chain}{key_pem}")).unwrap();
        assert_eq!(verify(&c, &s.opts()).unwrap_err().to_string(), want);
    }
    // The real key still proves possession.
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    verify(&c, &s.opts()).unwrap();
}

#[test]
fn wrong_order_rejected() {
    let s = setup();
    let (p, k) = s.proxy(Kind::Rfc);
    // User certificate first: the proxy ends up "above" it and is taken for
    // the end-entity certificate, which OpenSSL cannot chain.
    let c = Credential::from_pem(&pem(&[&s.user, &p], Some(&k)));
    assert!(c.is_err() || verify(&c.unwrap(), &s.opts()).is_err());
}

#[test]
fn bad_ca_dir() {
    let s = setup();
    let (p, k) = s.proxy(Kind::Rfc);
    let c = Credential::from_pem(&pem(&[&p, &s.user], Some(&k))).unwrap();
    let mut o = s.opts();
    o.ca_dir = "/nonexistent/certificates".into();
    assert_eq!(
        verify(&c, &o).unwrap_err().to_string(),
        "cannot use CA directory /nonexistent/certificates"
    );
}

#[test]
fn garbage_never_panics() {
    // cargo-fuzz-style robustness: random and mutated inputs.
    let s = setup();
    let (p, k) = s.proxy(Kind::Rfc);
    let good = pem(&[&p, &s.user], Some(&k));
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let der = p.to_der().unwrap();
    for i in 0..400 {
        let mut bytes = good.clone().into_bytes();
        for _ in 0..(1 + rnd() % 8) {
            let pos = (rnd() as usize) % bytes.len();
            bytes[pos] = (rnd() % 128) as u8;
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(c) = Credential::from_pem(&text) {
            let _ = verify(&c, &s.opts());
            let _ = lcmaps_x509::voms::verify_acs(&c, &lcmaps_x509::VomsOptions::default());
        }
        // DER mutations wrapped as PEM.
        let mut d = der.clone();
        let pos = (rnd() as usize) % d.len();
        d[pos] ^= (rnd() % 255 + 1) as u8;
        if i % 2 == 0 {
            d.truncate((rnd() as usize) % d.len());
        }
        let b64 = openssl::base64::encode_block(&d);
        let _ = Credential::from_pem(&format!(
            "-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n"
        ));
        let junk: Vec<u8> = (0..(rnd() % 512)).map(|_| rnd() as u8).collect();
        let _ = Credential::from_pem(&String::from_utf8_lossy(&junk));
        let _ = <lcmaps_x509::voms::AcSeq as der::Decode>::from_der(&junk);
    }
    assert!(matches!(
        Credential::from_pem(&"A".repeat(10 << 20)),
        Err(lcmaps_x509::CredError::TooLarge(_))
    ));
    assert_eq!(
        Credential::from_pem("").unwrap_err().to_string(),
        "no certificate found in the PEM input"
    );
    assert_eq!(
        Credential::from_pem("-----BEGIN CERTIFICATE-----\nAAAA")
            .unwrap_err()
            .to_string(),
        "malformed PEM: no END line for CERTIFICATE"
    );
}
