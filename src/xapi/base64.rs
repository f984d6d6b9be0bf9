//! Base64 as Node's `Buffer` does it: standard encoding with padding, and
//! the lenient decoding the reference applies to `secret-lrs-payload`
//! (both alphabets, anything else skipped, stop at the first `=`). Written
//! here because no crate decodes that leniently; it is a few lines.

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding, as `Buffer.toString("base64")`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk.first(), chunk.get(1), chunk.get(2)].map(|b| b.copied().unwrap_or(0));
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(STANDARD[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes like `Buffer.from(text, "base64")`: `+/` and `-_` both accepted,
/// every other character (white space, newlines, junk) skipped, decoding
/// stops at the first `=`, a dangling final character is dropped and
/// leftover bits are ignored. Never fails.
pub fn decode_lenient(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut acc, mut n) = (0u32, 0);
    for c in text.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = value(c) else { continue };
        acc = acc << 6 | v;
        n += 1;
        if n == 4 {
            out.extend([(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            (acc, n) = (0, 0);
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend([(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn decoding_is_as_lenient_as_node() {
        // (input, what Node 22's Buffer.from(input, "base64") gives, in hex)
        let cases = [
            ("QUJD", "414243"),
            ("QUJDRA", "41424344"),
            ("QUJDRA==", "41424344"),
            ("QUJDRA=", "41424344"),
            ("QUJDR", "414243"),
            ("Q", ""),
            ("QQ", "41"),
            ("QUI", "4142"),
            ("QU JD\nRA", "41424344"),
            ("QUJD=RA==", "414243"),
            ("-_-_", "fbffbf"),
            ("+/+/", "fbffbf"),
            ("-/+_", "fbffbf"),
            ("Q!U@J#D", "414243"),
            ("é QUJD", "414243"),
            ("QUJDRA==QUJD", "41424344"),
            ("//8", "ffff"),
            ("A", ""),
            ("AB", "00"),
            ("ABC", "0010"),
            ("ABCD", "001083"),
            ("YQ", "61"),
            ("YR", "61"),
            ("Yg=", "62"),
            ("=QUJD", ""),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&decode_lenient(input)), want, "{input:?}");
        }
    }

    #[test]
    fn encoding_is_standard_with_padding() {
        assert_eq!(encode(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(
            encode(b"undefined:undefined"),
            "dW5kZWZpbmVkOnVuZGVmaW5lZA=="
        );
        assert_eq!(
            encode("tenant2:p@ss:wörd".as_bytes()),
            "dGVuYW50MjpwQHNzOnfDtnJk"
        );
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"a"), "YQ==");
        assert_eq!(encode(b"ab"), "YWI=");
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "+/+/");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_lenient(&encode(&all)), all);
    }
}
