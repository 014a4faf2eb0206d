//! Fuzz the VOMS attribute-certificate decoder (the value of extension
//! 1.3.6.1.4.1.8005.100.100.5): hostile lengths and garbage never panic.
#![no_main]

use der::{Decode, Encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(seq) = lcmaps_x509::voms::AcSeq::from_der(data) {
        for ac in &seq.acs {
            if let Ok(raw) = ac.acinfo.to_der() {
                let _ = lcmaps_x509::voms::AcInfo::from_der(&raw);
            }
        }
    }
});
