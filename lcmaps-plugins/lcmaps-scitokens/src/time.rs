//! Unix time as RFC 3339 (UTC), for messages.

pub use lcmaps_core::time::now;

/// `1970-01-01T00:00:00Z` style; the number itself when out of range.
pub fn rfc3339(t: i64) -> String {
    // Years 0..=9999 only.
    if !(-62_167_219_200..=253_402_300_799).contains(&t) {
        return format!("{t} (unix time)");
    }
    let u = lcmaps_core::time::utc(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        u.year, u.month, u.day, u.hour, u.minute, u.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_392_000), "2026-11-23T00:00:00Z");
        assert_eq!(rfc3339(951_825_599), "2000-02-29T11:59:59Z");
        assert_eq!(rfc3339(i64::MAX), format!("{} (unix time)", i64::MAX));
        assert!(now() > 1_700_000_000);
    }
}
