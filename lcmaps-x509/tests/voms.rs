//! VOMS AC verification on ACs built here.

use lcmaps_x509::fixtures::*;
use lcmaps_x509::voms::VoData;
use lcmaps_x509::voms::{fqans, verify_acs};
use lcmaps_x509::{Credential, VomsOptions};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

struct V {
    certs: tempfile::TempDir,
    vomsdir: tempfile::TempDir,
    user: X509,
    user_key: PKey<Private>,
    server: X509,
    server_key: PKey<Private>,
}

const HOST: &str = "voms.example.org";

fn setup() -> V {
    setup_with(CrlFixture::Current(&[]))
}

/// With the CA's CRL as `crls` says.
fn setup_with(crls: CrlFixture<'_>) -> V {
    let certs = tempfile::tempdir().unwrap();
    let vomsdir = tempfile::tempdir().unwrap();
    let ca = ca("Test CA");
    install_ca_with(certs.path(), &ca, crls);
    let (user, user_key) = user(&ca, "Jane Doe", 100);
    let (server, server_key) = voms_server(&ca, HOST);
    install_lsc(vomsdir.path(), "dteam", HOST, &server);
    V {
        certs,
        vomsdir,
        user,
        user_key,
        server,
        server_key,
    }
}

impl V {
    fn opts(&self) -> VomsOptions {
        VomsOptions {
            voms_dir: self.vomsdir.path().to_owned(),
            ca_dir: self.certs.path().to_owned(),
            at: None,
            crl_mode: Default::default(),
        }
    }
    fn spec(&self) -> AcSpec<'_> {
        AcSpec {
            holder: &self.user,
            signer: &self.server,
            signer_key: &self.server_key,
            vo: "dteam",
            host: HOST,
            fqans: vec![
                "/dteam/Role=NULL/Capability=NULL".into(),
                "/dteam/sub/Role=production/Capability=NULL".into(),
            ],
            not_before: now() - HOUR,
            not_after: now() + 12 * HOUR,
            holder_by_subject: false,
        }
    }
    fn cred(&self, acs: Vec<Vec<u8>>) -> Credential {
        let (p, k) = proxy(
            &self.user,
            &self.user_key,
            Kind::Rfc,
            Tweak {
                extra: vec![acseq_ext(acs)],
                ..Tweak::default()
            },
        );
        Credential::from_pem(&pem(&[&p, &self.user], Some(&k))).unwrap()
    }
    fn errors(&self, spec: &AcSpec<'_>) -> String {
        let r = verify_acs(&self.cred(vec![ac(spec)]), &self.opts());
        assert_eq!(r.len(), 1);
        r[0].clone().unwrap_err().to_string()
    }
}

#[test]
fn valid_ac_gives_fqans_and_vo_data() {
    let v = setup();
    let cred = v.cred(vec![ac(&v.spec())]);
    let r = verify_acs(&cred, &v.opts());
    let a = r[0].as_ref().unwrap();
    assert_eq!(a.vo, "dteam");
    assert_eq!(a.uri, "voms.example.org:15000");
    assert_eq!(a.server_dn, "/DC=org/DC=example/CN=voms.example.org");
    assert_eq!(a.user_dn, "/DC=org/DC=example/CN=Jane Doe");
    assert_eq!(
        fqans(&r),
        [
            "/dteam/Role=NULL/Capability=NULL",
            "/dteam/sub/Role=production/Capability=NULL"
        ]
    );
    assert_eq!(
        a.vo_data()[1],
        VoData {
            vo: Some("dteam".into()),
            group: Some("/dteam/sub".into()),
            subgroup: None,
            role: Some("production".into()),
            capability: Some("NULL".into()),
        }
    );
}

#[test]
fn no_voms_extension_no_acs() {
    let v = setup();
    let (p, k) = proxy(&v.user, &v.user_key, Kind::Rfc, Tweak::default());
    let c = Credential::from_pem(&pem(&[&p, &v.user], Some(&k))).unwrap();
    assert!(verify_acs(&c, &v.opts()).is_empty());
}

#[test]
fn expired_ac() {
    let v = setup();
    let mut s = v.spec();
    s.not_before = now() - 48 * HOUR;
    s.not_after = now() - 24 * HOUR;
    assert_eq!(
        v.errors(&s),
        format!(
            "VOMS AC of VO \"dteam\" expired at {}",
            lcmaps_x509::time::format(s.not_after)
        )
    );
}

#[test]
fn not_yet_valid_ac() {
    let v = setup();
    let mut s = v.spec();
    s.not_before = now() + 2 * HOUR;
    assert_eq!(
        v.errors(&s),
        format!(
            "VOMS AC of VO \"dteam\" is not valid before {}",
            lcmaps_x509::time::format(s.not_before)
        )
    );
}

#[test]
fn signed_by_key_not_in_vomsdir() {
    let v = setup();
    let mut s = v.spec();
    let other = key();
    s.signer_key = &other;
    assert_eq!(
        v.errors(&s),
        "VOMS AC of VO \"dteam\": signature does not verify with the key of \"/DC=org/DC=example/CN=voms.example.org\""
    );
}

#[test]
fn untrusted_server_certificate() {
    let v = setup();
    let rogue_ca = ca("Rogue CA");
    let (rogue, rogue_key) = voms_server(&rogue_ca, HOST);
    let mut s = v.spec();
    s.signer = &rogue;
    s.signer_key = &rogue_key;
    // Not listed in the .lsc (its CA differs).
    assert_eq!(
        v.errors(&s),
        format!(
            "VOMS AC of VO \"dteam\": VOMS server \"/DC=org/DC=example/CN=voms.example.org\" (CA \"/DC=org/DC=example/CN=Rogue CA\") does not match {}",
            v.vomsdir.path().join("dteam").join("voms.example.org.lsc").display()
        )
    );
    // Listed in the .lsc, but its CA is not trusted.
    install_lsc(v.vomsdir.path(), "dteam", HOST, &rogue);
    let e = v.errors(&s);
    assert!(
        e.starts_with("VOMS AC of VO \"dteam\": VOMS server certificate: issuer not found in"),
        "{e}"
    );
}

#[test]
fn wrong_lsc_chain() {
    let v = setup();
    std::fs::write(
        v.vomsdir.path().join("dteam").join(format!("{HOST}.lsc")),
        "/DC=org/DC=example/CN=voms.example.org\n/DC=org/DC=example/CN=Another CA\n",
    )
    .unwrap();
    let e = v.errors(&v.spec());
    assert!(e.contains("does not match"), "{e}");
    // No .lsc at all.
    let mut s = v.spec();
    s.vo = "atlas";
    s.fqans = vec!["/atlas/Role=NULL/Capability=NULL".into()];
    let e = v.errors(&s);
    assert!(
        e.starts_with("VOMS AC of VO \"atlas\": cannot read "),
        "{e}"
    );
}

#[test]
fn holder_not_matching() {
    let v = setup();
    let ca2 = ca("Test CA");
    let (other_user, _) = user(&ca2, "Jane Doe", 101);
    let mut s = v.spec();
    s.holder = &other_user;
    assert_eq!(
        v.errors(&s),
        "VOMS AC of VO \"dteam\": holder does not match the end-entity certificate \"/DC=org/DC=example/CN=Jane Doe\""
    );
}

/// The C VOMS server (and voms-proxy-fake) name the holder by its subject;
/// libvomsapi accepts that, and so do we — the serial must still match.
#[test]
fn holder_named_by_subject() {
    let v = setup();
    let mut s = v.spec();
    s.holder_by_subject = true;
    let r = verify_acs(&v.cred(vec![ac(&s)]), &v.opts());
    assert_eq!(
        fqans(&r),
        [
            "/dteam/Role=NULL/Capability=NULL",
            "/dteam/sub/Role=production/Capability=NULL"
        ]
    );
    let ca2 = ca("Test CA");
    let (same_subject, _) = user(&ca2, "Jane Doe", 101);
    s.holder = &same_subject;
    assert_eq!(
        v.errors(&s),
        "VOMS AC of VO \"dteam\": holder does not match the end-entity certificate \"/DC=org/DC=example/CN=Jane Doe\""
    );
}

#[test]
fn fqan_of_another_vo_rejected() {
    let v = setup();
    let mut s = v.spec();
    s.fqans = vec!["/atlas/Role=NULL/Capability=NULL".into()];
    assert_eq!(
        v.errors(&s),
        "VOMS AC of VO \"dteam\": FQAN \"/atlas/Role=NULL/Capability=NULL\" is not in the VO"
    );
}

#[test]
fn hostile_vo_name_rejected() {
    let v = setup();
    let mut s = v.spec();
    s.vo = "..";
    assert_eq!(
        v.errors(&s),
        "malformed VOMS attribute certificate: invalid VO name \"..\""
    );
}

#[test]
fn mutated_acs_never_panic() {
    let v = setup();
    let good = ac(&v.spec());
    let mut seed: u64 = 42;
    for _ in 0..300 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let mut d = good.clone();
        let pos = (seed >> 33) as usize % d.len();
        d[pos] ^= ((seed >> 20) as u8) | 1;
        // Mutated ACs either fail to decode (then acseq_ext would panic in
        // the fixture) or are verified: never accepted unless unchanged.
        if <lcmaps_x509::voms::AttributeCertificate as der::Decode>::from_der(&d).is_err() {
            continue;
        }
        let r = verify_acs(&v.cred(vec![d.clone()]), &v.opts());
        if d != good {
            assert!(
                r.iter().all(|r| r.is_err()) || r.is_empty(),
                "mutation at {pos} accepted"
            );
        }
    }
}

/// The VOMS server's CA has a current CRL, none, an expired one or one
/// with a bad signature: as libvomsapi by default (FQANs kept, kept,
/// dropped, dropped), and under every CRL mode.
#[test]
fn voms_server_crl_states_under_each_crl_mode() {
    use lcmaps_x509::CrlMode::{self, IfValid, Ignore, Require};
    /// (what, the CRL, per mode: `None` accepted, `Some(text)` refused).
    type Case = (
        &'static str,
        fn() -> CrlFixture<'static>,
        [(CrlMode, Option<&'static str>); 3],
    );
    let cases: [Case; 4] = [
        (
            "current",
            || CrlFixture::Current(&[]),
            [(Require, None), (IfValid, None), (Ignore, None)],
        ),
        (
            "missing",
            || CrlFixture::None,
            [
                (Require, Some("no CRL in")),
                (IfValid, None),
                (Ignore, None),
            ],
        ),
        (
            "expired",
            || CrlFixture::Expired(&[]),
            [
                (Require, Some("expired at")),
                (IfValid, Some("expired at")),
                (Ignore, None),
            ],
        ),
        (
            "bad signature",
            || CrlFixture::BadSignature(&[]),
            [
                (Require, Some("bad signature")),
                (IfValid, Some("bad signature")),
                (Ignore, None),
            ],
        ),
    ];
    for (what, crls, modes) in cases {
        let v = setup_with(crls());
        let cred = v.cred(vec![ac(&v.spec())]);
        for (mode, want) in modes {
            let opts = VomsOptions {
                crl_mode: mode,
                ..v.opts()
            };
            let r = verify_acs(&cred, &opts);
            match (want, &r[0]) {
                (None, Ok(_)) => {}
                (Some(w), Err(e)) if e.to_string().contains(w) => {}
                (_, got) => panic!("{what} CRL, mode {mode}: want {want:?}, got {got:?}"),
            }
        }
    }
}
