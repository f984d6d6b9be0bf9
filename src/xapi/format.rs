//! How statement values are written, as the reference's date library (luxon)
//! writes them: UTC instants, planned durations in minutes, elapsed durations
//! in seconds, and the civil calendar underneath. Pure; time zones are
//! [`super::zone`]'s.

use serde_json::Value;

use super::js;

/// Largest distance from the epoch, in ms, that a JavaScript date can hold.
pub const MAX_EPOCH_MS: f64 = 8.64e15;

const MS_PER_DAY: i64 = 86_400_000;

/// A date and time of the proleptic Gregorian calendar, to the millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millisecond: u16,
}

/// The instant `ms` after the epoch as a JavaScript date holds it: truncated
/// to whole ms toward zero, `None` beyond ±8.64e15 ms (an invalid date).
pub fn epoch_ms(ms: f64) -> Option<i64> {
    (ms.abs() <= MAX_EPOCH_MS).then(|| ms.trunc() as i64)
}

/// The calendar fields of `ms` ms after the epoch (no time zone applied).
pub fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(MS_PER_DAY);
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = crate::clock::civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3_600_000) as u8,
        minute: (rem / 60_000 % 60) as u8,
        second: (rem / 1000 % 60) as u8,
        millisecond: (rem % 1000) as u16,
    }
}

/// `YYYY-MM-DDTHH:mm:ss.SSSZ` in UTC, or `None` for an invalid date. Years
/// outside 0000..=9999 have a sign and 6 digits (`+010000`, `-000001`).
pub fn iso_instant(ms: f64) -> Option<String> {
    let c = civil(epoch_ms(ms)?);
    let year = match c.year {
        0..=9999 => format!("{:04}", c.year),
        y if y > 9999 => format!("+{y:06}"),
        y => format!("-{:06}", -y),
    };
    Some(format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.month, c.day, c.hour, c.minute, c.second, c.millisecond
    ))
}

/// A statement `timestamp` from an epoch-ms value: a JSON number gives the
/// instant's text, or `null` beyond the date range; anything else (a string,
/// a boolean, `null`, absent) is `None`: the reference fails to build the
/// statement.
pub fn timestamp(v: Option<&Value>) -> Option<Value> {
    let ms = v?.as_f64()?;
    Some(iso_instant(ms).map_or(Value::Null, Value::String))
}

/// The planned duration (`A.meeting.duration`, minutes) as an ISO 8601
/// duration: `PT0S` when absent, `null` or zero, else `PT<n>M` with `n` in
/// JavaScript number form, never normalised (`PT90M`, `PT1.5M`, `PT-5M`).
/// Numeric strings count as their number. `None` when the reference fails:
/// booleans, `""`, objects and strings that are not numbers.
pub fn planned_duration(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => return Some("PT0S".to_owned()),
        Some(Value::Bool(_)) => return None,
        Some(Value::String(s)) if s.is_empty() => return None,
        Some(_) => {}
    }
    let minutes = js::to_number(v);
    if minutes.is_nan() {
        None
    } else if minutes == 0.0 {
        Some("PT0S".to_owned())
    } else {
        Some(format!("PT{}M", js::number_to_string(minutes)))
    }
}

/// An elapsed time of `ms` milliseconds as an ISO 8601 duration in seconds
/// only, rounded to the millisecond: `PT0S`, `PT3723.456S`, `PT-5S`.
pub fn elapsed(ms: f64) -> String {
    if ms == 0.0 || ms.is_nan() {
        return "PT0S".to_owned();
    }
    // luxon: Math.round(seconds * 1000) / 1000, seconds = ms / 1000.
    let seconds = js_round(ms / 1000.0 * 1000.0) / 1000.0;
    format!("PT{}S", js::number_to_string(seconds))
}

/// JavaScript `Math.round`: halves go toward +∞ (`-2.5` → `-2`).
fn js_round(x: f64) -> f64 {
    let f = x.floor();
    if x - f >= 0.5 {
        f + 1.0
    } else {
        f
    }
}

#[cfg(test)]
#[path = "tests/format.rs"]
mod tests;
