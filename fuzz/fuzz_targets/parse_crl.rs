//! Fuzz the reading of a CRL file of the CA directory
//! (`lcmaps_x509::crl::parse_crl_file`: our split of PEM CRLs or one DER
//! CRL, OpenSSL's parse of each, and our reading of their extensions with
//! `x509-cert`): any bytes give CRLs or `None`, never a panic; there is at
//! least one CRL when it is `Some`; each CRL written back out as PEM is one
//! CRL with the same DER and the same extensions, when OpenSSL can read its
//! own DER of it back (it cannot always: seed
//! `der-crl-openssl-cannot-read-back`).
#![no_main]

use lcmaps_x509::crl::parse_crl_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(crls) = parse_crl_file(data) else {
        return;
    };
    assert!(!crls.is_empty());
    for (crl, ext) in &crls {
        let (Ok(pem), Ok(der)) = (crl.to_pem(), crl.to_der()) else {
            continue;
        };
        if openssl::x509::X509Crl::from_der(&der).is_err() {
            continue;
        }
        let again = parse_crl_file(&pem).expect("a CRL's own PEM parses");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].0.to_der().ok(), Some(der));
        assert_eq!(&again[0].1, ext);
    }
});
