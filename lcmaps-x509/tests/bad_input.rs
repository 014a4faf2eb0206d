//! Hostile certificates and attribute certificates (issue 6's bad-input
//! list, beyond tests/chain.rs's truncated PEM, DER garbage and 10 MB PEM):
//! huge and malformed extensions, ACs with hostile lengths. Every one is a
//! clean rejection (or, for a harmless non-critical extension, a normal
//! verification) — never a panic.

use lcmaps_x509::fixtures::*;
use lcmaps_x509::voms::{fqans, verify_acs};
use lcmaps_x509::{verify, Credential, VerifyOptions, VomsOptions};
use openssl::asn1::{Asn1Object, Asn1OctetString};
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509Extension, X509};

const VOMS_EXT: &str = "1.3.6.1.4.1.8005.100.100.5";
const PROXY_CERT_INFO: &str = "1.3.6.1.5.5.7.1.14";
const HOST: &str = "voms.example.org";

struct S {
    certs: tempfile::TempDir,
    vomsdir: tempfile::TempDir,
    user: X509,
    key: PKey<Private>,
    server: X509,
    server_key: PKey<Private>,
}

fn setup() -> S {
    let certs = tempfile::tempdir().unwrap();
    let vomsdir = tempfile::tempdir().unwrap();
    let ca = ca("Test CA");
    install_ca(certs.path(), &ca, &[]);
    let (user, key) = user(&ca, "Jane Doe", 5);
    let (server, server_key) = voms_server(&ca, HOST);
    install_lsc(vomsdir.path(), "dteam", HOST, &server);
    S {
        certs,
        vomsdir,
        user,
        key,
        server,
        server_key,
    }
}

fn ext(oid: &str, critical: bool, value: &[u8]) -> X509Extension {
    X509Extension::new_from_der(
        &Asn1Object::from_str(oid).unwrap(),
        critical,
        &Asn1OctetString::new_from_bytes(value).unwrap(),
    )
    .unwrap()
}

impl S {
    fn opts(&self) -> VerifyOptions {
        VerifyOptions {
            ca_dir: self.certs.path().to_owned(),
            allow_limited: true,
            require_limited: false,
            require_private_key: true,
            at: None,
            crl_mode: Default::default(),
        }
    }
    fn vopts(&self) -> VomsOptions {
        VomsOptions {
            voms_dir: self.vomsdir.path().to_owned(),
            ca_dir: self.certs.path().to_owned(),
            at: None,
            crl_mode: Default::default(),
        }
    }
    /// A PEM chain whose RFC 3820 proxy carries `extra`.
    fn pem_with(&self, extra: Vec<X509Extension>) -> String {
        let (p, k) = proxy(
            &self.user,
            &self.key,
            Kind::Rfc,
            Tweak {
                extra,
                ..Tweak::default()
            },
        );
        pem(&[&p, &self.user], Some(&k))
    }
    /// Parse + verify + VOMS: `Err` with the one-line reason of the first
    /// stage that refused, `Ok(fqans)` otherwise.
    fn run(&self, pem_text: &str) -> Result<Vec<String>, String> {
        let c = Credential::from_pem(pem_text).map_err(|e| e.to_string())?;
        verify(&c, &self.opts()).map_err(|e| e.to_string())?;
        let r = verify_acs(&c, &self.vopts());
        if let Some(Err(e)) = r.iter().find(|r| r.is_err()) {
            return Err(e.to_string());
        }
        Ok(fqans(&r))
    }
    fn good_ac(&self) -> Vec<u8> {
        ac(&AcSpec {
            holder: &self.user,
            signer: &self.server,
            signer_key: &self.server_key,
            vo: "dteam",
            host: HOST,
            fqans: vec!["/dteam/Role=NULL/Capability=NULL".into()],
            not_before: now() - HOUR,
            not_after: now() + HOUR,
            holder_by_subject: false,
        })
    }
}

/// DER header for a SEQUENCE of `len` bytes.
fn seq_header(len: usize) -> Vec<u8> {
    let mut v = vec![0x30];
    if len < 0x80 {
        v.push(len as u8);
    } else {
        let b = (len as u64).to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        v.push(0x80 | (8 - skip) as u8);
        v.extend_from_slice(&b[skip..]);
    }
    v
}

#[test]
fn huge_non_critical_extension_is_only_data() {
    let s = setup();
    // 600 KB of an unknown, non-critical extension: still under the 1 MiB
    // PEM limit, parsed and verified normally.
    let big = vec![0x04; 600 * 1024];
    let text = s.pem_with(vec![ext("1.2.3.4.5.6.7", false, &big)]);
    assert!(text.len() < 1 << 20);
    assert_eq!(s.run(&text), Ok(vec![]));
}

#[test]
fn huge_extension_over_the_limit_is_refused() {
    let s = setup();
    let big = vec![0x04; 900 * 1024];
    let text = s.pem_with(vec![ext("1.2.3.4.5.6.7", false, &big)]);
    assert!(text.len() > 1 << 20);
    let e = s.run(&text).unwrap_err();
    assert!(e.contains("too large") || e.contains("limit"), "{e}");
}

#[test]
fn unknown_critical_extension_is_refused() {
    let s = setup();
    let e = s
        .run(&s.pem_with(vec![ext("1.2.3.4.5.6.7", true, &[0x05, 0x00])]))
        .unwrap_err();
    assert!(e.contains("critical"), "{e}");
}

#[test]
fn malformed_proxy_cert_info_is_refused() {
    let s = setup();
    for value in [
        &[][..],
        &[0x30][..],
        &[0x30, 0x05, 0x30, 0x03][..],
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
        &[0x30, 0x80, 0x00, 0x00][..],
        &[0x02, 0x01, 0x05][..],
    ] {
        // A second proxyCertInfo beside a good one, and a bare proxy whose
        // only proxyCertInfo is broken.
        let both = s.pem_with(vec![ext(PROXY_CERT_INFO, true, value)]);
        assert!(s.run(&both).is_err(), "{value:02x?} accepted");
        let (p, k) = proxy(
            &s.user,
            &s.key,
            Kind::Legacy,
            Tweak {
                subject: Some(extend(s.user.subject_name(), "123")),
                extra: vec![ext(PROXY_CERT_INFO, true, value)],
                ..Tweak::default()
            },
        );
        let only = pem(&[&p, &s.user], Some(&k));
        assert!(s.run(&only).is_err(), "{value:02x?} accepted");
    }
}

#[test]
fn acs_with_hostile_lengths_are_refused() {
    let s = setup();
    let good = s.good_ac();
    // The good AC works.
    let ok = s.pem_with(vec![acseq_ext(vec![good.clone()])]);
    assert_eq!(
        s.run(&ok),
        Ok(vec!["/dteam/Role=NULL/Capability=NULL".to_string()])
    );
    let mut hostile: Vec<Vec<u8>> = vec![
        // Length fields far beyond the data.
        [&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff][..], &good[..]].concat(),
        [&[0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..]].concat(),
        // Indefinite length (BER only).
        [&[0x30, 0x80][..], &good[..], &[0, 0][..]].concat(),
        // Non-minimal length encoding.
        [&[0x30, 0x82, 0x00, 0x03, 0x30, 0x01, 0x00][..]].concat(),
        // Truncated AC in a correct outer sequence.
        {
            let t = &good[..good.len() / 2];
            let inner = [seq_header(t.len()), t.to_vec()].concat();
            [seq_header(inner.len()), inner].concat()
        },
        // An AC whose own length claims more than the outer sequence.
        {
            let mut a = good.clone();
            a[1] = 0x84;
            let inner = [seq_header(a.len()), a].concat();
            [seq_header(inner.len()), inner].concat()
        },
        // Trailing garbage after the sequence.
        {
            let inner = [seq_header(good.len()), good.clone()].concat();
            [seq_header(inner.len()), inner, vec![0xde, 0xad]].concat()
        },
        // Deep nesting.
        {
            let mut v = vec![0x05, 0x00];
            for _ in 0..5000 {
                v = [seq_header(v.len()), v].concat();
            }
            v
        },
        // Empty, and not a sequence.
        vec![],
        vec![0x04, 0x00],
    ];
    // 17 ACs: more than we take.
    let many: Vec<Vec<u8>> = std::iter::repeat(good.clone()).take(17).collect();
    let inner: Vec<u8> = many
        .iter()
        .flat_map(|a| a.iter().copied())
        .collect::<Vec<u8>>();
    let seq = [seq_header(inner.len()), inner].concat();
    hostile.push([seq_header(seq.len()), seq].concat());
    for (i, h) in hostile.iter().enumerate() {
        let text = s.pem_with(vec![ext(VOMS_EXT, false, h)]);
        let r = s.run(&text);
        assert!(r.is_err(), "hostile AC extension {i} accepted: {r:?}");
        let e = r.unwrap_err();
        assert!(
            e.starts_with("malformed VOMS attribute certificate")
                || e.starts_with("more than 16 VOMS"),
            "hostile AC extension {i}: {e}"
        );
    }
}
