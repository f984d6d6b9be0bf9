//! Tests of [`super`]: expected values are what luxon 3.4.4 (the reference's
//! date library) writes for the same inputs under Node 22.

use serde_json::{json, Value};

use super::*;

#[test]
fn instants_are_utc_with_milliseconds_and_js_year_forms() {
    let cases: &[(f64, Option<&str>)] = &[
        (1698771157700.0, Some("2023-10-31T16:52:37.700Z")),
        (0.0, Some("1970-01-01T00:00:00.000Z")),
        (-1.0, Some("1969-12-31T23:59:59.999Z")),
        // Fractions are truncated toward zero, as a JavaScript Date does.
        (-1.5, Some("1969-12-31T23:59:59.999Z")),
        (1.5, Some("1970-01-01T00:00:00.001Z")),
        (951782400000.0, Some("2000-02-29T00:00:00.000Z")),
        (4107542400000.0, Some("2100-03-01T00:00:00.000Z")),
        (253402300800000.0, Some("+010000-01-01T00:00:00.000Z")),
        (-62135596800001.0, Some("0000-12-31T23:59:59.999Z")),
        (-62167219200000.0, Some("0000-01-01T00:00:00.000Z")),
        (-62167219200001.0, Some("-000001-12-31T23:59:59.999Z")),
        (8.64e15, Some("+275760-09-13T00:00:00.000Z")),
        (-8.64e15, Some("-271821-04-20T00:00:00.000Z")),
        (8.64e15 + 1.0, None),
        (-8.64e15 - 1.0, None),
        (1e20, None),
        (f64::NAN, None),
    ];
    for (ms, want) in cases {
        assert_eq!(iso_instant(*ms).as_deref(), *want, "{ms}");
    }
}

#[test]
fn timestamps_need_a_json_number() {
    assert_eq!(
        timestamp(Some(&json!(1698771157700_u64))),
        Some(json!("2023-10-31T16:52:37.700Z"))
    );
    assert_eq!(timestamp(Some(&json!(1e20))), Some(Value::Null));
    for bad in [json!("1698771157700"), json!(true), json!(null), json!([1])] {
        assert_eq!(timestamp(Some(&bad)), None, "{bad}");
    }
    assert_eq!(timestamp(None), None);
}

#[test]
fn civil_dates_cross_leap_years_and_eras() {
    // Every day from 1600-01-01 to 2400-12-31 follows the previous one.
    let start = -11_676_096_000_000_i64; // 1600-01-01T00:00:00Z
    let mut prev = civil(start);
    assert_eq!((prev.year, prev.month, prev.day), (1600, 1, 1));
    for day in 1..(801 * 366) {
        let c = civil(start + day * 86_400_000);
        let next_day = c.day == prev.day + 1 && c.month == prev.month && c.year == prev.year;
        let next_month =
            c.day == 1 && (c.month == prev.month + 1 || (c.month == 1 && prev.month == 12));
        assert!(next_day || next_month, "{prev:?} -> {c:?}");
        prev = c;
    }
    assert_eq!(civil(-1).millisecond, 999);
}

#[test]
fn planned_durations_are_minutes_in_javascript_form() {
    let cases: Vec<(Option<Value>, Option<&str>)> = vec![
        (None, Some("PT0S")),
        (Some(json!(null)), Some("PT0S")),
        (Some(json!(0)), Some("PT0S")),
        (Some(json!(-0.0)), Some("PT0S")),
        (Some(json!(90)), Some("PT90M")),
        (Some(json!(1.5)), Some("PT1.5M")),
        (Some(json!(-5)), Some("PT-5M")),
        (Some(json!(0.1 + 0.2)), Some("PT0.30000000000000004M")),
        (Some(json!(1e21)), Some("PT1e+21M")),
        (Some(json!(1e-7)), Some("PT1e-7M")),
        (Some(json!("60")), Some("PT60M")),
        (Some(json!(" 60 ")), Some("PT60M")),
        (Some(json!("0x10")), Some("PT16M")),
        (Some(json!("1e3")), Some("PT1000M")),
        (Some(json!("Infinity")), Some("PTInfinityM")),
        (Some(json!([])), Some("PT0S")),
        (Some(json!([5])), Some("PT5M")),
        (Some(json!("")), None),
        (Some(json!(true)), None),
        (Some(json!(false)), None),
        (Some(json!("abc")), None),
        (Some(json!({})), None),
    ];
    for (v, want) in cases {
        assert_eq!(planned_duration(v.as_ref()).as_deref(), want, "{v:?}");
    }
}

#[test]
fn elapsed_durations_are_seconds_rounded_to_the_millisecond() {
    let cases: &[(f64, &str)] = &[
        (0.0, "PT0S"),
        (3723456.0, "PT3723.456S"),
        (9609998017.0, "PT9609998.017S"),
        (60000.0, "PT60S"),
        (-5000.0, "PT-5S"),
        (0.5, "PT0.001S"),
        (0.4, "PT0S"),
        (-0.5, "PT0S"),
        (1.0, "PT0.001S"),
        (999.0, "PT0.999S"),
        (2.5, "PT0.003S"),
        (-2.5, "PT-0.002S"),
        (0.0005, "PT0S"),
        (1234.5678, "PT1.235S"),
        (1e21, "PT1000000000000000000S"),
    ];
    for (ms, want) in cases {
        assert_eq!(elapsed(*ms), *want, "{ms}");
    }
}
