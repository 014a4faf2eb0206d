//! Parsing a PEM string or a certificate chain into a [`Credential`].

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use crate::name::oneline;

/// Largest PEM string accepted (a proxy chain with a key is a few KiB).
pub const MAX_PEM_LEN: usize = 1 << 20;
/// Most certificates accepted in one chain.
pub const MAX_CHAIN_LEN: usize = 16;

/// RFC 3820 proxyCertInfo.
pub const OID_RFC_PROXY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.14");
/// GT3 draft proxyCertInfo.
pub const OID_GT3_PROXY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3536.1.222");
/// VOMS attribute certificate sequence extension.
pub const OID_VOMS_ACSEQ: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.8005.100.100.5");
/// id-ppl-anyLanguage.
pub const OID_PPL_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.21.0");
/// id-ppl-inheritAll (impersonation).
pub const OID_PPL_INHERIT_ALL: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.21.1");
/// id-ppl-independent.
pub const OID_PPL_INDEPENDENT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.21.2");
/// Globus limited proxy policy.
pub const OID_PPL_LIMITED: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.3536.1.1.1.9");
/// basicConstraints.
pub const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// commonName.
pub const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// Why a PEM string or chain could not be turned into a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredError {
    /// Input larger than [`MAX_PEM_LEN`].
    #[error("PEM input of {0} bytes exceeds the limit of {MAX_PEM_LEN} bytes")]
    TooLarge(usize),
    /// More than [`MAX_CHAIN_LEN`] certificates.
    #[error("chain of {0} certificates exceeds the limit of {MAX_CHAIN_LEN}")]
    TooLong(usize),
    /// No certificate at all.
    #[error("no certificate found in the PEM input")]
    NoCertificate,
    /// A PEM block that does not decode.
    #[error("malformed PEM: {0}")]
    Pem(String),
    /// A certificate that does not decode.
    #[error("certificate {index} in the chain cannot be parsed: {reason}")]
    BadCertificate {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Parser message.
        reason: String,
    },
    /// An extension we must understand that does not decode.
    #[error("certificate at depth {depth} ({subject}): malformed {what} extension")]
    BadExtension {
        /// Position in the chain.
        depth: usize,
        /// Subject DN.
        subject: String,
        /// Which extension.
        what: &'static str,
    },
    /// The private key is encrypted, or there is more than one.
    #[error("{0}")]
    Key(String),
    /// Only CA certificates or the top non-CA certificate is a proxy.
    #[error("no end-entity certificate in the chain")]
    NoEndEntity,
}

/// Proxy policy language (RFC 3820 §3.8; GT3 uses the same OIDs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyLanguage {
    /// id-ppl-inheritAll: full impersonation.
    InheritAll,
    /// id-ppl-independent.
    Independent,
    /// id-ppl-anyLanguage.
    AnyLanguage,
    /// Globus limited proxy.
    Limited,
    /// Any other (restricted) policy language, dotted OID.
    Other(String),
}

impl PolicyLanguage {
    fn from_oid(oid: &ObjectIdentifier) -> Self {
        match *oid {
            OID_PPL_INHERIT_ALL => Self::InheritAll,
            OID_PPL_INDEPENDENT => Self::Independent,
            OID_PPL_ANY => Self::AnyLanguage,
            OID_PPL_LIMITED => Self::Limited,
            _ => Self::Other(oid.to_string()),
        }
    }
}

/// The type of a proxy certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyType {
    /// RFC 3820 proxy (proxyCertInfo 1.3.6.1.5.5.7.1.14).
    Rfc3820(PolicyLanguage),
    /// GT3 draft proxy (proxyCertInfo 1.3.6.1.4.1.3536.1.222).
    Gt3(PolicyLanguage),
    /// Legacy Globus proxy, last CN `proxy`.
    LegacyFull,
    /// Legacy Globus limited proxy, last CN `limited proxy`.
    LegacyLimited,
}

impl ProxyType {
    /// Whether this is a limited proxy.
    pub fn is_limited(&self) -> bool {
        matches!(
            self,
            Self::LegacyLimited
                | Self::Rfc3820(PolicyLanguage::Limited)
                | Self::Gt3(PolicyLanguage::Limited)
        )
    }

    /// The family: `"RFC 3820"`, `"GT3"` or `"legacy"`.
    pub fn family(&self) -> &'static str {
        match self {
            Self::Rfc3820(_) => "RFC 3820",
            Self::Gt3(_) => "GT3",
            Self::LegacyFull | Self::LegacyLimited => "legacy",
        }
    }
}

/// What a link of the chain is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertKind {
    /// A CA certificate above the end-entity certificate.
    Ca,
    /// The end-entity (user or host) certificate.
    EndEntity,
    /// A proxy below the end-entity certificate.
    Proxy(ProxyType),
    /// A certificate below the end-entity certificate that is no proxy of
    /// any kind (verification rejects it).
    NotAProxy,
}

/// One certificate of the chain with what we learnt about it.
#[derive(Debug, Clone)]
pub struct Link {
    /// The certificate.
    pub cert: X509,
    /// Its structure, as parsed by `x509-cert`.
    pub parsed: x509_cert::Certificate,
    /// Subject, one-line form.
    pub subject: String,
    /// Issuer, one-line form.
    pub issuer: String,
    /// Classification.
    pub kind: CertKind,
    /// basicConstraints cA is true.
    pub ca_bit: bool,
    /// Proxy path length constraint (RFC 3820 / GT3), if any.
    pub proxy_path_len: Option<u32>,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
}

impl Link {
    /// Whether this link is a proxy.
    pub fn is_proxy(&self) -> bool {
        matches!(self.kind, CertKind::Proxy(_))
    }

    /// Whether this link is a limited proxy.
    pub fn is_limited(&self) -> bool {
        matches!(&self.kind, CertKind::Proxy(t) if t.is_limited())
    }

    /// Lifetime in seconds (notAfter - notBefore).
    pub fn lifetime(&self) -> i64 {
        self.not_after - self.not_before
    }

    /// The extension with `oid`: (critical, DER value).
    pub fn extension(&self, oid: &ObjectIdentifier) -> Option<(bool, &[u8])> {
        self.parsed
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == *oid)
            .map(|e| (e.critical, e.extn_value.as_bytes()))
    }
}

/// A parsed credential: the chain (leaf first) and the optional private key.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The chain, leaf (the presented proxy) first, as given.
    pub chain: Vec<Link>,
    /// Index of the end-entity certificate in `chain`.
    pub eec_index: usize,
    /// The private key found in the PEM, if any.
    pub key: Option<PKey<Private>>,
}

#[derive(Sequence)]
struct RfcProxyCertInfo {
    #[asn1(optional = "true")]
    path_len: Option<u32>,
    policy: ProxyPolicy,
}

#[derive(Sequence)]
struct Gt3ProxyCertInfo {
    policy: ProxyPolicy,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    path_len: Option<u32>,
}

#[derive(Sequence)]
struct ProxyPolicy {
    language: ObjectIdentifier,
    #[asn1(optional = "true")]
    policy: Option<OctetString>,
}

#[derive(Sequence)]
struct BasicConstraints {
    #[asn1(default = "Default::default")]
    ca: bool,
    #[asn1(optional = "true")]
    path_len: Option<u32>,
}

/// Splits a PEM string into (label, whole block) pairs.
fn pem_blocks(pem: &str) -> Result<Vec<(&str, &str)>, CredError> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| CredError::Pem("unterminated BEGIN line".into()))?;
        let label = &after[..label_end];
        if label.contains('\n') || label.len() > 64 {
            return Err(CredError::Pem("malformed BEGIN line".into()));
        }
        let end_marker = format!("-----END {label}-----");
        let end = rest[start..]
            .find(&end_marker)
            .ok_or_else(|| CredError::Pem(format!("no END line for {label}")))?;
        let block_end = start + end + end_marker.len();
        out.push((label, &rest[start..block_end]));
        rest = &rest[block_end..];
    }
    Ok(out)
}

/// The certificate of PEM block `block`, parsed once per process for the
/// same block text (by its SHA-256; at most [`MAX_PARSED`] kept, all
/// forgotten when full): a new proxy usually comes with the user
/// certificate and the proxies above it seen before (the jobs of one
/// pilot, the delegations of one user), and OpenSSL 3 sets up its key
/// decoders for every certificate it parses. A parsed certificate is a
/// function of the bytes alone; nothing about it is checked here.
fn certificate(block: &str) -> Result<X509, openssl::error::ErrorStack> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static PARSED: OnceLock<Mutex<HashMap<[u8; 32], X509>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(Default::default);
    let digest = openssl::sha::sha256(block.as_bytes());
    if let Some(c) = parsed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&digest)
    {
        return Ok(c.clone());
    }
    let c = X509::from_pem(block.as_bytes())?;
    let mut p = parsed.lock().unwrap_or_else(|e| e.into_inner());
    if p.len() >= MAX_PARSED {
        p.clear();
    }
    p.insert(digest, c.clone());
    Ok(c)
}

/// Most parsed certificates kept by [`certificate`].
const MAX_PARSED: usize = 512;

/// The unencrypted private key of PEM block `block` (label `label`).
///
/// PKCS#1 RSA (`RSA PRIVATE KEY`), SEC 1 EC (`EC PRIVATE KEY`) and PKCS#8
/// RSA (`PRIVATE KEY`) keys are decoded directly from their DER (OpenSSL's
/// `d2i_RSAPrivateKey` / `d2i_ECPrivateKey`): OpenSSL 3's generic PEM key
/// reader sets up its decoder machinery on every call, which made it half
/// the time of verifying a new proxy chain. Anything else, and any block
/// the direct decode does not take (PEM headers, other base64 than one
/// DER value, other algorithms), goes through the generic reader, whose
/// answer (key or error) is then the answer. The key is only compared
/// with the leaf certificate's public key ([`crate::verify()`]).
fn private_key(label: &str, block: &str) -> Result<PKey<Private>, openssl::error::ErrorStack> {
    if let Some(k) = direct_private_key(label, block) {
        return Ok(k);
    }
    PKey::private_key_from_pem_passphrase(block.as_bytes(), b"")
}

/// [`private_key`]'s direct decode; `None` to leave it to OpenSSL's reader.
fn direct_private_key(label: &str, block: &str) -> Option<PKey<Private>> {
    const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let mut b64 = String::with_capacity(block.len());
    for line in block.lines() {
        let line = line.trim();
        if line.starts_with("-----") {
            continue;
        }
        // A header (`Proc-Type: ...`) or anything but base64.
        if !line
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=')
        {
            return None;
        }
        b64.push_str(line);
    }
    let der = openssl::base64::decode_block(&b64).ok()?;
    // Exactly one DER value, nothing after it.
    der::asn1::AnyRef::from_der(&der).ok()?;
    match label {
        "RSA PRIVATE KEY" => {
            PKey::from_rsa(openssl::rsa::Rsa::private_key_from_der(&der).ok()?).ok()
        }
        "EC PRIVATE KEY" => {
            PKey::from_ec_key(openssl::ec::EcKey::private_key_from_der(&der).ok()?).ok()
        }
        "PRIVATE KEY" => {
            // PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier,
            //   privateKey OCTET STRING, [0] attributes OPTIONAL, ... }
            let seq = der::asn1::AnyRef::from_der(&der).ok()?;
            if der::Tagged::tag(&seq) != der::Tag::Sequence {
                return None;
            }
            let mut r = der::SliceReader::new(seq.value()).ok()?;
            let version: u8 = der::Reader::decode(&mut r).ok()?;
            let alg: x509_cert::spki::AlgorithmIdentifierOwned =
                der::Reader::decode(&mut r).ok()?;
            let key: der::asn1::OctetStringRef<'_> = der::Reader::decode(&mut r).ok()?;
            if version > 1 {
                return None;
            }
            let inner = key.as_bytes();
            der::asn1::AnyRef::from_der(inner).ok()?;
            if alg.oid == RSA_ENCRYPTION {
                return PKey::from_rsa(openssl::rsa::Rsa::private_key_from_der(inner).ok()?).ok();
            }
            if alg.oid != EC_PUBLIC_KEY {
                return None;
            }
            // The curve is the algorithm's parameter (a named curve).
            let curve: ObjectIdentifier = alg.parameters.as_ref()?.decode_as().ok()?;
            pkcs8_ec_key(&curve, inner)
        }
        _ => None,
    }
}

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// The SEC 1 `ECPrivateKey` `der` of a PKCS#8 key on the named `curve`.
/// The public point is computed from the private scalar, never taken from
/// the optional `publicKey` field: the key then proves possession when its
/// public half is compared with the leaf certificate's.
fn pkcs8_ec_key(curve: &ObjectIdentifier, der: &[u8]) -> Option<PKey<Private>> {
    use openssl::bn::{BigNum, BigNumContext};
    use openssl::ec::{EcGroup, EcKey, EcPoint};
    // ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET
    //   STRING, [0] parameters OPTIONAL, [1] publicKey OPTIONAL }
    let seq = der::asn1::AnyRef::from_der(der).ok()?;
    if der::Tagged::tag(&seq) != der::Tag::Sequence {
        return None;
    }
    let mut r = der::SliceReader::new(seq.value()).ok()?;
    let version: u8 = der::Reader::decode(&mut r).ok()?;
    let scalar: der::asn1::OctetStringRef<'_> = der::Reader::decode(&mut r).ok()?;
    if version != 1 {
        return None;
    }
    let nid = openssl::asn1::Asn1Object::from_str(&curve.to_string())
        .ok()?
        .nid();
    let group = EcGroup::from_curve_name(nid).ok()?;
    let d = BigNum::from_slice(scalar.as_bytes()).ok()?;
    let mut ctx = BigNumContext::new().ok()?;
    let mut q = EcPoint::new(&group).ok()?;
    q.mul_generator2(&group, &d, &mut ctx).ok()?;
    let key = EcKey::from_private_components(&group, &d, &q).ok()?;
    PKey::from_ec_key(key).ok()
}

impl Credential {
    /// [`Credential::from_pem`], remembering this thread's last successful
    /// parse (by the SHA-256 of the string): within one mapping the C API
    /// parses the PEM string for its DN and FQANs and
    /// `lcmaps_verify_proxy.mod` parses the same string again. The parse
    /// is a function of the string alone, so the remembered value is what
    /// parsing again would give. Nothing is checked here; verification
    /// ([`crate::verify()`]) is done by the caller, every time.
    pub fn from_pem_shared(pem: &str) -> Result<std::sync::Arc<Self>, CredError> {
        use std::cell::RefCell;
        use std::sync::Arc;
        thread_local! {
            static LAST: RefCell<Option<([u8; 32], Arc<Credential>)>> = const { RefCell::new(None) };
        }
        if pem.len() > MAX_PEM_LEN {
            return Err(CredError::TooLarge(pem.len()));
        }
        let digest = openssl::sha::sha256(pem.as_bytes());
        if let Some(c) = LAST.with(|l| {
            l.borrow()
                .as_ref()
                .filter(|(d, _)| *d == digest)
                .map(|(_, c)| c.clone())
        }) {
            return Ok(c);
        }
        let cred = Arc::new(Credential::from_pem(pem)?);
        LAST.with(|l| *l.borrow_mut() = Some((digest, cred.clone())));
        Ok(cred)
    }

    /// Parses a PEM string: certificates leaf first (each issued by the
    /// next), plus at most one unencrypted private key anywhere.
    pub fn from_pem(pem: &str) -> Result<Self, CredError> {
        if pem.len() > MAX_PEM_LEN {
            return Err(CredError::TooLarge(pem.len()));
        }
        let mut certs = Vec::new();
        let mut key = None;
        for (label, block) in pem_blocks(pem)? {
            match label {
                "CERTIFICATE" => {
                    if certs.len() >= MAX_CHAIN_LEN {
                        return Err(CredError::TooLong(certs.len() + 1));
                    }
                    let c = certificate(block).map_err(|e| CredError::BadCertificate {
                        index: certs.len(),
                        reason: first_error(&e),
                    })?;
                    certs.push(c);
                }
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                    if key.is_some() {
                        return Err(CredError::Key(
                            "more than one private key in the PEM input".into(),
                        ));
                    }
                    if block.contains("Proc-Type: 4,ENCRYPTED") {
                        return Err(CredError::Key("the private key is encrypted".into()));
                    }
                    let k = private_key(label, block).map_err(|e| {
                        CredError::Key(format!("malformed private key: {}", first_error(&e)))
                    })?;
                    key = Some(k);
                }
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(CredError::Key("the private key is encrypted".into()))
                }
                other => return Err(CredError::Pem(format!("unexpected PEM block {other}"))),
            }
        }
        Self::from_chain(certs, key)
    }

    /// Builds a credential from certificates (leaf first) and an optional key.
    pub fn from_chain(certs: Vec<X509>, key: Option<PKey<Private>>) -> Result<Self, CredError> {
        if certs.is_empty() {
            return Err(CredError::NoCertificate);
        }
        if certs.len() > MAX_CHAIN_LEN {
            return Err(CredError::TooLong(certs.len()));
        }
        let mut chain = Vec::with_capacity(certs.len());
        for (index, cert) in certs.into_iter().enumerate() {
            chain.push(link(index, cert)?);
        }
        // From the top: CA certificates, then the end-entity certificate.
        let eec_index = chain
            .iter()
            .rposition(|l| !l.ca_bit)
            .ok_or(CredError::NoEndEntity)?;
        if chain[eec_index].extension(&OID_RFC_PROXY).is_some()
            || chain[eec_index].extension(&OID_GT3_PROXY).is_some()
        {
            return Err(CredError::NoEndEntity);
        }
        for l in &mut chain[eec_index + 1..] {
            l.kind = CertKind::Ca;
        }
        chain[eec_index].kind = CertKind::EndEntity;
        for depth in (0..eec_index).rev() {
            let kind = classify_proxy(&chain[depth], depth)?;
            chain[depth].kind = kind;
            chain[depth].proxy_path_len = proxy_path_len(&chain[depth]);
        }
        Ok(Credential {
            chain,
            eec_index,
            key,
        })
    }

    /// The end-entity certificate.
    pub fn eec(&self) -> &Link {
        &self.chain[self.eec_index]
    }

    /// The leaf (the certificate presented).
    pub fn leaf(&self) -> &Link {
        &self.chain[0]
    }

    /// The user's DN: the end-entity certificate's subject, one-line form.
    pub fn user_dn(&self) -> &str {
        &self.eec().subject
    }

    /// The proxies, leaf first.
    pub fn proxies(&self) -> &[Link] {
        &self.chain[..self.eec_index]
    }

    /// Whether the leaf is a limited proxy.
    pub fn is_limited(&self) -> bool {
        self.leaf().is_limited()
    }

    /// The DER value of the VOMS AC extension of the leaf-most proxy that
    /// carries one (as libvomsapi's `RECURSE_CHAIN` finds it), with the depth.
    pub fn voms_extension(&self) -> Option<(usize, &[u8])> {
        self.proxies()
            .iter()
            .enumerate()
            .find_map(|(i, l)| l.extension(&OID_VOMS_ACSEQ).map(|(_, v)| (i, v)))
    }
}

fn first_error(e: &openssl::error::ErrorStack) -> String {
    e.errors()
        .first()
        .and_then(|e| e.reason().map(str::to_owned))
        .unwrap_or_else(|| "decoding failed".into())
}

fn link(index: usize, cert: X509) -> Result<Link, CredError> {
    let bad = |reason: String| CredError::BadCertificate { index, reason };
    let der = cert.to_der().map_err(|e| bad(first_error(&e)))?;
    let parsed = x509_cert::Certificate::from_der(&der).map_err(|e| bad(e.to_string()))?;
    let subject = oneline(cert.subject_name());
    let issuer = oneline(cert.issuer_name());
    let not_before =
        crate::time::unix(cert.not_before()).ok_or_else(|| bad("bad notBefore".into()))?;
    let not_after =
        crate::time::unix(cert.not_after()).ok_or_else(|| bad("bad notAfter".into()))?;
    let mut l = Link {
        cert,
        parsed,
        subject,
        issuer,
        kind: CertKind::NotAProxy,
        ca_bit: false,
        proxy_path_len: None,
        not_before,
        not_after,
    };
    if let Some((_, v)) = l.extension(&OID_BASIC_CONSTRAINTS) {
        let bc = BasicConstraints::from_der(v).map_err(|_| CredError::BadExtension {
            depth: index,
            subject: l.subject.clone(),
            what: "basicConstraints",
        })?;
        l.ca_bit = bc.ca;
    }
    Ok(l)
}

/// Whether `subject` is `issuer` plus exactly one single-valued CN RDN;
/// returns that CN's value bytes.
pub fn proxy_cn<'a>(
    subject: &'a x509_cert::name::Name,
    issuer: &x509_cert::name::Name,
) -> Option<&'a [u8]> {
    let (last, head) = subject.0.split_last()?;
    if head.len() != issuer.0.len()
        || head
            .iter()
            .zip(issuer.0.iter())
            .any(|(a, b)| a.to_der().ok() != b.to_der().ok())
    {
        return None;
    }
    let atvs = last.0.as_slice();
    if atvs.len() != 1 || atvs[0].oid != OID_CN {
        return None;
    }
    Some(atvs[0].value.value())
}

fn classify_proxy(l: &Link, depth: usize) -> Result<CertKind, CredError> {
    let bad = |what| CredError::BadExtension {
        depth,
        subject: l.subject.clone(),
        what,
    };
    let rfc = l.extension(&OID_RFC_PROXY);
    let gt3 = l.extension(&OID_GT3_PROXY);
    match (rfc, gt3) {
        (Some(_), Some(_)) => Err(bad("proxyCertInfo (both RFC 3820 and GT3)")),
        (Some((_, v)), None) => {
            let pci = RfcProxyCertInfo::from_der(v).map_err(|_| bad("RFC 3820 proxyCertInfo"))?;
            let _ = &pci.policy.policy;
            Ok(CertKind::Proxy(ProxyType::Rfc3820(
                PolicyLanguage::from_oid(&pci.policy.language),
            )))
        }
        (None, Some((_, v))) => {
            let pci = Gt3ProxyCertInfo::from_der(v).map_err(|_| bad("GT3 proxyCertInfo"))?;
            Ok(CertKind::Proxy(ProxyType::Gt3(PolicyLanguage::from_oid(
                &pci.policy.language,
            ))))
        }
        (None, None) => {
            let tbs = &l.parsed.tbs_certificate;
            match proxy_cn(&tbs.subject, &tbs.issuer) {
                Some(b"proxy") => Ok(CertKind::Proxy(ProxyType::LegacyFull)),
                Some(b"limited proxy") => Ok(CertKind::Proxy(ProxyType::LegacyLimited)),
                _ => Ok(CertKind::NotAProxy),
            }
        }
    }
}

/// The proxy path length constraint of a proxy link (RFC 3820 / GT3).
pub fn proxy_path_len(l: &Link) -> Option<u32> {
    if let Some((_, v)) = l.extension(&OID_RFC_PROXY) {
        return RfcProxyCertInfo::from_der(v).ok()?.path_len;
    }
    if let Some((_, v)) = l.extension(&OID_GT3_PROXY) {
        return Gt3ProxyCertInfo::from_der(v).ok()?.path_len;
    }
    None
}

#[cfg(test)]
mod key_tests {
    use super::{direct_private_key, private_key};
    use openssl::pkey::{PKey, Private};

    fn pem_of(label: &str, der: &[u8]) -> String {
        let b64 = openssl::base64::encode_block(der);
        let body: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            body.join("\n")
        )
    }

    fn same(a: &PKey<Private>, b: &PKey<Private>) {
        assert!(a.public_eq(b));
        assert_eq!(
            a.private_key_to_der().unwrap(),
            b.private_key_to_der().unwrap()
        );
    }

    #[test]
    fn the_direct_decode_gives_openssls_key() {
        let rsa = crate::fixtures::rsa_key();
        let ec = crate::fixtures::key();
        let cases = [
            (
                "RSA PRIVATE KEY",
                rsa.rsa().unwrap().private_key_to_der().unwrap(),
                &rsa,
            ),
            ("PRIVATE KEY", rsa.private_key_to_pkcs8().unwrap(), &rsa),
            (
                "EC PRIVATE KEY",
                ec.ec_key().unwrap().private_key_to_der().unwrap(),
                &ec,
            ),
        ];
        for (label, der, want) in cases {
            let pem = pem_of(label, &der);
            let direct = direct_private_key(label, &pem).expect(label);
            same(&direct, want);
            let generic = PKey::private_key_from_pem_passphrase(pem.as_bytes(), b"").unwrap();
            same(&direct, &generic);
        }
    }

    #[test]
    fn pkcs8_ec_keys_are_decoded_directly() {
        for curve in [
            openssl::nid::Nid::X9_62_PRIME256V1,
            openssl::nid::Nid::SECP384R1,
        ] {
            let group = openssl::ec::EcGroup::from_curve_name(curve).unwrap();
            let ec = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
            let pem = pem_of("PRIVATE KEY", &ec.private_key_to_pkcs8().unwrap());
            let direct = direct_private_key("PRIVATE KEY", &pem).expect("decoded directly");
            assert!(direct.public_eq(&ec));
            let generic = PKey::private_key_from_pem_passphrase(pem.as_bytes(), b"").unwrap();
            assert!(direct.public_eq(&generic));
            assert_eq!(
                direct.ec_key().unwrap().private_key(),
                generic.ec_key().unwrap().private_key()
            );
        }
    }

    /// A PKCS#8 EC key whose `publicKey` field is another key's: the direct
    /// decode's public half is the private scalar's, so it does not match
    /// the certificate of the key it claims to be.
    #[test]
    fn a_pkcs8_ec_key_with_a_borrowed_public_key_is_its_own() {
        let mine = crate::fixtures::key();
        let theirs = crate::fixtures::key();
        let forged = {
            let (m, t) = (mine.ec_key().unwrap(), theirs.ec_key().unwrap());
            let k = openssl::ec::EcKey::from_private_components(
                m.group(),
                m.private_key(),
                t.public_key(),
            )
            .unwrap();
            PKey::from_ec_key(k).unwrap()
        };
        let pem = pem_of("PRIVATE KEY", &forged.private_key_to_pkcs8().unwrap());
        let direct = direct_private_key("PRIVATE KEY", &pem).expect("decoded directly");
        assert!(direct.public_eq(&mine));
        assert!(!direct.public_eq(&theirs));
    }

    #[test]
    fn other_keys_and_odd_blocks_are_left_to_openssl() {
        // Trailing bytes after the DER value, a header line: not decoded
        // directly; OpenSSL's reader decides.
        let rsa = crate::fixtures::rsa_key();
        let mut der = rsa.rsa().unwrap().private_key_to_der().unwrap();
        der.extend_from_slice(b"\x00\x00");
        assert!(direct_private_key("RSA PRIVATE KEY", &pem_of("RSA PRIVATE KEY", &der)).is_none());
        let good = pem_of(
            "RSA PRIVATE KEY",
            &rsa.rsa().unwrap().private_key_to_der().unwrap(),
        );
        let with_header = good.replacen("-----\n", "-----\nComment: x\n\n", 1);
        assert!(direct_private_key("RSA PRIVATE KEY", &with_header).is_none());
        // Not base64 at all.
        assert!(direct_private_key(
            "RSA PRIVATE KEY",
            "-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----\n"
        )
        .is_none());
        assert!(private_key(
            "RSA PRIVATE KEY",
            "-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----\n"
        )
        .is_err());
    }
}
