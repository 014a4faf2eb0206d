//! Warming OpenSSL up in a process that will verify one credential later
//! (glexec's mapping service starts its workers ahead of time): OpenSSL 3
//! loads its configuration, providers, decoders and algorithm methods on
//! first use, which costs a fresh process about 2 ms. [`warm_up`] takes
//! that first use on a throwaway certificate made here, so that the
//! caller's credential meets a warm library.

use openssl::asn1::Asn1Time;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Builder, X509NameBuilder, X509StoreContext};

use crate::Credential;

/// Make a throwaway self-signed certificate and key, parse them back as a
/// credential and verify the certificate against itself. Nothing of it is
/// kept; failures are ignored (the real credential meets them again).
pub fn warm_up() {
    let _ = throwaway_round_trip();
}

fn throwaway_round_trip() -> Result<(), openssl::error::ErrorStack> {
    openssl::init();
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", "warm-up")?;
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    b.set_not_before(Asn1Time::days_from_now(0)?.as_ref())?;
    b.set_not_after(Asn1Time::days_from_now(1)?.as_ref())?;
    b.sign(&key, MessageDigest::sha256())?;
    let cert = b.build();
    let mut pem = String::from_utf8_lossy(&cert.to_pem()?).into_owned();
    pem.push_str(&String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?));
    // The parse (certificate and key decoders), then a verification.
    let _ = Credential::from_pem(&pem);
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(cert.clone())?;
    let store = store.build();
    let chain = openssl::stack::Stack::new()?;
    let mut ctx = X509StoreContext::new()?;
    ctx.init(&store, &cert, &chain, |c| c.verify_cert())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn warming_up_twice_is_harmless() {
        super::warm_up();
        assert!(super::throwaway_round_trip().is_ok());
    }
}
