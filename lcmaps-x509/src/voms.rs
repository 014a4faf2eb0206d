//! VOMS attribute certificates (RFC 5755 ACs as VOMS issues them): parsing,
//! verification against `vomsdir` `.lsc` files and the CA directory, FQANs.

use std::path::{Path, PathBuf};

use der::asn1::{Any, BitString, GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};

/// `lcmaps_vo_data_t`: one FQAN split into its parts (the same shape as
/// `lcmaps_core::cred::VoData`; this crate does not depend on the engine,
/// so that the engine's C API can use it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoData {
    /// VO name.
    pub vo: Option<String>,
    /// Group.
    pub group: Option<String>,
    /// Subgroup.
    pub subgroup: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Capability.
    pub capability: Option<String>,
}
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use openssl::x509::X509;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::cred::Credential;
use crate::name::oneline;
use crate::time::format;

/// VOMS FQAN attribute (IetfAttrSyntax).
pub const OID_VOMS_FQANS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.8005.100.100.4");
/// VOMS AC extension carrying the signer's certificates.
pub const OID_VOMS_CERTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.8005.100.100.10");
/// VOMS generic attributes (tags) extension.
pub const OID_VOMS_TAGS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.8005.100.100.11");
const OID_NO_REV_AVAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.56");
const OID_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const OID_TARGETS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.55");

/// Most ACs looked at in one proxy.
pub const MAX_ACS: usize = 16;
/// Allowed clock skew for notBefore, seconds.
pub const CLOCK_SKEW: i64 = 300;

/// AttributeCertificate (RFC 5755 §4.1). `acinfo` is kept raw: the signature
/// covers its exact bytes.
#[derive(Debug, Sequence)]
pub struct AttributeCertificate {
    /// AttributeCertificateInfo, undecoded.
    pub acinfo: Any,
    /// Outer signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// Signature value.
    pub signature: BitString,
}

/// SEQUENCE { SEQUENCE OF AttributeCertificate }, the value of extension
/// 1.3.6.1.4.1.8005.100.100.5.
#[derive(Debug, Sequence)]
pub struct AcSeq {
    /// The ACs.
    pub acs: Vec<AttributeCertificate>,
}

/// AttributeCertificateInfo.
#[derive(Debug, Sequence)]
pub struct AcInfo {
    /// Version (1 = v2).
    pub version: u8,
    /// Holder.
    pub holder: Holder,
    /// Issuer: VOMS uses v2Form, `[0]`.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    pub issuer: V2Form,
    /// Inner signature algorithm.
    pub signature: AlgorithmIdentifierOwned,
    /// Serial number.
    pub serial: Int,
    /// Validity.
    pub validity: AcValidity,
    /// Attributes.
    pub attributes: Vec<x509_cert::attr::Attribute>,
    /// issuerUniqueID.
    #[asn1(optional = "true")]
    pub issuer_unique_id: Option<BitString>,
    /// Extensions.
    #[asn1(optional = "true")]
    pub extensions: Option<Vec<x509_cert::ext::Extension>>,
}

/// Holder (only baseCertificateID is used by VOMS).
#[derive(Debug, Sequence)]
pub struct Holder {
    /// baseCertificateID `[0]`.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub base_certificate_id: Option<IssuerSerial>,
    /// entityName `[1]`.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub entity_name: Option<Vec<GeneralName>>,
    /// objectDigestInfo `[2]`, not supported.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    pub object_digest_info: Option<Any>,
}

/// IssuerSerial.
#[derive(Debug, Sequence)]
pub struct IssuerSerial {
    /// Issuer of the holder certificate.
    pub issuer: Vec<GeneralName>,
    /// Serial of the holder certificate.
    pub serial: Int,
    /// issuerUID.
    #[asn1(optional = "true")]
    pub issuer_uid: Option<BitString>,
}

/// V2Form.
#[derive(Debug, Sequence)]
pub struct V2Form {
    /// issuerName.
    #[asn1(optional = "true")]
    pub issuer_name: Option<Vec<GeneralName>>,
    /// baseCertificateID `[0]`.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub base_certificate_id: Option<IssuerSerial>,
    /// objectDigestInfo `[1]`.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub object_digest_info: Option<Any>,
}

/// AttCertValidityPeriod.
#[derive(Debug, Sequence)]
pub struct AcValidity {
    /// notBeforeTime.
    pub not_before: GeneralizedTime,
    /// notAfterTime.
    pub not_after: GeneralizedTime,
}

/// IetfAttrSyntax.
#[derive(Debug, Sequence)]
pub struct IetfAttrSyntax {
    /// policyAuthority `[0]`: `vo://host:port`.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub policy_authority: Option<Vec<GeneralName>>,
    /// Values (VOMS: OCTET STRING FQANs).
    pub values: Vec<Any>,
}

/// SEQUENCE { SEQUENCE OF Certificate } (extension 100.100.10).
#[derive(Debug, Sequence)]
pub struct AcCerts {
    /// Certificates, signer first.
    pub certs: Vec<Any>,
}

/// Where to look.
#[derive(Debug, Clone)]
pub struct VomsOptions {
    /// `vomsdir` with `<vo>/<host>.lsc` files.
    pub voms_dir: PathBuf,
    /// CA directory for the VOMS server certificates.
    pub ca_dir: PathBuf,
    /// Verification time; `None` = now.
    pub at: Option<i64>,
    /// How the CRLs of the CA directory are used for the VOMS server's
    /// certificate chain. The default ([`VomsOptions::default`]) is
    /// `$LCMAPS_VOMS_CRL_MODE`, else as upstream (libvomsapi):
    /// [`crate::crl::CrlMode::IfValid`].
    pub crl_mode: crate::crl::CrlMode,
}

impl Default for VomsOptions {
    fn default() -> Self {
        VomsOptions {
            voms_dir: crate::voms_dir_from_env(),
            ca_dir: crate::cert_dir_from_env(),
            at: None,
            crl_mode: crate::crl::CrlMode::voms_from_env(),
        }
    }
}

/// Why an AC was rejected. One line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VomsError {
    /// The extension or an AC does not decode.
    #[error("malformed VOMS attribute certificate: {0}")]
    Malformed(String),
    /// Too many ACs.
    #[error("more than {MAX_ACS} VOMS attribute certificates")]
    TooMany,
    /// A rule of the AC itself.
    #[error("VOMS AC of VO \"{vo}\": {reason}")]
    Invalid {
        /// VO name (or "?" if unknown yet).
        vo: String,
        /// What is wrong.
        reason: String,
    },
    /// The AC has expired.
    #[error("VOMS AC of VO \"{vo}\" expired at {at}")]
    Expired {
        /// VO.
        vo: String,
        /// notAfter.
        at: String,
    },
    /// The AC is not yet valid.
    #[error("VOMS AC of VO \"{vo}\" is not valid before {at}")]
    NotYetValid {
        /// VO.
        vo: String,
        /// notBefore.
        at: String,
    },
}

/// A verified VOMS AC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VomsAttributes {
    /// VO name.
    pub vo: String,
    /// `host:port` from the policy authority.
    pub uri: String,
    /// The VOMS server's DN.
    pub server_dn: String,
    /// The VOMS server's CA DN.
    pub server_ca: String,
    /// Holder DN (the end-entity certificate's subject).
    pub user_dn: String,
    /// Holder's CA.
    pub user_ca: String,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// FQANs in the order of the AC (long form as VOMS issues them).
    pub fqans: Vec<String>,
}

impl VomsAttributes {
    /// LCMAPS VO data, one per FQAN.
    pub fn vo_data(&self) -> Vec<VoData> {
        self.fqans.iter().map(|f| fqan_to_vo_data(f)).collect()
    }
}

/// Splits an FQAN `/vo/g1/g2/Role=r/Capability=c` into LCMAPS VO data:
/// `vo`, `group` (the full group path, `/vo/g1/g2`), `role` and
/// `capability` (`NULL` when absent, as VOMS writes them).
pub fn fqan_to_vo_data(fqan: &str) -> VoData {
    let mut group = String::new();
    let mut role = None;
    let mut capability = None;
    for part in fqan.split('/').filter(|p| !p.is_empty()) {
        if let Some(r) = part.strip_prefix("Role=") {
            role = Some(r.to_owned());
        } else if let Some(c) = part.strip_prefix("Capability=") {
            capability = Some(c.to_owned());
        } else {
            group.push('/');
            group.push_str(part);
        }
    }
    let vo = group.split('/').nth(1).map(str::to_owned);
    VoData {
        vo,
        group: (!group.is_empty()).then_some(group),
        subgroup: None,
        role: Some(role.unwrap_or_else(|| "NULL".into())),
        capability: Some(capability.unwrap_or_else(|| "NULL".into())),
    }
}

/// All FQANs of the verified ACs, in order.
pub fn fqans(results: &[Result<VomsAttributes, VomsError>]) -> Vec<String> {
    results
        .iter()
        .flatten()
        .flat_map(|a| a.fqans.iter().cloned())
        .collect()
}

/// The FQANs of the ACs of `cred` that verify, in order; each AC that
/// does not is logged as a warning and left out, as LCMAPS goes on without
/// it (the one rule glexec, the C API and `lcmaps map` share).
pub fn verified_fqans(cred: &Credential, opts: &VomsOptions) -> Vec<String> {
    let results = verify_acs(cred, opts);
    for r in &results {
        if let Err(e) = r {
            log::warn!("VOMS attributes not used: {e}");
        }
    }
    fqans(&results)
}

/// Parses and verifies the ACs of `cred` (those of the leaf-most proxy that
/// carries the VOMS extension). An empty vector: no ACs. An `Err` element
/// per AC that was rejected (or one for an undecodable extension).
pub fn verify_acs(cred: &Credential, opts: &VomsOptions) -> Vec<Result<VomsAttributes, VomsError>> {
    let Some((_, ext)) = cred.voms_extension() else {
        return Vec::new();
    };
    let seq = match AcSeq::from_der(ext) {
        Ok(s) => s,
        Err(e) => return vec![Err(VomsError::Malformed(e.to_string()))],
    };
    if seq.acs.len() > MAX_ACS {
        return vec![Err(VomsError::TooMany)];
    }
    seq.acs.iter().map(|ac| verify_ac(ac, cred, opts)).collect()
}

fn directory_name(names: &[GeneralName]) -> Option<&x509_cert::name::Name> {
    names.iter().find_map(|n| match n {
        GeneralName::DirectoryName(d) => Some(d),
        _ => None,
    })
}

fn same_name(a: &x509_cert::name::Name, b: &openssl::x509::X509NameRef) -> bool {
    match (a.to_der(), b.to_der()) {
        (Ok(x), Ok(y)) => {
            // Compare through OpenSSL's canonical comparison.
            match openssl::x509::X509Name::from_der(&x) {
                Ok(n) => n.try_cmp(b).ok() == Some(std::cmp::Ordering::Equal),
                Err(_) => x == y,
            }
        }
        _ => false,
    }
}

fn strip_int(b: &[u8]) -> &[u8] {
    let mut b = b;
    while b.len() > 1 && b[0] == 0 {
        b = &b[1..];
    }
    b
}

fn valid_component(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

fn digest_for(oid: &ObjectIdentifier) -> Option<MessageDigest> {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => Some(MessageDigest::sha1()),
        "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => Some(MessageDigest::sha256()),
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => Some(MessageDigest::sha384()),
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => Some(MessageDigest::sha512()),
        _ => None,
    }
}

/// Parses an `.lsc` file into its chains of DNs.
pub fn parse_lsc(text: &str) -> Vec<Vec<String>> {
    let mut chains = vec![Vec::new()];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("-") {
            chains.push(Vec::new());
            continue;
        }
        if let Some(c) = chains.last_mut() {
            c.push(line.to_owned());
        }
    }
    chains.retain(|c| !c.is_empty());
    chains
}

fn verify_ac(
    ac: &AttributeCertificate,
    cred: &Credential,
    opts: &VomsOptions,
) -> Result<VomsAttributes, VomsError> {
    let now = opts.at.unwrap_or_else(crate::time::now);
    let tbs = ac
        .acinfo
        .to_der()
        .map_err(|e| VomsError::Malformed(e.to_string()))?;
    let info = AcInfo::from_der(&tbs).map_err(|e| VomsError::Malformed(e.to_string()))?;

    // VO name and host from the FQAN attribute's policy authority.
    let attr = info
        .attributes
        .iter()
        .find(|a| a.oid == OID_VOMS_FQANS)
        .ok_or_else(|| VomsError::Malformed("no FQAN attribute".into()))?;
    if attr.values.len() != 1 {
        return Err(VomsError::Malformed(
            "FQAN attribute must have exactly one value".into(),
        ));
    }
    let ietf_der = attr
        .values
        .get(0)
        .map(|v| v.to_der())
        .transpose()
        .map_err(|e| VomsError::Malformed(e.to_string()))?;
    let ietf = IetfAttrSyntax::from_der(ietf_der.as_deref().unwrap_or_default())
        .map_err(|e| VomsError::Malformed(e.to_string()))?;
    let authority = ietf
        .policy_authority
        .as_deref()
        .and_then(|n| {
            n.iter().find_map(|g| match g {
                GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_owned()),
                _ => None,
            })
        })
        .ok_or_else(|| VomsError::Malformed("no policy authority".into()))?;
    let (vo, uri) = authority
        .split_once("://")
        .ok_or_else(|| VomsError::Malformed(format!("bad policy authority \"{authority}\"")))?;
    let invalid = |reason: String| VomsError::Invalid {
        vo: vo.to_owned(),
        reason,
    };
    let host = uri.rsplit_once(':').map_or(uri, |(h, _)| h);
    if !valid_component(vo) {
        return Err(VomsError::Malformed(format!("invalid VO name \"{vo}\"")));
    }
    if !valid_component(host) {
        return Err(invalid(format!("invalid VOMS server host name \"{host}\"")));
    }

    if info.version != 1 {
        return Err(invalid(format!("unsupported AC version {}", info.version)));
    }
    // Holder: the end-entity certificate, by serial and the name of its
    // issuer (RFC 5755) or its own subject (what the C VOMS server's
    // createAC and voms-proxy-fake write); libvomsapi accepts either.
    let eec = cred.eec();
    let holder = info
        .holder
        .base_certificate_id
        .as_ref()
        .ok_or_else(|| invalid("holder has no baseCertificateID".into()))?;
    let holder_issuer = directory_name(&holder.issuer)
        .ok_or_else(|| invalid("holder issuer is not a directory name".into()))?;
    let eec_serial = eec
        .cert
        .serial_number()
        .to_bn()
        .map_err(|_| invalid("bad end-entity serial".into()))?
        .to_vec();
    let named = same_name(holder_issuer, eec.cert.issuer_name())
        || same_name(holder_issuer, eec.cert.subject_name());
    if !named || strip_int(holder.serial.as_bytes()) != strip_int(&eec_serial) {
        return Err(invalid(format!(
            "holder does not match the end-entity certificate \"{}\"",
            eec.subject
        )));
    }
    if info.signature != ac.signature_algorithm {
        return Err(invalid(
            "inner and outer signature algorithms differ".into(),
        ));
    }
    let not_before =
        i64::try_from(info.validity.not_before.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let not_after =
        i64::try_from(info.validity.not_after.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    if now + CLOCK_SKEW < not_before {
        return Err(VomsError::NotYetValid {
            vo: vo.to_owned(),
            at: format(not_before),
        });
    }
    if now > not_after {
        return Err(VomsError::Expired {
            vo: vo.to_owned(),
            at: format(not_after),
        });
    }
    // Extensions.
    let mut certs_der = None;
    for e in info.extensions.iter().flatten() {
        match e.extn_id {
            OID_VOMS_CERTS => certs_der = Some(e.extn_value.as_bytes()),
            OID_TARGETS => return Err(invalid("AC target restrictions are not supported".into())),
            OID_NO_REV_AVAIL | OID_AKI | OID_VOMS_TAGS => {}
            other if e.critical => {
                return Err(invalid(format!("unsupported critical extension {other}")))
            }
            _ => {}
        }
    }
    let certs_der =
        certs_der.ok_or_else(|| invalid("no VOMS server certificate in the AC".into()))?;
    let ac_certs = AcCerts::from_der(certs_der).map_err(|e| VomsError::Malformed(e.to_string()))?;
    if ac_certs.certs.is_empty() || ac_certs.certs.len() > 8 {
        return Err(invalid("bad number of VOMS server certificates".into()));
    }
    let mut certs = Vec::new();
    for c in &ac_certs.certs {
        let d = c
            .to_der()
            .map_err(|e| VomsError::Malformed(e.to_string()))?;
        certs.push(
            X509::from_der(&d)
                .map_err(|_| VomsError::Malformed("bad VOMS server certificate".into()))?,
        );
    }
    let signer = &certs[0];
    let server_dn = oneline(signer.subject_name());
    let server_ca = oneline(signer.issuer_name());
    let issuer_name = info
        .issuer
        .issuer_name
        .as_deref()
        .and_then(directory_name)
        .ok_or_else(|| invalid("AC issuer is not a directory name".into()))?;
    if !same_name(issuer_name, signer.subject_name()) {
        return Err(invalid(format!(
            "AC issuer is not the VOMS server certificate \"{server_dn}\""
        )));
    }
    // The .lsc file.
    let lsc_path: PathBuf = opts.voms_dir.join(vo).join(format!("{host}.lsc"));
    // A privileged process trusts only an LSC file only root can change (a
    // missing one is reported as unreadable, below).
    if std::fs::symlink_metadata(&lsc_path).is_ok() {
        lcmaps_core::trust::check(&lsc_path).map_err(|e| invalid(e.to_string()))?;
    }
    let lsc = read_small(&lsc_path)
        .map_err(|e| invalid(format!("cannot read {}: {e}", lsc_path.display())))?;
    let mut expected = vec![server_dn.clone()];
    for (i, c) in certs.iter().enumerate() {
        let iss = oneline(c.issuer_name());
        if let Some(next) = certs.get(i + 1) {
            if oneline(next.subject_name()) != iss {
                return Err(invalid("VOMS server certificates are not a chain".into()));
            }
        }
        expected.push(iss);
    }
    if !parse_lsc(&lsc).contains(&expected) {
        return Err(invalid(format!(
            "VOMS server \"{server_dn}\" (CA \"{server_ca}\") does not match {}",
            lsc_path.display()
        )));
    }
    // The server certificate chains to a trusted CA.
    verify_server(signer, &certs[1..], opts)
        .map_err(|e| invalid(format!("VOMS server certificate: {e}")))?;
    // The signature.
    let md = digest_for(&ac.signature_algorithm.oid).ok_or_else(|| {
        invalid(format!(
            "unsupported signature algorithm {}",
            ac.signature_algorithm.oid
        ))
    })?;
    let key = signer
        .public_key()
        .map_err(|_| invalid("bad VOMS server key".into()))?;
    let sig = ac
        .signature
        .as_bytes()
        .ok_or_else(|| invalid("bad signature encoding".into()))?;
    let ok = Verifier::new(md, &key)
        .and_then(|mut v| {
            v.update(&tbs)?;
            v.verify(sig)
        })
        .unwrap_or(false);
    if !ok {
        return Err(invalid(format!(
            "signature does not verify with the key of \"{server_dn}\""
        )));
    }
    // FQANs.
    let mut fqans = Vec::new();
    for v in &ietf.values {
        let s = v
            .decode_as::<OctetString>()
            .map_err(|_| invalid("FQAN is not an OCTET STRING".into()))?;
        let f =
            std::str::from_utf8(s.as_bytes()).map_err(|_| invalid("FQAN is not UTF-8".into()))?;
        let prefix = format!("/{vo}");
        if !(f == prefix || f.starts_with(&format!("{prefix}/"))) || f.bytes().any(|b| b < b' ') {
            return Err(invalid(format!(
                "FQAN \"{}\" is not in the VO",
                f.escape_debug()
            )));
        }
        fqans.push(f.to_owned());
    }
    if fqans.is_empty() {
        return Err(invalid("no FQANs".into()));
    }
    Ok(VomsAttributes {
        vo: vo.to_owned(),
        uri: uri.to_owned(),
        server_dn,
        server_ca,
        user_dn: eec.subject.clone(),
        user_ca: eec.issuer.clone(),
        not_before,
        not_after,
        fqans,
    })
}

fn read_small(p: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let f = lcmaps_core::site_file::open(p)?;
    let mut s = String::new();
    f.take(64 * 1024).read_to_string(&mut s)?;
    Ok(s)
}

fn verify_server(signer: &X509, rest: &[X509], opts: &VomsOptions) -> Result<(), String> {
    let mut chain = vec![signer.clone()];
    chain.extend(rest.iter().cloned());
    let cred = Credential::from_chain(chain, None).map_err(|e| e.to_string())?;
    if cred.eec_index != 0 {
        return Err("the VOMS server certificate is a proxy".into());
    }
    let vopts = crate::VerifyOptions {
        ca_dir: opts.ca_dir.clone(),
        allow_limited: false,
        require_limited: false,
        require_private_key: false,
        at: opts.at,
        crl_mode: opts.crl_mode,
    };
    crate::verify(&cred, &vopts).map_err(|e| e.to_string())
}
