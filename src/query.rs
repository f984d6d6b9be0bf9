//! Query strings: splitting off the `checksum` parameter without touching the
//! bytes the client signed, decoding parameters, and the form encoding of
//! callback bodies. Pure functions.

/// The raw query with every `checksum` parameter removed, and the first
/// checksum's value. The rest is kept byte for byte, because the checksum is
/// computed over exactly what the client sent.
pub fn split_checksum(raw: &str) -> (String, Option<&str>) {
    let mut checksum = None;
    let mut kept: Vec<&str> = Vec::new();
    for pair in raw.split('&') {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if key == "checksum" {
            if checksum.is_none() {
                checksum = Some(pair.get(key.len() + 1..).unwrap_or(""));
            }
        } else {
            kept.push(pair);
        }
    }
    (kept.join("&"), checksum)
}

/// Decoded query parameters, in order. Repeated names are kept; [`get`]
/// returns the first.
pub fn params(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The first value of parameter `name`.
pub fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a
/// byte. A `%` not followed by two hex digits stays as it is; bytes that are
/// not UTF-8 become U+FFFD.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Appends `s` to `out` encoded as `application/x-www-form-urlencoded` does
/// it (the WHATWG URL standard, as browsers' and Node's `URLSearchParams`):
/// alphanumerics and `*-._` stay, a space becomes `+`, every other byte `%XX`.
pub fn form_encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            }
        }
    }
}

/// `s` encoded as `application/x-www-form-urlencoded`.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    form_encode_into(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_checksum_keeps_the_rest_verbatim() {
        assert_eq!(
            split_checksum("callbackURL=http%3A%2F%2Fa+b&checksum=abc"),
            ("callbackURL=http%3A%2F%2Fa+b".to_owned(), Some("abc"))
        );
        assert_eq!(
            split_checksum("checksum=abc&meetingID=x%20y"),
            ("meetingID=x%20y".to_owned(), Some("abc"))
        );
        assert_eq!(
            split_checksum("a=1&checksum=abc&b=2"),
            ("a=1&b=2".to_owned(), Some("abc"))
        );
        assert_eq!(split_checksum("a=1"), ("a=1".to_owned(), None));
        assert_eq!(split_checksum("checksum"), (String::new(), Some("")));
        assert_eq!(split_checksum(""), (String::new(), None));
        // A parameter that merely ends in "checksum" is not the checksum.
        assert_eq!(
            split_checksum("xchecksum=1&checksum=2"),
            ("xchecksum=1".to_owned(), Some("2"))
        );
    }

    #[test]
    fn decode_handles_plus_percent_and_garbage() {
        assert_eq!(decode("a+b%20c"), "a b c");
        assert_eq!(decode("%3A%2f"), ":/");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn params_in_order_first_wins() {
        let p = params("a=1&b=&a=2&c&&d=x%26y");
        assert_eq!(get(&p, "a"), Some("1"));
        assert_eq!(get(&p, "b"), Some(""));
        assert_eq!(get(&p, "c"), Some(""));
        assert_eq!(get(&p, "d"), Some("x&y"));
        assert_eq!(get(&p, "e"), None);
    }

    #[test]
    fn form_encoding_matches_url_search_params() {
        assert_eq!(form_encode("a b*-._~'()!"), "a+b*-._%7E%27%28%29%21");
        assert_eq!(form_encode("[{\"x\":1}]"), "%5B%7B%22x%22%3A1%7D%5D");
        assert_eq!(form_encode("é"), "%C3%A9");
        assert_eq!(form_encode("aé-ü z€"), "a%C3%A9-%C3%BC+z%E2%82%AC");
        assert_eq!(decode(&form_encode("any ~ text / é")), "any ~ text / é");
    }
}
