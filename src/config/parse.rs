//! How a key's value becomes typed: the [`Key`] type the key table is made
//! of, and the small parsers its entries are built from (numbers in a range,
//! flags, comma lists). No key is named here; `keys.rs` declares them.

use std::ops::RangeInclusive;
use std::str::FromStr;

/// What `--help`, the docs and the conffile show of a key.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub name: &'static str,
    /// The value when the key is not set; empty: unset.
    pub default: &'static str,
    pub help: &'static str,
}

/// One setting: what people see of it, and how its value becomes a `T`.
pub struct Key<T> {
    pub name: &'static str,
    /// The value when the key is not set; empty: unset.
    pub default: &'static str,
    /// One line for `--help` and the docs.
    pub help: &'static str,
    /// What a valid value is, for "KEY (from ORIGIN) has the value V, which
    /// is not EXPECTS".
    pub expects: &'static str,
    /// Parses the trimmed value ("" when unset); `Err` holds the part that is
    /// wrong (the whole value, or one entry of a list).
    pub parse: fn(&str) -> Result<T, &str>,
}

impl<T> Key<T> {
    /// What the key table lists of this key.
    pub const fn spec(&self) -> Spec {
        Spec {
            name: self.name,
            default: self.default,
            help: self.help,
        }
    }
}

/// Splits a comma list, trimming entries and dropping empty ones.
pub fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `Ok(v)` when there is one, else the whole value as the wrong part.
pub(super) fn whole<T>(s: &str, v: Option<T>) -> Result<T, &str> {
    v.ok_or(s)
}

/// `None` for the empty value of an unset key.
pub(super) fn optional(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// Any text; `None` when unset.
pub(super) fn optional_text(s: &str) -> Result<Option<String>, &str> {
    Ok(optional(s).map(str::to_owned))
}

/// A decimal number in `range`.
pub(super) fn number<N: FromStr + PartialOrd>(
    s: &str,
    range: RangeInclusive<N>,
) -> Result<N, &str> {
    whole(s, s.parse().ok().filter(|n| range.contains(n)))
}

/// The words a systemd or shell user would write for a flag.
pub(super) fn boolean(s: &str) -> Result<bool, &str> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(s),
    }
}

/// A comma list in lower case (event ids compare case-insensitively).
pub(super) fn lower_list(s: &str) -> Vec<String> {
    list(s).into_iter().map(|e| e.to_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number::<u32>("20", 0..=20), Ok(20));
        assert_eq!(number::<u32>("21", 0..=20), Err("21"));
        assert_eq!(number::<u32>("-1", 0..=20), Err("-1"));
        assert_eq!(number::<u32>("1e3", 0..=2000), Err("1e3"));
        assert_eq!(number::<usize>("", 0..=20), Err(""));
    }

    #[test]
    fn flags() {
        for yes in ["true", "Yes", "ON", "1"] {
            assert_eq!(boolean(yes), Ok(true), "{yes}");
        }
        for no in ["false", "No", "off", "0"] {
            assert_eq!(boolean(no), Ok(false), "{no}");
        }
        assert_eq!(boolean("2"), Err("2"));
    }

    #[test]
    fn lists() {
        assert_eq!(list(" a, ,b ,"), ["a", "b"]);
        assert!(list("").is_empty());
        assert_eq!(lower_list("User-Joined"), ["user-joined"]);
        assert_eq!(optional(""), None);
        assert_eq!(whole("x", None::<u8>), Err("x"));
    }
}
