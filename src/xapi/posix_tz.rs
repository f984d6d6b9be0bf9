//! POSIX TZ rules (`EST5EDT,M3.2.0,M11.1.0`, with RFC 8536's extended
//! hours), as found in a `TZ` value or a TZif footer: parsing, and the UTC
//! offset a rule gives at an instant. Pure.

/// A POSIX TZ rule: a standard offset and maybe a daylight-saving one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Rule {
    /// Seconds east of UTC of standard time.
    pub(super) std: i32,
    dst: Option<Dst>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Dst {
    offset: i32,
    /// Starts at this local standard time...
    start: (Day, i32),
    /// ...and ends at this local daylight time (seconds into the day).
    end: (Day, i32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Day {
    /// `Jn`: day 1..=365, February 29th never counted.
    Julian(u16),
    /// `n`: day 0..=365 of the year, February 29th counted.
    Zero(u16),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Month(u8, u8, u8),
}

impl Rule {
    /// The rule `text` means, or `None` when it is not one.
    pub(super) fn parse(text: &str) -> Option<Rule> {
        let mut p = Parser(text.as_bytes());
        p.name()?;
        let std = -p.time()?;
        if p.0.is_empty() {
            return Some(Rule { std, dst: None });
        }
        p.name()?;
        let offset = if p.0.first().is_some_and(|&c| c != b',') {
            -p.time()?
        } else {
            std + 3600
        };
        // Without a rule, POSIX leaves the dates to the implementation; use
        // the US rules, as glibc does.
        let (start, end) = if p.0.is_empty() {
            ((Day::Month(3, 2, 0), 7200), (Day::Month(11, 1, 0), 7200))
        } else {
            (p.transition()?, p.transition()?)
        };
        p.0.is_empty().then_some(Rule {
            std,
            dst: Some(Dst { offset, start, end }),
        })
    }

    /// Seconds east of UTC at `utc` seconds after the epoch.
    pub(super) fn offset_at(&self, utc: i64) -> i32 {
        let Some(dst) = &self.dst else {
            return self.std;
        };
        // Far beyond any date the callers ask about; keeps the arithmetic safe.
        let utc = utc.clamp(-(1 << 45), 1 << 45);
        let year = super::format::civil((utc + i64::from(self.std)) * 1000).year;
        let start =
            dst.start.0.day_of(year) * 86_400 + i64::from(dst.start.1) - i64::from(self.std);
        let end = dst.end.0.day_of(year) * 86_400 + i64::from(dst.end.1) - i64::from(dst.offset);
        let in_dst = if start < end {
            start <= utc && utc < end
        } else {
            !(end <= utc && utc < start)
        };
        if in_dst {
            dst.offset
        } else {
            self.std
        }
    }
}

impl Day {
    /// Days from 1970-01-01 to this day of `year`.
    fn day_of(self, year: i64) -> i64 {
        let jan1 = days_from_civil(year, 1, 1);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        match self {
            Day::Julian(n) => jan1 + i64::from(n) - 1 + i64::from(leap && n >= 60),
            Day::Zero(n) => jan1 + i64::from(n),
            Day::Month(m, w, d) => {
                let first = days_from_civil(year, m, 1);
                let next = if m == 12 {
                    days_from_civil(year + 1, 1, 1)
                } else {
                    days_from_civil(year, m + 1, 1)
                };
                let weekday = (first + 4).rem_euclid(7); // 1970-01-01 was a Thursday
                let mut day =
                    first + (i64::from(d) - weekday).rem_euclid(7) + 7 * (i64::from(w) - 1);
                while day >= next {
                    day -= 7;
                }
                day
            }
        }
    }
}

/// Days from 1970-01-01 to `year`-`month`-`day` (inverse of the civil
/// calendar of [`super::format`]).
pub(super) fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A cursor over a POSIX TZ string.
struct Parser<'a>(&'a [u8]);

impl Parser<'_> {
    /// A zone abbreviation: 3 or more letters, or `<...>` of letters,
    /// digits and signs.
    fn name(&mut self) -> Option<()> {
        let len = if self.0.first() == Some(&b'<') {
            let close = self.0.iter().position(|&c| c == b'>')?;
            let inner = self.0.get(1..close)?;
            (inner.len() >= 3
                && inner
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'-'))
            .then_some(close + 1)?
        } else {
            let n = self
                .0
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            (n >= 3).then_some(n)?
        };
        self.0 = self.0.get(len..)?;
        Some(())
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, hours up to 167.
    fn time(&mut self) -> Option<i32> {
        let negative = self.0.first() == Some(&b'-');
        if matches!(self.0.first(), Some(b'-' | b'+')) {
            self.0 = self.0.get(1..)?;
        }
        let mut total = self.number(167)? * 3600;
        for scale in [60, 1] {
            match self.0.strip_prefix(b":") {
                Some(rest) => {
                    self.0 = rest;
                    total += self.number(59)? * scale;
                }
                None => break,
            }
        }
        Some(if negative { -total } else { total })
    }

    fn number(&mut self, limit: i32) -> Option<i32> {
        let n = self.0.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 3 {
            return None;
        }
        let v: i32 = std::str::from_utf8(self.0.get(..n)?).ok()?.parse().ok()?;
        self.0 = self.0.get(n..)?;
        (v <= limit).then_some(v)
    }

    /// `,date[/time]`.
    fn transition(&mut self) -> Option<(Day, i32)> {
        self.0 = self.0.strip_prefix(b",")?;
        let day = match self.0.first()? {
            b'J' => {
                self.0 = self.0.get(1..)?;
                let n = self.number(365)?;
                Day::Julian(u16::try_from(n).ok().filter(|n| *n >= 1)?)
            }
            b'M' => {
                self.0 = self.0.get(1..)?;
                let m = self.number(12)?;
                self.0 = self.0.strip_prefix(b".")?;
                let w = self.number(5)?;
                self.0 = self.0.strip_prefix(b".")?;
                let d = self.number(6)?;
                let (m, w, d) = (
                    u8::try_from(m).ok()?,
                    u8::try_from(w).ok()?,
                    u8::try_from(d).ok()?,
                );
                (m >= 1 && w >= 1).then_some(Day::Month(m, w, d))?
            }
            _ => Day::Zero(u16::try_from(self.number(365)?).ok()?),
        };
        let time = match self.0.strip_prefix(b"/") {
            Some(rest) => {
                self.0 = rest;
                self.time()?
            }
            None => 7200,
        };
        Some((day, time))
    }
}
