//! The proxy check does not rest on OpenSSL's: `OPENSSL_ALLOW_PROXY_CERTS`
//! in the environment (set at some grid sites for Globus) makes OpenSSL
//! accept proxies in every chain it verifies. One test in its own process,
//! as it changes the environment.

mod support;

use lcmaps_x509::fixtures::{self, Kind, Tweak};
use support::*;

#[test]
fn a_proxy_posing_as_the_pdp_is_refused_with_openssl_allow_proxy_certs_set() {
    std::env::set_var("OPENSSL_ALLOW_PROXY_CERTS", "1");
    let w = World::new();
    let (uc, uk) = fixtures::user(&w.ca, "Mallory", 20);
    let posing = Tweak {
        subject: Some(fixtures::extend(uc.subject_name(), "localhost")),
        ..Tweak::default()
    };
    let proxy = fixtures::proxy(&uc, &uk, Kind::Rfc, posing);
    let s = w.pdp(EVIL_MAP, proxy, vec![uc.clone()]);
    refused(
        &w,
        &s,
        "server certificate rejected: proxy certificate in the server chain",
    );
}
