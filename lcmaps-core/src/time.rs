//! Unix time for the whole workspace: the current time, and the UTC
//! calendar fields of a time for messages and logs (one conversion,
//! proleptic Gregorian, after H. Hinnant's `civil_from_days`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch now (0 before 1970).
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// UTC fields of a Unix time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year (proleptic Gregorian; may be before 1 or after 9999).
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
    /// Hour, 0 to 23.
    pub hour: u32,
    /// Minute, 0 to 59.
    pub minute: u32,
    /// Second, 0 to 59.
    pub second: u32,
}

/// The UTC fields of `secs` seconds since the Unix epoch.
pub fn utc(secs: i64) -> Utc {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Overflow-free for every i64 day count that `div_euclid` can give.
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe
        .saturating_add(era.saturating_mul(400))
        .saturating_add(i64::from(month <= 2));
    Utc {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let t = |y, mo, d, h, mi, s| Utc {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
        };
        assert_eq!(utc(0), t(1970, 1, 1, 0, 0, 0));
        assert_eq!(utc(951_782_400), t(2000, 2, 29, 0, 0, 0));
        assert_eq!(utc(1_795_428_000), t(2026, 11, 23, 10, 0, 0));
        assert_eq!(utc(-1), t(1969, 12, 31, 23, 59, 59));
        assert_eq!(utc(253_402_300_799), t(9999, 12, 31, 23, 59, 59));
        // Extremes give some date, never a panic.
        let _ = (utc(i64::MIN), utc(i64::MAX));
    }
}
