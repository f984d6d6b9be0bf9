//! What logs and answers may show of a URL: no password and no query. A
//! Redis URL can carry the Redis password (`redis://:pw@host`); a callback
//! URL can carry an app's token in its query, and the request URL of a
//! callback carries this server's checksum. And of text from elsewhere (an
//! id in a request, a record in another service's Redis, a server's error
//! message): printable and short. Pure functions.

/// `url` without a password in its authority (`scheme://***@host/...`).
pub fn credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// `url` without credentials and with its query, if any, replaced by `…`:
/// `https://app/cb?token=x` becomes `https://app/cb?…`.
pub fn url(url: &str) -> String {
    let clean = credentials(url);
    match clean.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => clean,
    }
}

/// `text` with every http(s) URL in it passed through [`url`], for error
/// texts that quote a URL (an HTTP client's, say).
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_url(rest) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ']'))
            .unwrap_or(tail.len());
        out.push_str(&url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `bytes` as text fit for a log line: lossy UTF-8, control characters and
/// quotes escaped, at most `max` characters, a cut marked with `…`.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out: String = s.chars().take(max).flat_map(char::escape_debug).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

fn find_url(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    [lower.find("http://"), lower.find("https://")]
        .into_iter()
        .flatten()
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_password_is_hidden() {
        assert_eq!(
            credentials("redis://:pw@10.0.0.1:6379/0"),
            "redis://***@10.0.0.1:6379/0"
        );
        assert_eq!(
            credentials("redis://user:p@ss@h:1"),
            "redis://***@h:1",
            "the last @ ends the credentials"
        );
        assert_eq!(
            credentials("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(
            credentials("unix:///run/redis.sock"),
            "unix:///run/redis.sock"
        );
        assert_eq!(credentials("no scheme"), "no scheme");
    }

    #[test]
    fn a_callback_url_loses_its_query() {
        assert_eq!(
            url("https://app/cb?token=x&checksum=ab"),
            "https://app/cb?…"
        );
        assert_eq!(url("http://u:p@app/cb"), "http://***@app/cb");
        assert_eq!(url("http://app/cb"), "http://app/cb");
    }

    #[test]
    fn foreign_text_is_made_printable_and_cut() {
        assert_eq!(printable(b"a\nb\"c", 10), "a\\nb\\\"c");
        assert_eq!(printable(b"ok\xff", 10), "ok\u{fffd}");
        assert_eq!(printable("\u{e9}t\u{e9}".as_bytes(), 3), "\u{e9}t\u{e9}");
        assert_eq!(
            printable("\u{e9}t\u{e9}s".as_bytes(), 3),
            "\u{e9}t\u{e9}\u{2026}"
        );
        assert_eq!(printable(b"", 3), "");
    }

    #[test]
    fn urls_inside_a_text_are_redacted() {
        assert_eq!(
            text("http://app/cb?checksum=abc failed: Connection refused; see HTTPS://x/y?q=1"),
            "http://app/cb?… failed: Connection refused; see HTTPS://x/y?…"
        );
        assert_eq!(text("io: timed out"), "io: timed out");
        assert_eq!(
            text("\"http://a/?x=1\" and (https://b/?y=2)"),
            "\"http://a/?…\" and (https://b/?…)"
        );
    }
}
