//! BigBlueButton's own Java properties files, read for two values only (the
//! shared secret and the server's URL): the subset of the properties syntax
//! those files use, and the host of a URL. It knows nothing of our keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Java properties from BBB's files; the first file that has a key wins.
pub(super) struct BbbProperties(Vec<(PathBuf, HashMap<String, String>)>);

impl BbbProperties {
    pub(super) fn read(files: &[PathBuf]) -> BbbProperties {
        BbbProperties(
            files
                .iter()
                .filter_map(|p| {
                    Some((
                        p.clone(),
                        parse_properties(&std::fs::read_to_string(p).ok()?),
                    ))
                })
                .collect(),
        )
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.get_with_file(key).map(|(v, _)| v)
    }

    /// The value of `key` and the file it came from.
    pub(super) fn get_with_file(&self, key: &str) -> Option<(&str, &Path)> {
        self.0
            .iter()
            .find_map(|(p, m)| m.get(key).map(|v| (v.as_str(), p.as_path())))
    }
}

/// Parses the subset of Java properties syntax BBB's files use: `key=value`,
/// `key: value` or `key value`, `#`/`!` comments, backslash continuation lines
/// and backslash escapes.
pub(super) fn parse_properties(text: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        let backslashes = line.chars().rev().take_while(|c| *c == '\\').count();
        if backslashes % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let sep = entry
            .char_indices()
            .scan(false, |escaped, (i, c)| {
                let was = *escaped;
                *escaped = !was && c == '\\';
                Some((i, c, was))
            })
            .find(|(_, c, was)| !was && matches!(c, '=' | ':' | ' ' | '\t'))
            .map(|(i, _, _)| i);
        let (key, value) = match sep {
            Some(i) => {
                let value = entry[i + 1..].trim_start();
                let value = if entry[i..].starts_with([' ', '\t']) {
                    value.strip_prefix(['=', ':']).unwrap_or(value).trim_start()
                } else {
                    value
                };
                (&entry[..i], value)
            }
            None => (entry.as_str(), ""),
        };
        map.insert(unescape(key), unescape(value));
    }
    map
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The host of an http(s) URL.
pub(super) fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next()?
    } else {
        host_port.split(':').next()?
    };
    Some(host.to_owned()).filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_syntax() {
        let p = parse_properties("a=1\nb : 2\nc 3\n! x\nd=long\\\n   value\ne=x\\=y\n");
        assert_eq!(p["a"], "1");
        assert_eq!(p["b"], "2");
        assert_eq!(p["c"], "3");
        assert_eq!(p["d"], "longvalue");
        assert_eq!(p["e"], "x=y");
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("https://bbb.example.com").as_deref(),
            Some("bbb.example.com")
        );
        assert_eq!(url_host("http://u@h:80/x").as_deref(), Some("h"));
        assert_eq!(url_host("http://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(url_host("nonsense"), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"a\tb\nc\\d\:e\"), "a\tb\nc\\d:e");
        let p = parse_properties("key\\ with\\ spaces = v\\u\n");
        assert_eq!(p["key with spaces"], "vu");
    }

    #[test]
    fn first_file_with_the_key_wins() {
        let dir = std::env::temp_dir().join(format!("bbbwh-propfiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let (a, b) = (dir.join("a.properties"), dir.join("b.properties"));
        std::fs::write(&a, "only.a=1\nboth=a\n").expect("write");
        std::fs::write(&b, "only.b=2\nboth=b\n").expect("write");
        let files = [dir.join("missing.properties"), a.clone(), b.clone()];
        let p = BbbProperties::read(&files);
        assert_eq!(p.get_with_file("both"), Some(("a", a.as_path())));
        assert_eq!(p.get_with_file("only.b"), Some(("2", b.as_path())));
        assert_eq!(p.get("only.a"), Some("1"));
        assert_eq!(p.get("none"), None);
        std::fs::remove_dir_all(&dir).ok();
    }
}
