//! Fuzz the PEM/chain parser: any bytes give a credential or an error,
//! never a panic; a credential always has an end-entity DN.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cred) = lcmaps_x509::Credential::from_pem(text) {
            let _ = cred.user_dn().len();
            let _ = cred.is_limited();
            let _ = lcmaps_x509::voms::verify_acs(
                &cred,
                &lcmaps_x509::VomsOptions {
                    voms_dir: "/nonexistent".into(),
                    ca_dir: "/nonexistent".into(),
                    at: None,
                    crl_mode: Default::default(),
                },
            );
        }
    }
});
