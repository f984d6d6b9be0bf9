//! The wall clock, in the one unit the service stores and sends: milliseconds
//! since the Unix epoch. Everything that needs "now" as a number asks here, so
//! pure code can take the time as an argument and tests can fix it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
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
}
