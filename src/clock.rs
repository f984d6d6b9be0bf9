//! The wall clock, in the one unit the service stores and sends: milliseconds
//! since the Unix epoch. Everything that needs "now" as a number asks here, so
//! pure code can take the time as an argument and tests can fix it. Also the
//! civil date of a day since the epoch, which every date text is made from.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Year, month and day of the day `days` after 1970-01-01 in the proleptic
/// Gregorian calendar, by the usual era-of-400-years arithmetic (H.
/// Hinnant's; valid far beyond the JavaScript date range).
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // 0..=11, March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_after_2020_and_moves_forward() {
        let a = now_ms();
        assert!(a > 1_577_836_800_000, "{a}");
        assert!(now_ms() >= a);
    }

    #[test]
    fn civil_dates_of_days_since_the_epoch() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_661), (2023, 10, 31));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    }
}
