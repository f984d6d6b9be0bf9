//! The server's local time zone and the registration's date in it (XAPI.md
//! §4): the reference writes `YYYYMMDD` of `create-time` in the process's
//! zone (`TZ`, else `/etc/localtime`). Loading a zone reads files; the date
//! itself is a pure function of the instant and a given zone ([`super::tzif`]
//! reads the rules).

use super::format::{civil, epoch_ms, MAX_EPOCH_MS};
pub use super::tzif::TimeZone;

/// What luxon writes for the date of an invalid instant, so the reference's
/// registration name becomes `<external id>_Invalid DateTime`.
const INVALID_DATE: &str = "Invalid DateTime";

/// Where zone names are looked up.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The process's zone, as Node finds it: `TZ` if set (see [`from_tz`]),
/// else `/etc/localtime`. When neither gives a zone, UTC, with the reason
/// for the caller to log.
pub fn system() -> (TimeZone, Option<String>) {
    match std::env::var_os("TZ") {
        Some(tz) => match tz.to_str() {
            Some(tz) => from_tz_or_utc(tz),
            None => (
                TimeZone::utc(),
                Some("TZ is not UTF-8, using UTC".to_owned()),
            ),
        },
        None => {
            let path = "/etc/localtime";
            let name = std::fs::read_link(path)
                .ok()
                .and_then(|t| Some(t.to_str()?.split_once("zoneinfo/")?.1.to_owned()))
                .unwrap_or_else(|| path.to_owned());
            match read(&name, path) {
                Ok(tz) => (tz, None),
                Err(why) => (TimeZone::utc(), Some(format!("{why}, using UTC"))),
            }
        }
    }
}

/// A zone from a `TZ`-style value: `America/Sao_Paulo` (a file under
/// `/usr/share/zoneinfo`), `:America/Sao_Paulo`, an absolute path to a TZif
/// file, or a POSIX rule such as `<-03>3` or `EST5EDT,M3.2.0,M11.1.0`;
/// empty is UTC.
pub fn from_tz(value: &str) -> Result<TimeZone, String> {
    let name = value.strip_prefix(':').unwrap_or(value);
    if name.is_empty() {
        return Ok(TimeZone::utc());
    }
    if name.starts_with('/') {
        return read(name, name);
    }
    let safe = name.split('/').all(|part| !part.is_empty() && part != "..");
    let in_zoneinfo = format!("{ZONEINFO}/{name}");
    if safe && std::path::Path::new(&in_zoneinfo).is_file() {
        return read(name, &in_zoneinfo);
    }
    TimeZone::posix(name).or_else(|_| match name {
        "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" => Ok(TimeZone::utc()),
        _ => Err(format!("unknown time zone {name:?}")),
    })
}

fn read(name: &str, path: &str) -> Result<TimeZone, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    TimeZone::tzif(name, &data).map_err(|e| format!("{path} is not a TZif file: {e}"))
}

/// [`from_tz`], falling back to UTC with the reason for the caller to log.
fn from_tz_or_utc(value: &str) -> (TimeZone, Option<String>) {
    match from_tz(value) {
        Ok(tz) => (tz, None),
        Err(why) => (TimeZone::utc(), Some(format!("{why}, using UTC"))),
    }
}

/// `YYYYMMDD` of the instant `ms` after the epoch in `tz`, as luxon's
/// `toFormat("yyyyMMdd")` writes it (`-0001` for year -1, `10000` past
/// 9999), or `None` when the instant or its local time is beyond the
/// JavaScript date range. The offsets come from the system's tzdata (Node
/// uses the copy inside its ICU; they differ only where tzdata changed).
fn local_date(ms: f64, tz: &TimeZone) -> Option<String> {
    let utc = epoch_ms(ms)?;
    let local = utc + i64::from(tz.offset_at(utc.div_euclid(1000))) * 1000;
    if local.unsigned_abs() > MAX_EPOCH_MS as u64 {
        return None;
    }
    let c = civil(local);
    let year = if c.year < 0 {
        format!("-{:04}", -c.year)
    } else {
        format!("{:04}", c.year)
    };
    Some(format!("{year}{:02}{:02}", c.month, c.day))
}

/// The date part of the registration name: `YYYYMMDD` of the instant `ms`
/// after the epoch in `tz` (see `local_date`), or `Invalid DateTime` as the
/// reference writes it for an invalid instant.
pub fn registration_date(ms: f64, tz: &TimeZone) -> String {
    local_date(ms, tz).unwrap_or_else(|| INVALID_DATE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        from_tz(name).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// (instant, UTC, America/Sao_Paulo, Asia/Tokyo), from luxon 3.4.4 under
    /// Node 22 with each zone.
    type Case = (
        f64,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );
    const CASES: &[Case] = &[
        (
            1698771157700.0,
            Some("20231031"),
            Some("20231031"),
            Some("20231101"),
        ),
        (
            1698796800000.0,
            Some("20231101"),
            Some("20231031"),
            Some("20231101"),
        ),
        (
            1698807599999.0,
            Some("20231101"),
            Some("20231031"),
            Some("20231101"),
        ),
        (
            1698807600000.0,
            Some("20231101"),
            Some("20231101"),
            Some("20231101"),
        ),
        (0.0, Some("19700101"), Some("19691231"), Some("19700101")),
        (-1.0, Some("19691231"), Some("19691231"), Some("19700101")),
        (
            253402300800000.0,
            Some("100000101"),
            Some("99991231"),
            Some("100000101"),
        ),
        (
            -62167219200001.0,
            Some("-00011231"),
            Some("-00011231"),
            Some("00000101"),
        ),
        (8.64e15, Some("2757600913"), Some("2757600912"), None),
        (-8.64e15, Some("-2718210420"), None, Some("-2718210420")),
        (8.64e15 + 1.0, None, None, None),
    ];

    #[test]
    fn the_date_is_taken_in_the_given_zone() {
        let (utc, sao_paulo, tokyo) = (zone("UTC"), zone("America/Sao_Paulo"), zone("Asia/Tokyo"));
        for (ms, u, s, t) in CASES {
            assert_eq!(local_date(*ms, &utc).as_deref(), *u, "{ms} UTC");
            assert_eq!(local_date(*ms, &sao_paulo).as_deref(), *s, "{ms} Sao Paulo");
            assert_eq!(local_date(*ms, &tokyo).as_deref(), *t, "{ms} Tokyo");
        }
        assert_eq!(registration_date(8.64e15 + 1.0, &utc), "Invalid DateTime");
        assert_eq!(registration_date(0.0, &sao_paulo), "19691231");
    }

    #[test]
    fn zones_load_from_names_files_and_posix_rules() {
        let path = "/usr/share/zoneinfo/America/Sao_Paulo";
        let at_night = 1698807599999.0; // 2023-11-01 02:59:59.999 UTC
        for tz in [
            zone("America/Sao_Paulo"),
            zone(":America/Sao_Paulo"),
            zone(path),
            zone("<-03>3"),
        ] {
            assert_eq!(local_date(at_night, &tz).as_deref(), Some("20231031"));
        }
        // A DST rule: New York is UTC-4 in July, UTC-5 in January. (Node's
        // ICU ignores such rules and uses UTC; a zone name is what servers set.)
        let ny = zone("EST5EDT,M3.2.0,M11.1.0");
        let july = 1688185800000.0; // 2023-07-01T04:30Z
        let january = 1704083400000.0; // 2024-01-01T04:30Z
        assert_eq!(local_date(july, &ny).as_deref(), Some("20230701"));
        assert_eq!(local_date(january, &ny).as_deref(), Some("20231231"));
        assert_eq!(local_date(0.0, &zone("")).as_deref(), Some("19700101"));
    }

    #[test]
    fn a_missing_zone_falls_back_to_utc_with_a_reason() {
        let (tz, why) = from_tz_or_utc("Mars/Olympus_Mons");
        assert_eq!(local_date(0.0, &tz).as_deref(), Some("19700101"));
        assert!(why.is_some_and(|w| w.contains("Mars/Olympus_Mons") && w.ends_with("using UTC")));
        let (_, why) = from_tz_or_utc("/nonexistent/zone");
        assert!(why.is_some_and(|w| w.contains("cannot read /nonexistent/zone")));
        let junk = std::env::temp_dir().join(format!("xapi-zone-test-{}", std::process::id()));
        std::fs::write(&junk, b"not a zone").expect("write a temporary file");
        let (_, why) = from_tz_or_utc(&junk.to_string_lossy());
        let _ = std::fs::remove_file(&junk);
        assert!(
            why.is_some_and(|w| w.contains("not a TZif file")),
            "a file that is not TZif"
        );
        let (_, why) = from_tz_or_utc("Asia/Tokyo");
        assert_eq!(why, None);
    }

    #[test]
    fn the_system_zone_is_tz_else_etc_localtime() {
        let (tz, why) = system();
        assert_eq!(why, None, "this machine has a zone");
        let tz_env = std::env::var_os("TZ");
        let linked = std::fs::read_link("/etc/localtime").ok();
        if let (None, Some(target)) = (tz_env, linked) {
            let target = target.to_string_lossy().into_owned();
            let name = target.split_once("zoneinfo/").map(|(_, n)| n);
            assert_eq!(Some(tz.name()), name, "/etc/localtime -> {target}");
        }
    }
}
