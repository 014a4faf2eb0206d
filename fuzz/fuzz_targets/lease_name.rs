//! Fuzz the gridmapdir lease names (`lcmaps_plugin_common::urlencode`,
//! upstream's `add_mapcount_to_leasename()` + `urlencode()`): any DN and
//! map counter give a name, never a panic; the name has no NUL, is at most
//! three bytes per input byte, and up to its first `:` holds only `%`,
//! digits and lowercase letters (so no `/`, no `.`: it stays in the
//! gridmapdir); where decoding is defined (ASCII before the first `\001`,
//! no NUL after it) the name decodes to the lease name, lowercased before
//! the separator. `urldecode` of any bytes never panics. No name is a
//! bearer-token lease name (`%token:`, `lcmaps_scitokens::pool`).
#![no_main]

use lcmaps_plugin_common::gridmapdir::TOKEN_LEASE_PREFIX;
use lcmaps_plugin_common::urlencode::{lease_name, urldecode, urlencode, MAPCOUNT_SEPARATOR};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = urldecode(data);
    let Some((mc, dn)) = data.split_first_chunk::<2>() else {
        return;
    };
    let mapcounter = i32::from(i16::from_le_bytes(*mc));
    let lease = lease_name(dn, mapcounter);
    let e = urlencode(&lease);
    assert!(!e.contains(&0));
    assert!(e.len() <= 3 * lease.len());
    assert!(!e.starts_with(TOKEN_LEASE_PREFIX.as_bytes()));
    let head = e.split(|&b| b == b':').next().unwrap_or_default();
    assert!(
        head.iter()
            .all(|&b| b == b'%' || b.is_ascii_digit() || b.is_ascii_lowercase()),
        "{:?}",
        String::from_utf8_lossy(&e)
    );
    let sep = lease.iter().position(|&b| b == MAPCOUNT_SEPARATOR);
    let (before, after) = lease.split_at(sep.unwrap_or(lease.len()));
    if before.is_ascii() && !after.contains(&0) {
        let mut want = before.to_ascii_lowercase();
        want.extend_from_slice(after);
        assert_eq!(
            urldecode(&e),
            Some(want),
            "{:?}",
            String::from_utf8_lossy(&e)
        );
    }
});
