//! Tests of [`super`]: POSIX rules by hand, every zone of this machine's
//! `/usr/share/zoneinfo` against jiff's reader of the same bytes, and hostile
//! data.

use super::*;
use crate::xapi::posix_tz::days_from_civil;

const HOUR: i32 = 3600;

fn rule(text: &str) -> TimeZone {
    TimeZone::posix(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Seconds of `y-m-d h:00:00Z`.
fn at(y: i64, m: u8, d: u8, h: i64) -> i64 {
    days_from_civil(y, m, d) * 86_400 + h * 3600
}

#[test]
fn posix_rules_give_standard_and_daylight_offsets() {
    let ny = rule("EST5EDT,M3.2.0,M11.1.0");
    // 2024: DST from March 10 07:00Z to November 3 06:00Z.
    assert_eq!(ny.offset_at(at(2024, 3, 10, 7) - 1), -5 * HOUR);
    assert_eq!(ny.offset_at(at(2024, 3, 10, 7)), -4 * HOUR);
    assert_eq!(ny.offset_at(at(2024, 11, 3, 6) - 1), -4 * HOUR);
    assert_eq!(ny.offset_at(at(2024, 11, 3, 6)), -5 * HOUR);
    // Southern hemisphere: Santiago, DST from September to April.
    let scl = rule("<-04>4<-03>,M9.1.6/24,M4.1.6/24");
    assert_eq!(scl.offset_at(at(2024, 1, 15, 12)), -3 * HOUR);
    assert_eq!(scl.offset_at(at(2024, 6, 15, 12)), -4 * HOUR);
    assert_eq!(scl.offset_at(at(2024, 12, 31, 23)), -3 * HOUR);
    // Fixed offsets, with minutes; east of UTC is negative in POSIX.
    assert_eq!(rule("<-03>3").offset_at(0), -3 * HOUR);
    assert_eq!(rule("IST-5:30").offset_at(0), 5 * HOUR + 1800);
    assert_eq!(rule("<+0545>-5:45").offset_at(0), 5 * HOUR + 45 * 60);
    // Julian days, zero-based days, and permanent DST (RFC 8536's example).
    let j = rule("XXX3YYY,J60/0,J300/0");
    assert_eq!(j.offset_at(at(2024, 3, 1, 3)), -2 * HOUR); // J60 is March 1st, leap year or not
    assert_eq!(j.offset_at(at(2024, 3, 1, 3) - 1), -3 * HOUR);
    assert_eq!(j.offset_at(at(2024, 2, 29, 12)), -3 * HOUR);
    let z = rule("XXX3YYY,59/0,300/0");
    assert_eq!(z.offset_at(at(2024, 2, 29, 4)), -2 * HOUR); // day 59 is February 29th in 2024
    let always = rule("EST5EDT,0/0,J365/25");
    for month in 1..=12 {
        assert_eq!(
            always.offset_at(at(2030, month, 15, 0)),
            -4 * HOUR,
            "{month}"
        );
    }
    // No dates: the US rules; a DST offset given explicitly.
    assert_eq!(rule("CST6CDT").offset_at(at(2024, 7, 1, 0)), -5 * HOUR);
    assert_eq!(
        rule("AAA-10BBB-11:30,M10.1.0,M4.1.0/3").offset_at(at(2024, 1, 1, 0)),
        11 * HOUR + 1800
    );
    // Extended hours (RFC 8536): -167 to 167.
    assert!(TimeZone::posix("XXX3YYY,M3.2.0/-2,M11.1.0/167").is_ok());
}

#[test]
fn malformed_rules_are_refused() {
    for bad in [
        "",
        "3",
        "ES5",
        "EST",
        "EST5EDT,",
        "EST5EDT,M3.2.0",
        "EST5EDT,M13.1.0,M11.1.0",
        "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,J0,J365",
        "EST5EDT,J366,J1",
        "EST5EDT,M3.2.0,M11.1.0,",
        "EST168",
        "EST5:60",
        "<AB>5",
        "<ABC5",
        "EST5EDT,M3.2.0/168,M11.1.0",
        "EST5 ",
        "EST5EDT4x",
    ] {
        assert!(TimeZone::posix(bad).is_err(), "{bad:?}");
    }
}

/// A version 1 file (32-bit times, no footer) built by hand: UTC+1 until
/// 2000-01-01, then UTC+2.
#[test]
fn version_1_files_use_their_32_bit_block() {
    let mut data = b"TZif\0".to_vec();
    data.extend([0u8; 15]);
    for count in [0u32, 0, 0, 1, 2, 8] {
        data.extend(count.to_be_bytes());
    }
    data.extend(946_684_800_i32.to_be_bytes());
    data.push(1);
    data.extend(3600_i32.to_be_bytes());
    data.extend([0, 0]);
    data.extend(7200_i32.to_be_bytes());
    data.extend([0, 4]);
    data.extend(b"AAA\0BBB\0");
    let tz = TimeZone::tzif("test", &data).expect("valid");
    assert_eq!(tz.offset_at(946_684_799), 3600);
    assert_eq!(tz.offset_at(946_684_800), 7200);
    assert_eq!(tz.offset_at(i64::MAX), 7200);
    assert_eq!(tz.name(), "test");
    assert_eq!(format!("{tz:?}"), "TimeZone(test)");
    // Every truncation is an error, never a panic.
    for len in 0..data.len() {
        assert!(TimeZone::tzif("cut", &data[..len]).is_err(), "{len}");
    }
    let mut bad_index = data.clone();
    bad_index[48] = 2;
    assert!(TimeZone::tzif("bad", &bad_index).is_err());
}

fn zone_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "right" || name == "posix" {
            continue; // leap-second and duplicate trees
        }
        if path.is_dir() {
            zone_files(&path, out);
        } else if std::fs::read(&path).is_ok_and(|d| d.starts_with(b"TZif")) {
            out.push(path);
        }
    }
}

#[test]
fn every_system_zone_agrees_with_jiff() {
    let mut files = Vec::new();
    zone_files(std::path::Path::new("/usr/share/zoneinfo"), &mut files);
    assert!(
        files.len() > 300,
        "zoneinfo is installed: {} files",
        files.len()
    );
    let mut checked = 0;
    for path in files {
        let data = std::fs::read(&path).expect("readable");
        let name = path.to_string_lossy();
        let ours = TimeZone::tzif(&name, &data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let theirs = jiff::tz::TimeZone::tzif(&name, &data).expect("jiff reads it");
        let mut instants: Vec<i64> = ours
            .transitions
            .iter()
            .flat_map(|&(t, _)| [t - 1, t, t + 1])
            .collect();
        instants.extend((at(1890, 1, 1, 0)..at(2110, 1, 1, 0)).step_by(86_400 * 7 + 3_601));
        instants.extend((at(2110, 1, 1, 0)..at(9000, 1, 1, 0)).step_by(86_400 * 367 * 13 + 7_777));
        for t in instants {
            let Ok(ts) = jiff::Timestamp::from_second(t) else {
                continue;
            };
            assert_eq!(
                ours.offset_at(t),
                theirs.to_offset(ts).seconds(),
                "{name} at {t}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1_000_000, "{checked}");
}

#[test]
fn hostile_bytes_never_panic() {
    let data =
        std::fs::read("/usr/share/zoneinfo/America/Sao_Paulo").expect("zoneinfo is installed");
    for len in 0..data.len() {
        let _ = TimeZone::tzif("cut", &data[..len]);
    }
    let mut s: u32 = 12345;
    for i in 0..data.len() {
        let mut flipped = data.clone();
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        flipped[i] ^= (s & 0xff) as u8 | 1;
        if let Ok(tz) = TimeZone::tzif("flipped", &flipped) {
            for t in [i64::MIN, -1, 0, 1_700_000_000, i64::MAX / 1000] {
                let _ = tz.offset_at(t);
            }
        }
    }
    let huge_counts = [b"TZif2".as_slice(), &[0; 15], &[0xff; 24]].concat();
    assert!(TimeZone::tzif("huge", &huge_counts).is_err());
}
