//! Test fixtures generated with the openssl crate: CAs, CRLs, user
//! certificates, proxies of every type, VOMS attribute certificates.
//! Only built for tests (feature `test-fixtures`).
#![allow(
    missing_docs,
    missing_debug_implementations,
    clippy::missing_panics_doc,
    clippy::unwrap_used
)]

use std::path::Path;
use std::time::Duration;

use der::asn1::{
    Any, BitString, GeneralizedTime, Ia5String, Int, ObjectIdentifier, OctetString, SetOfVec,
};
use der::{Decode, Encode};
use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{
    X509Builder, X509Crl, X509CrlBuilder, X509Extension, X509Name, X509RevokedBuilder, X509,
};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::voms::{
    AcCerts, AcInfo, AcSeq, AcValidity, AttributeCertificate, Holder, IetfAttrSyntax, IssuerSerial,
    V2Form,
};

pub const HOUR: i64 = 3600;

pub fn now() -> i64 {
    crate::time::now()
}

/// A fresh EC P-256 key (fast to generate).
pub fn key() -> PKey<Private> {
    let g = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&g).unwrap()).unwrap()
}

/// A fresh 2048-bit RSA key, for certificates Globus' tools must sign
/// with (grid-proxy-init signs proxies with RSA keys only).
pub fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap()
}

/// A name from (field, value) pairs, e.g. `[("DC","org"),("CN","Jane")]`.
pub fn name(parts: &[(&str, &str)]) -> X509Name {
    let mut b = X509Name::builder().unwrap();
    for (k, v) in parts {
        b.append_entry_by_text(k, v).unwrap();
    }
    b.build()
}

/// `name` plus one more CN.
pub fn extend(base: &openssl::x509::X509NameRef, cn: &str) -> X509Name {
    let mut b = X509Name::builder().unwrap();
    for e in base.entries() {
        b.append_entry_by_nid(
            e.object().nid(),
            &String::from_utf8_lossy(e.data().as_slice()),
        )
        .unwrap();
    }
    b.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    b.build()
}

pub struct Spec<'a> {
    pub subject: X509Name,
    pub issuer: Option<&'a X509>,
    pub issuer_key: &'a PKey<Private>,
    pub key: &'a PKey<Private>,
    pub serial: u32,
    pub not_before: i64,
    pub not_after: i64,
    pub exts: Vec<X509Extension>,
}

pub fn build(s: Spec<'_>) -> X509 {
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&Asn1Integer::from_bn(&BigNum::from_u32(s.serial).unwrap()).unwrap())
        .unwrap();
    b.set_subject_name(&s.subject).unwrap();
    match s.issuer {
        Some(i) => b.set_issuer_name(i.subject_name()).unwrap(),
        None => b.set_issuer_name(&s.subject).unwrap(),
    }
    b.set_pubkey(s.key).unwrap();
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(ski).unwrap();
    b.set_not_before(&Asn1Time::from_unix(s.not_before as _).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(s.not_after as _).unwrap())
        .unwrap();
    for e in s.exts {
        b.append_extension(e).unwrap();
    }
    b.sign(s.issuer_key, MessageDigest::sha256()).unwrap();
    b.build()
}

pub struct Ca {
    pub cert: X509,
    pub key: PKey<Private>,
}

/// A self-signed root CA `/DC=org/DC=example/CN=<cn>`.
pub fn ca(cn: &str) -> Ca {
    ca_with_key(cn, key())
}

/// [`ca`] with the given key.
pub fn ca_with_key(cn: &str, key: PKey<Private>) -> Ca {
    let cert = build(Spec {
        subject: name(&[("DC", "org"), ("DC", "example"), ("CN", cn)]),
        issuer: None,
        issuer_key: &key,
        key: &key,
        serial: 1,
        not_before: now() - 10 * 24 * HOUR,
        not_after: now() + 365 * 24 * HOUR,
        exts: vec![
            BasicConstraints::new().critical().ca().build().unwrap(),
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        ],
    });
    Ca { cert, key }
}

/// A CRL of `ca` revoking `serials`, valid from `last` to `next`.
pub fn crl(ca: &Ca, serials: &[u32], last: i64, next: i64) -> X509Crl {
    let mut b = X509CrlBuilder::new().unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    let ctx_builder = X509Builder::new().unwrap();
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&ctx_builder.x509v3_context(Some(&ca.cert), None))
        .unwrap();
    b.append_extension(aki).unwrap();
    let number = openssl::x509::CrlNumber::new(BigNum::from_u32(1).unwrap()).unwrap();
    b.append_extension(number.build().unwrap()).unwrap();
    b.set_last_update(&Asn1Time::from_unix(last as _).unwrap())
        .unwrap();
    b.set_next_update(&Asn1Time::from_unix(next as _).unwrap())
        .unwrap();
    for s in serials {
        let mut r = X509RevokedBuilder::new().unwrap();
        r.set_serial_number(&Asn1Integer::from_bn(&BigNum::from_u32(*s).unwrap()).unwrap())
            .unwrap();
        r.set_revocation_date(&Asn1Time::from_unix((last - 60) as _).unwrap())
            .unwrap();
        b.add_revoked(r.build()).unwrap();
    }
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    b.build().unwrap()
}

/// Installs `ca` as `<hash>.0` in `dir` with a current CRL revoking
/// `revoked` as `<hash>.r0` (both replaced if there).
pub fn install_ca(dir: &Path, ca: &Ca, revoked: &[u32]) {
    let hash = ca.cert.subject_name_hash();
    std::fs::write(dir.join(format!("{hash:08x}.0")), ca.cert.to_pem().unwrap()).unwrap();
    let c = crl(ca, revoked, now() - HOUR, now() + 24 * HOUR);
    std::fs::write(dir.join(format!("{hash:08x}.r0")), c.to_pem().unwrap()).unwrap();
}

/// What [`install_ca_with`] puts next to the CA certificate.
pub enum CrlFixture<'a> {
    /// No CRL file at all (a node before fetch-crl's first run).
    None,
    /// A current CRL revoking these serials.
    Current(&'a [u32]),
    /// A CRL revoking these serials whose nextUpdate passed an hour ago.
    Expired(&'a [u32]),
    /// A current CRL revoking these serials, with its signature broken.
    BadSignature(&'a [u32]),
    /// These CRLs, as `<hash>.r0`, `<hash>.r1`, ...
    These(Vec<X509Crl>),
}

/// The first free `<hash>.<n>` (certificates) or `<hash>.r<n>` (CRLs,
/// `crl` true) in `dir`.
pub fn next_hash_file(dir: &Path, hash: u32, crl: bool) -> std::path::PathBuf {
    let r = if crl { "r" } else { "" };
    (0..)
        .map(|n| dir.join(format!("{hash:08x}.{r}{n}")))
        .find(|p| !p.exists())
        .unwrap()
}

/// Adds `ca` to `dir` as the next free `<hash>.<n>`, with the CRL(s)
/// `crls` as the next free `<hash>.r<n>` (two CAs of one name, each with
/// its CRL, make `.0`, `.1`, `.r0`, `.r1`).
pub fn install_ca_with(dir: &Path, ca: &Ca, crls: CrlFixture<'_>) {
    let hash = ca.cert.subject_name_hash();
    std::fs::write(next_hash_file(dir, hash, false), ca.cert.to_pem().unwrap()).unwrap();
    let crls = match crls {
        CrlFixture::None => vec![],
        CrlFixture::Current(r) => vec![crl(ca, r, now() - HOUR, now() + 24 * HOUR)],
        CrlFixture::Expired(r) => vec![crl(ca, r, now() - 25 * HOUR, now() - HOUR)],
        CrlFixture::BadSignature(r) => {
            vec![bad_signature(&crl(ca, r, now() - HOUR, now() + 24 * HOUR))]
        }
        CrlFixture::These(v) => v,
    };
    for c in crls {
        std::fs::write(next_hash_file(dir, hash, true), c.to_pem().unwrap()).unwrap();
    }
}

/// `crl` with the last byte of its signature changed: well-formed, issued
/// by the same name, but its signature does not verify.
pub fn bad_signature(crl: &X509Crl) -> X509Crl {
    let mut der = crl.to_der().unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    X509Crl::from_der(&der).unwrap()
}

/// A user certificate `/DC=org/DC=example/CN=<cn>` issued by `ca`.
pub fn user(ca: &Ca, cn: &str, serial: u32) -> (X509, PKey<Private>) {
    user_with_key(ca, cn, serial, key())
}

/// [`user`] with the given key.
pub fn user_with_key(ca: &Ca, cn: &str, serial: u32, k: PKey<Private>) -> (X509, PKey<Private>) {
    let c = build(Spec {
        subject: name(&[("DC", "org"), ("DC", "example"), ("CN", cn)]),
        issuer: Some(&ca.cert),
        issuer_key: &ca.key,
        key: &k,
        serial,
        not_before: now() - 24 * HOUR,
        not_after: now() + 300 * 24 * HOUR,
        exts: vec![KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()
            .unwrap()],
    });
    (c, k)
}

/// Proxy kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rfc,
    RfcLimited,
    RfcPathLen(u32),
    Gt3,
    Legacy,
    LegacyLimited,
}

/// The proxyCertInfo extension for `kind`, if any.
pub fn proxy_ext(kind: Kind) -> Option<X509Extension> {
    let lang = |l: ObjectIdentifier| l.to_der().unwrap();
    let seq = |parts: Vec<Vec<u8>>| {
        let mut body = Vec::new();
        for p in parts {
            body.extend(p);
        }
        let any = Any::new(der::Tag::Sequence, body).unwrap();
        any.to_der().unwrap()
    };
    let policy = |l| seq(vec![lang(l)]);
    let (oid, value) = match kind {
        Kind::Rfc => (
            "1.3.6.1.5.5.7.1.14",
            seq(vec![policy(crate::cred::OID_PPL_INHERIT_ALL)]),
        ),
        Kind::RfcLimited => (
            "1.3.6.1.5.5.7.1.14",
            seq(vec![policy(crate::cred::OID_PPL_LIMITED)]),
        ),
        Kind::RfcPathLen(n) => (
            "1.3.6.1.5.5.7.1.14",
            seq(vec![
                n.to_der().unwrap(),
                policy(crate::cred::OID_PPL_INHERIT_ALL),
            ]),
        ),
        Kind::Gt3 => (
            "1.3.6.1.4.1.3536.1.222",
            seq(vec![policy(crate::cred::OID_PPL_INHERIT_ALL)]),
        ),
        Kind::Legacy | Kind::LegacyLimited => return None,
    };
    Some(
        X509Extension::new_from_der(
            &Asn1Object::from_str(oid).unwrap(),
            true,
            &Asn1OctetString::new_from_bytes(&value).unwrap(),
        )
        .unwrap(),
    )
}

/// Tweaks for proxies.
#[derive(Default)]
pub struct Tweak {
    pub ca_bit: bool,
    pub subject: Option<X509Name>,
    pub sign_with: Option<PKey<Private>>,
    pub validity: Option<(i64, i64)>,
    pub serial: Option<u32>,
    pub extra: Vec<X509Extension>,
}

/// A proxy of `kind` issued by (`issuer`, `issuer_key`).
pub fn proxy(
    issuer: &X509,
    issuer_key: &PKey<Private>,
    kind: Kind,
    t: Tweak,
) -> (X509, PKey<Private>) {
    let k = key();
    let cn = match kind {
        Kind::Legacy => "proxy",
        Kind::LegacyLimited => "limited proxy",
        _ => "123456789",
    };
    let (nb, na) = t.validity.unwrap_or((now() - HOUR, now() + 12 * HOUR));
    let mut exts = Vec::new();
    exts.extend(proxy_ext(kind));
    if t.ca_bit {
        exts.push(BasicConstraints::new().critical().ca().build().unwrap());
    }
    exts.extend(t.extra);
    let c = build(Spec {
        subject: t
            .subject
            .unwrap_or_else(|| extend(issuer.subject_name(), cn)),
        issuer: Some(issuer),
        issuer_key: t.sign_with.as_ref().unwrap_or(issuer_key),
        key: &k,
        serial: t.serial.unwrap_or(0x1234_5678),
        not_before: nb,
        not_after: na,
        exts,
    });
    (c, k)
}

/// PEM of `chain` (leaf first) with the optional key after the leaf, as
/// grid proxy files are laid out.
pub fn pem(chain: &[&X509], key: Option<&PKey<Private>>) -> String {
    let mut s = String::new();
    for (i, c) in chain.iter().enumerate() {
        s.push_str(std::str::from_utf8(&c.to_pem().unwrap()).unwrap());
        if i == 0 {
            if let Some(k) = key {
                s.push_str(std::str::from_utf8(&k.private_key_to_pem_pkcs8().unwrap()).unwrap());
            }
        }
    }
    s
}

fn gn_dir(n: &openssl::x509::X509NameRef) -> GeneralName {
    GeneralName::DirectoryName(x509_cert::name::Name::from_der(&n.to_der().unwrap()).unwrap())
}

/// What to put in a VOMS AC.
pub struct AcSpec<'a> {
    /// The holder (end-entity) certificate.
    pub holder: &'a X509,
    /// The VOMS server certificate (embedded, signer).
    pub signer: &'a X509,
    /// The key that signs.
    pub signer_key: &'a PKey<Private>,
    pub vo: &'a str,
    pub host: &'a str,
    pub fqans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    /// Name the holder by its subject instead of its issuer (as the C VOMS
    /// server and voms-proxy-fake do).
    pub holder_by_subject: bool,
}

/// A DER AttributeCertificate as VOMS issues it.
pub fn ac(s: &AcSpec<'_>) -> Vec<u8> {
    let alg = AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
        parameters: None,
    };
    let serial_bytes = s.holder.serial_number().to_bn().unwrap().to_vec();
    let mut holder_serial = Vec::new();
    if serial_bytes.first().map_or(true, |b| b & 0x80 != 0) {
        holder_serial.push(0u8);
    }
    holder_serial.extend(serial_bytes);
    let ietf = IetfAttrSyntax {
        policy_authority: Some(vec![GeneralName::UniformResourceIdentifier(
            Ia5String::new(&format!("{}://{}:15000", s.vo, s.host)).unwrap(),
        )]),
        values: s
            .fqans
            .iter()
            .map(|f| Any::encode_from(&OctetString::new(f.as_bytes()).unwrap()).unwrap())
            .collect(),
    };
    let mut values = SetOfVec::new();
    values
        .insert(Any::from_der(&ietf.to_der().unwrap()).unwrap())
        .unwrap();
    let certs = AcCerts {
        certs: vec![Any::from_der(&s.signer.to_der().unwrap()).unwrap()],
    };
    let info = AcInfo {
        version: 1,
        holder: Holder {
            base_certificate_id: Some(IssuerSerial {
                issuer: vec![gn_dir(if s.holder_by_subject {
                    s.holder.subject_name()
                } else {
                    s.holder.issuer_name()
                })],
                serial: Int::new(&holder_serial).unwrap(),
                issuer_uid: None,
            }),
            entity_name: None,
            object_digest_info: None,
        },
        issuer: V2Form {
            issuer_name: Some(vec![gn_dir(s.signer.subject_name())]),
            base_certificate_id: None,
            object_digest_info: None,
        },
        signature: alg.clone(),
        serial: Int::new(&[0x01, 0x02]).unwrap(),
        validity: AcValidity {
            not_before: GeneralizedTime::from_unix_duration(Duration::from_secs(
                s.not_before as u64,
            ))
            .unwrap(),
            not_after: GeneralizedTime::from_unix_duration(Duration::from_secs(s.not_after as u64))
                .unwrap(),
        },
        attributes: vec![x509_cert::attr::Attribute {
            oid: crate::voms::OID_VOMS_FQANS,
            values,
        }],
        issuer_unique_id: None,
        extensions: Some(vec![x509_cert::ext::Extension {
            extn_id: crate::voms::OID_VOMS_CERTS,
            critical: false,
            extn_value: OctetString::new(certs.to_der().unwrap()).unwrap(),
        }]),
    };
    let tbs = info.to_der().unwrap();
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), s.signer_key).unwrap();
    signer.update(&tbs).unwrap();
    let sig = signer.sign_to_vec().unwrap();
    AttributeCertificate {
        acinfo: Any::from_der(&tbs).unwrap(),
        signature_algorithm: alg,
        signature: BitString::from_bytes(&sig).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// The proxy extension carrying `acs`.
pub fn acseq_ext(acs: Vec<Vec<u8>>) -> X509Extension {
    let seq = AcSeq {
        acs: acs
            .iter()
            .map(|a| AttributeCertificate::from_der(a).unwrap())
            .collect(),
    };
    X509Extension::new_from_der(
        &Asn1Object::from_str("1.3.6.1.4.1.8005.100.100.5").unwrap(),
        false,
        &Asn1OctetString::new_from_bytes(&seq.to_der().unwrap()).unwrap(),
    )
    .unwrap()
}

/// A VOMS server certificate `/DC=org/DC=example/CN=<host>` issued by `ca`.
pub fn voms_server(ca: &Ca, host: &str) -> (X509, PKey<Private>) {
    let k = key();
    let c = build(Spec {
        subject: name(&[("DC", "org"), ("DC", "example"), ("CN", host)]),
        issuer: Some(&ca.cert),
        issuer_key: &ca.key,
        key: &k,
        serial: 77,
        not_before: now() - 24 * HOUR,
        not_after: now() + 300 * 24 * HOUR,
        exts: vec![],
    });
    (c, k)
}

/// A TLS server certificate `/DC=org/DC=example/CN=<names[0]>` with every
/// name of `names` as a DNS subjectAltName, issued by `ca` (a test PDP's).
pub fn server_cert(ca: &Ca, names: &[&str]) -> (X509, PKey<Private>) {
    let k = key();
    let ctx_b = X509Builder::new().unwrap();
    let mut san = openssl::x509::extension::SubjectAlternativeName::new();
    for n in names {
        san.dns(n);
    }
    let san = san.build(&ctx_b.x509v3_context(None, None)).unwrap();
    let c = build(Spec {
        subject: name(&[("DC", "org"), ("DC", "example"), ("CN", names[0])]),
        issuer: Some(&ca.cert),
        issuer_key: &ca.key,
        key: &k,
        serial: 77,
        not_before: now() - HOUR,
        not_after: now() + 24 * HOUR,
        exts: vec![san],
    });
    (c, k)
}

/// Writes `<vomsdir>/<vo>/<host>.lsc` for `server`.
pub fn install_lsc(vomsdir: &Path, vo: &str, host: &str, server: &X509) {
    let d = vomsdir.join(vo);
    std::fs::create_dir_all(&d).unwrap();
    let text = format!(
        "{}\n{}\n",
        crate::name::oneline(server.subject_name()),
        crate::name::oneline(server.issuer_name())
    );
    std::fs::write(d.join(format!("{host}.lsc")), text).unwrap();
}
