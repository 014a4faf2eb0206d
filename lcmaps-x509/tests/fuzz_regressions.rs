//! Inputs found by the `parse_crl` fuzz target
//! (fuzz/fuzz_targets/parse_crl.rs), fed through the trust store's reading
//! of a CRL file, [`parse_crl_file`].

use lcmaps_x509::crl::parse_crl_file;

/// A DER CRL that OpenSSL reads but whose DER, as OpenSSL writes it back,
/// it cannot read again (an odd encoding in the signature algorithm). Our
/// reading of its extensions goes through that DER: it gives none, and
/// `check_ca_issued` refuses a CRL without readable extensions as
/// malformed, so such a CRL cannot vouch for a certificate.
#[test]
fn a_crl_openssl_cannot_read_back_has_no_extensions() {
    let data = include_bytes!("../../fuzz/corpus/parse_crl/der-crl-openssl-cannot-read-back");
    let crls = parse_crl_file(data).expect("OpenSSL reads it");
    assert_eq!(crls.len(), 1);
    assert_eq!(crls[0].1, None);
}
