//! Time-zone rules from TZif files (RFC 8536, versions 1 to 4) and POSIX TZ
//! strings, just enough to answer one question: the UTC offset of a zone at
//! an instant. Pure: the bytes are read by [`super::zone`].

use std::fmt;

use super::posix_tz::Rule;

/// A zone's offsets: transitions from the TZif data, then its POSIX rule.
#[derive(Clone, PartialEq, Eq)]
pub struct TimeZone {
    name: String,
    /// Transition instants (UTC seconds), ascending, with the index into
    /// `offsets` of the offset in effect from each on.
    transitions: Vec<(i64, usize)>,
    /// The offsets (seconds east of UTC) of the local time types; the first
    /// applies before the first transition.
    offsets: Vec<i32>,
    /// What applies after the last transition (the TZif footer, or a `TZ`).
    rule: Option<Rule>,
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZone({})", self.name)
    }
}

impl TimeZone {
    /// UTC.
    pub fn utc() -> TimeZone {
        TimeZone {
            name: "UTC".to_owned(),
            transitions: Vec::new(),
            offsets: vec![0],
            rule: None,
        }
    }

    /// The name it was loaded under (a zone name, a path or a rule).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parses TZif data: the 64-bit block and footer of version 2 and
    /// later, the 32-bit block of version 1.
    pub fn tzif(name: &str, data: &[u8]) -> Result<TimeZone, String> {
        const TRUNCATED: &str = "truncated TZif data";
        let v1 = Header::parse(data).ok_or("not TZif data")?;
        let (header, block, time_size) = if v1.version >= b'2' {
            let rest = data
                .get(v1.block_len(4).ok_or(TRUNCATED)?..)
                .ok_or(TRUNCATED)?;
            (Header::parse(rest).ok_or(TRUNCATED)?, rest, 8)
        } else {
            (v1, data, 4)
        };
        if header
            .block_len(time_size)
            .is_none_or(|len| block.len() < len)
        {
            return Err(TRUNCATED.into());
        }
        let mut cursor = block.get(44..).ok_or(TRUNCATED)?;
        let mut take = |len: Option<usize>| -> Result<&[u8], String> {
            let len = len.ok_or(TRUNCATED)?;
            let (head, tail) = cursor.split_at_checked(len).ok_or(TRUNCATED)?;
            cursor = tail;
            Ok(head)
        };
        let times = take(header.timecnt.checked_mul(time_size))?;
        let indices = take(Some(header.timecnt))?;
        let types = take(header.typecnt.checked_mul(6))?;
        let offsets: Vec<i32> = types
            .chunks_exact(6)
            .filter_map(|t| Some(i32::from_be_bytes(t.get(..4)?.try_into().ok()?)))
            .collect();
        if offsets.is_empty() {
            return Err("TZif data without local time types".into());
        }
        let mut transitions = Vec::with_capacity(header.timecnt);
        for (time, &index) in times.chunks_exact(time_size).zip(indices) {
            let at = match *time {
                [a, b, c, d] => i64::from(i32::from_be_bytes([a, b, c, d])),
                [a, b, c, d, e, f, g, h] => i64::from_be_bytes([a, b, c, d, e, f, g, h]),
                _ => return Err("bad TZif time".into()),
            };
            if usize::from(index) >= offsets.len() {
                return Err("TZif transition to a type that does not exist".into());
            }
            transitions.push((at, usize::from(index)));
        }
        if !transitions.is_sorted_by(|a, b| a.0 < b.0) {
            return Err("TZif transitions out of order".into());
        }
        let footer = match header.block_len(8) {
            Some(at) if time_size == 8 => block.get(at..).unwrap_or_default(),
            _ => &[],
        };
        let text = footer
            .strip_prefix(b"\n")
            .and_then(|f| f.split(|&b| b == b'\n').next())
            .filter(|t| !t.is_empty());
        let rule = match text.map(std::str::from_utf8) {
            Some(Ok(t)) => Some(Rule::parse(t).ok_or("bad TZif footer")?),
            Some(Err(_)) => return Err("bad TZif footer".into()),
            None => None,
        };
        Ok(TimeZone {
            name: name.to_owned(),
            transitions,
            offsets,
            rule,
        })
    }

    /// A zone from a POSIX TZ rule such as `<-03>3` or
    /// `EST5EDT,M3.2.0,M11.1.0` (with RFC 8536's extended hours).
    pub fn posix(rule: &str) -> Result<TimeZone, String> {
        let parsed = Rule::parse(rule).ok_or_else(|| format!("{rule:?} is not a POSIX TZ rule"))?;
        Ok(TimeZone {
            name: rule.to_owned(),
            transitions: Vec::new(),
            offsets: vec![parsed.std],
            rule: Some(parsed),
        })
    }

    /// Seconds east of UTC at `utc` seconds after the epoch.
    pub fn offset_at(&self, utc: i64) -> i32 {
        let after = self.transitions.partition_point(|&(at, _)| at <= utc);
        let first = self.offsets.first().copied().unwrap_or(0);
        if after == 0 && !self.transitions.is_empty() {
            return first;
        }
        if after == self.transitions.len() {
            if let Some(rule) = &self.rule {
                return rule.offset_at(utc);
            }
        }
        after
            .checked_sub(1)
            .and_then(|i| self.transitions.get(i))
            .and_then(|&(_, t)| self.offsets.get(t).copied())
            .unwrap_or(first)
    }
}

/// The counts of a TZif header.
struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

impl Header {
    fn parse(data: &[u8]) -> Option<Header> {
        let head = data.get(..44)?;
        if !head.starts_with(b"TZif") {
            return None;
        }
        let count = |i: usize| {
            let b = head.get(20 + 4 * i..24 + 4 * i)?;
            usize::try_from(u32::from_be_bytes(b.try_into().ok()?)).ok()
        };
        Some(Header {
            version: *head.get(4)?,
            isutcnt: count(0)?,
            isstdcnt: count(1)?,
            leapcnt: count(2)?,
            timecnt: count(3)?,
            typecnt: count(4)?,
            charcnt: count(5)?,
        })
    }

    /// Header and data block length with times of `time_size` bytes.
    fn block_len(&self, time_size: usize) -> Option<usize> {
        let parts = [
            (self.timecnt, time_size + 1),
            (self.typecnt, 6),
            (self.charcnt, 1),
            (self.leapcnt, time_size + 4),
            (self.isstdcnt, 1),
            (self.isutcnt, 1),
        ];
        parts.iter().try_fold(44_usize, |sum, &(n, size)| {
            sum.checked_add(n.checked_mul(size)?)
        })
    }
}

#[cfg(test)]
#[path = "tests/tzif.rs"]
mod tests;
