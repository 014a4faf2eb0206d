//! Fuzz the VOMS `.lsc` parser (`lcmaps_x509::voms::parse_lsc`): any text
//! gives chains of DNs, never a panic; no chain is empty, no DN is blank,
//! a comment or a separator, or has blanks around it; the chains written
//! back out (separated by `-` lines) parse to the same chains.
#![no_main]

use lcmaps_x509::voms::parse_lsc;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let chains = parse_lsc(text);
    let mut again = String::new();
    for (i, chain) in chains.iter().enumerate() {
        assert!(!chain.is_empty());
        if i > 0 {
            again.push_str("------ NEXT CHAIN ------\n");
        }
        for dn in chain {
            assert!(!dn.is_empty() && dn.trim() == dn, "{dn:?}");
            assert!(!dn.starts_with('#') && !dn.starts_with('-'), "{dn:?}");
            assert!(!dn.contains('\n'));
            again.push_str(dn);
            again.push('\n');
        }
    }
    assert_eq!(parse_lsc(&again), chains, "{again:?}");
});
