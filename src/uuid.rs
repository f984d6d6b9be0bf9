//! UUIDs as the reference application makes them: random (version 4) ids for
//! new hooks and name-based (version 5, SHA-1) ids for permanent hooks, so a
//! permanent hook keeps its id across restarts and implementations.

use crate::checksum::{digest, to_hex};

/// The RFC 4122 namespace of URLs (`6ba7b811-9dad-11d1-80b4-00c04fd430c8`).
pub const NAMESPACE_URL: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// A random (version 4) UUID, from the kernel's random source; falls back to
/// a hash of time and process data if that cannot be read.
pub fn v4() -> String {
    let mut b = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b));
    if read.is_err() {
        let seed = format!(
            "{:?}{:?}{}",
            std::time::SystemTime::now(),
            std::thread::current().id(),
            std::process::id()
        );
        let d = digest::<sha1::Sha1>(&[seed.as_bytes()]);
        b.copy_from_slice(&d.as_ref()[..16]);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format(&b)
}

/// The name-based (version 5) UUID of `name` in `namespace`.
pub fn v5(namespace: &[u8; 16], name: &str) -> String {
    let d = digest::<sha1::Sha1>(&[namespace, name.as_bytes()]);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format(&b)
}

/// The canonical text form: 8-4-4-4-12 lower-case hex digits.
pub fn format(b: &[u8; 16]) -> String {
    let hex = to_hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_matches_the_standard_vectors() {
        // uuid.uuid5(uuid.NAMESPACE_URL, "http://example.com/cb") in Python.
        assert_eq!(
            v5(&NAMESPACE_URL, "http://example.com/cb"),
            "ce0d4d4a-a3ea-55bd-bfef-36663b14fecb"
        );
    }

    #[test]
    fn v4_is_random_and_versioned() {
        let a = v4();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_ne!(a, v4());
    }
}
