//! SHA checksums as BBB computes them: hex digests of concatenated strings,
//! the algorithm chosen by the checksum's length, compared in constant time.
//! Pure functions; no knowledge of HTTP.

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// A checksum algorithm BBB accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// Every algorithm, in BBB's order.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Sha1,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
    ];

    /// Parses `sha1`, `sha256`, `sha384` or `sha512` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The algorithm whose hex digest has `len` characters.
    pub fn from_hex_len(len: usize) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.hex_len() == len)
    }

    /// The lower-case name used in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 40,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    /// Lower-case hex digest of the concatenation of `parts`.
    pub fn hex_digest(self, parts: &[&[u8]]) -> String {
        match self {
            Algorithm::Sha1 => to_hex(digest::<Sha1>(parts)),
            Algorithm::Sha256 => to_hex(digest::<Sha256>(parts)),
            Algorithm::Sha384 => to_hex(digest::<Sha384>(parts)),
            Algorithm::Sha512 => to_hex(digest::<Sha512>(parts)),
        }
    }
}

/// The digest of `parts` concatenated.
pub fn digest<D: Digest>(parts: &[&[u8]]) -> impl AsRef<[u8]> {
    let mut h = D::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

/// `bytes` as lower-case hex digits, two a byte.
pub(crate) fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xf)] as char);
    }
    s
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed query of an API call: `params` form-encoded in the order
/// given, then `checksum=<hex SHA(call + query + secret)>`, as BBB checks
/// it. It carries a checksum: never log it.
pub fn signed_query(call: &str, params: &[(&str, &str)], secret: &str, alg: Algorithm) -> String {
    let query = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                crate::query::form_encode(k),
                crate::query::form_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let sum = alg.hex_digest(&[call.as_bytes(), query.as_bytes(), secret.as_bytes()]);
    let sep = if query.is_empty() { "" } else { "&" };
    format!("{query}{sep}checksum={sum}")
}

/// Checks a BBB API checksum: `hex(SHA(call_name + query + secret))`, where the
/// algorithm follows from the checksum's length and must be in `allowed`.
/// Upper-case hex is refused, as BBB's digests are lower-case.
pub fn verify_api(
    call_name: &str,
    query: &str,
    secret: &str,
    checksum: &str,
    allowed: &[Algorithm],
) -> bool {
    let Some(alg) = Algorithm::from_hex_len(checksum.len()) else {
        return false;
    };
    if !allowed.contains(&alg) {
        return false;
    }
    let expected = alg.hex_digest(&[call_name.as_bytes(), query.as_bytes(), secret.as_bytes()]);
    constant_time_eq(expected.as_bytes(), checksum.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_query_carries_the_checksum_of_call_and_query() {
        let q = signed_query(
            "hooks/create",
            &[("callbackURL", "http://a/b c")],
            "s",
            Algorithm::Sha1,
        );
        let (query, sum) = q.rsplit_once("&checksum=").expect("checksum");
        assert_eq!(query, "callbackURL=http%3A%2F%2Fa%2Fb+c");
        assert!(verify_api("hooks/create", query, "s", sum, &Algorithm::ALL));
        let empty = signed_query("hooks/list", &[], "s", Algorithm::Sha256);
        assert!(empty.starts_with("checksum=") && empty.len() == "checksum=".len() + 64);
    }

    #[test]
    fn known_digests() {
        // Digests of "abc" from the SHA test vectors.
        assert_eq!(
            Algorithm::Sha1.hex_digest(&[b"a", b"bc"]),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            Algorithm::Sha256.hex_digest(&[b"abc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Algorithm::Sha384.hex_digest(&[b"abc"]).len(), 96);
        assert!(Algorithm::Sha512
            .hex_digest(&[b"abc"])
            .starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn verify_picks_algorithm_by_length_and_checks_allowed() {
        let all = Algorithm::ALL;
        for alg in all {
            let sum = alg.hex_digest(&[b"hooks/create", b"callbackURL=x", b"secret"]);
            assert!(verify_api(
                "hooks/create",
                "callbackURL=x",
                "secret",
                &sum,
                &all
            ));
            assert!(!verify_api(
                "hooks/list",
                "callbackURL=x",
                "secret",
                &sum,
                &all
            ));
            assert!(!verify_api(
                "hooks/create",
                "callbackURL=x",
                "secret",
                &sum,
                &[]
            ));
            assert!(!verify_api(
                "hooks/create",
                "callbackURL=x",
                "secret",
                &sum.to_uppercase(),
                &all
            ));
        }
        assert!(!verify_api("hooks/create", "", "secret", "abc", &all));
        assert!(!verify_api("hooks/create", "", "secret", "", &all));
    }

    #[test]
    fn names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("SHA256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::from_name("md5"), None);
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
