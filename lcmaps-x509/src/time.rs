//! Time helpers: ASN.1 times as Unix seconds, and the one format used in
//! messages (`2026-11-23 10:00:00Z`).

use openssl::asn1::{Asn1Time, Asn1TimeRef};

/// Seconds since the Unix epoch of an ASN.1 time; `None` if OpenSSL cannot
/// compare it (malformed time).
pub fn unix(t: &Asn1TimeRef) -> Option<i64> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let d = epoch.diff(t).ok()?;
    Some(i64::from(d.days) * 86_400 + i64::from(d.secs))
}

pub use lcmaps_core::time::now;

/// `YYYY-MM-DD HH:MM:SSZ` (UTC).
pub fn format(secs: i64) -> String {
    let u = lcmaps_core::time::utc(secs);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        u.year, u.month, u.day, u.hour, u.minute, u.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format(0), "1970-01-01 00:00:00Z");
        assert_eq!(format(1_795_428_000), "2026-11-23 10:00:00Z");
        assert_eq!(format(951_782_400), "2000-02-29 00:00:00Z");
        let t = Asn1Time::from_unix(1_795_428_000).unwrap();
        assert_eq!(unix(&t), Some(1_795_428_000));
    }
}
